"""Conditions as column operations.

A condition from a criteria file becomes one boolean array over all leads.
Text and list fields are judged once per distinct value and looked up by code;
numbers, dates and booleans are compared as float arrays. The semantics are
the brief's: text compares trimmed and case-insensitively, ``contains`` is
membership on a list and substring on text, and a leaf on a missing value is
false except ``present: false``.

On list fields, ``eq``/``ne`` mean contains/does not contain the value and
``in``/``not_in`` mean shares/shares none of the values.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leadsim.dataset import Column, Leads, day_number
from leadsim.errors import DataError

logger = logging.getLogger(__name__)

OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "contains",
    "contains_any",
    "contains_all",
    "present",
    "within_days",
    "older_than_days",
)

# Each operator in words, as the design page and the diff read it.
OPERATOR_WORDS: dict[str, str] = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "contains": "contains",
    "contains_any": "contains any of",
    "contains_all": "contains all of",
    "present": "is filled in",
    "within_days": "is within the last … days",
    "older_than_days": "is older than … days",
}

ORDER_OPERATORS = frozenset({"gt", "gte", "lt", "lte", "between"})
AGE_OPERATORS = frozenset({"within_days", "older_than_days"})


@dataclass
class RoutingContext:
    """What routing conditions may read besides fields: stage and scores.

    ``stage`` holds stage codes, positions in ``stages``. Field leaves go
    through ``cache`` when one is given, as rule conditions do. With
    ``rows``, conditions are judged for those leads only, and ``stage`` and
    ``scores`` hold their values alone.
    """

    stage: np.ndarray
    scores: Mapping[str, np.ndarray]
    stages: tuple[str, ...] = ("disqualified", "lead", "mql", "sql")
    cache: ConditionCache | None = None
    rows: np.ndarray | None = None


def leaf_operator(condition: Mapping[str, Any]) -> str:
    """The one operator key of a leaf condition."""
    for key in condition:
        if key in OPERATORS:
            return key
    raise DataError.single(f"condition {condition!r} has no operator")


def resolve_lists(condition: Any, lists: Mapping[str, list]) -> Any:
    """Replace every ``{list: NAME}`` reference with the list's items."""
    if isinstance(condition, dict):
        if set(condition) == {"list"}:
            return list(lists.get(condition["list"], []))
        return {key: resolve_lists(value, lists) for key, value in condition.items()}
    if isinstance(condition, list):
        return [resolve_lists(item, lists) for item in condition]
    return condition


def uses_routing_leaves(condition: Any) -> bool:
    """Whether a condition reads the stage or a score (routing only)."""
    if isinstance(condition, dict):
        if "stage" in condition or "score" in condition:
            return True
        return any(uses_routing_leaves(value) for value in condition.values())
    if isinstance(condition, list):
        return any(uses_routing_leaves(item) for item in condition)
    return False


def condition_fields(condition: Any) -> set[str]:
    """Every field name a condition reads."""
    if isinstance(condition, dict):
        found = {str(condition["field"])} if "field" in condition else set()
        for value in condition.values():
            found |= condition_fields(value)
        return found
    if isinstance(condition, list):
        return set().union(*(condition_fields(item) for item in condition))
    return set()


