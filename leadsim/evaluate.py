"""Apply a criteria file to prepared leads: scores, stage and route per lead.

Every step is column work over all leads at once, in the order of the brief:
rule matches, group scores (sum, decay, floor, cap), exclusions, thresholds
and fast track, lead-level SQL, account promotion, then first-match routing
with the fallback.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from leadsim.conditions import (
    ConditionCache,
    RoutingContext,
    condition_fields,
    evaluate_condition,
    resolve_lists,
)
from leadsim.dataset import Leads
from leadsim.errors import DataError, raise_if_errors

logger = logging.getLogger(__name__)

STAGES = ("disqualified", "lead", "mql", "sql")
DISQUALIFIED, LEAD, MQL, SQL = range(4)
MQL_VIA = ("", "threshold", "fast_track")
SQL_VIA = ("", "lead", "account")

_SERIALS = itertools.count(1)


class RuleLike(Protocol):
    """What the evaluator reads of a rule (``leadsim.criteria.Rule``)."""

    section: str
    id: str
    when: dict
    points: float | None


class CriteriaLike(Protocol):
    """What the evaluator reads of criteria (``leadsim.criteria.Criteria``)."""

    data: dict

    def rules(self) -> Sequence[RuleLike]: ...


@dataclass
class Evaluation:
    """Per-lead results of one criteria file on one dataset.

    Stage, ``mql_via``, ``sql_via`` and queue are kept as small integer codes
    (fast to compare and to count); the properties give them as text.
    """

    criteria: CriteriaLike
    leads: Leads
    fit: np.ndarray
    engagement: np.ndarray
    total: np.ndarray
    stage_code: np.ndarray
    mql_via_code: np.ndarray
    sql_via_code: np.ndarray
    queue_code: np.ndarray
    queues: list[str]
    follow_up_days: np.ndarray
    matches: dict[str, np.ndarray] = field(default_factory=dict)
    rule_order: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Lead-level SQL (before account promotion), kept so that an edit can be
    # applied to the rows it touches only.
    lead_sql: np.ndarray | None = None
    # A number unique to this evaluation, and, when it was derived from an
    # earlier one, (that one's serial, the rows that may differ from it):
    # outside those rows every per-lead output equals the earlier one's.
    serial: int = field(default_factory=lambda: next(_SERIALS))
    changed: tuple[int, np.ndarray] | None = None

    @property
    def stage(self) -> np.ndarray:
        """Stage per lead: disqualified, lead, mql or sql."""
        return np.array(STAGES)[self.stage_code]

    @property
    def mql_via(self) -> np.ndarray:
        """How each MQL qualified: threshold, fast_track, or empty."""
        return np.array(MQL_VIA)[self.mql_via_code]

    @property
    def sql_via(self) -> np.ndarray:
        """How each SQL qualified: lead, account, or empty."""
        return np.array(SQL_VIA)[self.sql_via_code]

    @property
    def queue(self) -> np.ndarray:
        """The routing queue of each lead."""
        return np.array(self.queues, dtype=object)[self.queue_code]

    def stage_counts(self) -> dict[str, int]:
        """Leads per stage, every stage listed."""
        counts = np.bincount(self.stage_code, minlength=len(STAGES))
        return {stage: int(count) for stage, count in zip(STAGES, counts)}

    def matched_rules(self) -> pd.Categorical:
        """Per lead, the ids of the rules that held, in file order, ``;``-joined.

        Leads share few distinct patterns of matches, so the text is built
        once per pattern and the result is a categorical over those texts.
        """
        if not self.rule_order:
            return pd.Categorical.from_codes(np.zeros(len(self.leads), int), [""])
        grid = np.column_stack([self.matches[r] for r in self.rule_order])
        packed = np.packbits(grid, axis=1)
        width = -(-packed.shape[1] // 8) * 8
        padded = np.zeros((len(packed), width), dtype=np.uint8)
        padded[:, : packed.shape[1]] = packed
        words = padded.view(np.uint64)
        # One 64-bit word per lead for up to 64 rules: a fast integer unique.
        keys = (
            words[:, 0]
            if words.shape[1] == 1
            else words.view(np.dtype((np.void, width))).ravel()
        )
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        texts = [
            ";".join(r for r, held in zip(self.rule_order, grid[row]) if held)
            for row in first
        ]
        return pd.Categorical.from_codes(inverse.ravel(), texts)

    def table(self) -> pd.DataFrame:
        """The ``score`` output: one row per lead, columns as in the brief."""
        follow_up = pd.array(
            np.where(np.isnan(self.follow_up_days), 0, self.follow_up_days).astype(int),
            dtype="Int64",
        )
        follow_up[np.isnan(self.follow_up_days)] = pd.NA
        return pd.DataFrame(
            {
                "lead_id": self.leads.ids,
                "fit_score": np.round(self.fit, 2),
                "engagement_score": np.round(self.engagement, 2),
                "total_score": np.round(self.total, 2),
                "stage": pd.Categorical.from_codes(self.stage_code, STAGES),
                "mql_via": pd.Categorical.from_codes(self.mql_via_code, MQL_VIA),
                "sql_via": pd.Categorical.from_codes(self.sql_via_code, SQL_VIA),
                "queue": pd.Categorical.from_codes(self.queue_code, self.queues),
                "follow_up_days": follow_up,
                "matched_rules": self.matched_rules(),
            }
        )


def evaluate(
    criteria: CriteriaLike,
    leads: Leads,
    cache: ConditionCache | None = None,
    previous: Evaluation | None = None,
) -> Evaluation:
    """Score, stage and route every lead under ``criteria``.

    ``cache`` memoises rule columns across calls (see
    :class:`~leadsim.conditions.ConditionCache`); pass the same one for
    repeated evaluations of edits on one dataset. ``previous``, an earlier
    evaluation on the same leads, lets an edit of rule conditions or points
    be applied to the leads it can change only; the result is the same as
    without it.
    """
    started = time.perf_counter()
    data = criteria.data
    lists = data.get("lists") or {}
    rules = list(criteria.rules())
    _check_fields(data, rules, leads)

    cache = cache if cache is not None else ConditionCache()
    matches = {
        rule.id: cache.mask(resolve_lists(rule.when, lists), leads) for rule in rules
    }
    by_section: dict[str, list[Any]] = {}
    for rule in rules:
        by_section.setdefault(rule.section, []).append(rule)

    mql_spec = data.get("mql") or {}

    def group_score(section: str) -> np.ndarray:
        # Moving a threshold leaves both groups' scores as they were; editing
        # one rule recomputes only its group.
        members = by_section.get(section, [])
        spec = mql_spec.get(section) or {}
        key = (
            "group",
            leads.fingerprint,
            json.dumps(
                [[resolve_lists(r.when, lists), r.points] for r in members],
                sort_keys=True,
                default=str,
            ),
            json.dumps({k: v for k, v in spec.items() if k != "rules"}, default=str),
        )
        return cache.remember(key, lambda: _group_score(members, matches, spec, leads))

    fit = group_score("fit")
    engagement = group_score("engagement")
    total = fit + engagement

    excluded = _any(by_section.get("exclude", []), matches, len(leads))
    meets = _meets_threshold(mql_spec.get("threshold") or {}, fit, engagement, total)
    fast = _any(by_section.get("fast_track", []), matches, len(leads))
    mql_via = np.where(~excluded & meets, 1, np.where(~excluded & fast, 2, 0))
    is_mql = mql_via > 0

    sql_spec = data.get("sql") or {}
    sql_lead = is_mql & _sql_ready(sql_spec, by_section, matches, len(leads))
    stage = np.where(excluded, DISQUALIFIED, np.where(is_mql, MQL, LEAD))
    sql_via = np.zeros(len(leads), dtype=np.int8)
    stage[sql_lead] = SQL
    sql_via[sql_lead] = 1
    if sql_spec.get("account"):
        _promote_accounts(sql_spec["account"], leads, stage, sql_via, sql_lead)

    stage = stage.astype(np.int8)
    scores = {"fit": fit, "engagement": engagement, "total": total}
    queue_code, queues, follow_up = _route(data, leads, lists, stage, scores, cache)
    evaluation = Evaluation(
        criteria=criteria,
        leads=leads,
        fit=fit,
        engagement=engagement,
        total=total,
        stage_code=stage,
        mql_via_code=mql_via.astype(np.int8),
        sql_via_code=sql_via,
        queue_code=queue_code,
        queues=queues,
        follow_up_days=follow_up,
        matches=matches,
        rule_order=[rule.id for rule in rules],
    )
    evaluation.seconds = time.perf_counter() - started
    logger.debug("evaluated %s leads in %.3f s", len(leads), evaluation.seconds)
    return evaluation


def _check_fields(
    data: Mapping[str, Any], rules: Sequence[RuleLike], leads: Leads
) -> None:
    used: set[str] = set()
    for rule in rules:
        used |= condition_fields(rule.when)
    for route in data.get("routing") or []:
        used |= condition_fields(route.get("when"))
    missing = sorted(name for name in used if name not in leads.columns)
    if missing:
        raise DataError.single(
            "the criteria use field(s) the lead table does not have: "
            + ", ".join(missing)
            + "; map those columns in the dataset profile or change the rules",
            file=leads.source,
        )
    raise_if_errors(leads.check_fields(used), DataError)


def _group_score(
    rules: Sequence[RuleLike],
    matches: Mapping[str, np.ndarray],
    spec: Mapping[str, Any] | None,
    leads: Leads,
) -> np.ndarray:
    score = np.zeros(len(leads))
    for rule in rules:
        # A multiply is several times faster than a masked add here.
        score += matches[rule.id] * float(rule.points or 0)

    spec = spec or {}
    decay = spec.get("decay")
    if decay:
        key = ("decay", str(decay["date_field"]), float(decay["half_life_days"]))
        if key not in leads.memo:
            leads.memo[key] = decay_factor(leads, decay)
        score *= leads.memo[key]
    score = np.maximum(score, 0.0)
    if spec.get("cap") is not None:
        score = np.minimum(score, float(spec["cap"]))
    return score


def decay_factor(leads: Leads, decay: Mapping[str, Any]) -> np.ndarray:
    """0.5 ^ (age in days / half life); 1 where the date is missing or later."""
    column = leads.columns.get(str(decay["date_field"]))
    if column is None or column.values is None:
        raise DataError.single(
            f"decay reads the date field '{decay['date_field']}', which the lead "
            "table does not have as a date; name a date field in decay.date_field",
            file=leads.source,
        )
    age = leads.as_of_day - column.values
    usable = ~np.isnan(age) & (age >= 0)
    half_life = float(decay["half_life_days"])
    return np.where(usable, 0.5 ** (np.where(usable, age, 0.0) / half_life), 1.0)


def _any(
    rules: Sequence[RuleLike], matches: Mapping[str, np.ndarray], size: int
) -> np.ndarray:
    if not rules:
        return np.zeros(size, dtype=bool)
    return np.logical_or.reduce([matches[rule.id] for rule in rules])


def _meets_threshold(
    threshold: Mapping[str, Any],
    fit: np.ndarray,
    engagement: np.ndarray,
    total: np.ndarray,
) -> np.ndarray:
    scores = {"fit": fit, "engagement": engagement, "total": total}
    meets = np.ones(len(fit), dtype=bool)
    for name, minimum in threshold.items():
        meets &= scores[name] >= float(minimum)
    return meets


def _sql_ready(
    spec: Mapping[str, Any],
    by_section: Mapping[str, list[Any]],
    matches: Mapping[str, np.ndarray],
    size: int,
) -> np.ndarray:
    if not spec:
        return np.zeros(size, dtype=bool)

    ready = np.ones(size, dtype=bool)
    for rule in by_section.get("require", []):
        ready &= matches[rule.id]
    optional = by_section.get("require_any", [])
    minimum = int((spec.get("require_any") or {}).get("min", 0))
    if optional and minimum > 0:
        held = np.sum([matches[rule.id] for rule in optional], axis=0)
        ready &= held >= minimum
    return ready


def _promote_accounts(
    spec: Mapping[str, Any],
    leads: Leads,
    stage: np.ndarray,
    sql_via: np.ndarray,
    sql_lead: np.ndarray,
) -> None:
    """Account (ABM) promotion, in place on ``stage`` and ``sql_via``."""
    key = ("account", str(spec["key"]), str(spec.get("department_field", "department")))
    if key not in leads.memo:
        leads.memo[key] = (
            _group_ids(leads, key[1]),
            _department_codes(leads, key[2]),
        )
    account, department = leads.memo[key]
    groups = int(account.max()) + 1 if len(account) else 0

    engaged = stage >= MQL
    contacts = np.bincount(account, weights=engaged, minlength=groups)
    has_sql = np.bincount(account, weights=sql_lead, minlength=groups) > 0
    known = engaged & (department >= 0)
    width = int(department.max()) + 1 if len(department) else 0
    seen = np.zeros(groups * max(width, 1), dtype=bool)
    seen[account[known] * width + department[known]] = True
    departments = seen.reshape(groups, max(width, 1)).sum(axis=1)

    ready = (
        has_sql
        & (contacts >= int(spec.get("min_contacts", 1)))
        & (departments >= int(spec.get("min_departments", 1)))
    )
    lead_ready = ready[account]
    promoted = (stage == MQL) & lead_ready
    stage[promoted] = SQL
    sql_via[promoted] = 2
    if spec.get("required"):
        held_back = sql_lead & ~lead_ready
        stage[held_back] = MQL
        sql_via[held_back] = 0


def _group_ids(leads: Leads, key: str) -> np.ndarray:
    """Account codes, a lead without an account being an account of its own."""
    column = leads.columns.get(key)
    if column is None:
        raise DataError.single(
            f"the account rule groups leads by '{key}', which the lead table does "
            "not have; set sql.account.key to the account column",
            file=leads.source,
        )
    if column.codes is not None:
        codes = column.codes.astype(np.int64)
        width = len(column.categories)
    else:
        codes, uniques = pd.factorize(column.values, use_na_sentinel=True)
        width = len(uniques)
    alone = codes < 0
    codes = codes.copy()
    codes[alone] = width + np.arange(int(alone.sum()))
    return codes


def _department_codes(leads: Leads, name: str) -> np.ndarray:
    column = leads.columns.get(name)
    if column is None:
        raise DataError.single(
            f"the account rule counts departments in '{name}', which the lead "
            "table does not have; set sql.account.department_field",
            file=leads.source,
        )
    if column.codes is not None:
        return column.codes.astype(np.int64)
    codes, _ = pd.factorize(column.values, use_na_sentinel=True)
    return codes.astype(np.int64)


def _route(
    data: Mapping[str, Any],
    leads: Leads,
    lists: Mapping[str, Any],
    stage: np.ndarray,
    scores: Mapping[str, np.ndarray],
    cache: ConditionCache,
) -> tuple[np.ndarray, list[str], np.ndarray]:
    routes = data.get("routing") or []
    fallback = data.get("fallback") or {"queue": "unrouted"}
    context = RoutingContext(stage=stage, scores=scores, stages=STAGES, cache=cache)

    queues: list[str] = []
    queue_code = np.full(len(leads), -1, dtype=np.int32)
    follow_up = np.full(len(leads), np.nan)
    for route in [*routes, {"when": None, **fallback}]:
        open_leads = queue_code < 0
        if not open_leads.any():
            break
        if route["when"] is None:
            chosen = open_leads
        else:
            condition = resolve_lists(route["when"], lists)
            chosen = open_leads & evaluate_condition(condition, leads, context)
        name = str(route["queue"])
        if name not in queues:
            queues.append(name)
        queue_code[chosen] = queues.index(name)
        days = route.get("follow_up_days")
        follow_up[chosen] = np.nan if days is None else float(days)
    return queue_code, queues, follow_up
