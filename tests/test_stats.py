"""Tests for leadsim.stats: Wilson intervals and funnel metrics on hand-built leads.

Every expected number below was worked out by hand from the fixture, not by
the code under test.
"""

import numpy as np
import pytest

from leadsim import stats

# Ten leads: stage codes 0 disqualified, 1 lead, 2 mql, 3 sql.
STAGE = np.array([3, 3, 2, 2, 2, 1, 1, 0, 1, 2], dtype=np.int8)
OPPORTUNITY = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0], dtype=bool)
WON = np.array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0], dtype=bool)
AMOUNT = np.array([100.0, 0, 0, 0, 0, 50.0, 0, 0, 0, 0])


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        pytest.param(8, 10, 0.4902, 0.9433, id="8-of-10"),
        pytest.param(0, 10, 0.0, 0.2775, id="0-of-10"),
        pytest.param(50, 100, 0.4038, 0.5962, id="50-of-100"),
        pytest.param(10, 10, 0.7225, 1.0, id="10-of-10"),
        pytest.param(1, 2, 0.0945, 0.9055, id="1-of-2"),
    ],
)
def test_wilson_interval_matches_published_values(successes, n, low, high):
    got_low, got_high = stats.wilson_interval(successes, n)

    assert float(got_low) == pytest.approx(low, abs=1e-4)
    assert float(got_high) == pytest.approx(high, abs=1e-4)


def test_wilson_interval_is_vectorised_and_total_on_no_leads():
    low, high = stats.wilson_interval(np.array([8, 0]), np.array([10, 0]))

    assert low.tolist() == pytest.approx([0.4902, 0.0], abs=1e-4)
    assert high.tolist() == pytest.approx([0.9433, 1.0], abs=1e-4)


@pytest.mark.parametrize(
    ("successes", "n", "small"),
    [
        pytest.param(8, 10, True, id="ten-leads"),
        pytest.param(15, 29, True, id="29-leads"),
        # 50/100: half-width 9.6 points, 100 leads: readable.
        pytest.param(50, 100, False, id="100-leads-at-half"),
        # 40/80: half-width 10.7 points even with 80 leads: too wide.
        pytest.param(40, 80, True, id="80-leads-wide"),
        pytest.param(3, 300, False, id="rare-but-many"),
    ],
)
def test_small_flags_few_leads_or_wide_intervals(successes, n, small):
    assert stats.rate(successes, n).small is small


def test_rate_without_leads_has_no_value():
    empty = stats.rate(0, 0)

    assert empty.value is None
    assert (empty.low, empty.high) == (0.0, 1.0)
    assert empty.small


def test_overlapping_intervals_are_not_significant():
    # 50/100 is (0.404, 0.596); 60/100 is (0.502, 0.691): they overlap.
    delta = stats.compare(stats.rate(50, 100), stats.rate(60, 100))

    assert delta.difference == pytest.approx(0.10)
    assert delta.significant is False


def test_separate_intervals_are_significant():
    # 100/1000 is (0.083, 0.120); 200/1000 is (0.177, 0.226).
    delta = stats.compare(stats.rate(100, 1000), stats.rate(200, 1000))

    assert delta.difference == pytest.approx(0.10)
    assert delta.significant is True


def test_delta_with_an_empty_side_is_not_significant():
    delta = stats.compare(stats.rate(0, 0), stats.rate(9, 10))

    assert delta.difference is None
    assert delta.significant is False


def test_stage_codes_from_names():
    names = np.array(["sql", "lead", "disqualified", "mql"], dtype=object)

    assert stats.stage_codes(names).tolist() == [3, 1, 0, 2]


def test_funnel_counts_and_rates_by_hand():
    table = stats.funnel_table(STAGE, OPPORTUNITY, WON, AMOUNT)
    numbers = table.numbers()
    rates = stats.funnel_rates(numbers)

    assert table.stages[0].tolist() == [1, 3, 4, 2]
    # MQL stage: leads 0, 1, 2, 3, 4, 9. SQLs: 0, 1.
    assert (rates["mql_to_sql"].successes, rates["mql_to_sql"].n) == (2, 6)
    # Opportunities among MQLs: 0, 1, 2; wins: 0.
    assert (rates["mql_opportunity"].successes, rates["mql_opportunity"].n) == (3, 6)
    assert (rates["mql_won"].successes, rates["mql_won"].n) == (1, 6)
    assert (rates["sql_opportunity"].successes, rates["sql_opportunity"].n) == (2, 2)
    assert (rates["sql_won"].successes, rates["sql_won"].n) == (1, 2)
    # All opportunities: 0, 1, 2, 5; all wins: 0, 5.
    assert rates["opportunity_coverage"].value == pytest.approx(3 / 4)
    assert rates["won_coverage"].value == pytest.approx(1 / 2)
    assert numbers["mql_amount"][0] == pytest.approx(100.0)
    assert numbers["amount"][0] == pytest.approx(150.0)


def test_unobserved_leads_leave_numerator_and_denominator():
    # Leads 4 and 9 are new MQLs that sales never worked; lead 1 a new SQL.
    unobserved_mql = np.zeros(10, dtype=bool)
    unobserved_mql[[4, 9]] = True
    unobserved_sql = np.zeros(10, dtype=bool)
    unobserved_sql[1] = True

    table = stats.funnel_table(
        STAGE, OPPORTUNITY, WON, AMOUNT, unobserved_mql, unobserved_sql
    )
    numbers = table.numbers()
    rates = stats.funnel_rates(numbers)

    assert (rates["mql_to_sql"].successes, rates["mql_to_sql"].n) == (2, 4)
    assert (rates["mql_opportunity"].successes, rates["mql_opportunity"].n) == (3, 4)
    # Lead 1 leaves the SQL path: SQL 0 alone remains, with an opportunity.
    assert (rates["sql_opportunity"].successes, rates["sql_opportunity"].n) == (1, 1)
    assert numbers["unobserved_mql"][0] == 2
    assert numbers["unobserved_sql"][0] == 1
    # Stage counts still hold every lead.
    assert table.stages[0].tolist() == [1, 3, 4, 2]