def evaluate_condition(
    condition: Mapping[str, Any],
    leads: Leads,
    routing: RoutingContext | None = None,
) -> np.ndarray:
    """Evaluate a condition (lists already resolved) to one bool per lead.

    Per lead of ``routing.rows`` when a routing context gives rows.
    """
    size = len(leads) if routing is None else len(routing.stage)
    if "all" in condition:
        parts = [evaluate_condition(c, leads, routing) for c in condition["all"]]
        return np.logical_and.reduce(parts) if parts else np.ones(size, bool)
    if "any" in condition:
        parts = [evaluate_condition(c, leads, routing) for c in condition["any"]]
        return np.logical_or.reduce(parts) if parts else np.zeros(size, bool)
    if "not" in condition:
        return ~evaluate_condition(condition["not"], leads, routing)
    if "stage" in condition:
        context = _routing(routing)
        name = str(condition["stage"]).strip().lower()
        if name not in context.stages:
            return np.zeros(len(leads), dtype=bool)
        return context.stage == context.stages.index(name)
    if "score" in condition:
        scores = _routing(routing).scores[condition["score"]]
        operator = leaf_operator(condition)
        return _compare_values(scores, operator, condition[operator], float)

    if routing is not None and routing.rows is not None:
        whole = RoutingContext(routing.stage, {}, routing.stages, routing.cache)
        return evaluate_condition(condition, leads, whole)[routing.rows]
    if routing is not None and routing.cache is not None:
        return routing.cache.mask(condition, leads)
    name = str(condition["field"])
    column = leads.columns.get(name)
    if column is None:
        raise DataError.single(
            f"a rule uses the field '{name}', which the lead table does not have; "
            "rename the field in the rule or map the column in the profile",
            file=leads.source,
        )
    operator = leaf_operator(condition)
    return evaluate_leaf(column, operator, condition[operator], leads.as_of_day)


def _routing(routing: RoutingContext | None) -> RoutingContext:
    if routing is None:
        raise DataError.single("stage and score conditions work only in routing")
    return routing


def evaluate_leaf(
    column: Column, operator: str, value: Any, as_of_day: int
) -> np.ndarray:
    """One leaf condition on one prepared column."""
    if operator == "present":
        return ~column.missing if value else column.missing

    if column.codes is not None:
        if column.kind == "text":
            table = _text_table(column, operator, value)
        else:
            predicate = _category_predicate(column.kind, operator, value, column.name)
            table = np.fromiter(
                (predicate(category) for category in column.categories),
                dtype=bool,
                count=len(column.categories),
            )
        return np.append(table, False)[column.codes]

    assert column.values is not None
    if operator in AGE_OPERATORS:
        _require(column, {"date"}, operator)
        age = as_of_day - column.values
        if operator == "within_days":
            return (age >= 0) & (age <= float(value))
        return age > float(value)
    if operator in {"contains", "contains_any", "contains_all"}:
        _require(column, {"text", "list"}, operator)

    convert = _converter(column)
    return _compare_values(column.values, operator, value, convert)


def _require(column: Column, kinds: set[str], operator: str) -> None:
    if column.kind not in kinds:
        raise DataError.single(
            f"'{operator}' needs a {' or '.join(sorted(kinds))} field, but "
            f"'{column.name}' holds {column.kind} values; use another operator",
            path=(column.name,),
        )


def _converter(column: Column) -> Callable[[Any], float]:
    if column.kind == "date":
        return day_number
    if column.kind == "boolean":
        return _bool_number
    return _number


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _bool_number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    text = str(value).strip().lower()
    if text in {"true", "yes", "1"}:
        return 1.0
    if text in {"false", "no", "0"}:
        return 0.0
    return np.nan


def _compare_values(
    values: np.ndarray, operator: str, target: Any, convert: Callable[[Any], float]
) -> np.ndarray:
    # NaN compares false with everything, which is the brief's rule for a
    # missing value; `ne` and `not_in` need the missing leads taken out.
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        if operator == "eq":
            return values == convert(target)
        if operator == "ne":
            return present & (values != convert(target))
        if operator == "in":
            return np.isin(values, [convert(v) for v in target])
        if operator == "not_in":
            return present & ~np.isin(values, [convert(v) for v in target])
        if operator == "gt":
            return values > convert(target)
        if operator == "gte":
            return values >= convert(target)
        if operator == "lt":
            return values < convert(target)
        if operator == "lte":
            return values <= convert(target)
        if operator == "between":
            low, high = (convert(v) for v in target)
            return (values >= low) & (values <= high)
    raise DataError.single(f"operator '{operator}' does not apply to this field")


