"""Editing a draft without touching YAML: pure operations on the document.

The Design page holds the draft as YAML text; a form edit loads the text into
a plain document (the mapping of the criteria file), applies one operation
from here and dumps the result back. Every operation returns a new document
and leaves its input untouched, so that an undo stack of texts stays honest.

Conditions are edited as a *clause list*: one combinator (``all`` or
``any``) over leaves, each of which may be negated. Deeper nesting is kept
as it is and shown read-only; the YAML view edits it.
"""

from __future__ import annotations

import copy
import datetime
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leadsim.conditions import OPERATOR_WORDS
from leadsim.criteria import RULE_SECTIONS

logger = logging.getLogger(__name__)

# Where each editable list of rules lives in the document: the rule
# sections, then the routes.
RULE_LISTS: dict[str, tuple[str, ...]] = {
    **{section: tuple(path) for section, path in RULE_SECTIONS.items()},
    "routing": ("routing",),
}

SECTION_TITLES: dict[str, str] = {
    "exclude": "Exclusions",
    "fit": "Fit rules",
    "engagement": "Engagement rules",
    "fast_track": "Fast track",
    "require": "SQL requirements (all must hold)",
    "require_any": "SQL evidence (at least some must hold)",
    "routing": "Routing",
}

# Operators a field of each kind can use, in the order a picker shows them.
OPERATORS: dict[str, tuple[str, ...]] = {
    "text": ("eq", "ne", "in", "not_in", "contains", "present"),
    "list": ("contains", "contains_any", "contains_all", "present"),
    "number": ("gte", "gt", "lte", "lt", "eq", "ne", "between", "in", "present"),
    "date": ("within_days", "older_than_days", "gte", "lte", "between", "present"),
    "boolean": ("eq", "present"),
}

ALL_OPERATORS = tuple(OPERATOR_WORDS)
LIST_OPERATORS = frozenset({"in", "not_in", "contains_any", "contains_all"})

_ID_PATTERN = re.compile(r"[^a-z0-9]+")


# --- documents and paths -------------------------------------------------------


def get_path(document: dict, path: Sequence[str | int], default: Any = None) -> Any:
    """The value at a key path, or ``default`` when any step is missing."""
    node: Any = document
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or not -len(node) <= key < len(node):
                return default
        elif not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def set_path(document: dict, path: Sequence[str | int], value: Any) -> dict:
    """A copy of the document with ``value`` at ``path``.

    Missing mappings on the way are created. A value of ``None`` removes the
    key, so that optional settings (a cap, decay) can be switched off.
    """
    if not path:
        raise ValueError("set_path needs a non-empty path")
    result = copy.deepcopy(document)
    node: Any = result
    for key in path[:-1]:
        if isinstance(key, int):
            node = node[key]
        else:
            node = node.setdefault(key, {})
    last = path[-1]
    if value is None and isinstance(last, str):
        node.pop(last, None)
    else:
        node[last] = copy.deepcopy(value)
    return result


def rules_of(document: dict, section: str) -> list[dict]:
    """The rules (or routes) of one section, empty when the section is absent."""
    found = get_path(document, RULE_LISTS[section], [])
    return found if isinstance(found, list) else []


def rule_ids(document: dict) -> set[str]:
    """Every rule and route id used anywhere in the document."""
    ids: set[str] = set()
    for section in RULE_LISTS:
        for rule in rules_of(document, section):
            if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                ids.add(rule["id"])
    return ids


def unique_id(document: dict, label: str) -> str:
    """A slug id from a label that no rule of the document uses yet."""
    base = _ID_PATTERN.sub("-", label.lower()).strip("-") or "rule"
    taken = rule_ids(document)
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def add_rule(document: dict, section: str, rule: dict) -> dict:
    """A copy of the document with ``rule`` appended to ``section``.

    A missing or taken id is replaced by a unique one made from the label.
    """
    rule = dict(rule)
    if not rule.get("id") or rule["id"] in rule_ids(document):
        rule["id"] = unique_id(document, str(rule.get("label") or rule.get("id", "")))
    rules = [*rules_of(document, section), rule]
    return set_path(document, RULE_LISTS[section], rules)


