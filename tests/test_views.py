"""What the Simulate page shows, on six hand-worked leads.

Baseline: manufacturing +20 (fit), webinar +15 (engagement), MQL at total
30, SQL needs a discovery call. Draft: webinar +25 and MQL at total 25.

lead  industry       webinar  discovery  worked  opportunity  base      draft
L1    manufacturing  1        yes        yes     yes          35 sql    45 sql
L2    retail         1        no         yes     no           15 lead   25 mql
L3    manufacturing  0        no         yes     yes          20 lead   20 lead
L4    retail         2        yes        yes     yes          15 lead   25 sql
L5    manufacturing  0        no         no      no           20 lead   20 lead
L6    retail         1        no         no      no           15 lead   25 mql
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from leadsim import views
from leadsim.criteria import parse_criteria
from leadsim.dataset import Profile, prepare_leads
from leadsim.simulate import simulate

BASELINE = """
kind: lead-criteria
schema_version: 1
id: views-fixture
version: 1.0.0
title: Views fixture
owners: {marketing: M, sales: S}
mql:
  fit:
    rules:
      - {id: industry, label: Manufacturing, points: 20,
         when: {field: industry, eq: manufacturing}}
  engagement:
    rules:
      - {id: webinar, label: Webinar, points: 15,
         when: {field: webinar_attended, gte: 1}}
  threshold: {total: 30}
sql:
  require:
    - {id: discovery, label: Discovery agreed, question: Will you join a call?,
       when: {field: discovery_call_agreed, eq: true}}
routing:
  - {id: sql-to-ae, when: {stage: sql}, queue: account-executives}
  - {id: mql-review, when: {stage: mql}, queue: sdr-review}
