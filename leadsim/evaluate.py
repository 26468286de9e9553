"""Apply a criteria file to prepared leads: scores, stage and route per lead.

Every step is column work over all leads at once, in the order of the brief:
rule matches, group scores (sum, decay, floor, cap), exclusions, thresholds
and fast track, lead-level SQL, account promotion, then first-match routing
with the fallback.

In a workshop, an edit of rule conditions or points builds on the previous
evaluation: only the leads whose rule columns moved are scored and staged
again (see :func:`evaluate`'s ``previous``), with the same result.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
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
from leadsim.criteria import RULE_SECTIONS
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
    # Lead-level SQL (before account promotion) and, per account code,
    # whether the account is ready for promotion: kept so that an edit can
    # be applied to the rows it touches only.
    lead_sql: np.ndarray | None = None
    account_ready: np.ndarray | None = None
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

    edit = _edit_from(previous, criteria, rules, matches, leads)
    if edit is not None and previous is not None:
        touched, edited_rules = edit
        evaluation = _apply_edit(
            criteria, leads, cache, previous, matches, by_section, touched, edited_rules
        )
    else:
        evaluation = _evaluate_all(criteria, leads, cache, matches, by_section)
    evaluation.seconds = time.perf_counter() - started
    logger.debug("evaluated %s leads in %.3f s", len(leads), evaluation.seconds)
    return evaluation


def _evaluate_all(
    criteria: CriteriaLike,
    leads: Leads,
    cache: ConditionCache,
    matches: dict[str, np.ndarray],
    by_section: Mapping[str, list[Any]],
) -> Evaluation:
    data = criteria.data
    lists = data.get("lists") or {}
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
        return cache.remember(
            key, lambda: _group_score(members, matches.__getitem__, spec, leads)
        )

    fit = group_score("fit")
    engagement = group_score("engagement")
    total = fit + engagement
    stage, mql_via, sql_via, lead_sql = _stages(
        data, by_section, matches.__getitem__, fit, engagement, total
    )
    account_ready = None
    if (data.get("sql") or {}).get("account"):
        spec = data["sql"]["account"]
        account, department = _account_codes(spec, leads)
        account_ready = _account_ready(
            spec, account, department, stage >= MQL, lead_sql
        )
        _promote(spec, account_ready[account], stage, sql_via, lead_sql)

    scores = {"fit": fit, "engagement": engagement, "total": total}
    queue_code, queues, follow_up = _route(data, leads, lists, stage, scores, cache)
    return Evaluation(
        criteria=criteria,
        leads=leads,
        fit=fit,
        engagement=engagement,
        total=total,
        stage_code=stage,
        mql_via_code=mql_via,
        sql_via_code=sql_via,
        queue_code=queue_code,
        queues=queues,
        follow_up_days=follow_up,
        matches=matches,
        rule_order=list(matches),
        lead_sql=lead_sql,
        account_ready=account_ready,
    )


def _stages(
    data: Mapping[str, Any],
    by_section: Mapping[str, list[Any]],
    column: Callable[[str], np.ndarray],
    fit: np.ndarray,
    engagement: np.ndarray,
    total: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stage, MQL route, SQL route and lead-level SQL, before accounts.

    ``column`` gives a rule's matches for the leads being staged (all of
    them, or the rows an edit touched).
    """
    size = len(total)
    mql_spec = data.get("mql") or {}
    excluded = _any(by_section.get("exclude", []), column, size)
    meets = _meets_threshold(mql_spec.get("threshold") or {}, fit, engagement, total)
    fast = _any(by_section.get("fast_track", []), column, size)
    mql_via = np.where(~excluded & meets, 1, np.where(~excluded & fast, 2, 0))
    mql_via = mql_via.astype(np.int8)
    is_mql = mql_via > 0

    lead_sql = is_mql & _sql_ready(data.get("sql") or {}, by_section, column, size)
    stage = np.where(excluded, DISQUALIFIED, np.where(is_mql, MQL, LEAD))
    stage = stage.astype(np.int8)
    stage[lead_sql] = SQL
    sql_via = lead_sql.astype(np.int8)
    return stage, mql_via, sql_via, lead_sql