def update_rule(document: dict, section: str, index: int, changes: dict) -> dict:
    """A copy of the document with one rule's keys changed.

    A change to ``None`` removes that key (for example a route's follow-up).
    """
    rules = copy.deepcopy(rules_of(document, section))
    if not 0 <= index < len(rules):
        raise IndexError(f"{section} has no rule number {index + 1}")
    for key, value in changes.items():
        if value is None:
            rules[index].pop(key, None)
        else:
            rules[index][key] = value
    return set_path(document, RULE_LISTS[section], rules)


def remove_rule(document: dict, section: str, index: int) -> dict:
    """A copy of the document without one rule of ``section``."""
    rules = list(rules_of(document, section))
    if not 0 <= index < len(rules):
        raise IndexError(f"{section} has no rule number {index + 1}")
    del rules[index]
    return set_path(document, RULE_LISTS[section], rules)


def move_rule(document: dict, section: str, index: int, offset: int) -> dict:
    """A copy with one rule moved up (``-1``) or down (``+1``); order matters
    for routing, where the first match wins."""
    rules = list(rules_of(document, section))
    target = index + offset
    if not (0 <= index < len(rules) and 0 <= target < len(rules)):
        return copy.deepcopy(document)
    rules[index], rules[target] = rules[target], rules[index]
    return set_path(document, RULE_LISTS[section], rules)


def set_glossary_term(document: dict, term: str, meaning: str | None) -> dict:
    """A copy with a glossary term added, changed or (``meaning=None``) removed."""
    glossary = dict(get_path(document, ("glossary",), {}) or {})
    if meaning is None:
        glossary.pop(term, None)
    else:
        glossary[term.strip()] = meaning.strip()
    return set_path(document, ("glossary",), glossary or None)


# --- conditions ------------------------------------------------------------------


@dataclass
class Clause:
    """One leaf of a clause list, possibly negated.

    ``field`` is a data field for ordinary leaves; routing leaves use
    ``field="stage"`` or ``field="score:fit"`` (``score:engagement``,
    ``score:total``).
    """

    field: str
    operator: str
    value: Any
    negated: bool = False


@dataclass
class ClauseList:
    """A condition as a combinator over clauses; ``editable`` is false when the
    condition nests deeper than the builder shows."""

    mode: str = "all"
    clauses: list[Clause] = field(default_factory=list)
    editable: bool = True


def _leaf_to_clause(leaf: dict, negated: bool) -> Clause | None:
    if "stage" in leaf and len(leaf) == 1:
        return Clause("stage", "eq", leaf["stage"], negated)
    if "score" in leaf:
        operators = [key for key in leaf if key != "score"]
        if len(operators) == 1:
            op = operators[0]
            return Clause(f"score:{leaf['score']}", op, leaf[op], negated)
        return None
    if "field" in leaf:
        operators = [key for key in leaf if key != "field"]
        if len(operators) == 1:
            op = operators[0]
            return Clause(str(leaf["field"]), op, leaf[op], negated)
    return None


def _clause_from(node: Any) -> Clause | None:
    if not isinstance(node, dict):
        return None
    if set(node) == {"not"}:
        inner = node["not"]
        if isinstance(inner, dict) and not {"all", "any", "not"} & set(inner):
            return _leaf_to_clause(inner, True)
        return None
    if {"all", "any", "not"} & set(node):
        return None
    return _leaf_to_clause(node, False)


def to_clauses(condition: Any) -> ClauseList:
    """Read a condition into a clause list for the builder.

    ``{all: [...]}`` and ``{any: [...]}`` of leaves (each possibly under
    ``not``) and a single leaf are editable; anything deeper is returned with
    ``editable=False`` and no clauses.
    """
    if isinstance(condition, dict) and set(condition) in ({"all"}, {"any"}):
        mode = next(iter(condition))
        children = condition[mode] if isinstance(condition[mode], list) else []
        clauses = [_clause_from(child) for child in children]
        if all(clause is not None for clause in clauses):
            return ClauseList(mode, clauses)  # type: ignore[arg-type]
        return ClauseList(mode, [], editable=False)

    clause = _clause_from(condition)
    if clause is None:
        return ClauseList("all", [], editable=False)
    return ClauseList("all", [clause])


def clause_to_leaf(clause: Clause) -> dict:
    """The condition node of one clause, under ``not`` when negated."""
    if clause.field == "stage":
        leaf: dict = {"stage": clause.value}
    elif clause.field.startswith("score:"):
        leaf = {"score": clause.field.split(":", 1)[1], clause.operator: clause.value}
    else:
        leaf = {"field": clause.field, clause.operator: clause.value}
    return {"not": leaf} if clause.negated else leaf


