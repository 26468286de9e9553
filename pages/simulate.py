"""Simulate: what the draft would change against the published baseline.

The headline and the threshold slider are always on screen; the tabs below
render only when open (stateful tabs), so that moving the slider redraws
the numbers the room is looking at without recomputing the rest.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from leadsim import charts, editing, views
from leadsim.criteria import dump_criteria, reachable_scores
from leadsim.errors import LeadsimError
from leadsim.simulate import Simulation
from leadsim.yamlio import load_yaml
from pages import common

THRESHOLD_KEY = "simulate_threshold"
CAPACITY_KEY = "simulate_capacity"
TAB_KEY = "simulate_tab"
RATES = common.SEGMENT_RATES
TABS = [
    "Funnel & weekly load",
    "Segments",
    "Scores & threshold",
    "Rules",
    "Flips",
    "Lead lookup",
]


def _set_threshold() -> None:
    """Slider callback: the draft's total threshold becomes the slider's value."""
    try:
        document, _ = load_yaml(common.draft_text(), "<draft>")
    except LeadsimError:
        return
    changed = editing.set_path(
        document, ("mql", "threshold", "total"), int(st.session_state[THRESHOLD_KEY])
    )
    history = st.session_state.setdefault("design_history", editing.UndoStack())
    history.push(common.draft_text())
    common.set_draft_text(dump_criteria(changed))


def _set_capacity() -> None:
    common.set_capacity(int(st.session_state[CAPACITY_KEY]))


def _controls(draft_data: dict) -> None:
    threshold = draft_data["mql"]["threshold"].get("total")
    left, middle, right = st.columns([4, 2, 3])
    if threshold is not None:
        top = int(max(reachable_scores(draft_data)["total"], threshold, 10))
        st.session_state[THRESHOLD_KEY] = int(threshold)
        left.slider(
            "MQL threshold: total score at least",
            0,
            top,
            key=THRESHOLD_KEY,
            on_change=_set_threshold,
            help="Moves the draft's total threshold; undo it on the Design page.",
        )
    else:
        left.info("The draft sets no total threshold; add one on the Design page.")
    st.session_state[CAPACITY_KEY] = common.capacity()
    middle.number_input(
        "SDR capacity (MQLs a week)",
        min_value=0,
        step=10,
        key=CAPACITY_KEY,
        on_change=_set_capacity,
        help="How many MQLs the SDR team can review in a week; 0 for no line.",
    )
    saved = "saved" if common.draft_is_saved() else "**not saved**"
    right.markdown(
        f"Draft **{common.draft_name()}** ({saved})  \n"
        f"<span style='color:{charts.DRAFT_COLOUR}'>■</span> draft · "
        f"<span style='color:{charts.BASELINE_COLOUR}'>■</span> published baseline",
        unsafe_allow_html=True,
    )


def _headline(simulation: Simulation) -> None:
    kpis = views.headline_kpis(simulation)
    columns = st.columns(len(kpis))
    colours = {"good": "green", "bad": "red", "neutral": "gray"}
    arrows = {"up": "up", "down": "down", "flat": "off"}
    for column, kpi in zip(columns, kpis):
        column.metric(
            kpi.name,
            kpi.value_text("draft"),
            delta=kpi.change_text(significance=False),
            delta_color=colours[kpi.tone],
            delta_arrow=arrows[kpi.direction],
            help=kpi.note,
            border=True,
        )
        verdict = " · **not significant**" if kpi.significant is False else ""
        column.caption(f"baseline {kpi.value_text('baseline')}{verdict}")
    if simulation.caveats:
        st.info(simulation.caveats[0], icon=":material/info:")
        if len(simulation.caveats) > 1:
            with st.expander("More to keep in mind"):
                for caveat in simulation.caveats[1:]:
                    st.markdown(f"- {caveat}")


def _chart(spec: dict, name: str) -> None:
    """Show a chart with PNG and SVG downloads made only when clicked."""
    # theme=None keeps the projector fonts instead of Streamlit's smaller ones.
    st.vega_lite_chart(spec, width="stretch", theme=None)
    left, right, _ = st.columns([1, 1, 6])
    left.download_button(
        "PNG",
        data=lambda: charts.chart_image(spec, "png"),
        file_name=f"{name}.png",
        mime="image/png",
        on_click="ignore",
        icon=":material/download:",
        key=f"{name}-png",
    )
    right.download_button(
        "SVG",
        data=lambda: charts.chart_image(spec, "svg"),
        file_name=f"{name}.svg",
        mime="image/svg+xml",
        on_click="ignore",
        icon=":material/download:",
        key=f"{name}-svg",
    )


def _funnel_tab(simulation: Simulation) -> None:
    _chart(charts.funnel_chart(simulation.funnel_frame()), "funnel")
    load = simulation.load
    capacity = simulation.capacity
    if capacity:
        st.markdown(
            f"**SDR load:** the draft sends {load.draft_mean:,.1f} MQLs a week on "
            f"average (baseline {load.baseline_mean:,.1f}); "
            f"{load.draft_weeks_over} of {load.weeks} weeks are above the capacity "
            f"of {capacity:,.0f} (baseline {load.baseline_weeks_over})."
        )
    _chart(charts.weekly_chart(simulation.weekly_frame(), capacity), "weekly")


def _segments_tab(simulation: Simulation) -> None:
    if not simulation.segments:
        st.info("The dataset profile names no segment columns.")
        return
    left, right = st.columns(2)
    column = left.selectbox("Segment", list(simulation.segments), key="segment_column")
    rate = right.selectbox(
        "Rate",
        list(RATES),
        format_func=RATES.get,
        key="segment_rate",
    )
    frame = simulation.segment_frame(column, rate)
    st.caption(
        "Dots are the rates; bars their 95% intervals. Hollow diamonds are "
        "segments too small to read."
    )
    _chart(charts.segment_chart(frame, RATES[rate]), f"segments-{column}")
    rows = [
        {
            column: value.value,
            "leads": value.baseline.leads,
            "MQLs baseline": value.baseline.mql,
            "MQLs draft": value.draft.mql,
            "MQL change": value.draft.mql - value.baseline.mql,
            "SQL change": value.draft.sql - value.baseline.sql,
            "too small to read": value.small,
        }
        for value in simulation.segments[column]
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", placeholder="—")


def _scores_tab(simulation: Simulation) -> None:
    draft_evaluation = simulation.evaluations[1]
    threshold = simulation.sweep.current
    _chart(
        charts.histogram_chart(views.score_bins(draft_evaluation), threshold),
        "score-histogram",
    )
    weeks = simulation.load.weeks
    capacity_mqls = simulation.capacity * weeks if simulation.capacity else None
    if capacity_mqls:
        st.caption(
            f"The red line is what the SDR team can take over the {weeks} weeks "
            f"of history: {simulation.capacity:,.0f} a week × {weeks} weeks."
        )
    _chart(
        charts.sweep_chart(simulation.sweep.frame(), threshold, capacity_mqls),
        "threshold-sweep",
    )


def _rules_tab(simulation: Simulation) -> None:
    st.caption(
        "Opportunity rates count leads sales worked. Lift is the matched rate "
        "over the rest; 'MQLs lost without it' is what removing the rule costs. "
        "A dash: no worked lead to measure."
    )
    frame = views.rule_impact_frame(simulation)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_config={
            "opportunity rate (matched)": st.column_config.NumberColumn(
                format="percent"
            ),
            "opportunity rate (rest)": st.column_config.NumberColumn(format="percent"),
            "lift": st.column_config.NumberColumn(format="%.2f×"),
        },
    )


@st.fragment
def _flips_tab(simulation: Simulation) -> None:
    flips = simulation.flips
    st.markdown(
        f"**{flips.count:,} leads change** under the draft: {flips.stage_changes:,} "
        f"change stage, {flips.queue_only:,} only change queue."
    )
    if flips.transitions:
        moves = ", ".join(
            f"{move['from']} → {move['to']}: {move['count']:,}"
            for move in flips.transitions
        )
        st.caption(moves)
    frame = _flips_frame(simulation)
    left, right = st.columns([2, 3])
    changes = left.multiselect(
        "Show changes", sorted(frame["change"].unique()), key="flip_changes"
    )
    text = right.text_input("Search (lead, queue, segment, reason)", key="flip_search")
    shown = views.filter_flips(frame, changes, text)
    shown = views.add_reasons(shown, simulation, limit=500)
    st.dataframe(
        shown.drop(columns=["row"]).head(500),
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_config={
            "lead_id": "lead",
            "reason": st.column_config.TextColumn("why", width="large"),
            "baseline_stage": "stage before",
            "draft_stage": "stage in draft",
            "baseline_queue": "queue before",
            "draft_queue": "queue in draft",
            "baseline_total": "score before",
            "draft_total": "score in draft",
            "worked_by_sales": "worked by sales",
        },
    )
    if len(shown) > 500:
        st.caption(f"The first 500 of {len(shown):,} are shown; the CSV has all.")
    st.download_button(
        f"Download these {len(shown):,} flips (CSV)",
        data=lambda: views.csv_bytes(views.add_reasons(shown, simulation, 5000)),
        file_name="flips.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )


def _flips_frame(simulation: Simulation) -> pd.DataFrame:
    # One frame per simulation and session; the filters reuse it.
    key = ("flips", id(simulation))
    cached = st.session_state.get("simulate_flips")
    if cached is None or cached[0] != key:
        cached = (key, views.flips_frame(simulation))
        st.session_state["simulate_flips"] = cached
    return cached[1]


@st.fragment
def _lookup_tab(simulation: Simulation) -> None:
    listed = [flip.lead_id for flip in simulation.flips.listed]
    st.markdown("**Why is this lead where it is, under the draft and the baseline?**")
    left, right = st.columns(2)
    picked = left.selectbox(
        "A lead that changes",
        listed,
        index=0 if listed else None,
        key="lookup_pick",
        placeholder="no lead changes",
    )
    typed = right.text_input("…or any lead id", key="lookup_id")
    lead_id = typed.strip() or picked
    if not lead_id:
        return
    story = views.lead_story(simulation, lead_id)
    if story is None:
        st.warning(f"No lead has the id {lead_id!r} in this history.")
        return
    verdict = "changes" if story.changed else "does not change"
    st.markdown(f"Lead **{story.lead_id}** {verdict}: {story.reason}.")
    columns = st.columns(2)
    for column, name, side in (
        (columns[0], "Published baseline", story.baseline),
        (columns[1], "Draft", story.draft),
    ):
        with column.container(border=True):
            st.markdown(f"#### {name}: {side.stage.upper()}")
            via = side.sql_via or side.mql_via
            follow = (
                f", follow up in {side.follow_up_days:g} days"
                if side.follow_up_days is not None
                else ""
            )
            st.markdown(
                f"fit **{side.fit:g}** + engagement **{side.engagement:.1f}** = "
                f"total **{side.total:.1f}**"
                + (f" · via {via.replace('_', ' ')}" if via else "")
                + f"  \nqueue **{side.queue}**{follow}"
            )
            lines = [
                f"- {label} ({section.replace('_', ' ')}"
                + (f", {points:+g}" if points is not None else "")
                + ")"
                for section, label, points in side.rules
            ]
            st.markdown("\n".join(lines) or "No rule matched.")
    with st.expander("The lead's data"):
        st.dataframe(
            pd.DataFrame(
                {"field": list(story.fields), "value": list(story.fields.values())}
            ),
            hide_index=True,
            width="stretch",
            placeholder="—",
        )


def _summary_download(simulation: Simulation) -> None:
    from leadsim.report import render_markdown

    st.download_button(
        "Summary (markdown)",
        data=lambda: render_markdown(simulation),
        file_name="simulation-summary.md",
        mime="text/markdown",
        on_click="ignore",
        icon=":material/description:",
    )


common.page_setup(
    "Simulate the draft",
    "The draft replayed on the history beside the published criteria: what "
    "moves, by how much, and whether it is more than noise.",
)

try:
    leads = common.current_leads()
    baseline = common.current_baseline()
except LeadsimError as error:
    common.show_error(error, "The history or the published criteria cannot be read.")
    st.stop()

draft, problems = common.current_draft()
if draft is None:
    st.error(
        "The draft has errors, so it cannot be simulated. Fix them on the Design page.",
        icon=":material/error:",
    )
    common.show_problems(problems)
    common.page_link("pages/design.py", "Go to Design", ":material/edit_note:")
    st.stop()

_controls(draft.data)
try:
    simulation = common.simulation_for(draft, baseline, leads)
except LeadsimError as error:
    common.show_error(error, "The draft cannot be applied to this history.")
    st.stop()

st.markdown(
    f"Draft **{common.draft_name()}** against published **{baseline.version}** "
    f"on {len(leads):,} leads:"
)
_headline(simulation)

tabs = st.tabs(TABS, key=TAB_KEY, on_change="rerun")
renderers = [
    _funnel_tab,
    _segments_tab,
    _scores_tab,
    _rules_tab,
    _flips_tab,
    _lookup_tab,
]
for tab, render in zip(tabs, renderers):
    if tab.open:
        with tab:
            render(simulation)

_summary_download(simulation)