fallback: {queue: nurture}
"""

DRAFT = (
    BASELINE.replace("version: 1.0.0", "version: 1.1.0")
    .replace("points: 15", "points: 25")
    .replace("threshold: {total: 30}", "threshold: {total: 25}")
)

COLUMNS = [
    "lead_id",
    "industry",
    "region",
    "webinar_attended",
    "discovery_call_agreed",
    "worked_by_sales",
    "reached_opportunity",
    "created_at",
]
LEADS = [
    ["L1", "manufacturing", "north", "1", "yes", "yes", "yes", "2026-06-01"],
    ["L2", "retail", "north", "1", "no", "yes", "no", "2026-06-02"],
    ["L3", "manufacturing", "south", "0", "no", "yes", "yes", "2026-06-03"],
    ["L4", "retail", "south", "2", "yes", "yes", "yes", "2026-06-04"],
    ["L5", "manufacturing", "south", "0", "no", "no", "no", "2026-06-08"],
    ["L6", "retail", "=HYPERLINK(1)", "1", "no", "no", "no", "2026-06-09"],
]

PROFILE = Profile(
    id_column="lead_id",
    created_column="created_at",
    as_of=dt.date(2026, 6, 30),
    outcomes={"opportunity": "reached_opportunity", "worked": "worked_by_sales"},
    segments=["region"],
    types={
        "industry": "text",
        "region": "text",
        "webinar_attended": "number",
        "discovery_call_agreed": "boolean",
        "worked_by_sales": "boolean",
        "reached_opportunity": "boolean",
        "created_at": "date",
    },
)


@pytest.fixture(scope="module")
def simulation():
    frame = pd.DataFrame(LEADS, columns=COLUMNS, dtype=str)
    leads = prepare_leads(frame, PROFILE, source="views.csv")
    return simulate(parse_criteria(DRAFT), parse_criteria(BASELINE), leads, capacity=2)


def _kpi(simulation, name):
    return next(kpi for kpi in views.headline_kpis(simulation) if kpi.name == name)


def test_volume_kpis_count_every_mql_including_unworked_ones(simulation):
    mqls = _kpi(simulation, "MQLs")
    sqls = _kpi(simulation, "SQLs")

    assert (mqls.baseline, mqls.draft, mqls.change_text()) == (1, 4, "+3")
    assert (sqls.baseline, sqls.draft, sqls.change_text()) == (1, 2, "+1")
    assert mqls.significant is None
    assert "1 of the draft's MQLs were never worked" in mqls.note


def test_rate_kpis_leave_unworked_leads_out_and_say_not_significant(simulation):
    # Draft MQLs that sales worked: L1, L2, L4; SQLs among them: L1, L4.
    rate = _kpi(simulation, "MQL → SQL")

    assert rate.baseline == 1.0
    assert rate.draft == pytest.approx(2 / 3)
    assert rate.direction == "down"
    assert rate.change_text() == "−33.3 pts (not significant)"
    assert rate.better is None
    assert rate.tone == "neutral"
    assert rate.change_text(significance=False) == "−33.3 pts"


def test_coverage_kpi(simulation):
    # Opportunities: L1, L3, L4. Baseline MQLs caught L1; the draft L1 and L4.
    coverage = _kpi(simulation, "Opps caught")

    assert coverage.baseline == pytest.approx(1 / 3)
    assert coverage.draft == pytest.approx(2 / 3)
    assert coverage.value_text() == "66.7%"


def test_flips_frame_orders_the_biggest_moves_first(simulation):
    frame = views.flips_frame(simulation)

    assert frame["lead_id"].tolist() == ["L4", "L2", "L6"]
    assert frame["change"].tolist() == ["lead → sql", "lead → mql", "lead → mql"]
    assert frame["draft_queue"].tolist() == [
        "account-executives",
        "sdr-review",
        "sdr-review",
    ]
    assert frame["worked_by_sales"].tolist() == [True, True, False]
    assert frame["baseline_total"].tolist() == [15, 15, 15]
    assert frame["draft_total"].tolist() == [25, 25, 25]


def test_filter_flips_by_change_and_text(simulation):
    frame = views.flips_frame(simulation)

    assert views.filter_flips(frame, ["lead → mql"])["lead_id"].tolist() == ["L2", "L6"]
    assert views.filter_flips(frame, [], "SOUTH")["lead_id"].tolist() == ["L4"]
    assert views.filter_flips(frame, ["lead → sql"], "north").empty


def test_reasons_are_added_for_the_rows_shown(simulation):
    frame = views.flips_frame(simulation).assign(reason="")

    explained = views.add_reasons(frame, simulation, limit=1)

    assert "webinar" in explained["reason"].iloc[0]
    assert explained["reason"].iloc[1] == ""


def test_csv_neutralises_formula_cells(simulation):
    text = views.csv_bytes(views.flips_frame(simulation)).decode("utf-8")

    assert "'=HYPERLINK(1)" in text
    assert ",=HYPERLINK" not in text
    assert "row" not in text.splitlines()[0].split(",")


def test_lead_story_explains_both_sides(simulation):
    story = views.lead_story(simulation, " L4 ")

    assert story is not None and story.changed
    assert (story.baseline.stage, story.draft.stage) == ("lead", "sql")
    assert (story.baseline.total, story.draft.total) == (15, 25)
    assert (story.baseline.queue, story.draft.queue) == (
        "nurture",
        "account-executives",
    )
    assert story.draft.rules == [
        ("engagement", "Webinar", 25),
        ("require", "Discovery agreed", None),
    ]
    assert "now meets" in story.reason
    assert story.fields["industry"] == "retail"


def test_lead_story_of_an_unknown_lead_is_none(simulation):
    assert views.lead_story(simulation, "L99") is None


def test_rule_impact_counts_matched_leads(simulation):
    frame = views.rule_impact_frame(simulation).set_index("rule")

    assert frame.loc["Webinar", "leads matched"] == 4
    assert frame.loc["Manufacturing", "leads matched"] == 3


def test_score_bins_split_by_outcome(simulation):
    bins = views.score_bins(simulation.evaluations[1], width=10)

    rows = sorted(map(tuple, bins[["start", "outcome", "leads"]].to_numpy().tolist()))
    assert rows == [
        (20.0, "no opportunity", 1),
        (20.0, "not worked by sales", 2),
        (20.0, "reached opportunity", 2),
        (40.0, "reached opportunity", 1),
    ]
