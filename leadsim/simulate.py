"""What a draft would change, measured on history against a baseline.

:func:`simulate` evaluates both criteria files on the same leads and returns
one :class:`Simulation`: counts per stage, MQL→SQL rate, precision and
coverage with 95% Wilson intervals, weekly volume and sales load, all of it
per segment, the flips with a reason each, the threshold sweep, per-rule
impact, and the caveats. The pages, the command line (JSON through
:meth:`Simulation.to_dict`) and the markdown report all render this object.

Every metric is column work over all leads; Python loops run over rules,
segment values and the few flips shown with reasons, never over leads.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from leadsim import stats
from leadsim.conditions import ConditionCache, resolve_lists
from leadsim.dataset import EPOCH, Leads
from leadsim.evaluate import Evaluation, edit_outline, evaluate
from leadsim.stats import MQL_CODE, SQL_CODE, STAGES, Delta, Rate

logger = logging.getLogger(__name__)

# Flips listed with a reason; the count of flips is always exact.
MAX_FLIPS = 200
# Segment values listed per segment column; the rest are summed as "(other)".
MAX_SEGMENT_VALUES = 50
MISSING_LABEL = "(missing)"
OTHER_LABEL = "(other)"
SCORE_GROUPS = ("fit", "engagement")
STAGE_RANK = {name: rank for rank, name in enumerate(STAGES)}


@dataclass
class Funnel:
    """Counts and rates of one criteria file (or one segment under it)."""

    leads: int
    stages: dict[str, int]
    rates: dict[str, Rate]
    won_amount: float
    won_amount_caught: float
    unobserved_mql: int = 0
    unobserved_sql: int = 0

    @property
    def mql(self) -> int:
        """Leads at the MQL stage (stage mql or sql)."""
        return self.stages["mql"] + self.stages["sql"]

    @property
    def sql(self) -> int:
        """Leads at stage sql."""
        return self.stages["sql"]

    @property
    def amount_coverage(self) -> float | None:
        """Share of all won amount that the MQL stage caught."""
        return stats.share(self.won_amount_caught, self.won_amount)

    def to_dict(self) -> dict:
        """The funnel as plain JSON values."""
        return {
            "leads": self.leads,
            "stages": dict(self.stages),
            "mql": self.mql,
            "sql": self.sql,
            "rates": {name: value.to_dict() for name, value in self.rates.items()},
            "amount_coverage": {
                "value": self.amount_coverage,
                "caught": self.won_amount_caught,
                "total": self.won_amount,
            },
            "unobserved": {"mql": self.unobserved_mql, "sql": self.unobserved_sql},
        }


def _deltas(baseline: Funnel, draft: Funnel) -> dict[str, Delta]:
    return {
        name: stats.compare(baseline.rates[name], draft.rates[name])
        for name in stats.RATE_NAMES
    }


@dataclass
class SegmentValue:
    """Baseline and draft for the leads with one value of a segment column."""

    value: str
    baseline: Funnel
    draft: Funnel
    weekly_mql: dict[str, list[int]]

    @property
    def deltas(self) -> dict[str, Delta]:
        """Rate changes from baseline to draft."""
        return _deltas(self.baseline, self.draft)

    @property
    def small(self) -> bool:
        """Too few leads, or too wide an interval, to read the MQL precision."""
        return (
            self.baseline.leads < stats.SMALL_N
            or self.draft.rates["mql_opportunity"].small
            or self.baseline.rates["mql_opportunity"].small
        )

    def to_dict(self) -> dict:
        """The segment value as plain JSON values."""
        return {
            "value": self.value,
            "leads": self.baseline.leads,
            "small": self.small,
            "mql_change": self.draft.mql - self.baseline.mql,
            "sql_change": self.draft.sql - self.baseline.sql,
            "baseline": self.baseline.to_dict(),
            "draft": self.draft.to_dict(),
            "deltas": {name: d.to_dict() for name, d in self.deltas.items()},
            "weekly_mql": self.weekly_mql,
        }


@dataclass
class Weekly:
    """MQL-stage and SQL volume per created week (weeks start on Monday)."""

    weeks: list[str]
    baseline_mql: list[int]
    baseline_sql: list[int]
    draft_mql: list[int]
    draft_sql: list[int]
    undated: int

    def to_dict(self) -> dict:
        """The weekly volume as plain JSON values."""
        return {
            "weeks": self.weeks,
            "baseline": {"mql": self.baseline_mql, "sql": self.baseline_sql},
            "draft": {"mql": self.draft_mql, "sql": self.draft_sql},
            "undated": self.undated,
        }


@dataclass
class SalesLoad:
    """MQLs a week against the SDR team's capacity (leads a week)."""

    capacity: float | None
    baseline_mean: float
    baseline_peak: int
    draft_mean: float
    draft_peak: int
    baseline_weeks_over: int | None
    draft_weeks_over: int | None
    weeks: int

    def to_dict(self) -> dict:
        """The sales load as plain JSON values."""
        return {
            "capacity": self.capacity,
            "weeks": self.weeks,
            "baseline": {
                "mean": self.baseline_mean,
                "peak": self.baseline_peak,
                "weeks_over_capacity": self.baseline_weeks_over,
            },
            "draft": {
                "mean": self.draft_mean,
                "peak": self.draft_peak,
                "weeks_over_capacity": self.draft_weeks_over,
            },
        }


@dataclass
class Flip:
    """One lead whose stage or queue differs between baseline and draft."""

    lead_id: str
    baseline_stage: str
    draft_stage: str
    baseline_queue: str
    draft_queue: str
    baseline_total: float
    draft_total: float
    reason: str

    def to_dict(self) -> dict:
        """The flip as plain JSON values."""
        return {
            "lead_id": self.lead_id,
            "baseline": {
                "stage": self.baseline_stage,
                "queue": self.baseline_queue,
                "total": round(self.baseline_total, 2),
            },
            "draft": {
                "stage": self.draft_stage,
                "queue": self.draft_queue,
                "total": round(self.draft_total, 2),
            },
            "reason": self.reason,
        }


@dataclass
class Flips:
    """Every lead that changes stage or queue: exact counts, the first few listed.

    ``listed`` holds at most :data:`MAX_FLIPS` flips, biggest stage moves
    first, then biggest score changes.
    """

    count: int
    stage_changes: int
    queue_only: int
    transitions: list[dict]
    queue_transitions: list[dict]
    listed: list[Flip]

    @property
    def truncated(self) -> bool:
        """True when more flips exist than are listed."""
        return self.count > len(self.listed)

    def to_dict(self) -> dict:
        """The flips as plain JSON values."""
        return {
            "count": self.count,
            "stage_changes": self.stage_changes,
            "queue_only": self.queue_only,
            "transitions": self.transitions,
            "queue_transitions": self.queue_transitions,
            "listed": len(self.listed),
            "truncated": self.truncated,
            "leads": [flip.to_dict() for flip in self.listed],
        }


@dataclass
class Sweep:
    """The draft's MQL volume, precision and coverage per total threshold.

    Only the ``total`` minimum moves; the draft's other minimums (fit,
    engagement), its exclusions and its fast track are kept as they are, so
    fast-tracked leads are MQLs at every threshold. Precision and coverage
    leave out unobserved leads (new MQLs that sales never worked), which
    ``unobserved`` counts.
    """

    thresholds: list[int]
    mql: list[int]
    precision: list[float | None]
    precision_low: list[float]
    precision_high: list[float]
    coverage: list[float | None]
    won_coverage: list[float | None]
    amount_coverage: list[float | None]
    unobserved: list[int]
    current: float | None
    kept: dict[str, Any]

    def to_dict(self) -> dict:
        """The sweep as plain JSON values."""
        return {
            "current_threshold": self.current,
            "kept": self.kept,
            "thresholds": self.thresholds,
            "mql": self.mql,
            "precision": self.precision,
            "precision_low": self.precision_low,
            "precision_high": self.precision_high,
            "coverage": self.coverage,
            "won_coverage": self.won_coverage,
            "amount_coverage": self.amount_coverage,
            "unobserved": self.unobserved,
        }

    def frame(self) -> pd.DataFrame:
        """Columns ``threshold``, ``mqls``, ``precision``, ``coverage`` (charts)."""
        return pd.DataFrame(
            {
                "threshold": self.thresholds,
                "mqls": self.mql,
                "precision": pd.array(self.precision, dtype="Float64"),
                "coverage": pd.array(self.coverage, dtype="Float64"),
            }
        )


@dataclass
class RuleImpact:
    """How one rule touches the leads, and what the draft loses without it.

    ``opportunity_matched`` and ``opportunity_rest`` are opportunity rates
    among leads sales worked (all leads when the profile names no ``worked``
    outcome), so that leads never worked do not pass for failures.
    ``mqls_lost_without`` and ``mqls_gained_without`` recompute the MQL stage
    with the rule taken out (its points, exclusion or fast track), every
    other rule kept; SQL rules do not change the MQL stage.
    """

    id: str
    section: str
    label: str
    status: str
    matched: int
    opportunity_matched: Rate
    opportunity_rest: Rate
    mqls_lost_without: int
    mqls_gained_without: int

    @property
    def lift(self) -> float | None:
        """Opportunity rate of matched leads over that of the rest."""
        matched = self.opportunity_matched.value
        rest = self.opportunity_rest.value
        if matched is None or not rest:
            return None
        return matched / rest

    @property
    def lift_significant(self) -> bool:
        """False when the matched and rest intervals overlap."""
        return stats.compare(
            self.opportunity_rest, self.opportunity_matched
        ).significant

    def to_dict(self) -> dict:
        """The rule impact as plain JSON values."""
        return {
            "id": self.id,
            "section": self.section,
            "label": self.label,
            "status": self.status,
            "matched": self.matched,
            "opportunity_matched": self.opportunity_matched.to_dict(),
            "opportunity_rest": self.opportunity_rest.to_dict(),
            "lift": self.lift,
            "significant": self.lift_significant,
            "mqls_lost_without": self.mqls_lost_without,
            "mqls_gained_without": self.mqls_gained_without,
        }