def _edit_from(
    previous: Evaluation | None,
    criteria: CriteriaLike,
    rules: Sequence[RuleLike],
    matches: Mapping[str, np.ndarray],
    leads: Leads,
) -> tuple[np.ndarray, set[str]] | None:
    """What changed since ``previous``: the leads it touches, the rules edited.

    The leads come as a bool array. ``None`` when ``previous`` cannot be
    built on: another dataset, or criteria that differ in more than rule
    conditions, rule points and lists.
    """
    if (
        previous is None
        or previous.lead_sql is None
        or (
            bool((criteria.data.get("sql") or {}).get("account"))
            and previous.account_ready is None
        )
        or previous.leads.fingerprint != leads.fingerprint
        or len(previous.leads) != len(leads)
        or list(previous.matches) != list(matches)
        or edit_outline(previous.criteria) != edit_outline(criteria)
    ):
        return None

    points_before = {rule.id: rule.points for rule in previous.criteria.rules()}
    touched = np.zeros(len(leads), dtype=bool)
    edited: set[str] = set()
    for rule in rules:
        mask, old = matches[rule.id], previous.matches[rule.id]
        if rule.points != points_before[rule.id]:
            touched |= mask | old
            edited.add(rule.id)
        elif mask is not old:
            touched |= mask != old
            edited.add(rule.id)
    return touched, edited


def edit_outline(criteria: CriteriaLike) -> str:
    """The criteria less what an edit of rule conditions, points or lists changes.

    Rules are cut down to their ids; lists, labels and the words about the
    file (title, version, owners) go. What stays (rule ids by section,
    thresholds, caps, decay, the SQL requirements, routing with its lists
    resolved, since a list edit can move a route, and the fallback) must be
    equal for an evaluation, or a comparison, to be built on the last one.
    """
    data = criteria.data
    kept = {key: data.get(key) for key in ("mql", "sql", "routing", "fallback")}
    kept = json.loads(json.dumps(kept, default=str))
    for path in RULE_SECTIONS.values():
        rules: Any = kept
        for key in path:
            rules = rules.get(key) if isinstance(rules, dict) else None
        for index, rule in enumerate(rules or []):
            rules[index] = {"id": rule.get("id")}
    lists = data.get("lists") or {}
    kept["routing"] = resolve_lists(kept["routing"], lists)
    return json.dumps(kept, sort_keys=True)