def test_funnel_per_group_skips_negative_groups():
    groups = np.array([0, 0, 1, 1, 0, 1, -1, 0, 1, 0])

    table = stats.funnel_table(
        STAGE, OPPORTUNITY, WON, AMOUNT, groups=groups, n_groups=2
    )
    numbers = table.numbers()

    # Group 0: leads 0, 1, 4, 7, 9 -> stages sql, sql, mql, disq, mql.
    assert table.stages[0].tolist() == [1, 0, 2, 2]
    # Group 1: leads 2, 3, 5, 8 -> mql, mql, lead, lead.
    assert table.stages[1].tolist() == [0, 2, 2, 0]
    assert numbers["mql_opportunity"].tolist() == [2, 1]
    assert numbers["opportunity"].tolist() == [2, 2]
    assert numbers["amount"].tolist() == [100.0, 50.0]


def test_week_index_starts_weeks_on_monday():
    # 2026-05-31 is a Sunday (day 20604); 2026-06-01 a Monday (20605);
    # 2026-06-07 a Sunday (20611); 2026-06-08 a Monday (20612).
    days = np.array([20605.0, 20611.0, 20612.0, np.nan, 20604.0])

    index, starts = stats.week_index(days)

    assert index.tolist() == [1, 1, 2, -1, 0]
    # Mondays: 2026-05-25 (20598), 2026-06-01, 2026-06-08.
    assert starts.tolist() == [20598, 20605, 20612]


def test_weekly_counts_per_stage():
    week = np.array([0, 0, 1, -1, 2])
    stage = np.array([2, 3, 2, 2, 1], dtype=np.int8)

    counts = stats.weekly_counts(stage, week, 3)

    assert counts.tolist() == [[0, 0, 1, 1], [0, 0, 1, 0], [0, 1, 0, 0]]


def test_sweep_counts_every_threshold_by_hand():
    total = np.array([10.0, 25.5, 30.0, 60.0, 0.0, 45.0])
    # Lead 4 is fast-tracked; lead 5 fails another minimum (never by total).
    always = np.array([0, 0, 0, 0, 1, 0], dtype=bool)
    eligible = np.array([1, 1, 1, 1, 0, 0], dtype=bool)
    opportunity = np.array([0, 1, 1, 1, 1, 0], dtype=bool)
    won = np.array([0, 0, 1, 0, 0, 0], dtype=bool)
    amount = np.array([0, 0, 70.0, 0, 0, 0])
    # Lead 0 was never worked and is new: volume only.
    unobserved = np.array([1, 0, 0, 0, 0, 0], dtype=bool)

    curve = stats.sweep_totals(
        total, eligible, always, opportunity, won, amount, unobserved, 60
    )

    # t=0: leads 0-4; t=11: 1-4; t=26: 2-4 (25.5 < 26); t=31: 3, 4; t=61: 4.
    assert curve.mql[[0, 10, 11, 25, 26, 30, 31, 60]].tolist() == [
        5,
        5,
        4,
        4,
        3,
        3,
        2,
        2,
    ]
    assert curve.counted[[0, 10, 11]].tolist() == [4, 4, 4]
    assert curve.unobserved[[0, 10, 11]].tolist() == [1, 1, 0]
    assert curve.opportunity[[0, 25, 26, 31]].tolist() == [4, 4, 3, 2]
    assert curve.won[[30, 31]].tolist() == [1, 0]
    assert curve.amount[[30, 31]].tolist() == [70.0, 0.0]
    assert curve.total_opportunity == 4
    assert len(curve.thresholds) == 61


def test_paired_tables_give_both_funnels_at_once():
    # The draft moves lead 5 (lead -> mql) and lead 9 (mql -> lead); lead 5
    # was never worked, so it is unobserved on the draft's MQL path.
    draft_stage = STAGE.copy()
    draft_stage[5], draft_stage[9] = 2, 1
    unobserved_mql = np.zeros(10, dtype=bool)
    unobserved_mql[5] = True
    none = np.zeros(10, dtype=bool)
    classes = stats.paired_classes(
        STAGE, draft_stage, OPPORTUNITY, WON, unobserved_mql, none
    )

    base, draft = stats.paired_tables(classes, AMOUNT, np.flatnonzero(AMOUNT))
    base_numbers, draft_numbers = base.numbers(), draft.numbers()

    assert base.stages[0].tolist() == [1, 3, 4, 2]
    assert draft.stages[0].tolist() == [1, 3, 4, 2]
    # Baseline MQLs: 0, 1, 2, 3, 4, 9 (opportunities 0, 1, 2).
    assert (base_numbers["mql_opportunity"][0], base_numbers["mql"][0]) == (3, 6)
    # Draft MQLs: 0, 1, 2, 3, 4, 5 with 5 unobserved: 3 of 5.
    assert (draft_numbers["mql_opportunity"][0], draft_numbers["mql"][0]) == (3, 5)
    assert draft_numbers["unobserved_mql"][0] == 1
    # Lead 5's won amount (50) is unobserved on the draft's path.
    assert base_numbers["mql_amount"][0] == 100.0
    assert draft_numbers["mql_amount"][0] == 100.0
    assert draft_numbers["amount"][0] == 150.0