@dataclass
class Simulation:
    """Everything a draft would change against a baseline, on the same leads."""

    dataset: dict[str, Any]
    capacity: float | None
    baseline_criteria: dict[str, Any]
    draft_criteria: dict[str, Any]
    baseline: Funnel
    draft: Funnel
    flips: Flips
    segments: dict[str, list[SegmentValue]]
    weekly: Weekly
    load: SalesLoad
    sweep: Sweep
    rules: list[RuleImpact]
    caveats: list[str]
    seconds: float = 0.0
    evaluations: tuple[Evaluation, Evaluation] | None = field(default=None, repr=False)

    @property
    def deltas(self) -> dict[str, Delta]:
        """Rate changes from baseline to draft, over all leads."""
        return _deltas(self.baseline, self.draft)

    def segment_shifts(self, limit: int = 5) -> list[tuple[str, SegmentValue]]:
        """Segment values with the biggest MQL volume change, biggest first."""
        rows = [
            (column, value)
            for column, values in self.segments.items()
            for value in values
        ]
        rows.sort(key=lambda row: -abs(row[1].draft.mql - row[1].baseline.mql))
        return [row for row in rows if row[1].draft.mql != row[1].baseline.mql][:limit]

    def to_dict(self) -> dict:
        """The whole result as plain JSON values (the ``simulate`` output)."""
        return {
            "dataset": self.dataset,
            "capacity": self.capacity,
            "baseline": {"criteria": self.baseline_criteria, **self.baseline.to_dict()},
            "draft": {"criteria": self.draft_criteria, **self.draft.to_dict()},
            "deltas": {name: delta.to_dict() for name, delta in self.deltas.items()},
            "flips": self.flips.to_dict(),
            "segments": {
                column: [value.to_dict() for value in values]
                for column, values in self.segments.items()
            },
            "weekly": self.weekly.to_dict(),
            "load": self.load.to_dict(),
            "sweep": self.sweep.to_dict(),
            "rules": [impact.to_dict() for impact in self.rules],
            "caveats": list(self.caveats),
        }

    def funnel_frame(self) -> pd.DataFrame:
        """Columns ``step``, ``version``, ``leads``: MQL, SQL, opportunity, won."""
        rows = []
        for version, funnel in (("baseline", self.baseline), ("draft", self.draft)):
            steps = {
                "MQL": funnel.mql,
                "SQL": funnel.sql,
                "MQL reached opportunity": funnel.rates["mql_opportunity"].successes,
                "MQL won": funnel.rates["mql_won"].successes,
            }
            rows += [
                {"step": step, "version": version, "leads": count}
                for step, count in steps.items()
            ]
        return pd.DataFrame(rows)

    def weekly_frame(self) -> pd.DataFrame:
        """Columns ``week``, ``stage`` (MQL/SQL), ``version``, ``leads``."""
        weekly = self.weekly
        series = {
            ("MQL", "baseline"): weekly.baseline_mql,
            ("SQL", "baseline"): weekly.baseline_sql,
            ("MQL", "draft"): weekly.draft_mql,
            ("SQL", "draft"): weekly.draft_sql,
        }
        frames = [
            pd.DataFrame(
                {
                    "week": pd.to_datetime(weekly.weeks),
                    "stage": stage,
                    "version": version,
                    "leads": counts,
                }
            )
            for (stage, version), counts in series.items()
        ]
        return pd.concat(frames, ignore_index=True)

    def segment_frame(self, column: str, rate_name: str) -> pd.DataFrame:
        """One rate per value of a segment column, baseline and draft (charts).

        Columns ``value``, ``version``, ``rate``, ``low``, ``high``, ``leads``
        (the rate's denominator) and ``small``.
        """
        rows = []
        for value in self.segments.get(column, []):
            for version in ("baseline", "draft"):
                found = getattr(value, version).rates[rate_name]
                rows.append(
                    {
                        "value": value.value,
                        "version": version,
                        "rate": found.value,
                        "low": found.low,
                        "high": found.high,
                        "leads": found.n,
                        "small": found.small,
                    }
                )
        return pd.DataFrame(rows)


def simulate(
    draft: Any,
    baseline: Any,
    leads: Leads,
    capacity: float | None = None,
    cache: ConditionCache | None = None,
    max_flips: int = MAX_FLIPS,
) -> Simulation:
    """Evaluate ``draft`` and ``baseline`` on ``leads`` and compare them.

    ``capacity`` is the SDR team's capacity in leads a week (for the sales
    load). Pass the same ``cache`` across calls in a workshop: after a
    one-rule edit only that rule's column is recomputed, the baseline's
    evaluation, unchanged, is reused whole, and the comparison recounts only
    the leads whose draft outputs the edit changed (the result is the same
    as a full comparison's).
    """
    if cache is None:
        cache = ConditionCache()
        baseline_evaluation = evaluate(baseline, leads, cache=cache)
        draft_evaluation = evaluate(draft, leads, cache=cache)
        return compare(baseline_evaluation, draft_evaluation, capacity, max_flips)

    baseline_evaluation = _kept_evaluation(baseline, leads, cache)
    # Taken out while in use: a comparison that fails half way leaves nothing
    # half updated behind.
    kept = cache.latest.pop(_LATEST, None)
    if kept is not None and kept.lead_key != _lead_key(leads):
        kept = None
    draft_evaluation = evaluate(
        draft, leads, cache=cache, previous=None if kept is None else kept.draft
    )
    simulation, tallies = _compare(
        baseline_evaluation, draft_evaluation, capacity, max_flips, kept
    )
    cache.latest[_LATEST] = tallies
    return simulation


# Results kept between calls (app sessions share them): guarded by one lock.
_KEPT_LOCK = threading.Lock()
_EVALUATIONS: OrderedDict[tuple[str, int, str], Evaluation] = OrderedDict()
_EVALUATIONS_KEPT = 2


def _kept_evaluation(criteria: Any, leads: Leads, cache: ConditionCache) -> Evaluation:
    """The evaluation of ``criteria`` on ``leads``, kept for the next call.

    Keyed on the criteria's content (not its text, which an editor may not
    have refreshed) and the dataset's fingerprint; evaluations are pure.
    """
    content = json.dumps(criteria.data, sort_keys=True, default=str)
    key = (leads.fingerprint, len(leads), content)
    with _KEPT_LOCK:
        found = _EVALUATIONS.get(key)
        if found is not None:
            _EVALUATIONS.move_to_end(key)
            return found

    evaluation = evaluate(criteria, leads, cache=cache)
    with _KEPT_LOCK:
        _EVALUATIONS[key] = evaluation
        while len(_EVALUATIONS) > _EVALUATIONS_KEPT:
            _EVALUATIONS.popitem(last=False)
    return evaluation


def compare(
    baseline: Evaluation,
    draft: Evaluation,
    capacity: float | None = None,
    max_flips: int = MAX_FLIPS,
) -> Simulation:
    """Compare two evaluations of the same leads (see :func:`simulate`)."""
    simulation, _ = _compare(baseline, draft, capacity, max_flips)
    return simulation


def _compare(
    baseline: Evaluation,
    draft: Evaluation,
    capacity: float | None,
    max_flips: int,
    previous: _Tallies | None = None,
) -> tuple[Simulation, _Tallies]:
    """The comparison, and its tallies for the next one.

    With ``previous``, the tallies of an earlier comparison on the same
    leads, only the leads whose draft outputs changed since are counted
    again, when the two drafts differ in rule conditions, points or lists
    alone (see :meth:`_Tallies.update`); otherwise everything is counted.
    """
    started = time.perf_counter()
    leads = draft.leads
    lead = _lead_facts(leads)
    draft_rules = _Rules.of(draft.criteria)
    known_rules = None if previous is None else previous.baseline_rules
    base_rules = _Rules.of(baseline.criteria, known_rules)
    changed = None
    if previous is not None:
        changed = previous.changed_rows(baseline, draft, draft_rules)
    if previous is not None and changed is not None:
        tallies = previous.update(baseline, draft, draft_rules, changed)
    else:
        known = None
        if previous is not None and previous.lead_key == _lead_key(leads):
            known = previous.masks
        tallies = _Tallies.count(baseline, draft, base_rules, draft_rules, known)
    facts = _Facts(
        lead,
        stats.stage_codes(baseline.stage_code),
        stats.stage_codes(draft.stage_code),
        tallies.classes,
    )

    overall = tallies.counts[None]
    baseline_table, draft_table = facts.tables(overall)
    weekly, load = _weekly(facts, overall, capacity)
    segments = {
        column: _segment(column, facts, tallies.counts[column])
        for column in lead.groupings
    }
    flips = _flips(
        baseline, draft, facts, tallies.flips, max_flips, (base_rules, draft_rules)
    )
    simulation = Simulation(
        dataset=_dataset_info(leads, lead),
        capacity=capacity,
        baseline_criteria=_criteria_info(baseline.criteria),
        draft_criteria=_criteria_info(draft.criteria),
        baseline=_funnel(baseline_table.numbers(), 0, lead.unknown),
        draft=_funnel(draft_table.numbers(), 0, lead.unknown),
        flips=flips,
        segments=segments,
        weekly=weekly,
        load=load,
        sweep=_sweep_result(tallies.sweep.curve(), draft_rules.threshold),
        rules=_impacts(
            draft,
            draft_rules,
            baseline,
            base_rules,
            tallies.masks,
            tallies.without.counts,
        ),
        caveats=[],
        evaluations=(baseline, draft),
    )
    if lead.unknown:
        _blank_unknown(simulation, lead.unknown)
    simulation.caveats = _caveats(simulation, facts)
    simulation.seconds = time.perf_counter() - started
    logger.info(
        "compared %s against %s on %s leads in %.2f s: %s flips",
        simulation.draft_criteria["name"],
        simulation.baseline_criteria["name"],
        f"{len(leads):,}",
        simulation.seconds,
        f"{flips.count:,}",
    )
    return simulation, tallies


@dataclass
class _Grouping:
    """A segment column's values as group codes, folded into counting keys."""

    labels: list[str]
    groups: np.ndarray
    keys: np.ndarray  # (group * week slots + week slot) * 256, per lead
    amount_groups: np.ndarray  # the groups of the leads with a won amount


@dataclass
class _LeadFacts:
    """Everything the comparison needs that depends on the leads alone.

    Kept per dataset (see :func:`_lead_facts`), so that a workshop's
    repeated simulations on one history do not redo this work.
    """

    opportunity: np.ndarray
    won: np.ndarray
    amount: np.ndarray
    amount_rows: np.ndarray
    worked: np.ndarray | None
    created_days: np.ndarray
    week_starts: np.ndarray
    undated: int
    created_range: tuple[str | None, str | None]
    unknown: frozenset[str]
    keys: np.ndarray  # week slot * 256; undated leads in the last slot
    groupings: dict[str, _Grouping]
    ids: pd.Series

    @property
    def slots(self) -> int:
        """Week slots: one per week, plus one for undated leads."""
        return len(self.week_starts) + 1


_LEAD_FACTS: OrderedDict[str, _LeadFacts] = OrderedDict()
_LEAD_FACTS_KEPT = 2


def _lead_key(leads: Leads) -> str:
    """What tells one prepared history from another: fingerprint and size."""
    return f"{leads.fingerprint}:{len(leads)}"