def _apply_edit(
    criteria: CriteriaLike,
    leads: Leads,
    cache: ConditionCache,
    previous: Evaluation,
    matches: dict[str, np.ndarray],
    by_section: Mapping[str, list[Any]],
    touched: np.ndarray,
    edited_rules: set[str],
) -> Evaluation:
    """``previous`` with the rows an edit touched evaluated again.

    Every row outside ``touched`` has the same rule matches and points as
    before, hence the same scores and lead-level stage. Accounts are
    counted again only where an edited row entered or left the MQL stage or
    lead-level SQL; routing is redone for the touched rows and for the
    other members of those accounts whose stage moved.
    """
    data = criteria.data
    lists = data.get("lists") or {}
    mql_spec = data.get("mql") or {}
    rows = np.flatnonzero(touched)

    def column(rule_id: str) -> np.ndarray:
        return matches[rule_id][rows]

    scores = {}
    for section in ("fit", "engagement"):
        before = getattr(previous, section)
        members = by_section.get(section, [])
        if not rows.size or not edited_rules & {rule.id for rule in members}:
            scores[section] = before
            continue
        spec = mql_spec.get(section) or {}
        score = before.copy()
        score[rows] = _group_score(members, column, spec, leads, rows)
        scores[section] = score
    fit, engagement = scores["fit"], scores["engagement"]
    if fit is previous.fit and engagement is previous.engagement:
        total = previous.total
    else:
        total = previous.total.copy()
        total[rows] = fit[rows] + engagement[rows]

    stage = previous.stage_code.copy()
    mql_via = previous.mql_via_code.copy()
    sql_via = previous.sql_via_code.copy()
    assert previous.lead_sql is not None
    lead_sql = previous.lead_sql.copy()
    (stage[rows], mql_via[rows], sql_via[rows], lead_sql[rows]) = _stages(
        data, by_section, column, fit[rows], engagement[rows], total[rows]
    )

    routed = rows
    account_spec = (data.get("sql") or {}).get("account")
    if account_spec and rows.size:
        assert previous.account_ready is not None
        account_ready = previous.account_ready.copy()
        extra = _promote_edited(
            account_spec,
            leads,
            previous,
            rows,
            stage,
            mql_via,
            sql_via,
            lead_sql,
            account_ready,
        )
        if extra.size:
            spread = touched.copy()
            spread[extra] = True
            routed = np.flatnonzero(spread)
    else:
        account_ready = previous.account_ready

    queue_code = previous.queue_code.copy()
    follow_up = previous.follow_up_days.copy()
    route_scores = {"fit": fit, "engagement": engagement, "total": total}
    codes, queues, days = _route(
        data, leads, lists, stage, route_scores, cache, rows=routed
    )
    queue_code[routed] = codes
    follow_up[routed] = days
    return Evaluation(
        criteria=criteria,
        leads=leads,
        fit=fit,
        engagement=engagement,
        total=total,
        stage_code=stage,
        mql_via_code=mql_via,
        sql_via_code=sql_via,
        queue_code=queue_code,
        queues=queues,
        follow_up_days=follow_up,
        matches=matches,
        rule_order=list(matches),
        lead_sql=lead_sql,
        account_ready=account_ready,
        changed=(previous.serial, routed),
    )


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
    column: Callable[[str], np.ndarray],
    spec: Mapping[str, Any] | None,
    leads: Leads,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """A group's score: points summed, decayed, floored at 0, capped.

    For all leads, or for ``rows`` only (``column`` then gives the rule
    matches of those rows).
    """
    score = np.zeros(len(leads) if rows is None else len(rows))
    for rule in rules:
        # A multiply is several times faster than a masked add here.
        score += column(rule.id) * float(rule.points or 0)

    spec = spec or {}
    decay = spec.get("decay")
    if decay:
        key = ("decay", str(decay["date_field"]), float(decay["half_life_days"]))
        if key not in leads.memo:
            leads.memo[key] = decay_factor(leads, decay)
        factor = leads.memo[key]
        score *= factor if rows is None else factor[rows]
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
    rules: Sequence[RuleLike], column: Callable[[str], np.ndarray], size: int
) -> np.ndarray:
    if not rules:
        return np.zeros(size, dtype=bool)
    return np.logical_or.reduce([column(rule.id) for rule in rules])


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
    column: Callable[[str], np.ndarray],
    size: int,
) -> np.ndarray:
    if not spec:
        return np.zeros(size, dtype=bool)

    ready = np.ones(size, dtype=bool)
    for rule in by_section.get("require", []):
        ready &= column(rule.id)
    optional = by_section.get("require_any", [])
    minimum = int((spec.get("require_any") or {}).get("min", 0))
    if optional and minimum > 0:
        held = np.sum([column(rule.id) for rule in optional], axis=0)
        ready &= held >= minimum
    return ready


def _account_codes(
    spec: Mapping[str, Any], leads: Leads
) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's account and department as codes, memoised on the leads."""
    key = ("account", str(spec["key"]), str(spec.get("department_field", "department")))
    if key not in leads.memo:
        leads.memo[key] = (_group_ids(leads, key[1]), _department_codes(leads, key[2]))
    return leads.memo[key]


def _promote_edited(
    spec: Mapping[str, Any],
    leads: Leads,
    previous: Evaluation,
    rows: np.ndarray,
    stage: np.ndarray,
    mql_via: np.ndarray,
    sql_via: np.ndarray,
    lead_sql: np.ndarray,
    account_ready: np.ndarray,
) -> np.ndarray:
    """Account promotion after an edit, in place; returns rows it moved too.

    ``stage`` and ``sql_via`` hold the edited ``rows`` before promotion.
    Only accounts where an edited row became or stopped being an MQL or a
    lead-level SQL are counted again (``account_ready`` is updated for
    them); their other members whose stage changed are returned.
    """
    account, department = _account_codes(spec, leads)
    assert previous.lead_sql is not None
    was_mql = previous.mql_via_code[rows] > 0
    is_mql = stage[rows] >= MQL
    moved = (was_mql != is_mql) | (previous.lead_sql[rows] != lead_sql[rows])
    # The accounts to count again, in code order (marking beats a sort).
    marked = np.zeros(len(account_ready), dtype=bool)
    marked[account[rows[moved]]] = True
    affected = np.flatnonzero(marked)
    members, local = _account_members(account, affected, len(account_ready))

    # Each member's stage before promotion: a disqualified lead stays so
    # (promotion never moves one), a lead-level SQL is an SQL, a lead with
    # an MQL route an MQL. ``mql_via`` and ``lead_sql`` are never promoted.
    member_stage = stage[members]
    member_mql = mql_via[members] > 0
    member_sql = lead_sql[members]
    member_stage = np.where(
        member_stage == DISQUALIFIED,
        DISQUALIFIED,
        np.where(member_sql, SQL, np.where(member_mql, MQL, LEAD)),
    ).astype(np.int8)
    member_via = member_sql.astype(np.int8)
    ready = _account_ready(
        spec, local, department[members], member_stage >= MQL, member_sql
    )
    account_ready[affected] = ready
    _promote(spec, ready[local], member_stage, member_via, member_sql)

    rest = rows[~marked[account[rows]]]
    rest_stage, rest_via = stage[rest], sql_via[rest]
    _promote(spec, account_ready[account[rest]], rest_stage, rest_via, lead_sql[rest])
    stage[rest], sql_via[rest] = rest_stage, rest_via

    differs = (member_stage != previous.stage_code[members]) | (
        member_via != previous.sql_via_code[members]
    )
    stage[members], sql_via[members] = member_stage, member_via
    return members[differs]


