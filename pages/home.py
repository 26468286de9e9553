"""Home: the history and the published criteria, with the workshop path."""

from __future__ import annotations

import streamlit as st

from leadsim.errors import LeadsimError
from leadsim.stats import Rate
from pages import common


def _percent(rate: Rate) -> str:
    return "–" if rate.value is None else f"{rate.value:.1%}"


def _interval(rate: Rate) -> str:
    if rate.value is None:
        return "No leads to measure."
    return (
        f"{rate.successes:,} of {rate.n:,}; 95% interval "
        f"{rate.low:.1%} to {rate.high:.1%}."
    )


common.page_setup(
    "MQL and SQL workshop",
    "Agree what makes a lead marketing-qualified and sales-qualified, replay the "
    "team's own history against a draft, and publish what both teams signed.",
)

try:
    leads = common.current_leads()
    baseline = common.current_baseline()
    numbers = common.headline(common.evaluation_for(baseline, leads))
except LeadsimError as error:
    common.show_error(
        error, "The published criteria cannot be applied to this lead history."
    )
    st.page_link("pages/data.py", label="Pick another lead history on the Data page")
    st.stop()

data_path, _ = common.dataset_paths()

left, right = st.columns(2)
left.markdown(
    f"**History:** `{data_path.name}`, {len(leads):,} leads, scored as of "
    f"{leads.as_of:%d %b %Y}."
)
right.markdown(
    f"**Published criteria:** {baseline.title} **{baseline.version}** "
    f"(`{baseline.id}`)."
)

st.subheader(f"Today, under the published criteria {baseline.version}")
columns = st.columns(5)
columns[0].metric("Leads", f"{numbers['leads']:,}", border=True)
columns[1].metric(
    "MQLs",
    f"{numbers['mql']:,}",
    help="Leads at MQL or beyond (SQLs included).",
    border=True,
)
columns[2].metric("SQLs", f"{numbers['sql']:,}", border=True)
columns[3].metric(
    "MQL → SQL",
    _percent(numbers["mql_to_sql"]),
    help=_interval(numbers["mql_to_sql"]),
    border=True,
)
columns[4].metric(
    "MQL → opp.",
    _percent(numbers["mql_opportunity"]),
    help="Opportunity precision of the MQL stage. "
    + _interval(numbers["mql_opportunity"]),
    border=True,
)

st.subheader("How to run a workshop")
st.markdown(
    "1. **Data** — check the history is the team's own and fit to trust "
    "(the bundled sample is loaded now).\n"
    "2. **Design** — change the draft together: points, thresholds, "
    "exclusions, what sales must confirm, where leads go. No YAML needed.\n"
    "3. **Simulate** — see what would move: MQL and SQL volume against SDR "
    "capacity, conversion with its uncertainty, who flips and why.\n"
    "4. Repeat 2–3 until marketing and sales both accept the numbers.\n"
    "5. **Publish** — one approver from marketing, one from sales; the "
    "version is frozen with the figures they saw."
)
links = st.columns(4)
with links[0]:
    common.page_link("pages/data.py", label="Data", icon=":material/table_chart:")
with links[1]:
    common.page_link("pages/design.py", label="Design", icon=":material/edit_note:")
with links[2]:
    common.page_link(
        "pages/simulate.py", label="Simulate", icon=":material/query_stats:"
    )
with links[3]:
    common.page_link("pages/publish.py", label="Publish", icon=":material/verified:")

saved = "saved" if common.draft_is_saved() else "not saved yet"
st.caption(f"Open draft: **{common.draft_name()}** ({saved}).")