def _lead_facts(leads: Leads) -> _LeadFacts:
    """The lead-only facts of ``leads``, memoised on its fingerprint."""
    key = _lead_key(leads)
    with _KEPT_LOCK:
        found = _LEAD_FACTS.get(key)
        if found is not None:
            _LEAD_FACTS.move_to_end(key)
            return found

    size = len(leads)
    amount = stats.as_amounts(leads.outcome("amount"), size)
    worked = leads.outcome("worked")
    created = leads.created_days()
    week, starts = stats.week_index(created)
    slot = np.where(week < 0, len(starts), week)
    slots = len(starts) + 1
    amount_rows = np.flatnonzero(amount)
    groupings = {}
    for column in leads.profile.segments:
        if column not in leads.columns:
            continue
        groups, labels = segment_codes(leads, column)
        keys = (groups.astype(np.int64) * slots + slot) * 256
        amount_groups = groups[amount_rows].astype(np.int64)
        groupings[column] = _Grouping(labels, groups, keys, amount_groups)
    facts = _LeadFacts(
        opportunity=stats.as_flags(leads.outcome("opportunity"), size),
        won=stats.as_flags(leads.outcome("won"), size),
        amount=amount,
        amount_rows=amount_rows,
        worked=None if worked is None else stats.as_flags(worked, size),
        created_days=created,
        week_starts=starts,
        undated=int(np.count_nonzero(week < 0)),
        created_range=_created_range(created),
        unknown=_unknown_rates(leads),
        keys=slot.astype(np.int64) * 256,
        groupings=groupings,
        ids=_in_one_piece(leads.frame[leads.profile.id_column]),
    )
    with _KEPT_LOCK:
        _LEAD_FACTS[key] = facts
        while len(_LEAD_FACTS) > _LEAD_FACTS_KEPT:
            _LEAD_FACTS.popitem(last=False)
    return facts


@dataclass
class _Facts:
    """Per-lead arrays of one comparison: both stages and the paired class."""

    lead: _LeadFacts
    baseline_stage: np.ndarray
    draft_stage: np.ndarray
    classes: np.ndarray

    @property
    def worked(self) -> np.ndarray | None:
        """Whether sales worked each lead (None when the profile cannot say)."""
        return self.lead.worked

    @property
    def opportunity(self) -> np.ndarray:
        """Whether each lead reached an opportunity."""
        return self.lead.opportunity

    @classmethod
    def build(cls, baseline: Evaluation, draft: Evaluation) -> _Facts:
        lead = _lead_facts(draft.leads)
        base_stage = stats.stage_codes(baseline.stage_code)
        draft_stage = stats.stage_codes(draft.stage_code)
        classes = _paired_classes(lead, base_stage, draft_stage)
        return cls(lead, base_stage, draft_stage, classes)

    def count(self, grouping: _Grouping | None = None) -> _Counts:
        """Leads per group, week slot and paired class, in one bincount."""
        keys = self.lead.keys if grouping is None else grouping.keys
        groups = 1 if grouping is None else len(grouping.labels)
        slots = self.lead.slots
        counts = np.bincount(keys + self.classes, minlength=groups * slots * 256)
        counts = counts.reshape(groups, slots, 256)
        return _Counts(
            np.ascontiguousarray(counts.sum(axis=1).reshape(groups, 4, 4, 2, 2, 2, 2)),
            np.ascontiguousarray(counts.reshape(groups, slots, 4, 4, 16).sum(axis=4)),
        )

    def tables(
        self, counts: _Counts, grouping: _Grouping | None = None
    ) -> tuple[stats.FunnelTable, stats.FunnelTable]:
        """Baseline and draft funnel tables per group from :meth:`count`."""
        rows = self.lead.amount_rows
        row_groups = (
            np.zeros(len(rows), dtype=np.int64)
            if grouping is None
            else grouping.amount_groups
        )
        return stats.split_pairs(
            counts.joint, self.amount_classes, self.lead.amount[rows], row_groups
        )

    @functools.cached_property
    def amount_classes(self) -> np.ndarray:
        """The paired classes of the leads with a won amount."""
        return self.classes[self.lead.amount_rows]

    def weekly_stages(self, counts: _Counts) -> tuple[np.ndarray, np.ndarray]:
        """Leads per group, created week and stage: (baseline, draft).

        Each has shape (groups, weeks, 4); undated leads are left out.
        """
        pairs = counts.weekly[:, :-1]
        return pairs.sum(axis=3), pairs.sum(axis=2)


@dataclass
class _Counts:
    """A grouping's counts of paired classes, from :meth:`_Facts.count`.

    ``joint`` holds leads per group and paired class, shape (groups, 4, 4,
    2, 2, 2, 2); ``weekly`` leads per group, week slot and stage pair
    (baseline, draft), shape (groups, week slots, 4, 4).
    """

    joint: np.ndarray
    weekly: np.ndarray

    def move(
        self, slots: np.ndarray, width: int, old: np.ndarray, new: np.ndarray
    ) -> None:
        """Move leads from paired class ``old`` to ``new``, in place.

        ``slots`` holds each lead's group * ``width`` + week slot (its
        counting key over 256), ``width`` the number of week slots.
        """
        joint = self.joint.reshape(-1)
        weekly = self.weekly.reshape(-1)
        groups = slots // width * 256
        np.subtract.at(joint, groups + old, 1)
        np.add.at(joint, groups + new, 1)
        np.subtract.at(weekly, slots * 16 + (old >> 4), 1)
        np.add.at(weekly, slots * 16 + (new >> 4), 1)


class _Rows:
    """Some leads, with every column read at them kept for the next reader.

    An update reads some columns at the changed leads more than once (the
    sweep and the MQLs lost without each rule both read the exclusion and
    fast-track columns and the scores); each is gathered once. The columns
    must not change while the rows are in use.
    """

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        self._taken: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, values: np.ndarray) -> np.ndarray:
        """``values`` at these leads."""
        # Keyed on identity, with the column kept alive beside its values.
        found = self._taken.get(id(values))
        if found is not None and found[0] is values:
            return found[1]
        taken = values[self.rows]
        self._taken[id(values)] = (values, taken)
        return taken


def _take(values: np.ndarray, rows: _Rows | None) -> np.ndarray:
    """``values`` at ``rows``, or all of them when ``rows`` is None."""
    return values if rows is None else rows.take(values)


def _paired_classes(
    lead: _LeadFacts,
    baseline_stage: np.ndarray,
    draft_stage: np.ndarray,
    rows: _Rows | None = None,
) -> np.ndarray:
    """The paired class of each lead, or of ``rows`` only.

    A lead's class depends on its own stages and outcomes alone, so the
    classes of a few rows can replace theirs in an earlier comparison.
    """
    base_stage = _take(baseline_stage, rows)
    draft_stage = _take(draft_stage, rows)
    if lead.worked is None:
        nobody = np.zeros(len(base_stage), dtype=bool)
        new_mql, new_sql = nobody, nobody
    else:
        never = ~_take(lead.worked, rows)
        new_mql = never & (draft_stage >= MQL_CODE) & (base_stage < MQL_CODE)
        new_sql = never & (draft_stage == SQL_CODE) & (base_stage != SQL_CODE)
    return stats.paired_classes(
        base_stage,
        draft_stage,
        _take(lead.opportunity, rows),
        _take(lead.won, rows),
        new_mql,
        new_sql,
    )


# Where a workshop's last comparison is kept in ``ConditionCache.latest``.
_LATEST = "comparison"
# Past this share of changed leads, counting them all again is as quick.
_UPDATE_SHARE = 0.6
# Rule sections whose matches the MQL stage reads (and so the sweep, and
# the MQLs lost and gained without each rule); SQL rules act on the stage.
_MQL_SECTIONS = ("exclude", "fit", "engagement", "fast_track")