def _account_members(
    account: np.ndarray, accounts: np.ndarray, n_accounts: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every lead of ``accounts`` (codes), with its account as a local code.

    Local codes are positions in ``accounts``, so that promotion can count
    over those accounts alone. One pass over the leads' account codes,
    cheaper than keeping the leads sorted by account.
    """
    local_of = np.full(n_accounts, -1, dtype=np.int64)
    local_of[accounts] = np.arange(len(accounts))
    local = local_of[account]
    members = np.flatnonzero(local >= 0)
    return members, local[members]


def _account_ready(
    spec: Mapping[str, Any],
    account: np.ndarray,
    department: np.ndarray,
    engaged: np.ndarray,
    lead_sql: np.ndarray,
) -> np.ndarray:
    """Per account code, whether the account rule promotes its MQLs.

    ``account`` numbers the accounts of the leads given from 0, and every
    member of each of those accounts must be among them. ``engaged`` marks
    leads at the MQL stage before promotion.
    """
    groups = int(account.max()) + 1 if len(account) else 0
    contacts = np.bincount(account, weights=engaged, minlength=groups)
    has_sql = np.bincount(account, weights=lead_sql, minlength=groups) > 0
    known = engaged & (department >= 0)
    width = int(department.max()) + 1 if len(department) else 0
    seen = np.zeros(groups * max(width, 1), dtype=bool)
    seen[account[known] * width + department[known]] = True
    departments = seen.reshape(groups, max(width, 1)).sum(axis=1)
    return (
        has_sql
        & (contacts >= int(spec.get("min_contacts", 1)))
        & (departments >= int(spec.get("min_departments", 1)))
    )


def _promote(
    spec: Mapping[str, Any],
    lead_ready: np.ndarray,
    stage: np.ndarray,
    sql_via: np.ndarray,
    lead_sql: np.ndarray,
) -> None:
    """Account (ABM) promotion, in place on ``stage`` and ``sql_via``."""
    promoted = (stage == MQL) & lead_ready
    stage[promoted] = SQL
    sql_via[promoted] = 2
    if spec.get("required"):
        held_back = lead_sql & ~lead_ready
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
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """First-match routing: queue codes, queue names, follow-up days.

    For all leads, or for ``rows`` only. The queue names are every route's
    queue in file order then the fallback's, whatever the leads.
    """
    routes = [*(data.get("routing") or [])]
    routes.append({"when": None, **(data.get("fallback") or {"queue": "unrouted"})})
    queues = list(dict.fromkeys(str(route["queue"]) for route in routes))
    queue_of = np.array([queues.index(str(r["queue"])) for r in routes], np.int32)
    days_of = np.array(
        [
            np.nan if r.get("follow_up_days") is None else float(r["follow_up_days"])
            for r in routes
        ]
    )

    if rows is not None:
        stage = stage[rows]
        scores = {name: score[rows] for name, score in scores.items()}
    context = RoutingContext(
        stage=stage, scores=scores, stages=STAGES, cache=cache, rows=rows
    )
    size = len(stage)
    # Each lead's route, the fallback unless an earlier route takes it.
    route_of = np.full(size, len(routes) - 1, dtype=np.int16)
    open_leads = np.ones(size, dtype=bool)
    for index, route in enumerate(routes[:-1]):
        if not open_leads.any():
            break
        condition = resolve_lists(route["when"], lists)
        chosen = open_leads & evaluate_condition(condition, leads, context)
        np.copyto(route_of, index, where=chosen)
        open_leads ^= chosen
    return queue_of[route_of], queues, days_of[route_of]
