"""Publish: turn the agreed draft into an approved, immutable version.

The page walks the approvers through what they sign: the draft validates,
what changes against the current version, the simulated impact on the
session's lead history, the version number, then one approver for marketing
and one for sales. Below, the history of versions with download and roll back.
All the work is done by :mod:`leadsim.publish`, :mod:`leadsim.store` and
:mod:`leadsim.diff`; this page only lays it out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from leadsim.criteria import Criteria, parse_criteria
from leadsim.diff import diff_criteria, render_diff
from leadsim.errors import LeadsimError, Problem
from leadsim.publish import (
    HEADLINE_LABELS,
    PublicationPlan,
    headline_figures,
    history,
    plan_publication,
    publish,
    rollback,
    rollback_draft,
)
from leadsim.store import BUMPS, StaleDraftError
from pages import common

_STALE_KEY = "publish_stale"
_DONE_KEY = "publish_done"
_REVIEWED_KEY = "publish_reviewed"
# Short enough for a metric tile; the long wording is the tile's help.
METRIC_LABELS = {
    "mql": "MQLs",
    "sql": "SQLs",
    "mql_to_sql": "MQL → SQL",
    "mql_opportunity": "MQL → opportunity",
}
BUMP_HELP = {
    "major": "something was removed or now means something else",
    "minor": "rules, points, thresholds or routing changed",
    "patch": "only wording changed",
}


def _key(name: str) -> str:
    return f"publish_{name}"


# --- the draft ---------------------------------------------------------------------


def _messages(error: LeadsimError) -> str:
    return " ".join(problem.message for problem in error.problems)


def _save() -> None:
    try:
        common.save_draft()
    except StaleDraftError as error:
        st.session_state[_STALE_KEY] = {
            "text": error.current_text,
            "revision": error.current_revision,
            "message": _messages(error),
        }
    except LeadsimError as error:
        st.session_state[_DONE_KEY] = ("error", _messages(error))
    else:
        st.session_state.pop(_STALE_KEY, None)


def _keep_mine() -> None:
    stale = st.session_state.pop(_STALE_KEY)
    common.open_draft(common.draft_name(), common.draft_text(), stale["revision"])
    _save()


def _take_theirs() -> None:
    stale = st.session_state.pop(_STALE_KEY)
    if stale["text"] is None:
        common.open_draft(common.draft_name(), common.draft_text(), None)
    else:
        common.open_draft(common.draft_name(), stale["text"], stale["revision"])


def _open_named() -> None:
    name = st.session_state[_key("draft")]
    if name == common.draft_name():
        return
    try:
        common.open_stored_draft(name)
    except LeadsimError as error:
        st.session_state[_DONE_KEY] = ("error", _messages(error))


def _draft_picker() -> None:
    name = common.draft_name()
    saved = common.draft_is_saved()
    names = common.store().drafts(common.criteria_id())
    options = list(dict.fromkeys([*names, name]))
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    left.selectbox(
        "Draft to publish",
        options,
        index=options.index(name),
        key=_key("draft"),
        on_change=_open_named,
        disabled=not saved and bool(names),
        help="The drafts saved for this criteria. Save or discard unsaved "
        "changes before switching.",
    )
    if saved:
        right.success(f"Draft **{name}** is saved.", icon=":material/check:")
    else:
        right.button(
            f"Save draft {name}",
            icon=":material/save:",
            type="primary",
            on_click=_save,
            help="Publishing works on the text below; saving shares it first.",
        )
    if _STALE_KEY in st.session_state:
        _stale_choice(st.session_state[_STALE_KEY])


def _parsed_or_none(text: str | None) -> Criteria | None:
    try:
        return parse_criteria(text or "", "<draft>")
    except LeadsimError:
        return None


def _stale_choice(stale: dict[str, Any]) -> None:
    """Both versions side by side; the user keeps one of them."""
    st.warning(stale["message"], icon=":material/sync_problem:")
    mine_column, theirs_column = st.columns(2)
    mine_column.markdown("**Your version (this browser)**")
    mine_column.code(common.draft_text(), language="yaml", line_numbers=True)
    theirs_column.markdown("**The version saved meanwhile**")
    if stale["text"] is None:
        theirs_column.info("The draft was deleted meanwhile.")
    else:
        theirs_column.code(stale["text"], language="yaml", line_numbers=True)
    theirs, mine = _parsed_or_none(stale["text"]), _parsed_or_none(common.draft_text())
    if theirs is not None and mine is not None:
        st.markdown("**Keeping yours would change the saved draft like this:**")
        st.markdown(render_diff(diff_criteria(theirs, mine)))
    keep, take = st.columns(2)
    keep.button("Keep mine and save it", on_click=_keep_mine, width="stretch")
    take.button("Take the saved version", on_click=_take_theirs, width="stretch")


def _valid_draft() -> Criteria | None:
    draft, problems = common.current_draft()
    if draft is not None:
        common.show_problems(problems)
        return draft
    st.error(
        "This draft does not validate, so it cannot be published. Fix these "
        "on the Design page:",
        icon=":material/block:",
    )
    _problems_with_lines(problems, common.draft_text())
    return None


def _problems_with_lines(problems: list[Problem], text: str) -> None:
    lines = text.splitlines()
    for problem in problems[:20]:
        common.show_problems([problem])
        if 0 < problem.line <= len(lines):
            st.code(f"{problem.line}: {lines[problem.line - 1]}", language=None)


# --- changes and impact ------------------------------------------------------------


def _changes(plan: PublicationPlan) -> bool:
    """Show what changes; False when there is nothing to publish."""
    if plan.previous is None:
        st.info(
            f"Nothing of {plan.criteria_id} is published yet: this will be its "
            "first version.",
            icon=":material/info:",
        )
        return True
    st.subheader(f"What changes against the published {plan.previous}")
    if not plan.changes:
        st.info(
            f"The draft is the same as {plan.previous}: there is nothing to "
            "publish. Change the draft on the Design page first.",
            icon=":material/info:",
        )
        return False
    st.markdown(render_diff(plan.changes))
    return True


def _impact(draft: Criteria, plan: PublicationPlan) -> tuple[Any, dict | None]:
    """Show the simulated headline figures; return the leads and the figures."""
    st.subheader("Simulated impact")
    try:
        leads = common.current_leads()
        simulation = common.simulation_for(draft, plan.baseline or draft, leads)
    except LeadsimError as error:
        common.show_error(error, "The impact cannot be simulated on this history.")
        return None, None
    except ImportError:
        st.info("The simulator is not available; publishing records no impact.")
        return None, None

    figures = headline_figures(simulation)
    data_path, _ = common.dataset_paths()
    baseline_name = str(plan.previous) if plan.previous else "the draft itself"
    st.caption(
        f"{figures['leads']:,} leads of `{data_path.name}`, against {baseline_name}. "
        "These figures are recorded with the version."
    )
    columns = st.columns(4)
    for column, name in zip(
        columns, ("mql", "sql", "mql_to_sql", "mql_opportunity"), strict=True
    ):
        before, after = figures.get(f"baseline_{name}"), figures.get(f"draft_{name}")
        column.metric(
            METRIC_LABELS[name],
            _figure(after),
            delta=_delta(before, after),
            delta_color="off" if name in ("mql", "sql") else "normal",
            help=f"{HEADLINE_LABELS[name]}: {_figure(before)} under {baseline_name}.",
            border=True,
        )
    unobserved = figures.get("draft_mql_without_sales_history")
    if unobserved:
        st.caption(
            f"{unobserved:,} MQLs under the draft were never worked by sales, so "
            "no outcome is known for them; they are left out of the rates."
        )
    return leads, figures


def _figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return "–"


def _delta(before: Any, after: Any) -> str | None:
    if before is None or after is None or before == after:
        return None
    if isinstance(after, float):
        return f"{(after - before) * 100:+.1f} points"
    return f"{after - before:+,}"


# --- approve and publish -------------------------------------------------------------


def _approve(draft: Criteria, plan: PublicationPlan, leads: Any, figures: Any) -> None:
    st.subheader("Approve and publish")
    bump = None
    if plan.previous is None:
        st.markdown(f"It will be published as **{draft.version}**.")
    else:
        suggested = plan.suggested_bump or "patch"
        bump = st.radio(
            "Version bump",
            BUMPS,
            index=BUMPS.index(suggested),
            horizontal=True,
            key=_key("bump"),
            format_func=lambda level: f"{level} ({BUMP_HELP[level]})",
            help=f"The changes call for a {suggested} version.",
        )
        try:
            target = plan.next_version(bump)
        except LeadsimError as error:
            common.show_error(error)
            return
        st.markdown(f"It will be published as **{target}** (now {plan.previous}).")
        if BUMPS.index(bump) > BUMPS.index(suggested):
            st.warning(
                f"The changes call for a {suggested} version; a {bump} bump may "
                "hide from implementers what changed.",
                icon=":material/warning:",
            )

    with st.form(_key("approve")):
        left, right = st.columns(2)
        marketing = left.text_input("Approved for marketing by", key=_key("marketing"))
        sales = right.text_input("Approved for sales by", key=_key("sales"))
        summary = st.text_input(
            "One-line summary (optional)",
            placeholder="Written from the changes when left empty",
            key=_key("summary"),
        )
        submitted = st.form_submit_button("Publish", type="primary")
    # What the approvers had on screen before this click: the diff against
    # that version, of this draft text. If either moved, they review again.
    reviewed = st.session_state.get(_REVIEWED_KEY)
    shown = (str(plan.previous), draft.text)
    st.session_state[_REVIEWED_KEY] = shown
    if not submitted:
        return
    if reviewed != shown:
        st.error(
            "The published version or the draft changed while you were "
            "approving; review the changes above and publish again.",
            icon=":material/sync_problem:",
        )
        return
    _publish(draft, plan, bump, leads, figures, marketing, sales, summary)


def _publish(
    draft: Criteria,
    plan: PublicationPlan,
    bump: str | None,
    leads: Any,
    figures: Any,
    marketing: str,
    sales: str,
    summary: str,
) -> None:
    try:
        result = publish(
            common.store(),
            draft,
            {"marketing": marketing, "sales": sales},
            bump=bump,
            leads=leads,
            summary=summary.strip() or None,
            plan=plan,
            headline=figures,
        )
    except LeadsimError as error:
        common.show_error(error, "Not published:")
        return
    message = (
        f"Published {result.criteria_id} {result.version}, approved by "
        f"{result.approvals[0].name} (marketing) and {result.approvals[1].name} "
        f"(sales): `{result.path.name}`."
    )
    st.session_state[_DONE_KEY] = ("success", message)
    st.rerun()


# --- history ---------------------------------------------------------------------


def _history() -> None:
    st.subheader("Published versions")
    store, criteria_id = common.store(), common.criteria_id()
    entries = history(store, criteria_id)
    if not entries:
        st.caption("No version is published yet.")
        return
    table = pd.DataFrame(
        {
            "version": [entry.version for entry in entries],
            "published (UTC)": [
                entry.published_at.replace("T", " ").removesuffix("Z")
                for entry in entries
            ],
            "marketing": [entry.approver("marketing") for entry in entries],
            "sales": [entry.approver("sales") for entry in entries],
            "previous": [entry.previous_version or "" for entry in entries],
            "summary": [
                entry.summary or "(no publication record)" for entry in entries
            ],
            "content": [_intact(entry.intact) for entry in entries],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", placeholder="—")

    versions = [entry.version for entry in entries]
    chosen = st.selectbox(
        "Version to download or roll back to",
        versions,
        key=_key("history_version"),
    )
    st.download_button(
        f"Download {chosen}",
        store.version_text(criteria_id, chosen),
        file_name=f"{criteria_id}-{chosen}.yaml",
        mime="application/yaml",
        icon=":material/download:",
    )
    if chosen == versions[0]:
        st.caption(
            f"{chosen} is the current version. Pick an older one to roll back: "
            "its content is published again as a new version."
        )
    else:
        _rollback(criteria_id, chosen)


def _intact(intact: bool | None) -> str:
    if intact is None:
        return "no record"
    return "verified" if intact else "CHANGED after publishing"


def _rollback(criteria_id: str, version: str) -> None:
    with st.expander(f"Roll back to {version}"):
        store = common.store()
        try:
            restored = rollback_draft(store, criteria_id, version)
            plan = plan_publication(store, restored)
        except LeadsimError as error:
            common.show_error(error, f"{version} cannot be restored.")
            return
        st.markdown(
            f"Rolling back publishes the content of {version} as a new version "
            f"({plan.next_version()}) with its own approvals; {version} itself "
            "stays as it is. Against the current version, that changes:"
        )
        st.markdown(render_diff(plan.changes))
        with st.form(_key(f"rollback_{version}")):
            left, right = st.columns(2)
            marketing = left.text_input("Approved for marketing by")
            sales = right.text_input("Approved for sales by")
            submitted = st.form_submit_button(f"Publish {version}'s content again")
        if not submitted:
            return
        try:
            result = rollback(
                store, criteria_id, version, {"marketing": marketing, "sales": sales}
            )
        except LeadsimError as error:
            common.show_error(error, "Not rolled back:")
            return
        st.session_state[_DONE_KEY] = (
            "success",
            f"Published {result.version} with the content of {version}.",
        )
        st.rerun()


# --- the page --------------------------------------------------------------------

common.page_setup(
    "Publish",
    "Turn the agreed draft into a new version that marketing and sales both "
    "sign; the CRM and automation admins implement that file.",
)

if _DONE_KEY in st.session_state:
    kind, text = st.session_state.pop(_DONE_KEY)
    (st.success if kind == "success" else st.error)(text)

try:
    _draft_picker()
    draft = _valid_draft()
    plan = plan_publication(common.store(), draft) if draft is not None else None
except LeadsimError as error:
    common.show_error(error, "The draft or the published version cannot be read.")
    draft, plan = None, None

if draft is not None and plan is not None and _changes(plan):
    leads, figures = _impact(draft, plan)
    _approve(draft, plan, leads, figures)

st.divider()
try:
    _history()
except LeadsimError as error:
    common.show_error(error, "The version history cannot be read.")