def normal_text(value: Any) -> str:
    """A criteria value as the text it is compared with: trimmed, lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().lower()


def _text_table(column: Column, operator: str, value: Any) -> np.ndarray:
    """Judge every distinct text value at once (there can be many)."""
    if operator in ORDER_OPERATORS or operator in AGE_OPERATORS:
        _category_predicate(column.kind, operator, value, column.name)
    texts = pd.Series(column.categories, dtype=object)
    many = value if isinstance(value, list) else [value]
    targets = [normal_text(v) for v in many]

    if operator in {"eq", "ne"}:
        table = (texts == targets[0]).to_numpy()
        return table if operator == "eq" else ~table
    if operator in {"in", "not_in"}:
        table = texts.isin(targets).to_numpy()
        return table if operator == "in" else ~table
    found = [texts.str.contains(t, regex=False).to_numpy(bool) for t in targets]
    if not found:
        return np.zeros(len(texts), dtype=bool)
    if operator == "contains_all":
        return np.logical_and.reduce(found)
    return np.logical_or.reduce(found)


def _category_predicate(
    kind: str, operator: str, value: Any, name: str
) -> Callable[[Any], bool]:
    if operator in ORDER_OPERATORS or operator in AGE_OPERATORS:
        raise DataError.single(
            f"'{operator}' compares numbers or dates, but '{name}' holds {kind} "
            "values; use eq, in or contains, or set the field's type in the profile",
            path=(name,),
        )
    many = value if isinstance(value, list) else [value]
    targets = [normal_text(v) for v in many]
    target = targets[0] if targets else ""
    wanted = frozenset(targets)

    if kind == "list":
        return {
            "eq": lambda items: target in items,
            "contains": lambda items: target in items,
            "ne": lambda items: target not in items,
            "in": lambda items: bool(items & wanted),
            "contains_any": lambda items: bool(items & wanted),
            "not_in": lambda items: not items & wanted,
            "contains_all": lambda items: wanted <= items,
        }[operator]
    return {
        "eq": lambda text: text == target,
        "ne": lambda text: text != target,
        "in": lambda text: text in wanted,
        "not_in": lambda text: text not in wanted,
        "contains": lambda text: target in text,
        "contains_any": lambda text: any(t in text for t in targets),
        "contains_all": lambda text: all(t in text for t in targets),
    }[operator]


class ConditionCache:
    """Rule columns memoised on the dataset and the condition's canonical form.

    After a one-rule edit in the workshop, only the edited rule misses the
    cache; every other rule column is reused. Bounded, least recently used
    entries go first.
    """

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._derived: OrderedDict[tuple[Any, ...], np.ndarray] = OrderedDict()
        # A workshop's latest results by name (the last draft evaluation,
        # the last comparison), so the next edit can start from them.
        self.latest: dict[str, Any] = {}

    def remember(
        self, key: tuple[Any, ...], compute: Callable[[], np.ndarray]
    ) -> np.ndarray:
        """A derived array (such as a group score) memoised under ``key``.

        The key must hold everything the array depends on, the dataset's
        fingerprint included. The array comes back read-only.
        """
        found = self._derived.get(key)
        if found is not None:
            self._derived.move_to_end(key)
            return found

        found = compute()
        found.setflags(write=False)
        self._derived[key] = found
        if len(self._derived) > 64:
            self._derived.popitem(last=False)
        return found

    def mask(self, condition: Mapping[str, Any], leads: Leads) -> np.ndarray:
        """The condition's column, computed once per dataset and form."""
        key = (leads.fingerprint, json.dumps(condition, sort_keys=True, default=str))
        found = self._entries.get(key)
        if found is not None:
            self.hits += 1
            self._entries.move_to_end(key)
            return found

        self.misses += 1
        mask = evaluate_condition(condition, leads)
        mask.setflags(write=False)
        self._entries[key] = mask
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return mask
