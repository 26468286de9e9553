"""Rates with honest intervals, and the funnel metrics behind a simulation.

Everything here works on plain numpy arrays (stage codes, outcome flags,
created day numbers, segment codes), so that each metric can be checked on a
hand-built fixture without criteria or an evaluation. ``leadsim.simulate``
feeds it the arrays of two evaluations.

Words used throughout: the *MQL stage* is stage ``mql`` or ``sql`` (an SQL was
an MQL first). *Precision* is the share of MQLs (or SQLs) that historically
reached an opportunity or won; *coverage* is the share of all opportunities,
wins or won amount that the MQL stage caught. A lead is *unobserved* when the
draft newly sends it to a stage but sales never worked it: it has no observed
outcome from that path, so it is left out of the numerator and the
denominator of every rate on that path and counted apart.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

# The two-sided 95% normal quantile, to the precision published tables use.
Z95 = 1.959963984540054

STAGES = ("disqualified", "lead", "mql", "sql")
STAGE_CODE = {name: code for code, name in enumerate(STAGES)}
MQL_CODE = STAGE_CODE["mql"]
SQL_CODE = STAGE_CODE["sql"]

# A rate is too uncertain to read when fewer leads than this back it, or
# when its 95% interval is wider than this either side of the estimate.
SMALL_N = 30
SMALL_HALF_WIDTH = 0.10

# Bits of the per-lead class used by ``funnel_table``; one bincount over
# these classes gives every count a funnel needs, for every segment at once.
_CLASSES = 4 * 2 * 2 * 2 * 2


@dataclass(frozen=True)
class Rate:
    """A share ``successes / n`` with its 95% Wilson interval.

    ``value`` is ``None`` when ``n`` is 0; the interval is then (0, 1).
    ``small`` flags a rate too uncertain to read (fewer than 30 leads, or a
    half-width above 10 points).
    """

    successes: int
    n: int
    value: float | None
    low: float
    high: float
    small: bool

    def to_dict(self) -> dict:
        """The rate as plain JSON values."""
        return {
            "successes": self.successes,
            "n": self.n,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "small": self.small,
        }


@dataclass(frozen=True)
class Delta:
    """The change of one rate from baseline to draft.

    ``significant`` is false whenever the two 95% intervals overlap (or
    either side has no leads): such a change must not be presented as a win
    or a loss.
    """

    baseline: Rate
    draft: Rate
    difference: float | None
    significant: bool

    def to_dict(self) -> dict:
        """The delta as plain JSON values."""
        return {
            "baseline": self.baseline.value,
            "draft": self.draft.value,
            "difference": self.difference,
            "significant": self.significant,
        }


def wilson_interval(
    successes: np.ndarray | int, n: np.ndarray | int, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``successes / n``, elementwise.

    Where ``n`` is 0 the interval is (0, 1): no leads, no information.
    """
    k = np.asarray(successes, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    safe_n = np.where(total > 0, total, 1.0)

    share = k / safe_n
    z2 = z * z
    denominator = 1.0 + z2 / safe_n
    centre = (share + z2 / (2.0 * safe_n)) / denominator
    spread = z * np.sqrt(share * (1.0 - share) / safe_n + z2 / (4.0 * safe_n**2))
    half = spread / denominator

    low = np.where(total > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where(total > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high


def rate(successes: int, n: int) -> Rate:
    """Build a :class:`Rate` with its Wilson interval and small-sample flag."""
    return _rate(int(successes), int(n))


# A simulation builds hundreds of rates, most of them again after an edit
# (segments it did not touch); rates are frozen, so they can be shared.
@functools.lru_cache(maxsize=8192)
def _rate(successes: int, n: int) -> Rate:
    if not n:
        return Rate(successes, 0, None, 0.0, 1.0, True)

    # Scalar arithmetic: a simulation builds hundreds of rates, and numpy's
    # per-call overhead would dominate the work.
    share = successes / n
    z2 = Z95 * Z95
    denominator = 1.0 + z2 / n
    centre = (share + z2 / (2.0 * n)) / denominator
    half = Z95 * math.sqrt(share * (1.0 - share) / n + z2 / (4.0 * n * n)) / denominator
    low = min(max(centre - half, 0.0), 1.0)
    high = min(max(centre + half, 0.0), 1.0)
    small = n < SMALL_N or (high - low) / 2.0 > SMALL_HALF_WIDTH + 1e-12
    return Rate(successes, n, share, low, high, small)


def compare(baseline: Rate, draft: Rate) -> Delta:
    """The change from ``baseline`` to ``draft``; significant only without overlap."""
    if baseline.value is None or draft.value is None:
        return Delta(baseline, draft, None, False)

    overlap = draft.low <= baseline.high and baseline.low <= draft.high
    return Delta(baseline, draft, draft.value - baseline.value, not overlap)


def share(part: float, whole: float) -> float | None:
    """``part / whole``, or ``None`` when ``whole`` is 0 (or not a number)."""
    if not whole or math.isnan(whole):
        return None
    return float(part) / float(whole)


def stage_codes(stage: np.ndarray) -> np.ndarray:
    """Stage names to int8 codes (0 disqualified, 1 lead, 2 mql, 3 sql).

    Integer input is taken to be codes already and returned as int8.
    """
    stage = np.asarray(stage)
    if stage.dtype.kind in "iu":
        return stage.astype(np.int8, copy=False)

    codes = np.zeros(len(stage), dtype=np.int8)
    for name, code in STAGE_CODE.items():
        if code:
            codes[stage == name] = code
    return codes


def as_flags(values: np.ndarray | None, n: int) -> np.ndarray:
    """A boolean outcome array (``None`` or NaN counting as false)."""
    if values is None:
        return np.zeros(n, dtype=bool)
    values = np.asarray(values)
    if values.dtype == bool:
        return values
    return np.nan_to_num(values.astype(np.float64), nan=0.0) > 0


def as_amounts(values: np.ndarray | None, n: int) -> np.ndarray:
    """A float amount array with missing values as 0."""
    if values is None:
        return np.zeros(n, dtype=np.float64)
    return np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)


@dataclass
class FunnelTable:
    """Funnel counts for ``n_groups`` groups of leads (one row per group).

    ``counts`` has shape (groups, stage, opportunity, won, new-MQL-unobserved,
    new-SQL-unobserved); ``amounts`` has shape (groups, stage,
    new-MQL-unobserved) and sums the won amount.
    """

    counts: np.ndarray
    amounts: np.ndarray

    @property
    def leads(self) -> np.ndarray:
        """Leads per group."""
        return self.counts.sum(axis=(1, 2, 3, 4, 5))

    @property
    def stages(self) -> np.ndarray:
        """Leads per group and stage, shape (groups, 4)."""
        return self.counts.sum(axis=(2, 3, 4, 5))

    def numbers(self) -> dict[str, np.ndarray]:
        """Every count a funnel's rates need, each an array over groups."""
        c = self.counts
        mql = c[:, MQL_CODE:, :, :, 0, :].sum(axis=(1, 4))  # (g, opp, won)
        sql = c[:, SQL_CODE, :, :, :, 0].sum(axis=3)  # (g, opp, won)
        sql_on_mql_path = c[:, SQL_CODE, :, :, 0, :].sum(axis=(1, 2, 3))
        everyone = c.sum(axis=(1, 4, 5))  # (g, opp, won)
        return {
            "leads": self.leads,
            "stages": self.stages,
            "mql": mql.sum(axis=(1, 2)),
            "mql_sql": sql_on_mql_path,
            "mql_opportunity": mql[:, 1, :].sum(axis=1),
            "mql_won": mql[:, :, 1].sum(axis=1),
            "sql": sql.sum(axis=(1, 2)),
            "sql_opportunity": sql[:, 1, :].sum(axis=1),
            "sql_won": sql[:, :, 1].sum(axis=1),
            "opportunity": everyone[:, 1, :].sum(axis=1),
            "won": everyone[:, :, 1].sum(axis=1),
            "unobserved_mql": c[:, MQL_CODE:, :, :, 1, :].sum(axis=(1, 2, 3, 4)),
            "unobserved_sql": c[:, SQL_CODE, :, :, :, 1].sum(axis=(1, 2, 3)),
            "amount": self.amounts.sum(axis=(1, 2)),
            "mql_amount": self.amounts[:, MQL_CODE:, 0].sum(axis=1),
        }


def funnel_table(
    stage: np.ndarray,
    opportunity: np.ndarray,
    won: np.ndarray,
    amount: np.ndarray,
    unobserved_mql: np.ndarray | None = None,
    unobserved_sql: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    n_groups: int = 1,
) -> FunnelTable:
    """Count a funnel per group in one pass over the leads.

    ``stage`` holds stage codes; ``opportunity`` and ``won`` are booleans;
    ``amount`` the won amount (0 where none). ``unobserved_mql`` marks leads
    newly at the MQL stage that sales never worked, ``unobserved_sql`` leads
    newly SQL that sales never worked. ``groups`` gives each lead a group in
    ``0..n_groups-1`` (all leads in group 0 when omitted); a negative group
    leaves the lead out.
    """
    n = len(stage)
    none = np.zeros(n, dtype=bool)
    new_mql = none if unobserved_mql is None else unobserved_mql
    new_sql = none if unobserved_sql is None else unobserved_sql

    lead_class = (
        stage.astype(np.int64) * 16
        + opportunity.astype(np.int64) * 8
        + won.astype(np.int64) * 4
        + new_mql.astype(np.int64) * 2
        + new_sql.astype(np.int64)
    )
    amount_class = stage.astype(np.int64) * 2 + new_mql.astype(np.int64)
    if groups is not None:
        keep = groups >= 0
        lead_class = lead_class[keep] + groups[keep].astype(np.int64) * _CLASSES
        amount_class = amount_class[keep] + groups[keep].astype(np.int64) * 8
        amount = amount[keep]

    counts = np.bincount(lead_class, minlength=n_groups * _CLASSES)
    amounts = np.bincount(amount_class, weights=amount, minlength=n_groups * 8)
    return FunnelTable(
        counts=counts.reshape(n_groups, 4, 2, 2, 2, 2),
        amounts=amounts.reshape(n_groups, 4, 2),
    )


def paired_classes(
    baseline_stage: np.ndarray,
    draft_stage: np.ndarray,
    opportunity: np.ndarray,
    won: np.ndarray,
    unobserved_mql: np.ndarray,
    unobserved_sql: np.ndarray,
) -> np.ndarray:
    """One uint8 class per lead that holds both funnels (256 classes).

    Bits, high to low: baseline stage (2), draft stage (2), opportunity,
    won, unobserved on the draft's MQL path, unobserved on its SQL path.
    Counting these classes once per segment gives the baseline and the
    draft funnel together (see :func:`paired_tables`).
    """
    classes = baseline_stage.astype(np.uint8) << 6
    classes |= draft_stage.astype(np.uint8) << 4
    classes |= opportunity.astype(np.uint8) << 3
    classes |= won.astype(np.uint8) << 2
    classes |= unobserved_mql.astype(np.uint8) << 1
    classes |= unobserved_sql.astype(np.uint8)
    return classes


def paired_tables(
    classes: np.ndarray,
    amount: np.ndarray,
    amount_rows: np.ndarray,
    groups: np.ndarray | None = None,
    n_groups: int = 1,
) -> tuple[FunnelTable, FunnelTable]:
    """Baseline and draft funnel tables per group from :func:`paired_classes`.

    ``amount_rows`` lists the leads with a won amount (a small set), so the
    money sums touch only them. ``groups`` (0..n_groups-1, no negatives)
    defaults to one group. The baseline table treats every lead as observed.
    """
    if groups is None:
        counts = np.bincount(classes, minlength=256)
    else:
        counts = np.bincount(
            groups.astype(np.int64) * 256 + classes, minlength=n_groups * 256
        )
    row_group = (
        np.zeros(len(amount_rows), dtype=np.int64)
        if groups is None
        else groups[amount_rows].astype(np.int64)
    )
    return split_pairs(
        counts.reshape(n_groups, 4, 4, 2, 2, 2, 2),
        classes[amount_rows],
        amount[amount_rows],
        row_group,
    )


def split_pairs(
    joint: np.ndarray,
    row_classes: np.ndarray,
    row_amounts: np.ndarray,
    row_groups: np.ndarray,
) -> tuple[FunnelTable, FunnelTable]:
    """Baseline and draft tables from paired-class counts per group.

    ``joint`` has shape (groups, 4, 4, 2, 2, 2, 2): counts of the 256
    :func:`paired_classes`. The ``row_*`` arrays describe the leads with a
    won amount: their paired class, amount and group.
    """
    n_groups = joint.shape[0]
    base = np.zeros((n_groups, 4, 2, 2, 2, 2), dtype=np.int64)
    base[..., 0, 0] = joint.sum(axis=(2, 5, 6))
    draft = joint.sum(axis=1)

    row_class = row_classes.astype(np.int64)
    base_amount = np.bincount(
        row_groups * 8 + (row_class >> 6) * 2,
        weights=row_amounts,
        minlength=n_groups * 8,
    )
    draft_amount = np.bincount(
        row_groups * 8 + ((row_class >> 4) & 3) * 2 + ((row_class >> 1) & 1),
        weights=row_amounts,
        minlength=n_groups * 8,
    )
    return (
        FunnelTable(base, base_amount.reshape(n_groups, 4, 2)),
        FunnelTable(draft, draft_amount.reshape(n_groups, 4, 2)),
    )


RATE_NAMES = (
    "mql_to_sql",
    "mql_opportunity",
    "mql_won",
    "sql_opportunity",
    "sql_won",
    "opportunity_coverage",
    "won_coverage",
)


def funnel_rates(numbers: dict[str, np.ndarray], group: int = 0) -> dict[str, Rate]:
    """The rates of one group of a :meth:`FunnelTable.numbers` result.

    ``mql_to_sql``: SQLs among MQL-stage leads; ``mql_opportunity`` and
    ``mql_won``: precision of the MQL stage; ``sql_opportunity`` and
    ``sql_won``: precision of the SQL stage; ``opportunity_coverage`` and
    ``won_coverage``: the share of all opportunities and wins caught by the
    MQL stage. Unobserved leads are in none of them.
    """
    pairs = {
        "mql_to_sql": ("mql_sql", "mql"),
        "mql_opportunity": ("mql_opportunity", "mql"),
        "mql_won": ("mql_won", "mql"),
        "sql_opportunity": ("sql_opportunity", "sql"),
        "sql_won": ("sql_won", "sql"),
        "opportunity_coverage": ("mql_opportunity", "opportunity"),
        "won_coverage": ("mql_won", "won"),
    }
    return {
        name: rate(numbers[top][group], numbers[bottom][group])
        for name, (top, bottom) in pairs.items()
    }


def week_index(created_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's created week, as an index into a contiguous week range.

    Weeks start on Monday (ISO weeks). Returns ``(index, starts)``: ``index``
    is -1 where the created date is missing; ``starts`` holds the day number
    (days since 1970-01-01) of each week's Monday, empty weeks included.
    """
    days = np.asarray(created_days, dtype=np.float64)
    dated = ~np.isnan(days)
    if not dated.any():
        return np.full(len(days), -1, dtype=np.int64), np.zeros(0, dtype=np.int64)

    whole = np.floor(np.where(dated, days, 0.0)).astype(np.int64)
    # 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays.
    monday = whole - (whole + 3) % 7
    first = int(monday[dated].min())
    last = int(monday[dated].max())

    index = np.where(dated, (monday - first) // 7, -1)
    starts = np.arange(first, last + 1, 7, dtype=np.int64)
    return index, starts


def weekly_counts(stage: np.ndarray, week: np.ndarray, n_weeks: int) -> np.ndarray:
    """Leads per created week and stage, shape (weeks, 4); undated leads left out."""
    dated = week >= 0
    codes = week[dated] * 4 + stage[dated].astype(np.int64)
    return np.bincount(codes, minlength=n_weeks * 4).reshape(n_weeks, 4)


@dataclass
class SweepCurve:
    """MQL volume, precision and coverage for each total threshold."""

    thresholds: np.ndarray
    mql: np.ndarray
    counted: np.ndarray
    opportunity: np.ndarray
    won: np.ndarray
    amount: np.ndarray
    unobserved: np.ndarray
    total_opportunity: int
    total_won: int
    total_amount: float


def sweep_totals(
    total: np.ndarray,
    eligible: np.ndarray,
    always: np.ndarray,
    opportunity: np.ndarray,
    won: np.ndarray,
    amount: np.ndarray,
    unobserved: np.ndarray,
    max_threshold: int,
) -> SweepCurve:
    """Sweep the total threshold from 0 to ``max_threshold`` in one pass.

    A lead is at the MQL stage for threshold ``t`` when it is ``always`` an
    MQL (fast track, not excluded) or it is ``eligible`` (not excluded, every
    other minimum holds) and its total is at least ``t``. Totals are bucketed
    by their whole part (a counting sort: for a whole ``t``, ``total >= t``
    exactly when ``floor(total) >= t``) and summed from the top down, so the
    cost is one pass over the leads whatever the number of thresholds.
    ``unobserved`` leads count in volume, never in precision or coverage.
    """
    bucket = sweep_buckets(total, eligible, always, max_threshold)
    lead_class = sweep_classes(opportunity, won, unobserved)
    counts = np.bincount(bucket * 8 + lead_class, minlength=(max_threshold + 2) * 8)
    rows = sweep_money_rows(amount, unobserved)
    return sweep_curve(
        counts.reshape(max_threshold + 2, 8),
        sweep_money(bucket[rows], amount[rows], max_threshold),
        int(np.count_nonzero(opportunity)),
        int(np.count_nonzero(won)),
        float(amount.sum()),
    )


def sweep_buckets(
    total: np.ndarray, eligible: np.ndarray, always: np.ndarray, max_threshold: int
) -> np.ndarray:
    """Each lead's bucket in a sweep up to ``max_threshold`` (:func:`sweep_totals`).

    The whole part of the total for eligible leads; the top bucket for leads
    that are always MQLs, which every threshold's top-down sum includes; a
    spare bucket past the top (``max_threshold + 1``) for leads outside the
    sweep. A lead's bucket depends on that lead alone, so a sweep's counts
    can be updated lead by lead.
    """
    bucket = np.clip(np.floor(total), 0, max_threshold).astype(np.int64)
    bucket[~eligible] = max_threshold + 1
    bucket[always] = max_threshold
    return bucket


def sweep_classes(
    opportunity: np.ndarray, won: np.ndarray, unobserved: np.ndarray
) -> np.ndarray:
    """Each lead's outcome class in a sweep: observed, opportunity, won (3 bits)."""
    lead_class = (~unobserved).astype(np.uint8) << 2
    lead_class |= opportunity.astype(np.uint8) << 1
    lead_class |= won.astype(np.uint8)
    return lead_class


def sweep_money_rows(amount: np.ndarray, unobserved: np.ndarray) -> np.ndarray:
    """The leads whose won amount a sweep sums: observed, with an amount."""
    return np.flatnonzero(amount * ~unobserved)


def sweep_money(
    buckets: np.ndarray, amounts: np.ndarray, max_threshold: int
) -> np.ndarray:
    """Won amount per sweep bucket, the spare one included, from listed leads."""
    return np.bincount(buckets, weights=amounts, minlength=max_threshold + 2)


def sweep_curve(
    counts: np.ndarray,
    money: np.ndarray,
    total_opportunity: int,
    total_won: int,
    total_amount: float,
) -> SweepCurve:
    """The sweep from its bucket counts (:func:`sweep_totals` does it all at once).

    ``counts`` has shape (buckets + 1 spare, 8): leads per bucket and
    :func:`sweep_classes` class; ``money`` holds the won amount per bucket
    (see :func:`sweep_money`). The totals are over all leads.
    """
    size = counts.shape[0] - 1
    top_down = np.cumsum(counts[:size][::-1], axis=0)[::-1]
    volume = top_down.sum(axis=1)
    counted = top_down[:, 4:].sum(axis=1)
    return SweepCurve(
        thresholds=np.arange(size),
        mql=volume.astype(np.int64),
        counted=counted.astype(np.int64),
        opportunity=top_down[:, [6, 7]].sum(axis=1).astype(np.int64),
        won=top_down[:, [5, 7]].sum(axis=1).astype(np.int64),
        amount=np.cumsum(money[:size][::-1])[::-1],
        unobserved=(volume - counted).astype(np.int64),
        total_opportunity=total_opportunity,
        total_won=total_won,
        total_amount=total_amount,
    )