@dataclass
class _Tallies:
    """One comparison's per-lead classes and sums, kept for the next one.

    Nearly every figure of a comparison is a sum over leads of what each
    lead's own baseline and draft outputs give: funnel counts per segment
    and week, the sweep's buckets, MQLs lost and gained without each rule.
    A workshop simulates edit after edit of one draft against one baseline,
    so after an edit only the leads whose draft outputs changed leave the
    sums and come back with their new outputs. Counts are integers, and
    money is summed afresh over the few leads that have it, so the result
    is exactly that of counting everything.
    """

    lead_key: str
    baseline: int
    baseline_rules: _Rules
    draft: Evaluation
    rules: _Rules
    classes: np.ndarray
    counts: dict[str | None, _Counts]
    flips: _FlipTally
    sweep: _SweepTally
    masks: _MaskCounts
    without: _WithoutTally
    # True when these tallies were updated from an earlier comparison's.
    updated: bool = False

    @classmethod
    def count(
        cls,
        baseline: Evaluation,
        draft: Evaluation,
        baseline_rules: _Rules,
        rules: _Rules,
        masks: _MaskCounts | None = None,
    ) -> _Tallies:
        """Tallies of ``draft`` against ``baseline``, every lead counted.

        ``masks`` are mask counts of an earlier comparison on the same
        leads; rule columns that come back are not counted again.
        """
        facts = _Facts.build(baseline, draft)
        lead = facts.lead
        counts: dict[str | None, _Counts] = {None: facts.count()}
        for column, grouping in lead.groupings.items():
            counts[column] = facts.count(grouping)
        return cls(
            lead_key=_lead_key(draft.leads),
            baseline=baseline.serial,
            baseline_rules=baseline_rules,
            draft=draft,
            rules=rules,
            classes=facts.classes,
            counts=counts,
            flips=_FlipTally.count(baseline, draft, facts),
            sweep=_SweepTally.count(draft, rules, facts),
            masks=_MaskCounts(lead.worked, lead.opportunity)
            if masks is None
            else masks,
            without=_WithoutTally.count(draft, rules),
        )

    def changed_rows(
        self, baseline: Evaluation, draft: Evaluation, rules: _Rules
    ) -> _Changed | None:
        """The leads to count again for ``draft``, or None to count them all.

        None unless the leads and the baseline's evaluation are the ones
        counted here and the drafts differ in rule conditions, points and
        lists alone (thresholds, caps, decay, rule ids and sections, SQL
        and routing kept), and when too many leads changed to gain anything.
        """
        if (
            self.lead_key != _lead_key(draft.leads)
            or self.baseline != baseline.serial
            or list(self.draft.queues) != list(draft.queues)
            or set(self.draft.matches) != set(draft.matches)
            or self.rules.fixed != rules.fixed
        ):
            return None
        changed = _Changed.between(self.draft, draft, self.rules)
        if len(changed.scored) > _UPDATE_SHARE * len(draft.leads):
            return None
        return changed

    def update(
        self, baseline: Evaluation, draft: Evaluation, rules: _Rules, changed: _Changed
    ) -> _Tallies:
        """These tallies, moved in place to ``draft``: changed leads counted again.

        ``changed`` comes from :meth:`changed_rows`: outside its rows every
        output the tallies read is the same under ``draft`` as under the
        draft counted here.
        """
        lead = _lead_facts(draft.leads)
        baseline_stage = stats.stage_codes(baseline.stage_code)
        staged = _Rows(changed.staged)
        before = self.classes[staged.rows]
        after = _paired_classes(
            lead, baseline_stage, stats.stage_codes(draft.stage_code), staged
        )
        moved = before != after
        moved_rows = staged.rows[moved]
        old = before[moved].astype(np.int64)
        new = after[moved].astype(np.int64)
        for column, counts in self.counts.items():
            keys = lead.keys if column is None else lead.groupings[column].keys
            counts.move(keys[moved_rows] // 256, lead.slots, old, new)
        self.classes[staged.rows] = after
        self.flips.update(baseline_stage, self.draft, draft, staged)

        scored = _Rows(changed.scored)
        self.sweep.update(draft, rules, scored)
        self._without(draft, rules, scored)
        self.draft = draft
        self.rules = rules
        self.updated = True
        return self

    def _without(self, draft: Evaluation, rules: _Rules, rows: _Rows) -> None:
        """Move the MQLs lost and gained without each rule to ``draft``.

        A lead adds to those counts by its own matches, scores and stage,
        and by the points of the rules it matches: the leads of ``rows``
        and those matched by a rule whose points changed are counted again.
        """
        size = len(draft.leads)
        old_rules = self.rules.by_id
        repointed = [
            rule.id
            for rule in rules.order
            if float(rule.points or 0) != float(old_rules[rule.id].points or 0)
        ]
        if repointed:
            touched = np.zeros(size, dtype=bool)
            touched[rows.rows] = True
            for rule_id in repointed:
                touched |= self.draft.matches[rule_id]
                touched |= draft.matches[rule_id]
            rows = _Rows(np.flatnonzero(touched))
        if len(rows) > _UPDATE_SHARE * size:
            self.without = _WithoutTally.count(draft, rules)
        else:
            self.without.update(draft, rules, rows)


@dataclass
class _Changed:
    """The leads whose outputs differ between two evaluations of one draft.

    ``staged``: stage or queue (what the funnel counts and the flips read);
    ``scored``: scores or the matches of an MQL rule (what the sweep and
    the MQLs lost and gained without each rule read; under the same
    thresholds, whether a lead is at the MQL stage follows from these).
    Both sorted.
    """

    staged: np.ndarray
    scored: np.ndarray

    @classmethod
    def between(cls, before: Evaluation, after: Evaluation, rules: _Rules) -> _Changed:
        """The changed leads, on the same leads with the same rules.

        When the evaluator derived ``after`` from ``before``, the rows it
        says may differ are taken as scored, and only their stage and queue
        are compared. Otherwise the arrays are compared, skipping those that
        are one and the same (rule columns and group scores are shared
        through the condition cache).
        """
        if after.changed is not None and after.changed[0] == before.serial:
            rows = np.asarray(after.changed[1], dtype=np.int64)
            if not np.all(rows[1:] > rows[:-1]):
                rows = np.unique(rows)
            staged = np.not_equal(before.stage_code[rows], after.stage_code[rows])
            staged |= before.queue_code[rows] != after.queue_code[rows]
            return cls(rows[staged], rows)

        def differ(names: Sequence[str], pairs: list) -> np.ndarray:
            pairs = pairs + [(getattr(before, n), getattr(after, n)) for n in names]
            differs = np.zeros(len(after.total), dtype=bool)
            unequal = np.empty(len(after.total), dtype=bool)
            for old, new in pairs:
                if old is not new:
                    differs |= np.not_equal(old, new, out=unequal)
            return differs

        staged = np.flatnonzero(differ(("stage_code", "queue_code"), []))
        masks = [
            (before.matches[rule.id], after.matches[rule.id])
            for rule in rules.order
            if rule.section in _MQL_SECTIONS
        ]
        scored = differ(("fit", "engagement", "total"), masks)
        return cls(staged, np.flatnonzero(scored))


def _funnel(
    numbers: Mapping[str, np.ndarray],
    group: int = 0,
    unknown: frozenset[str] = frozenset(),
) -> Funnel:
    stage_counts = {
        name: int(numbers["stages"][group][code]) for code, name in enumerate(STAGES)
    }
    rates = stats.funnel_rates(numbers, group)
    # Without the outcome column a rate is unknown, not zero.
    rates.update({name: stats.rate(0, 0) for name in unknown})
    return Funnel(
        leads=int(numbers["leads"][group]),
        stages=stage_counts,
        rates=rates,
        won_amount=float(numbers["amount"][group]),
        won_amount_caught=float(numbers["mql_amount"][group]),
        unobserved_mql=int(numbers["unobserved_mql"][group]),
        unobserved_sql=int(numbers["unobserved_sql"][group]),
    )


def _day_text(day: int) -> str:
    return (EPOCH + dt.timedelta(days=int(day))).isoformat()


def _weekly(
    facts: _Facts, counts: _Counts, capacity: float | None
) -> tuple[Weekly, SalesLoad]:
    baseline, draft = facts.weekly_stages(counts)
    weekly = Weekly(
        weeks=[_day_text(day) for day in facts.lead.week_starts],
        baseline_mql=baseline[0, :, MQL_CODE:].sum(axis=1).tolist(),
        baseline_sql=baseline[0, :, SQL_CODE].tolist(),
        draft_mql=draft[0, :, MQL_CODE:].sum(axis=1).tolist(),
        draft_sql=draft[0, :, SQL_CODE].tolist(),
        undated=facts.lead.undated,
    )
    return weekly, _sales_load(weekly, capacity)


def _sales_load(weekly: Weekly, capacity: float | None) -> SalesLoad:
    base = np.asarray(weekly.baseline_mql, dtype=np.float64)
    draft = np.asarray(weekly.draft_mql, dtype=np.float64)

    def over(volume: np.ndarray) -> int | None:
        if capacity is None:
            return None
        return int(np.count_nonzero(volume > capacity))

    return SalesLoad(
        capacity=capacity,
        baseline_mean=float(base.mean()) if len(base) else 0.0,
        baseline_peak=int(base.max()) if len(base) else 0,
        draft_mean=float(draft.mean()) if len(draft) else 0.0,
        draft_peak=int(draft.max()) if len(draft) else 0,
        baseline_weeks_over=over(base),
        draft_weeks_over=over(draft),
        weeks=len(base),
    )


def _segment(column: str, facts: _Facts, counts: _Counts) -> list[SegmentValue]:
    grouping = facts.lead.groupings[column]
    base_table, draft_table = facts.tables(counts, grouping)
    baseline, draft = base_table.numbers(), draft_table.numbers()
    base_weekly, draft_weekly = facts.weekly_stages(counts)
    base_mql = base_weekly[:, :, MQL_CODE:].sum(axis=2)
    draft_mql = draft_weekly[:, :, MQL_CODE:].sum(axis=2)
    return [
        SegmentValue(
            value=label,
            baseline=_funnel(baseline, group, facts.lead.unknown),
            draft=_funnel(draft, group, facts.lead.unknown),
            weekly_mql={
                "baseline": base_mql[group].tolist(),
                "draft": draft_mql[group].tolist(),
            },
        )
        for group, label in enumerate(grouping.labels)
    ]


def segment_codes(leads: Leads, column: str) -> tuple[np.ndarray, list[str]]:
    """Each lead's value of a segment column as a code, with the value labels.

    Missing values get their own label; beyond :data:`MAX_SEGMENT_VALUES`
    values, the least common ones are summed as ``(other)``. Values are
    ordered by lead count, biggest first.
    """
    prepared = leads.columns[column]
    if prepared.codes is not None:
        raw_codes = prepared.codes.astype(np.int64)
        names = [_category_label(category) for category in prepared.categories]
    else:
        values = prepared.values if prepared.values is not None else np.array([])
        factor, uniques = pd.factorize(values, use_na_sentinel=True)
        raw_codes = factor.astype(np.int64)
        names = [_number_label(value) for value in uniques]

    # Shift so that missing (-1) is code 0.
    counts = np.bincount(raw_codes + 1, minlength=len(names) + 1)
    labels = [MISSING_LABEL, *names]
    order = [code for code in np.argsort(-counts, kind="stable") if counts[code] > 0]
    kept = order[:MAX_SEGMENT_VALUES]
    remap = np.full(len(labels), len(kept), dtype=np.int32)
    remap[kept] = np.arange(len(kept))
    final_labels = [labels[code] for code in kept]
    if len(order) > len(kept):
        final_labels.append(OTHER_LABEL)
    return remap[raw_codes + 1], final_labels


def _category_label(category: Any) -> str:
    if isinstance(category, frozenset):
        return "; ".join(sorted(category)) or "(empty)"
    return str(category)


def _number_label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


OUTCOME_RATES = {
    "opportunity": ("mql_opportunity", "sql_opportunity", "opportunity_coverage"),
    "won": ("mql_won", "sql_won", "won_coverage"),
}


def _unknown_rates(leads: Leads) -> frozenset[str]:
    """The rates the profile's outcomes cannot give (no such column)."""
    missing = [role for role in OUTCOME_RATES if leads.outcome(role) is None]
    return frozenset(name for role in missing for name in OUTCOME_RATES[role])


def _in_one_piece(column: pd.Series) -> pd.Series:
    """``column`` with its text in one Arrow chunk, so a few rows read quickly.

    A table read in parallel holds a text column in many chunks, and taking
    rows from those costs milliseconds however few the rows.
    """
    if not isinstance(column.array, pd.arrays.ArrowStringArray):
        return column
    text = pa.array(column.array)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    return pd.Series(pd.array(text, dtype=column.dtype), index=column.index)


def _created_range(created: np.ndarray) -> tuple[str | None, str | None]:
    if np.isnan(created).all():
        return None, None
    return _day_text(np.nanmin(created)), _day_text(np.nanmax(created))


def _dataset_info(leads: Leads, facts: _LeadFacts) -> dict[str, Any]:
    first, last = facts.created_range
    return {
        "source": leads.source,
        "fingerprint": leads.fingerprint,
        "leads": len(leads),
        "as_of": leads.as_of.isoformat(),
        "first_created": first,
        "last_created": last,
        "segments": list(facts.groupings),
        "worked_known": facts.worked is not None,
        "unknown_rates": sorted(facts.unknown),
    }


def _criteria_info(criteria: Any) -> dict[str, Any]:
    data = criteria.data
    name = f"{data.get('id', '?')} {data.get('version', '')}".strip()
    source = getattr(criteria, "source", "")
    return {
        "id": data.get("id"),
        "version": data.get("version"),
        "source": source,
        "name": name,
    }


@dataclass
class _Rules:
    """What a comparison reads of one criteria file's rules, read once.

    ``rules()`` builds the rule list afresh at each call, and a comparison
    reads the rules of both files in a dozen places.
    """

    criteria: Any
    order: list[Any]
    sections: dict[str, list[Any]]
    threshold: dict[str, float]

    @classmethod
    def of(cls, criteria: Any, known: _Rules | None = None) -> _Rules:
        """The rules of ``criteria``; ``known`` when read from it already."""
        if known is not None and known.criteria is criteria:
            return known
        order = list(criteria.rules())
        return cls(criteria, order, _rules_by_section(order), _threshold(criteria))

    @functools.cached_property
    def by_id(self) -> dict[str, Any]:
        """The rules by id."""
        return {rule.id: rule for rule in self.order}

    @functools.cached_property
    def views(self) -> dict[str, _RuleView]:
        """The rules by id as comparisons read them, lists resolved."""
        return _rule_views(self.criteria, self.order)

    @functools.cached_property
    def fixed(self) -> str:
        """The criteria less what an edit of rule conditions changes (see
        :func:`leadsim.evaluate.edit_outline`)."""
        return edit_outline(self.criteria)


def _rules_by_section(rules: Sequence[Any]) -> dict[str, list[Any]]:
    sections: dict[str, list[Any]] = {
        name: []
        for name in (
            "exclude",
            "fit",
            "engagement",
            "fast_track",
            "require",
            "require_any",
        )
    }
    for rule in rules:
        sections.setdefault(rule.section, []).append(rule)
    return sections


def _count_matches(
    rules: Sequence[Any],
    matches: Mapping[str, np.ndarray],
    size: int,
    rows: _Rows | None = None,
) -> np.ndarray:
    """How many of ``rules`` each lead matches (each of ``rows``, when given)."""
    held = np.zeros(size, dtype=np.int16)
    for rule in rules:
        held += _take(matches[rule.id], rows)
    return held


def _threshold(criteria: Any) -> dict[str, float]:
    mql_spec = criteria.data.get("mql") or {}
    return {
        str(name): float(minimum)
        for name, minimum in (mql_spec.get("threshold") or {}).items()
    }


def _max_reachable(criteria: Any, sections: Mapping[str, list[Any]]) -> float:
    """The highest total the criteria can give: positive points, capped."""
    mql_spec = criteria.data.get("mql") or {}
    top = 0.0
    for group in SCORE_GROUPS:
        points = sum(max(float(rule.points or 0), 0.0) for rule in sections[group])
        cap = (mql_spec.get(group) or {}).get("cap")
        top += points if cap is None else min(points, float(cap))
    return top


def sweep(draft: Evaluation, baseline_mql: np.ndarray | None = None) -> Sweep:
    """MQL volume, precision and coverage for every whole total threshold.

    Thresholds run from 0 to the highest total the draft can give. Only the
    ``total`` minimum moves: the other minimums, the exclusions and the fast
    track stay as the draft has them. ``baseline_mql`` marks the leads at the
    MQL stage under the baseline (the draft's own MQLs when omitted); MQLs
    outside it that sales never worked are unobserved, counted in volume
    but in no rate. One pass over the leads (see
    :func:`leadsim.stats.sweep_totals`), never one evaluation per threshold.
    """
    leads = draft.leads
    size = len(leads)
    if baseline_mql is None:
        baseline_mql = draft.stage_code >= MQL_CODE
    worked = leads.outcome("worked")
    return _sweep_curve(
        draft,
        baseline_mql,
        None if worked is None else stats.as_flags(worked, size),
        stats.as_flags(leads.outcome("opportunity"), size),
        stats.as_flags(leads.outcome("won"), size),
        stats.as_amounts(leads.outcome("amount"), size),
    )


def _sweep_curve(
    draft: Evaluation,
    baseline_mql: np.ndarray,
    worked: np.ndarray | None,
    opportunity: np.ndarray,
    won: np.ndarray,
    amount: np.ndarray,
) -> Sweep:
    size = len(draft.total)
    if worked is None:
        unobserved = np.zeros(size, dtype=bool)
    else:
        unobserved = ~worked & ~baseline_mql
    rules = _Rules.of(draft.criteria)
    curve = stats.sweep_totals(
        *_sweep_lanes(draft, rules),
        opportunity,
        won,
        amount,
        unobserved,
        _max_threshold(draft, rules),
    )
    return _sweep_result(curve, rules.threshold)


def _sweep_lanes(
    draft: Evaluation, rules: _Rules, rows: _Rows | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total, eligible and always of each lead (or of ``rows``), for the sweep.

    Eligible leads are not excluded and meet every minimum but the total's;
    always-MQL leads are fast-tracked and not excluded.
    """
    size = len(draft.total) if rows is None else len(rows)
    sections = rules.sections
    threshold = rules.threshold

    excluded = _count_matches(sections["exclude"], draft.matches, size, rows) > 0
    fast = _count_matches(sections["fast_track"], draft.matches, size, rows) > 0
    others_hold = np.ones(size, dtype=bool)
    for group in SCORE_GROUPS:
        if group in threshold:
            others_hold &= _take(getattr(draft, group), rows) >= threshold[group]
    return _take(draft.total, rows), ~excluded & ~fast & others_hold, ~excluded & fast


def _max_threshold(draft: Evaluation, rules: _Rules) -> int:
    """The sweep's top threshold: the highest total reachable or seen."""
    top = _max_reachable(draft.criteria, rules.sections)
    observed_top = float(draft.total.max()) if len(draft.total) else 0.0
    return int(math.ceil(max(top, observed_top, 0.0)))


@dataclass
class _SweepTally:
    """The sweep's leads per bucket and outcome class, kept for the next draft.

    Buckets come from :func:`leadsim.stats.sweep_buckets`; a lead's bucket
    depends on its own draft outputs alone, so an edit moves only the leads
    it changed. The outcome classes depend on the baseline and the leads.
    """

    max_threshold: int
    buckets: np.ndarray
    classes: np.ndarray
    counts: np.ndarray
    money_rows: np.ndarray
    amount: np.ndarray
    totals: tuple[int, int, float]

    @classmethod
    def count(cls, draft: Evaluation, rules: _Rules, facts: _Facts) -> _SweepTally:
        """The tally of ``draft``'s sweep, every lead counted."""
        lead = facts.lead
        if lead.worked is None:
            unobserved = np.zeros(len(draft.total), dtype=bool)
        else:
            unobserved = ~lead.worked & (facts.baseline_stage < MQL_CODE)
        classes = stats.sweep_classes(lead.opportunity, lead.won, unobserved)
        tally = cls(
            max_threshold=0,
            buckets=np.zeros(0, dtype=np.int64),
            classes=classes,
            counts=np.zeros((2, 8), dtype=np.int64),
            money_rows=stats.sweep_money_rows(lead.amount, unobserved),
            amount=lead.amount,
            totals=(
                int(np.count_nonzero(lead.opportunity)),
                int(np.count_nonzero(lead.won)),
                float(lead.amount.sum()),
            ),
        )
        tally.recount(draft, rules)
        return tally

    def recount(self, draft: Evaluation, rules: _Rules) -> None:
        """Bucket and count every lead anew (the top threshold has moved)."""
        self.max_threshold = _max_threshold(draft, rules)
        lanes = _sweep_lanes(draft, rules)
        self.buckets = stats.sweep_buckets(*lanes, self.max_threshold)
        width = self.max_threshold + 2
        counts = np.bincount(self.buckets * 8 + self.classes, minlength=width * 8)
        self.counts = counts.reshape(width, 8)

    def update(self, draft: Evaluation, rules: _Rules, rows: _Rows) -> None:
        """Move ``rows`` to their buckets under ``draft``.

        Outside ``rows`` the draft's outputs must equal those of the draft
        last counted, and its exclusion, fast-track and minimum rules be the
        same but for their conditions, so that no other lead changes bucket.
        """
        if _max_threshold(draft, rules) != self.max_threshold:
            self.recount(draft, rules)
            return

        lanes = _sweep_lanes(draft, rules, rows)
        after = stats.sweep_buckets(*lanes, self.max_threshold)
        before = self.buckets[rows.rows]
        moved = before != after
        classes = rows.take(self.classes)[moved]
        flat = self.counts.reshape(-1)
        np.subtract.at(flat, before[moved] * 8 + classes, 1)
        np.add.at(flat, after[moved] * 8 + classes, 1)
        self.buckets[rows.rows[moved]] = after[moved]

    def curve(self) -> stats.SweepCurve:
        """The sweep as :func:`leadsim.stats.sweep_totals` gives it."""
        rows = self.money_rows
        money = stats.sweep_money(
            self.buckets[rows], self.amount[rows], self.max_threshold
        )
        return stats.sweep_curve(self.counts, money, *self.totals)


def _sweep_result(curve: stats.SweepCurve, threshold: Mapping[str, float]) -> Sweep:
    low, high = stats.wilson_interval(curve.opportunity, curve.counted)

    def ratio(top: np.ndarray, bottom: float | np.ndarray) -> list[float | None]:
        bottom = np.broadcast_to(np.asarray(bottom, dtype=np.float64), top.shape)
        values = np.divide(
            top, bottom, out=np.full(top.shape, np.nan), where=bottom > 0
        )
        return [None if math.isnan(value) else float(value) for value in values]

    kept = {name: value for name, value in threshold.items() if name != "total"}
    return Sweep(
        thresholds=curve.thresholds.tolist(),
        mql=curve.mql.tolist(),
        precision=ratio(curve.opportunity, curve.counted),
        precision_low=low.tolist(),
        precision_high=high.tolist(),
        coverage=ratio(curve.opportunity, curve.total_opportunity),
        won_coverage=ratio(curve.won, curve.total_won),
        amount_coverage=ratio(curve.amount, curve.total_amount),
        unobserved=curve.unobserved.tolist(),
        current=threshold.get("total"),
        kept={"minimums": kept, "fast_track": True, "exclusions": True},
    )


class _WithoutRule:
    """Recomputes the draft's MQL stage with one rule taken out.

    Only leads whose MQL stage a points rule can change are candidates: MQLs
    by threshold (a positive rule can take them out) and non-MQLs matched by
    a negative rule (taking it out can lift them). Their raw point sums are
    gathered once; a rule then costs a pass over its own candidates, and
    group scores are finished as the evaluator does (sum, decay, floor,
    cap), never a re-evaluation.

    With ``rows``, only those leads are looked at: what a lead adds to a
    rule's count depends on that lead's own matches, scores and stage, and
    on the criteria, so counts over a few rows can replace theirs in an
    earlier count.
    """

    def __init__(
        self, draft: Evaluation, rules: _Rules, rows: _Rows | None = None
    ) -> None:
        leads = draft.leads
        size = len(leads) if rows is None else len(rows)
        self.draft = draft
        self.subset = rows
        self.sections = rules.sections
        self.threshold = rules.threshold
        self.mql_spec = draft.criteria.data.get("mql") or {}
        matches = draft.matches
        self.excluded = _count_matches(self.sections["exclude"], matches, size, rows)
        self.fast = _count_matches(self.sections["fast_track"], matches, size, rows)
        self.is_mql = _take(draft.stage_code, rows) >= MQL_CODE
        fit = _take(draft.fit, rows)
        engagement = _take(draft.engagement, rows)
        total = _take(draft.total, rows)
        self.meets = self._meets(fit, engagement, total)

        scoring = [rule for group in SCORE_GROUPS for rule in self.sections[group]]
        raising = [float(r.points) for r in scoring if (r.points or 0) > 0]
        lowering = [rule for rule in scoring if (rule.points or 0) < 0]
        # Decay, floor and cap never move a group score by more than the
        # points taken out, so a lead whose every minimum holds (or fails)
        # by more than the largest such points cannot change stage.
        slack = self._slack(fit, engagement, total)
        free = (self.excluded == 0) & (self.fast == 0)
        candidates = self.is_mql & (slack < max(raising, default=0.0))
        if lowering:
            biggest_lift = max(-float(rule.points) for rule in lowering)
            lifted = _count_matches(lowering, matches, size, rows) > 0
            candidates |= ~self.is_mql & lifted & (slack >= -biggest_lift)
        picked = np.flatnonzero(free & candidates)
        self.rows = picked if rows is None else rows.rows[picked]

        self.hits: dict[str, np.ndarray] = {}
        self.raw: dict[str, np.ndarray] = {}
        for group in SCORE_GROUPS:
            raw = np.zeros(len(picked))
            for rule in self.sections[group]:
                if rule.points:
                    self.hits[rule.id] = matches[rule.id][self.rows]
                    raw += self.hits[rule.id] * float(rule.points)
            self.raw[group] = raw
        decay = (self.mql_spec.get("engagement") or {}).get("decay")
        self.decay = _decay_at(leads, decay, rows, picked) if decay else None
        self.scores = {"fit": fit[picked], "engagement": engagement[picked]}
        self.rows_mql = self.is_mql[picked]
        self.rows_slack = slack[picked]
        self.reach: dict[float, np.ndarray] = {}

    def _slack(
        self, fit: np.ndarray, engagement: np.ndarray, total: np.ndarray
    ) -> np.ndarray:
        """How far each lead is above its tightest minimum (negative: below)."""
        scores = {"fit": fit, "engagement": engagement, "total": total}
        slack = np.full(len(fit), np.inf)
        for name, minimum in self.threshold.items():
            slack = np.minimum(slack, scores[name] - minimum)
        return slack

    def _meets(
        self, fit: np.ndarray, engagement: np.ndarray, total: np.ndarray
    ) -> np.ndarray:
        scores = {"fit": fit, "engagement": engagement, "total": total}
        meets = np.ones(len(fit), dtype=bool)
        for name, minimum in self.threshold.items():
            meets &= scores[name] >= minimum
        return meets

    def _finish(self, group: str, raw: np.ndarray, picked: np.ndarray) -> np.ndarray:
        spec = self.mql_spec.get(group) or {}
        score = raw
        if group == "engagement" and self.decay is not None:
            score = score * self.decay[picked]
        score = np.maximum(score, 0.0)
        if spec.get("cap") is not None:
            score = np.minimum(score, float(spec["cap"]))
        return score

    def change(self, rule: Any) -> tuple[int, int]:
        """MQLs lost and gained with ``rule`` taken out (among the rows looked at)."""
        lost, gained = self.changed_leads(rule)
        return len(lost), len(gained)

    def changed_leads(self, rule: Any) -> tuple[np.ndarray, np.ndarray]:
        """The leads ``rule`` taken out would take out of the MQL stage, and in."""
        nobody = np.zeros(0, dtype=np.int64)
        if rule.section == "exclude":
            matched = _take(self.draft.matches[rule.id], self.subset)
            freed = np.flatnonzero(matched & (self.excluded == 1))
            gained = self.meets[freed] | (self.fast[freed] > 0)
            return nobody, self._leads(freed[gained])
        if rule.section == "fast_track":
            matched = _take(self.draft.matches[rule.id], self.subset)
            only = matched & (self.fast == 1) & (self.excluded == 0) & ~self.meets
            return self._leads(np.flatnonzero(only)), nobody
        if rule.section not in SCORE_GROUPS or not rule.points:
            return nobody, nobody

        points = float(rule.points)
        picked = np.flatnonzero(self.hits[rule.id] & self._reach(points))
        scores = {group: self.scores[group][picked] for group in SCORE_GROUPS}
        raw = self.raw[rule.section][picked] - points
        scores[rule.section] = self._finish(rule.section, raw, picked)
        now = self._meets(
            scores["fit"], scores["engagement"], scores["fit"] + scores["engagement"]
        )
        before = self.rows_mql[picked]
        rows = self.rows[picked]
        return rows[before & ~now], rows[~before & now]

    def _reach(self, points: float) -> np.ndarray:
        """The candidates whose stage taking out ``points`` could change.

        A positive rule can only take out MQLs with less slack than its
        points; a negative one can only lift leads it lacks that much for.
        Rules share few point values, so each is worked out once.
        """
        found = self.reach.get(points)
        if found is None:
            if points > 0:
                found = self.rows_mql & (self.rows_slack < points)
            else:
                found = ~self.rows_mql & (self.rows_slack >= points)
            self.reach[points] = found
        return found

    def _leads(self, positions: np.ndarray) -> np.ndarray:
        """The leads at ``positions`` among the rows looked at."""
        return positions if self.subset is None else self.subset.rows[positions]


@dataclass
class _WithoutTally:
    """MQLs lost and gained without each rule, and the leads behind them.

    Every lead holds one bit per rule (at ``bits[rule id]``) in ``lost``
    and ``gained``: set when taking that rule out would take the lead out
    of the MQL stage, or bring it in. An update reads the bits of the leads
    it counts again rather than working them out for the earlier draft.
    Bits are held in 64-bit words, one row of words per 64 rules.
    """

    bits: dict[str, int]
    lost: np.ndarray
    gained: np.ndarray
    counts: dict[str, tuple[int, int]]

    @classmethod
    def count(cls, draft: Evaluation, rules: _Rules) -> _WithoutTally:
        """The tally of ``draft``, every lead looked at."""
        bits = {rule.id: position for position, rule in enumerate(rules.order)}
        shape = (max(-(-len(bits) // 64), 1), len(draft.leads))
        # Little-endian words, so that their bytes unpack in bit order.
        lost, gained = np.zeros(shape, "<u8"), np.zeros(shape, "<u8")
        tally = cls(bits, lost, gained, {})
        tally.counts = tally._mark(_WithoutRule(draft, rules), rules)
        return tally

    def update(self, draft: Evaluation, rules: _Rules, rows: _Rows) -> None:
        """Count ``rows`` again under ``draft``, whose rule ids must be the same."""
        lost_before = self._per_bit(self.lost, rows.rows)
        gained_before = self._per_bit(self.gained, rows.rows)
        found = self._mark(_WithoutRule(draft, rules, rows), rules)
        self.counts = {
            rule_id: (
                lost - int(lost_before[self.bits[rule_id]]) + found[rule_id][0],
                gained - int(gained_before[self.bits[rule_id]]) + found[rule_id][1],
            )
            for rule_id, (lost, gained) in self.counts.items()
        }

    def _mark(self, without: _WithoutRule, rules: _Rules) -> dict[str, tuple[int, int]]:
        """Set the bits of the leads each rule changes; their counts per rule."""
        counts = {}
        for rule in rules.order:
            lost, gained = without.changed_leads(rule)
            word, bit = divmod(self.bits[rule.id], 64)
            flag = np.uint64(1 << bit)
            # One row of words at a time: a plain 1-D index is the quick one.
            lost_words, gained_words = self.lost[word], self.gained[word]
            lost_words[lost] |= flag
            gained_words[gained] |= flag
            counts[rule.id] = (len(lost), len(gained))
        return counts

    @staticmethod
    def _per_bit(flags: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Leads of ``rows`` with each bit set; the bits of ``rows`` cleared."""
        counts = []
        for words in flags:
            held = words[rows]
            held = held[held != 0]
            unpacked = np.unpackbits(held.view(np.uint8), bitorder="little")
            counts.append(unpacked.reshape(-1, 64).sum(axis=0))
            words[rows] = 0
        return np.concatenate(counts)


def _decay_at(
    leads: Leads, decay: Mapping[str, Any], rows: _Rows | None, picked: np.ndarray
) -> np.ndarray:
    """The decay factor of ``picked`` among ``rows``, as :func:`decay_factor` has it."""
    column = leads.columns[str(decay["date_field"])]
    assert column.values is not None
    age = leads.as_of_day - _take(column.values, rows)[picked]
    usable = ~np.isnan(age) & (age >= 0)
    half_life = float(decay["half_life_days"])
    return np.where(usable, 0.5 ** (np.where(usable, age, 0.0) / half_life), 1.0)


@dataclass(frozen=True)
class _RuleView:
    """What comparisons read of a rule: its condition with lists resolved."""

    section: str
    points: float
    when: Any
    resolved: Any


def _rule_views(criteria: Any, rules: Sequence[Any]) -> dict[str, _RuleView]:
    lists = criteria.data.get("lists") or {}
    return {
        rule.id: _RuleView(
            section=rule.section,
            points=float(rule.points or 0),
            when=rule.when,
            resolved=resolve_lists(rule.when, lists),
        )
        for rule in rules
    }


def _rule_status(rule: _RuleView, previous: _RuleView | None) -> str:
    if previous is None:
        return "new"
    same = (
        previous.section == rule.section
        and previous.resolved == rule.resolved
        and previous.points == rule.points
    )
    return "unchanged" if same else "changed"


class _MaskCounts:
    """Leads a rule's mask matches: in all, among worked leads, with an opportunity.

    Counts are kept per rule id with the mask they were taken from; a mask
    that comes back (rule columns are shared through the condition cache,
    and read-only) is not counted again.
    """

    def __init__(self, worked: np.ndarray | None, opportunity: np.ndarray) -> None:
        self.basis = worked
        self.opportunity = opportunity if worked is None else opportunity & worked
        self.basis_n = (
            len(opportunity) if worked is None else int(np.count_nonzero(worked))
        )
        self.basis_opportunity = int(np.count_nonzero(self.opportunity))
        self.known: dict[str, tuple[np.ndarray, tuple[int, int, int]]] = {}

    def counts(self, rule_id: str, mask: np.ndarray) -> tuple[int, int, int]:
        """Matched, matched among worked leads, matched with an opportunity."""
        found = self.known.get(rule_id)
        if found is not None and found[0] is mask:
            return found[1]

        matched = int(np.count_nonzero(mask))
        in_basis = (
            matched if self.basis is None else int(np.count_nonzero(mask & self.basis))
        )
        converted = int(np.count_nonzero(mask & self.opportunity))
        counts = (matched, in_basis, converted)
        if not mask.flags.writeable:
            self.known[rule_id] = (mask, counts)
        return counts

    def keep_only(self, rule_ids: set[str]) -> None:
        """Forget the counts of rules no longer in either criteria."""
        for rule_id in set(self.known) - rule_ids:
            del self.known[rule_id]


def _impacts(
    draft: Evaluation,
    rules: _Rules,
    baseline: Evaluation | None,
    baseline_rules: _Rules | None,
    masks: _MaskCounts,
    without: Mapping[str, tuple[int, int]],
) -> list[RuleImpact]:
    """The rule impacts from mask counts and MQLs lost and gained per rule."""
    previous = baseline_rules.views if baseline_rules is not None else {}
    views = rules.views

    def impact(
        rule: Any, matches: np.ndarray, status: str, change: tuple[int, int]
    ) -> RuleImpact:
        matched, in_basis, converted = masks.counts(rule.id, matches)
        return RuleImpact(
            id=rule.id,
            section=rule.section,
            label=getattr(rule, "label", rule.id),
            status=status,
            matched=matched,
            opportunity_matched=stats.rate(converted, in_basis),
            opportunity_rest=stats.rate(
                masks.basis_opportunity - converted, masks.basis_n - in_basis
            ),
            mqls_lost_without=change[0],
            mqls_gained_without=change[1],
        )

    impacts = [
        impact(
            rule,
            draft.matches[rule.id],
            _rule_status(views[rule.id], previous.get(rule.id)),
            without[rule.id],
        )
        for rule in rules.order
    ]
    if baseline is not None and baseline_rules is not None:
        impacts += [
            impact(rule, baseline.matches[rule.id], "removed", (0, 0))
            for rule in baseline_rules.order
            if rule.id not in rules.by_id
        ]
    masks.keep_only({impact.id for impact in impacts})
    return impacts


def _unified_queues(
    baseline: Evaluation, draft: Evaluation
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One list of queue names, and each evaluation's codes mapped onto it."""
    names = list(dict.fromkeys([*baseline.queues, *draft.queues]))
    position = {name: code for code, name in enumerate(names)}
    base_map = np.array([position[name] for name in baseline.queues], dtype=np.int32)
    draft_map = np.array([position[name] for name in draft.queues], dtype=np.int32)
    return names, base_map, draft_map


@dataclass
class _FlipTally:
    """Which leads flip (stage or queue), and how many of each move.

    ``moves`` counts the stage moves (baseline stage * 4 + draft stage) of
    the leads that change stage; ``pairs`` the queue moves (baseline queue
    * width + draft queue, codes on ``names``) of every flipped lead. Both
    are sums over leads, so an edit moves only the leads it changed.
    """

    names: list[str]
    queue_map: np.ndarray
    base_queue: np.ndarray
    flipped: np.ndarray
    moves: np.ndarray
    pairs: np.ndarray

    @classmethod
    def count(
        cls, baseline: Evaluation, draft: Evaluation, facts: _Facts
    ) -> _FlipTally:
        """The flips of ``draft`` against ``baseline``, every lead looked at."""
        names, base_map, draft_map = _unified_queues(baseline, draft)
        if list(baseline.queues) == list(draft.queues):
            base_queue, draft_queue = baseline.queue_code, draft.queue_code
        else:
            base_queue = base_map[baseline.queue_code]
            draft_queue = draft_map[draft.queue_code]
        stage_changed = facts.baseline_stage != facts.draft_stage
        flipped = stage_changed | (base_queue != draft_queue)

        moves = np.bincount(
            facts.baseline_stage[stage_changed].astype(np.int64) * 4
            + facts.draft_stage[stage_changed],
            minlength=16,
        )
        width = len(names)
        pairs = np.bincount(
            base_queue[flipped].astype(np.int64) * width + draft_queue[flipped],
            minlength=width * width,
        )
        return cls(names, draft_map, base_queue, flipped, moves, pairs)

    def update(
        self,
        baseline_stage: np.ndarray,
        before: Evaluation,
        after: Evaluation,
        rows: _Rows,
    ) -> None:
        """Move ``rows`` from their flips under ``before`` to those under ``after``.

        Both drafts must route to the same list of queues.
        """
        width = len(self.names)
        base_stage = rows.take(baseline_stage).astype(np.int64)
        base_queue = rows.take(self.base_queue).astype(np.int64)
        for evaluation, step in ((before, -1), (after, 1)):
            stage = rows.take(stats.stage_codes(evaluation.stage_code))
            stage = stage.astype(np.int64)
            queue = self.queue_map[rows.take(evaluation.queue_code)].astype(np.int64)
            stage_changed = stage != base_stage
            flipped = stage_changed | (queue != base_queue)
            np.add.at(self.moves, (base_stage * 4 + stage)[stage_changed], step)
            np.add.at(self.pairs, (base_queue * width + queue)[flipped], step)
        self.flipped[rows.rows] = flipped


def _flips(
    baseline: Evaluation,
    draft: Evaluation,
    facts: _Facts,
    tally: _FlipTally,
    max_flips: int,
    rules: tuple[_Rules, _Rules],
) -> Flips:
    """The flips from their tally, the first ``max_flips`` with a reason.

    ``rules`` are the baseline's and the draft's.
    """
    names, moves, pairs = tally.names, tally.moves, tally.pairs
    flipped = np.flatnonzero(tally.flipped)
    stage_changes = int(moves.sum())
    transitions = [
        {"from": STAGES[code // 4], "to": STAGES[code % 4], "count": int(moves[code])}
        for code in np.argsort(-moves, kind="stable")
        if moves[code]
    ]
    width = len(names)
    queue_transitions = [
        {
            "from": names[code // width],
            "to": names[code % width],
            "count": int(pairs[code]),
        }
        for code in np.argsort(-pairs, kind="stable")[:10]
        if pairs[code] and code // width != code % width
    ]

    listed = _listing_order(baseline, draft, facts, flipped, max_flips)
    reasons = _explain(baseline, draft, listed, *rules)
    ids = facts.lead.ids.iloc[listed].astype(str).tolist()
    base_queue = tally.base_queue[listed]
    draft_queue = tally.queue_map[draft.queue_code[listed]]
    return Flips(
        count=len(flipped),
        stage_changes=stage_changes,
        queue_only=len(flipped) - stage_changes,
        transitions=transitions,
        queue_transitions=queue_transitions,
        listed=[
            Flip(
                lead_id=lead_id,
                baseline_stage=STAGES[facts.baseline_stage[row]],
                draft_stage=STAGES[facts.draft_stage[row]],
                baseline_queue=names[base_code],
                draft_queue=names[draft_code],
                baseline_total=float(baseline.total[row]),
                draft_total=float(draft.total[row]),
                reason=reason,
            )
            for lead_id, row, base_code, draft_code, reason in zip(
                ids, listed, base_queue, draft_queue, reasons
            )
        ],
    )


def _listing_order(
    baseline: Evaluation,
    draft: Evaluation,
    facts: _Facts,
    flipped: np.ndarray,
    limit: int,
) -> np.ndarray:
    """Flipped rows in the order they are listed: a sample of every kind first.

    Flips are grouped by stage move (queue-only flips form one group) and
    ranked within their group by score change, ties in row order; the list
    takes the first of every group, then the second, and so on, bigger
    stage moves first. A reviewer thus sees each kind of move, not 200
    copies of the commonest.
    """
    if limit <= 0:
        return np.zeros(0, dtype=np.int64)
    before = facts.baseline_stage[flipped].astype(np.int8)
    after = facts.draft_stage[flipped].astype(np.int8)
    kind = np.where(before != after, before * 4 + after, 16).astype(np.int8)
    change = np.abs(draft.total[flipped] - baseline.total[flipped])

    # One stable sort of the kinds (a radix sort on bytes) lists each kind's
    # flips in row order.
    by_kind = np.argsort(kind, kind="stable")
    counts = np.bincount(kind, minlength=17)
    starts = np.cumsum(counts) - counts
    queues = {}
    for code in np.flatnonzero(counts):
        members = by_kind[starts[code] : starts[code] + counts[code]]
        queues[int(code)] = members[_smallest_first(-change[members], limit)]
    # Round robin: the n-th flip of every kind, bigger stage moves first.
    kinds = sorted(queues, key=lambda code: (-_stage_distance(code), code))
    ranked = [queues[code].tolist() for code in kinds]
    picked: list[int] = []
    longest = max((len(rows) for rows in ranked), default=0)
    for rank in range(min(limit, longest)):
        picked += [rows[rank] for rows in ranked if rank < len(rows)]
        if len(picked) >= limit:
            break
    return flipped[np.asarray(picked[:limit], dtype=np.int64)]


def _stage_distance(kind: int) -> int:
    """How many stages a kind of flip moves (16, queue only, moves none)."""
    return 0 if kind == 16 else abs(kind // 4 - kind % 4)


def _smallest_first(keys: np.ndarray, limit: int) -> np.ndarray:
    """``np.argsort(keys, kind="stable")[:limit]``, without sorting every key.

    Only the keys below the ``limit``-th smallest are sorted; the keys tied
    with it follow in their positions' order, as a stable sort puts them.
    """
    if len(keys) <= limit:
        return np.argsort(keys, kind="stable")
    bound = np.partition(keys, limit - 1)[limit - 1]
    if np.isnan(bound):
        return np.argsort(keys, kind="stable")[:limit]
    below = np.flatnonzero(keys < bound)
    tied = np.flatnonzero(keys == bound)[: limit - len(below)]
    return np.concatenate([below[np.argsort(keys[below], kind="stable")], tied])


def _number(value: float) -> str:
    if abs(value - round(value)) < 0.05:
        return str(int(round(value)))
    return f"{value:.1f}"


def _signed(value: float) -> str:
    return ("+" if value > 0 else "−") + _number(abs(value))


def _tag(
    rule_id: str, base: Mapping[str, _RuleView], draft: Mapping[str, _RuleView]
) -> str:
    if rule_id not in base:
        return "new rule"
    if rule_id not in draft:
        return "rule removed"
    before, after = base[rule_id], draft[rule_id]
    if before.points != after.points:
        return f"points {_number(before.points)} → {_number(after.points)}"
    if before.when != after.when:
        return "condition changed"
    if before.resolved != after.resolved:
        return "its list changed"
    return ""


def _section_ids(
    section: str, base: Mapping[str, Any], draft: Mapping[str, Any]
) -> list[str]:
    ids = [rule_id for rule_id, rule in draft.items() if rule.section == section]
    ids += [rule_id for rule_id, rule in base.items() if rule.section == section]
    return list(dict.fromkeys(ids))


def _column(
    evaluation: Evaluation,
    rules: Mapping[str, Any],
    rule_id: str,
    section: str,
    rows: np.ndarray,
) -> np.ndarray:
    rule = rules.get(rule_id)
    if rule is None or rule.section != section:
        return np.zeros(len(rows), dtype=bool)
    return evaluation.matches[rule_id][rows]


def _threshold_text(threshold: Mapping[str, float]) -> str:
    return " and ".join(
        f"{name} ≥ {_number(value)}" for name, value in threshold.items()
    )


def explain(
    baseline: Evaluation, draft: Evaluation, rows: Sequence[int] | np.ndarray
) -> list[str]:
    """A plain reason for each of ``rows``: why its stage or queue changed.

    For example ``engagement 42 → 58 (+20 eval-checklist, new rule); now
    meets total ≥ 60``. Rule columns are read for the given rows only, so
    explaining a few flips of a million leads is cheap.
    """
    return _explain(
        baseline, draft, rows, _Rules.of(baseline.criteria), _Rules.of(draft.criteria)
    )


def _explain(
    baseline: Evaluation,
    draft: Evaluation,
    rows: Sequence[int] | np.ndarray,
    baseline_rules: _Rules,
    draft_rules: _Rules,
) -> list[str]:
    rows = np.asarray(rows, dtype=np.int64)
    base_views = baseline_rules.views
    draft_views = draft_rules.views
    parts: list[list[str]] = [[] for _ in rows]

    _explain_exclusions(baseline, draft, rows, base_views, draft_views, parts)
    _explain_scores(baseline, draft, rows, base_views, draft_views, parts)
    _explain_stage(baseline, draft, rows, baseline_rules, draft_rules, parts)

    names, base_map, draft_map = _unified_queues(baseline, draft)
    # Plain lists: the loops below read one value at a time.
    base_queue = base_map[baseline.queue_code[rows]].tolist()
    draft_queue = draft_map[draft.queue_code[rows]].tolist()
    for position, (old, new) in enumerate(zip(base_queue, draft_queue)):
        if old != new:
            parts[position].append(f"queue {names[old]} → {names[new]}")
    return ["; ".join(reason) or "no visible change" for reason in parts]


def _explain_exclusions(
    baseline: Evaluation,
    draft: Evaluation,
    rows: np.ndarray,
    base_rules: Mapping[str, Any],
    draft_rules: Mapping[str, Any],
    parts: list[list[str]],
) -> None:
    for rule_id in _section_ids("exclude", base_rules, draft_rules):
        before = _column(baseline, base_rules, rule_id, "exclude", rows)
        after = _column(draft, draft_rules, rule_id, "exclude", rows)
        tag = _tag(rule_id, base_rules, draft_rules)
        suffix = f" ({tag})" if tag else ""
        for position in np.flatnonzero(after & ~before):
            parts[position].append(f"now excluded by {rule_id}{suffix}")
        for position in np.flatnonzero(before & ~after):
            parts[position].append(f"no longer excluded by {rule_id}{suffix}")


def _explain_scores(
    baseline: Evaluation,
    draft: Evaluation,
    rows: np.ndarray,
    base_rules: Mapping[str, Any],
    draft_rules: Mapping[str, Any],
    parts: list[list[str]],
) -> None:
    for group in SCORE_GROUPS:
        items: list[list[str]] = [[] for _ in rows]
        for rule_id in _section_ids(group, base_rules, draft_rules):
            before = _column(baseline, base_rules, rule_id, group, rows)
            after = _column(draft, draft_rules, rule_id, group, rows)
            base_points = getattr(base_rules.get(rule_id), "points", 0.0)
            draft_points = getattr(draft_rules.get(rule_id), "points", 0.0)
            difference = after * draft_points - before * base_points
            changed = np.flatnonzero(difference != 0)
            if not len(changed):
                continue
            tag = _tag(rule_id, base_rules, draft_rules)
            for position, points in zip(changed, difference[changed].tolist()):
                text = f"{_signed(points)} {rule_id}"
                items[position].append(f"{text}, {tag}" if tag else text)

        old_scores = getattr(baseline, group)[rows].tolist()
        new_scores = getattr(draft, group)[rows].tolist()
        for position, (old, new) in enumerate(zip(old_scores, new_scores)):
            moved = abs(new - old) > 1e-9
            if not moved and not items[position]:
                continue
            detail = f" ({'; '.join(items[position])})" if items[position] else ""
            parts[position].append(f"{group} {_number(old)} → {_number(new)}{detail}")


def _explain_stage(
    baseline: Evaluation,
    draft: Evaluation,
    rows: np.ndarray,
    baseline_rules: _Rules,
    draft_rules: _Rules,
    parts: list[list[str]],
) -> None:
    base_threshold = baseline_rules.threshold
    draft_threshold = draft_rules.threshold
    moved_minimums = [
        f"{name} {_number(base_threshold[name]) if name in base_threshold else 'none'}"
        f" → {_number(value)}"
        for name, value in draft_threshold.items()
        if base_threshold.get(name) != value
    ]
    moved_minimums += [
        f"{name} {_number(value)} → none"
        for name, value in base_threshold.items()
        if name not in draft_threshold
    ]
    sections = draft_rules.sections
    # Plain lists: the loop below reads one value at a time.
    before = baseline.stage_code[rows].tolist()
    after = draft.stage_code[rows].tolist()
    mql_via = draft.mql_via_code[rows].tolist()
    scores = {
        "fit": draft.fit[rows].tolist(),
        "engagement": draft.engagement[rows].tolist(),
        "total": draft.total[rows].tolist(),
    }
    for position, row in enumerate(rows.tolist()):
        was_mql = before[position] >= MQL_CODE
        is_mql = after[position] >= MQL_CODE
        if is_mql != was_mql and moved_minimums:
            parts[position].append("threshold " + ", ".join(moved_minimums))
        if is_mql and not was_mql:
            if mql_via[position] == 1:
                parts[position].append(f"now meets {_threshold_text(draft_threshold)}")
            else:
                fast = [
                    r.id for r in sections["fast_track"] if draft.matches[r.id][row]
                ]
                parts[position].append("fast track: " + ", ".join(fast))
        elif (
            was_mql
            and not is_mql
            and after[position] != stats.STAGE_CODE["disqualified"]
        ):
            failing = [
                f"{name} {_number(scores[name][position])} < {_number(minimum)}"
                for name, minimum in draft_threshold.items()
                if scores[name][position] < minimum
            ]
            parts[position].append("no longer meets " + ", ".join(failing))
        _explain_sql(
            baseline,
            draft,
            row,
            before[position],
            after[position],
            sections,
            parts[position],
        )


def _explain_sql(
    baseline: Evaluation,
    draft: Evaluation,
    row: int,
    before: int,
    after: int,
    sections: Mapping[str, list[Any]],
    reason: list[str],
) -> None:
    if after == SQL_CODE and before != SQL_CODE:
        if draft.sql_via_code[row] == 2:
            reason.append("account now sales-ready (account promotion)")
        else:
            reason.append("now meets the SQL requirements")
        return
    if before != SQL_CODE or after != MQL_CODE:
        return

    if baseline.sql_via_code[row] == 2:
        reason.append("no longer an SQL: its account is no longer sales-ready")
        return
    missing = [r.id for r in sections["require"] if not draft.matches[r.id][row]]
    optional = sections["require_any"]
    minimum = int(
        ((draft.criteria.data.get("sql") or {}).get("require_any") or {}).get("min", 0)
    )
    held = sum(bool(draft.matches[r.id][row]) for r in optional)
    if optional and held < minimum:
        missing.append(f"{minimum - held} more of " + ", ".join(r.id for r in optional))
    if missing:
        reason.append("no longer an SQL: missing " + "; ".join(missing))
    else:
        reason.append("no longer an SQL: the account rule holds it back")


def _blank_unknown(simulation: Simulation, unknown: frozenset[str]) -> None:
    """Say "unknown" rather than 0 where the history has no outcome column."""
    sweep = simulation.sweep
    nothing = [None] * len(sweep.thresholds)
    if "mql_opportunity" in unknown:
        sweep.precision = list(nothing)
        sweep.coverage = list(nothing)
        for impact in simulation.rules:
            impact.opportunity_matched = stats.rate(0, 0)
            impact.opportunity_rest = stats.rate(0, 0)
    if "won_coverage" in unknown:
        sweep.won_coverage = list(nothing)


def plural(count: int, noun: str) -> str:
    """``1 lead``, ``2 leads``, ``1,200 leads``."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _caveats(simulation: Simulation, facts: _Facts) -> list[str]:
    draft = simulation.draft
    caveats = []
    if facts.worked is None:
        caveats.append(
            "The profile names no 'worked' outcome, so leads the draft newly "
            "sends to sales cannot be told apart from leads sales worked; add "
            "outcomes.worked to the profile to keep them out of the rates."
        )
    elif draft.unobserved_mql or draft.unobserved_sql:
        caveats.append(
            f"Sales never worked {plural(draft.unobserved_mql, 'lead')} that the "
            f"draft newly makes MQL (and {plural(draft.unobserved_sql, 'lead')} "
            "it newly makes SQL), so they have no discovery answers and no "
            "observed outcome; they count in volume but in no conversion, "
            "precision or coverage rate."
        )
    if facts.lead.unknown:
        caveats.insert(
            0,
            "The profile names no opportunity or won outcome, so precision and "
            "coverage cannot be measured on this history; add outcomes to the "
            "profile to see them.",
        )
    small = sum(
        value.small for values in simulation.segments.values() for value in values
    )
    if small:
        caveats.append(
            "Segment values too small to read (fewer than "
            f"{stats.SMALL_N} leads, or an interval wider than ±10 points): "
            f"{small:,}; read them as hints, not results."
        )
    caveats.append(
        "A change whose 95% intervals overlap is marked not significant; it is "
        "no evidence that the draft is better or worse."
    )
    if simulation.weekly.undated:
        caveats.append(
            "Leads without a created date, left out of the weekly volume: "
            f"{simulation.weekly.undated:,}."
        )
    if simulation.flips.truncated:
        caveats.append(
            f"Only {len(simulation.flips.listed):,} of {simulation.flips.count:,} "
            "flips are listed with reasons; the counts cover all of them."
        )
    return caveats