def from_clauses(clauses: ClauseList) -> dict:
    """The condition node of a clause list; one clause stands on its own."""
    leaves = [clause_to_leaf(clause) for clause in clauses.clauses]
    if len(leaves) == 1:
        return leaves[0]
    return {clauses.mode: leaves}


def parse_value(text: str, kind: str, operator: str) -> Any:
    """Turn what a user typed into the value a condition needs.

    Lists are comma separated; ``between`` takes two values; numbers become
    int or float; ``present`` and boolean ``eq`` take yes/no or true/false.
    Raises ``ValueError`` with a message that says what to type.
    """
    text = text.strip()
    if operator in ("within_days", "older_than_days"):
        return _number(text, "a number of days, for example 30")
    if operator == "present" or (kind == "boolean" and operator in ("eq", "ne")):
        return _boolean(text)
    if operator == "between":
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if len(parts) != 2:
            raise ValueError(
                "Type two values separated by a comma, for example 10, 50."
            )
        return [_scalar(part, kind) for part in parts]
    if operator in ("in", "not_in") and text.startswith("list:"):
        return {"list": text[5:].strip()}
    if operator in LIST_OPERATORS:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if not parts:
            raise ValueError("Type at least one value; separate several by commas.")
        return [_scalar(part, kind) for part in parts]
    if not text:
        raise ValueError("Type a value.")
    return _scalar(text, kind)


def format_value(value: Any) -> str:
    """The text a value shows in an input box (the inverse of parse_value)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(format_value(item) for item in value)
    if isinstance(value, dict) and "list" in value:
        return f"list:{value['list']}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _scalar(text: str, kind: str) -> Any:
    if text.startswith("list:"):
        return {"list": text[5:].strip()}
    if kind == "number":
        return _number(text, "a number")
    if kind == "boolean":
        return _boolean(text)
    if kind == "date":
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(
                f"'{text}' is not a date; type it as 2026-03-31."
            ) from None
    return text


def _number(text: str, what: str) -> int | float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a number; type {what}.") from None
    return int(number) if number.is_integer() else number


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("yes", "true", "1", "y"):
        return True
    if lowered in ("no", "false", "0", "n"):
        return False
    raise ValueError(f"'{text}' is not yes or no; type yes or no.")


# --- what the data offers --------------------------------------------------------


def value_choices(column: Any, limit: int = 40) -> list[str]:
    """The values seen in a prepared text or list column, most frequent first.

    ``column`` is a :class:`leadsim.dataset.Column`. Numbers, dates and
    booleans offer no list (their values are typed). Counting is one
    ``bincount`` over the codes, never a loop over leads.
    """
    if column.codes is None or not column.categories:
        return []

    codes = np.asarray(column.codes)
    counts = np.bincount(codes[codes >= 0], minlength=len(column.categories))
    if column.kind != "list":
        order = np.argsort(-counts, kind="stable")
        return [str(column.categories[i]) for i in order if counts[i] > 0][:limit]

    # A list column's categories are sets of items; count items, not sets.
    items: dict[str, int] = {}
    for category, count in zip(column.categories, counts, strict=False):
        for item in category:
            items[item] = items.get(item, 0) + int(count)
    ranked = sorted(items.items(), key=lambda pair: (-pair[1], pair[0]))
    return [item for item, count in ranked if count > 0][:limit]


# --- undo ------------------------------------------------------------------------


@dataclass
class UndoStack:
    """Recent draft texts, newest last, with redo after an undo.

    Pushing the text the stack already ends with is a no-op, so a rerun that
    did not change anything does not fill the history.
    """

    limit: int = 30
    past: list[str] = field(default_factory=list)
    future: list[str] = field(default_factory=list)

    def push(self, text: str) -> None:
        """Remember ``text`` as the state before an edit."""
        if self.past and self.past[-1] == text:
            return
        self.past.append(text)
        del self.past[: -self.limit]
        self.future.clear()

    def undo(self, current: str) -> str | None:
        """The text before the last edit (``None`` when there is none)."""
        if not self.past:
            return None
        self.future.append(current)
        return self.past.pop()

    def redo(self, current: str) -> str | None:
        """The text an undo went back from (``None`` when there is none)."""
        if not self.future:
            return None
        self.past.append(current)
        return self.future.pop()
