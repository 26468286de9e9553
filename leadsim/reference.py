"""A deliberately plain evaluator, one lead at a time: the oracle.

This module restates the brief's semantics as directly as Python allows, from
the raw cells of the lead table, with no shared code from the vectorized
evaluator beyond the field kinds. Tests compare the two on random criteria and
random leads; the benchmark measures how much faster the real one is. The app
never uses it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from leadsim.dataset import Leads

STAGE_ORDER = {"disqualified": 0, "lead": 1, "mql": 2, "sql": 3}


def reference_evaluate(criteria: Any, leads: Leads) -> list[dict[str, Any]]:
    """Evaluate every lead separately; one dict per lead, in table order."""
    data = criteria.data
    lists = data.get("lists") or {}
    rules = list(criteria.rules())
    profile = leads.profile
    missing = {str(v).strip().lower() for v in profile.missing_values} | {""}
    rows = leads.frame.to_dict("records")
    kinds = {name: column.kind for name, column in leads.columns.items()}

    def value_of(row: dict[str, Any], name: str) -> Any:
        raw = row.get(name)
        text = "" if raw is None else str(raw).strip().lower()
        if text in missing:
            return None
        kind = kinds[name]
        if kind == "list":
            delimiter = profile.list_columns.get(name, ";").lower()
            items = {part.strip() for part in text.split(delimiter)} - missing
            return items or None
        if kind == "number":
            try:
                number = float(text.replace(",", ""))
            except ValueError:
                return None
            return number if number == number and abs(number) != float("inf") else None
        if kind == "date":
            return as_date(text)
        if kind == "boolean":
            if text in {"true", "yes", "1", "y", "t"}:
                return True
            if text in {"false", "no", "0", "n", "f"}:
                return False
            return None
        return text

    results = []
    for row in rows:
        results.append(_evaluate_row(data, rules, lists, row, value_of, leads.as_of))
    _apply_accounts(data, results, rows, value_of)
    for result, row in zip(results, rows):
        _route_row(data, lists, result, row, value_of, leads.as_of)
        result["lead_id"] = str(row[profile.id_column])
    return results


def as_date(text: str) -> dt.date | None:
    """Parse an ISO date or date-time; None when it is not one."""
    try:
        return dt.datetime.fromisoformat(text.upper().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().lower()


def _as_number(value: Any, kind: str) -> float | None:
    if kind == "date":
        when = value if isinstance(value, dt.date) else as_date(str(value).strip())
        return None if when is None else float(when.toordinal())
    if kind == "boolean":
        text = _text(value)
        return {
            "true": 1.0,
            "yes": 1.0,
            "1": 1.0,
            "false": 0.0,
            "no": 0.0,
            "0": 0.0,
        }.get(text)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def holds(
    condition: dict[str, Any],
    row: dict[str, Any],
    value_of: Any,
    lists: dict[str, Any],
    as_of: dt.date,
    kinds: dict[str, str] | None = None,
    stage: str | None = None,
    scores: dict[str, float] | None = None,
) -> bool:
    """Whether one condition holds for one lead."""
    if "all" in condition:
        return all(
            holds(c, row, value_of, lists, as_of, kinds, stage, scores)
            for c in condition["all"]
        )
    if "any" in condition:
        return any(
            holds(c, row, value_of, lists, as_of, kinds, stage, scores)
            for c in condition["any"]
        )
    if "not" in condition:
        return not holds(
            condition["not"], row, value_of, lists, as_of, kinds, stage, scores
        )
    if "stage" in condition:
        return stage == str(condition["stage"]).strip().lower()

    operator = next(key for key in condition if key not in {"field", "score"})
    target = condition[operator]
    if isinstance(target, dict) and "list" in target:
        target = lists.get(target["list"], [])

    if "score" in condition:
        assert scores is not None
        return _order(scores[condition["score"]], operator, target, "number")

    name = condition["field"]
    value = value_of(row, name)
    if operator == "present":
        return (value is not None) == bool(target)
    if value is None:
        return False

    kind = value_of.kinds[name] if hasattr(value_of, "kinds") else _kind(value)
    if isinstance(value, set):
        return _list_holds(value, operator, target)
    if isinstance(value, str):
        return _text_holds(value, operator, target)
    if operator in {"within_days", "older_than_days"}:
        age = (as_of - value).days
        if operator == "within_days":
            return 0 <= age <= target
        return age > target
    return _order(value, operator, target, kind)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dt.date):
        return "date"
    return "number"


def _list_holds(items: set[str], operator: str, target: Any) -> bool:
    wanted = {_text(v) for v in target} if isinstance(target, list) else {_text(target)}
    if operator in {"eq", "contains"}:
        return _text(target) in items
    if operator == "ne":
        return _text(target) not in items
    if operator in {"in", "contains_any"}:
        return bool(items & wanted)
    if operator == "not_in":
        return not (items & wanted)
    if operator == "contains_all":
        return wanted <= items
    raise ValueError(f"{operator} on a list")


def _text_holds(text: str, operator: str, target: Any) -> bool:
    if operator == "eq":
        return text == _text(target)
    if operator == "ne":
        return text != _text(target)
    if operator == "in":
        return text in {_text(v) for v in target}
    if operator == "not_in":
        return text not in {_text(v) for v in target}
    if operator == "contains":
        return _text(target) in text
    if operator == "contains_any":
        return any(_text(v) in text for v in target)
    if operator == "contains_all":
        return all(_text(v) in text for v in target)
    raise ValueError(f"{operator} on text")


def _order(value: Any, operator: str, target: Any, kind: str) -> bool:
    number = value.toordinal() if isinstance(value, dt.date) else float(value)
    if operator == "between":
        low, high = (_as_number(t, kind) for t in target)
        return low is not None and high is not None and low <= number <= high
    if operator in {"in", "not_in"}:
        options = {_as_number(t, kind) for t in target}
        return (number in options) == (operator == "in")
    goal = _as_number(target, kind)
    if goal is None:
        return operator == "ne"
    return {
        "eq": number == goal,
        "ne": number != goal,
        "gt": number > goal,
        "gte": number >= goal,
        "lt": number < goal,
        "lte": number <= goal,
    }[operator]


def _evaluate_row(
    data: dict[str, Any],
    rules: list[Any],
    lists: dict[str, Any],
    row: dict[str, Any],
    value_of: Any,
    as_of: dt.date,
) -> dict[str, Any]:
    matched = [r for r in rules if holds(r.when, row, value_of, lists, as_of)]
    matched_ids = {r.id for r in matched}
    mql = data.get("mql") or {}

    fit = sum(float(r.points) for r in matched if r.section == "fit")
    fit = _floor_cap(fit, (mql.get("fit") or {}).get("cap"))
    engagement = sum(float(r.points) for r in matched if r.section == "engagement")
    decay = (mql.get("engagement") or {}).get("decay")
    if decay:
        when = value_of(row, decay["date_field"])
        if when is not None and when <= as_of:
            engagement = engagement * 0.5 ** (
                (as_of - when).days / decay["half_life_days"]
            )
    engagement = _floor_cap(engagement, (mql.get("engagement") or {}).get("cap"))
    total = fit + engagement
    scores = {"fit": fit, "engagement": engagement, "total": total}

    excluded = any(r.section == "exclude" for r in matched)
    threshold = mql.get("threshold") or {}
    meets = all(scores[name] >= minimum for name, minimum in threshold.items())
    fast = any(r.section == "fast_track" for r in matched)

    stage, mql_via, sql_via = "lead", "", ""
    if excluded:
        stage = "disqualified"
    elif meets or fast:
        stage, mql_via = "mql", "threshold" if meets else "fast_track"

    sql = data.get("sql") or {}
    required = [r for r in rules if r.section == "require"]
    optional = [r for r in rules if r.section == "require_any"]
    minimum = (sql.get("require_any") or {}).get("min", 0)
    if (
        stage == "mql"
        and sql
        and all(r.id in matched_ids for r in required)
        and sum(r.id in matched_ids for r in optional) >= minimum
    ):
        stage, sql_via = "sql", "lead"

    return {
        "fit_score": fit,
        "engagement_score": engagement,
        "total_score": total,
        "stage": stage,
        "mql_via": mql_via,
        "sql_via": sql_via,
        "matched_rules": ";".join(r.id for r in matched),
    }


def _floor_cap(score: float, cap: Any) -> float:
    score = max(score, 0.0)
    return min(score, float(cap)) if cap is not None else score


def _apply_accounts(
    data: dict[str, Any],
    results: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    value_of: Any,
) -> None:
    spec = (data.get("sql") or {}).get("account")
    if not spec:
        return

    members: dict[Any, list[int]] = defaultdict(list)
    for position, row in enumerate(rows):
        key = value_of(row, spec["key"])
        members[("account", key) if key is not None else ("alone", position)].append(
            position
        )

    department_field = spec.get("department_field", "department")
    for positions in members.values():
        engaged = [p for p in positions if results[p]["stage"] in {"mql", "sql"}]
        departments = {value_of(rows[p], department_field) for p in engaged} - {None}
        ready = (
            any(results[p]["sql_via"] == "lead" for p in positions)
            and len(engaged) >= spec.get("min_contacts", 1)
            and len(departments) >= spec.get("min_departments", 1)
        )
        for p in positions:
            if ready and results[p]["stage"] == "mql":
                results[p]["stage"], results[p]["sql_via"] = "sql", "account"
            if not ready and spec.get("required") and results[p]["stage"] == "sql":
                results[p]["stage"], results[p]["sql_via"] = "mql", ""


def _route_row(
    data: dict[str, Any],
    lists: dict[str, Any],
    result: dict[str, Any],
    row: dict[str, Any],
    value_of: Any,
    as_of: dt.date,
) -> None:
    scores = {
        "fit": result["fit_score"],
        "engagement": result["engagement_score"],
        "total": result["total_score"],
    }
    for route in data.get("routing") or []:
        if holds(
            route["when"], row, value_of, lists, as_of, None, result["stage"], scores
        ):
            result["queue"] = route["queue"]
            result["follow_up_days"] = route.get("follow_up_days")
            return
    fallback = data.get("fallback") or {"queue": "unrouted"}
    result["queue"] = fallback["queue"]
    result["follow_up_days"] = fallback.get("follow_up_days")
