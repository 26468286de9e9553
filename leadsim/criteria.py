"""Criteria files: load, validate against the schema, check what it cannot.

A criteria file goes through three gates, each reporting every problem it
finds at once: safe YAML loading (:mod:`leadsim.yamlio`), the JSON Schema that
ships with the package, and the semantic checks below (unique ids, list
references, ordered ranges, reachable thresholds, routing-only leaves).
:func:`check_against_leads` adds a fourth, optional gate: the fields a file
uses must exist in a dataset and fit their operators.
"""

from __future__ import annotations

import difflib
import functools
import json
import logging
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

import jsonschema

from leadsim.conditions import OPERATORS
from leadsim.errors import CriteriaError, Problem, Severity, format_path
from leadsim.yamlio import (
    Marks,
    YamlLimits,
    dump_yaml,
    load_yaml,
    nearest_mark,
    read_yaml_text,
)

if TYPE_CHECKING:
    from leadsim.dataset import Leads

logger = logging.getLogger(__name__)

CRITERIA_KIND = "lead-criteria"
# A real criteria file is a few kilobytes (a thousand rules would be 200 kB).
# These bounds refuse accidents and attacks while keeping validation of the
# worst file allowed within a few seconds; the store accepts drafts as large.
CRITERIA_LIMITS = YamlLimits(max_bytes=2_000_000, max_values=100_000)
RuleSection = Literal[
    "exclude", "fit", "engagement", "fast_track", "require", "require_any"
]
KeyPath = tuple[str | int, ...]

# Where each section's rules live in the document.
RULE_SECTIONS: dict[str, KeyPath] = {
    "exclude": ("mql", "exclude"),
    "fit": ("mql", "fit", "rules"),
    "engagement": ("mql", "engagement", "rules"),
    "fast_track": ("mql", "fast_track"),
    "require": ("sql", "require"),
    "require_any": ("sql", "require_any", "rules"),
}
SECTION_NAMES = {
    "exclude": "exclusion rule",
    "fit": "fit rule",
    "engagement": "engagement rule",
    "fast_track": "fast-track rule",
    "require": "SQL rule",
    "require_any": "SQL rule",
}
FIELD_OPERATORS = OPERATORS
SCORE_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "between")
CONDITION_KINDS = ("field", "stage", "score", "all", "any", "not")

# The order keys are written in when criteria are dumped: the brief's order
# at the top, then the order people read a rule or a condition in.
KEY_ORDER = (
    "kind",
    "schema_version",
    "id",
    "version",
    "title",
    "description",
    "owners",
    "marketing",
    "sales",
    "glossary",
    "lists",
    "mql",
    "sql",
    "exclude",
    "total",
    "fit",
    "engagement",
    "cap",
    "decay",
    "half_life_days",
    "date_field",
    "threshold",
    "fast_track",
    "require",
    "require_any",
    "min",
    "account",
    "key",
    "min_contacts",
    "min_departments",
    "department_field",
    "required",
    "label",
    "points",
    "question",
    "rules",
    "routing",
    "fallback",
    "publication",
    "role",
    "name",
    "approvals",
    "published_at",
    "previous_version",
    "sha256",
    "dataset",
    "headline",
    "summary",
    "field",
    "stage",
    "score",
    *FIELD_OPERATORS,
    "list",
    "all",
    "any",
    "not",
    "when",
    "queue",
    "follow_up_days",
    "note",
)
# Short conditions, value lists and settings are written on one line.
DUMP_FLOW_WIDTH = 64
_KEY_RANK = {key: rank for rank, key in enumerate(KEY_ORDER)}


@dataclass(frozen=True)
class Rule:
    """One scoring or stage rule of a criteria file, as written."""

    section: RuleSection
    id: str
    label: str
    when: dict
    points: float | None
    question: str | None
    line: int
    column: int


@dataclass
class Criteria:
    """A validated criteria file with the marks to locate any part of it."""

    data: dict
    source: str
    text: str
    marks: Marks
    warnings: list[Problem] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The criteria id, such as ``erp-lead-stages``."""
        return self.data["id"]

    @property
    def version(self) -> str:
        """The semantic version, such as ``1.2.0``."""
        return self.data["version"]

    @property
    def title(self) -> str:
        """The readable title."""
        return self.data["title"]

    def rules(self) -> list[Rule]:
        """Every exclusion, fit, engagement, fast-track and SQL rule, in file order."""
        found = [
            self._rule(section, (*path, index))  # type: ignore[arg-type]
            for section, path in RULE_SECTIONS.items()
            for index in range(len(_get(self.data, path) or []))
        ]
        # A stable sort: rules without marks keep the sections' order.
        return sorted(found, key=lambda rule: (rule.line, rule.column))

    def _rule(self, section: RuleSection, path: KeyPath) -> Rule:
        rule = _get(self.data, path)
        line, column = self.marks.get(path, (0, 0))
        return Rule(
            section=section,
            id=rule["id"],
            label=rule["label"],
            when=rule["when"],
            points=rule.get("points"),
            question=rule.get("question"),
            line=line,
            column=column,
        )

    def routes(self) -> list[dict]:
        """The routes in file order (the order they are tried in)."""
        return list(self.data.get("routing") or [])

    def problem(
        self, message: str, path: Sequence[str | int], severity: Severity = "error"
    ) -> Problem:
        """A problem located at ``path`` (or its nearest marked ancestor)."""
        line, column = nearest_mark(self.marks, path)
        return Problem(message, self.source, line, column, tuple(path), severity)


def load_criteria(path: str | os.PathLike[str]) -> Criteria:
    """Read, parse and validate a criteria file; raise CriteriaError on any error."""
    text = read_yaml_text(path, limits=CRITERIA_LIMITS)
    return parse_criteria(text, str(path))


def parse_criteria(text: str, source: str = "<draft>") -> Criteria:
    """Parse and validate criteria YAML text.

    Raises :class:`CriteriaError` carrying every problem found (warnings
    included) when any of them is an error; otherwise returns the criteria
    with its warnings, such as an unreachable threshold.
    """
    data, marks = load_yaml(text, source, limits=CRITERIA_LIMITS)
    kind = data.get("kind", CRITERIA_KIND)
    if kind != CRITERIA_KIND:
        # Another kind of file (a dataset profile, say): its keys would all be
        # "unknown"; one line about the kind says what is really wrong.
        line, column = marks[("kind",)]
        raise CriteriaError.single(
            f"kind must be '{CRITERIA_KIND}'; found {kind!r}, so this is not a "
            "criteria file: check the file name",
            file=source,
            line=line,
            column=column,
            path=("kind",),
        )

    problems = schema_problems(data, marks, source)
    if problems:
        raise CriteriaError(problems)

    problems = semantic_problems(data, marks, source)
    if any(problem.severity == "error" for problem in problems):
        raise CriteriaError(problems)

    criteria = Criteria(data, source, text, marks, problems)
    logger.debug(
        "validated criteria %s %s from %s", data["id"], data["version"], source
    )
    return criteria


def dump_criteria(data: dict) -> str:
    """Write criteria data as YAML in the stable key order used for publishing."""
    return dump_yaml(
        data,
        key_rank=lambda key: _KEY_RANK.get(key, len(_KEY_RANK)),
        flow_width=DUMP_FLOW_WIDTH,
    )


def criteria_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a criteria file, as shipped in the package.

    Each call returns a fresh copy that the caller may change.
    """
    return json.loads(_schema_text())


@functools.cache
def _schema_text() -> str:
    resource = resources.files("leadsim").joinpath("schema", "criteria.schema.json")
    return resource.read_text(encoding="utf-8")


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(criteria_schema())


# --- schema errors in plain words -------------------------------------------

_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping (key: value)",
    "null": "null",
}
_PATTERN_WORDS = {
    "id": "a slug: lowercase letters, digits and dashes, such as 'erp-lead-stages'",
    "version": "a semantic version MAJOR.MINOR.PATCH, such as '1.2.0'",
    "sha256": "64 lowercase hexadecimal characters",
}


def schema_problems(data: Any, marks: Marks, source: str) -> list[Problem]:
    """Validate ``data`` against the criteria schema; one plain problem per error."""
    errors = list(_validator().iter_errors(data))
    misspelt = {
        (tuple(error.absolute_path), close)
        for error in errors
        if error.validator == "additionalProperties"
        for close in _suggestions(error)
    }
    problems: list[Problem] = []
    seen: set[tuple[int, int, str]] = set()
    for error in errors:
        for path, message in _explain(_Failure(error, data, misspelt)):
            line, column = nearest_mark(marks, path)
            if (line, column, message) in seen:
                continue
            seen.add((line, column, message))
            problems.append(Problem(message, source, line, column, path))
    return sorted(problems, key=lambda problem: (problem.line, problem.column))


def _suggestions(error: jsonschema.ValidationError) -> list[str]:
    """Allowed keys that the unknown keys of an error look like misspellings of."""
    allowed = list(error.schema.get("properties", {}))
    found = []
    for key in error.instance:
        if key not in allowed:
            found += difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    return found


class _Failure:
    """One schema error with what its explanation needs."""

    def __init__(
        self,
        error: jsonschema.ValidationError,
        document: Any,
        misspelt: set[tuple[KeyPath, str]],
    ) -> None:
        self.error = error
        self.path: KeyPath = tuple(error.absolute_path)
        self.instance = error.instance
        self.expected = error.validator_value
        self.name = _name(self.path)
        self.where = _describe(self.path, document)
        self.misspelt = misspelt


Explained = list[tuple[KeyPath, str]]


def _explain(failure: _Failure) -> Explained:
    """Say what is wrong in one schema error and what to change."""
    if isinstance(failure.instance, dict) and _is_condition_path(failure.path):
        mixed = [key for key in CONDITION_KINDS if key in failure.instance]
        if len(mixed) > 1:
            return [(failure.path, _mixed_condition(mixed))]

    explainer = _EXPLAINERS.get(failure.error.validator)
    if explainer is None:
        return [(failure.path, f"{failure.where}: {failure.error.message}")]
    return explainer(failure)


def _mixed_condition(kinds: list[str]) -> str:
    return (
        "a condition is one of field, stage, score, all, any or not, but this one "
        f"has {_and(kinds)}; nest them, for example {{all: [{{...}}, {{...}}]}}"
    )


def _explain_unknown(failure: _Failure) -> Explained:
    allowed = list(failure.error.schema.get("properties", {}))
    extra = [key for key in failure.instance if key not in allowed]
    return [
        ((*failure.path, key), _unknown_key(key, failure.where, allowed))
        for key in extra
    ]


def _explain_required(failure: _Failure) -> Explained:
    # A misspelt key is reported once, as unknown with a suggestion.
    missing = [
        key
        for key in failure.expected
        if key not in failure.instance and (failure.path, key) not in failure.misspelt
    ]
    if len(missing) > 1:
        message = f"missing keys {_and(missing)} in {failure.where}; add them"
        return [(failure.path, message)]
    return [
        (failure.path, f"missing key '{key}' in {failure.where}; add it")
        for key in missing
    ]


def _explain_type(failure: _Failure) -> Explained:
    if _is_condition_path(failure.path):
        message = (
            "a condition must be a mapping such as {field: industry, eq: "
            f"manufacturing}}; found {_kind_of(failure.instance)}"
        )
    else:
        message = _wrong_type(failure.name, failure.expected, failure.instance)
    return [(failure.path, message)]


def _explain_value(failure: _Failure) -> Explained:
    name, instance, expected = failure.name, failure.instance, failure.expected
    validator = failure.error.validator
    if validator == "const":
        message = f"{name} must be {expected!r}; found {instance!r}"
    elif validator == "enum":
        message = _not_in_enum(name, expected, instance)
    elif validator == "pattern":
        words = _PATTERN_WORDS.get(str(name), "an ISO date such as 2026-06-30")
        message = f"{name} must be {words}; found {instance!r}"
    elif validator == "minimum":
        message = f"{name} must be at least {expected}; found {instance}"
    elif validator == "exclusiveMinimum":
        message = f"{name} must be greater than {expected}; found {instance}"
    else:
        message = f"{name} must not be empty; write a value"
    return [(failure.path, message)]


def _explain_length(failure: _Failure) -> Explained:
    message = _wrong_length(failure.name, failure.expected, failure.instance)
    return [(failure.path, message)]


def _explain_key_count(failure: _Failure) -> Explained:
    message = _wrong_key_count(failure.where, failure.instance, failure.error.validator)
    return [(failure.path, message)]


def _explain_alternatives(failure: _Failure) -> Explained:
    message = _no_alternative(failure.name, failure.path, failure.instance)
    return [(failure.path, message)]


_EXPLAINERS = {
    "additionalProperties": _explain_unknown,
    "unevaluatedProperties": _explain_unknown,
    "required": _explain_required,
    "type": _explain_type,
    "const": _explain_value,
    "enum": _explain_value,
    "pattern": _explain_value,
    "minimum": _explain_value,
    "exclusiveMinimum": _explain_value,
    "minLength": _explain_value,
    "minItems": _explain_length,
    "maxItems": _explain_length,
    "minProperties": _explain_key_count,
    "maxProperties": _explain_key_count,
    "anyOf": _explain_alternatives,
}


def _unknown_key(key: Any, where: str, allowed: list[str]) -> str:
    message = f"unknown key '{key}' in {where}; allowed keys are {', '.join(allowed)}"
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean '{close[0]}'?"
    return message


def _wrong_type(name: str | int, expected: str | list[str], instance: Any) -> str:
    wanted = [expected] if isinstance(expected, str) else list(expected)
    words = " or ".join(_TYPE_WORDS.get(kind, kind) for kind in wanted)
    message = f"{name} must be {words}; found {_kind_of(instance)}"
    if "string" in wanted and isinstance(instance, bool | int | float):
        message += "; put the value in quotes if it is meant as text"
    return message


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null (no value)"


def _not_in_enum(name: str | int, allowed: list[Any], instance: Any) -> str:
    choices = ", ".join(str(choice) for choice in allowed)
    message = f"{name} must be one of {choices}; found {instance!r}"
    close = difflib.get_close_matches(str(instance), [str(c) for c in allowed], n=1)
    if close:
        message += f"; did you mean '{close[0]}'?"
    return message


def _wrong_length(name: str | int, limit: int, instance: list) -> str:
    if name == "between":
        return f"between takes exactly two values [low, high]; found {len(instance)}"
    return f"{name} must not be empty; add at least {limit} item"


def _wrong_key_count(where: str, instance: dict, kind: str) -> str:
    if "score" in instance:
        operators, subject = SCORE_OPERATORS, f"score '{instance['score']}'"
    elif "field" in instance:
        operators, subject = FIELD_OPERATORS, f"field '{instance['field']}'"
    else:
        return f"{where} needs at least one of total, fit, engagement"
    if kind == "minProperties":
        return (
            f"the condition on {subject} has no operator; add one of "
            f"{', '.join(operators)}"
        )
    used = [key for key in instance if key in operators]
    return (
        f"the condition on {subject} has {len(used)} operators ({_and(used)}); "
        "give it one, and combine several with {all: [...]}"
    )


def _no_alternative(name: str | int, path: KeyPath, instance: Any) -> str:
    if _is_condition_path(path):
        keys = [str(key) for key in instance] if isinstance(instance, dict) else []
        message = (
            "a condition needs one of the keys field, stage, score, all, any, not"
            f"; found {_and(keys) or 'none'}"
        )
        for key in keys:
            close = difflib.get_close_matches(key, CONDITION_KINDS, n=1, cutoff=0.6)
            if close and key not in CONDITION_KINDS:
                message += f"; did you mean '{close[0]}' for '{key}'?"
        return message
    if name in ("in", "not_in"):
        if isinstance(instance, dict):
            return (
                f"{name} takes a list of values or {{list: NAME}}; write {{list: NAME}}"
            )
        if isinstance(instance, str | int | float):
            return (
                f"{name} takes a list of values or {{list: NAME}}; for one value "
                f"write [{instance}]"
            )
        return f"{name} takes a non-empty list of values or {{list: NAME}}"
    return (
        f"{name} must be a number or an ISO date such as 2026-06-30; found {instance!r}"
    )


def _is_condition_path(path: KeyPath) -> bool:
    """Whether ``path`` points at a condition (a rule's ``when`` or inside one)."""
    if "when" not in path:
        return False
    tail = path[path.index("when") + 1 :]
    # Inside a condition, conditions sit at all[i], any[i] and not.
    position = 0
    while position < len(tail):
        step = tail[position]
        if step in ("all", "any") and position + 1 < len(tail):
            if not isinstance(tail[position + 1], int):
                return False
            position += 2
        elif step == "not":
            position += 1
        else:
            return False
    return True


def _name(path: KeyPath) -> str | int:
    """The key a value sits under, for messages ('points', 'version')."""
    for step in reversed(path):
        if isinstance(step, str):
            return step
    return "the document"


def _describe(path: KeyPath, document: Any) -> str:
    """Name the part of the file at ``path`` the way a reader would."""
    if not path:
        return "the criteria file"
    if _is_condition_path(path):
        return "condition"
    for section, base in RULE_SECTIONS.items():
        if path[: len(base)] == base and len(path) == len(base) + 1:
            rule = _get(document, path)
            rule_id = rule.get("id") if isinstance(rule, dict) else None
            suffix = f" '{rule_id}'" if rule_id else f" #{path[-1] + 1}"
            return SECTION_NAMES[section] + suffix
    if path[0] == "routing" and len(path) == 2:
        route = _get(document, path)
        route_id = route.get("id") if isinstance(route, dict) else None
        return f"route '{route_id}'" if route_id else f"route #{path[1] + 1}"
    return format_path(path)


def _and(items: Sequence[str]) -> str:
    quoted = [f"'{item}'" for item in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _get(document: Any, path: Sequence[str | int]) -> Any:
    """The value at ``path``, or None when any step is missing."""
    value = document
    for step in path:
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            return None
    return value


# --- semantic checks ---------------------------------------------------------


def iter_conditions(data: dict) -> Iterator[tuple[KeyPath, dict, bool]]:
    """Every leaf condition in the document: ``(path, leaf, in_routing)``.

    Walks the conditions of all rules and routes; ``in_routing`` tells whether
    the leaf belongs to a route, where stage and score leaves are allowed.
    """
    for base in RULE_SECTIONS.values():
        for index, rule in enumerate(_get(data, base) or []):
            yield from condition_leaves(rule["when"], (*base, index, "when"), False)
    for index, route in enumerate(data.get("routing") or []):
        yield from condition_leaves(route["when"], ("routing", index, "when"), True)


def condition_leaves(
    condition: dict, path: KeyPath, in_routing: bool = False
) -> Iterator[tuple[KeyPath, dict, bool]]:
    """The leaves of one condition with their key paths, depth first."""
    pending = [(path, condition)]
    while pending:
        where, node = pending.pop()
        if "all" in node or "any" in node:
            key = "all" if "all" in node else "any"
            children = [((*where, key, i), child) for i, child in enumerate(node[key])]
            pending.extend(reversed(children))
        elif "not" in node:
            pending.append(((*where, "not"), node["not"]))
        else:
            yield where, node, in_routing


def semantic_problems(data: dict, marks: Marks, source: str) -> list[Problem]:
    """Checks the schema cannot express; errors and warnings, in file order."""

    def problem(message: str, path: KeyPath, severity: Severity = "error") -> Problem:
        line, column = nearest_mark(marks, path)
        return Problem(message, source, line, column, path, severity)

    problems = [
        *_check_ids(data, marks, problem),
        *_check_leaves(data, problem),
        *_check_numbers(data, (), problem),
        *_check_points(data, problem),
        *_check_thresholds(data, problem),
        *_check_sql(data, problem),
        *_check_queues(data, problem),
    ]
    return sorted(problems, key=lambda item: (item.line, item.column))


def _check_ids(data: dict, marks: Marks, problem: Any) -> Iterator[Problem]:
    places = [*RULE_SECTIONS.values(), ("routing",)]
    paths = [
        (*base, index, "id")
        for base in places
        for index in range(len(_get(data, base) or []))
    ]
    # Report the later of two uses, as a reader meets them in the file.
    paths.sort(key=lambda path: nearest_mark(marks, path))
    first: dict[str, KeyPath] = {}
    for path in paths:
        rule_id = _get(data, path)
        earlier = first.setdefault(rule_id, path)
        if earlier is not path:
            line, _ = nearest_mark(marks, earlier)
            yield problem(
                f"id '{rule_id}' is already used at line {line} "
                f"({format_path(earlier[:-1])}); give each rule and route its "
                "own id",
                path,
            )


def _check_leaves(data: dict, problem: Any) -> Iterator[Problem]:
    lists = data.get("lists") or {}
    for path, leaf, in_routing in iter_conditions(data):
        for key in ("stage", "score"):
            if key in leaf and not in_routing:
                yield problem(
                    f"'{key}' conditions can only be used in routing; test fields "
                    "here instead",
                    (*path, key),
                )
        for operator in ("in", "not_in"):
            reference = leaf.get(operator)
            if isinstance(reference, dict) and reference["list"] not in lists:
                name = reference["list"]
                message = f"no list named '{name}' under 'lists'"
                close = difflib.get_close_matches(name, list(lists), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else "; define it there"
                yield problem(message + hint, (*path, operator, "list"))
        if "between" in leaf:
            yield from _check_between(leaf["between"], (*path, "between"), problem)
    yield from _check_unused_lists(data, problem)


def _check_unused_lists(data: dict, problem: Any) -> Iterator[Problem]:
    used = {
        leaf[operator]["list"]
        for _, leaf, _ in iter_conditions(data)
        for operator in ("in", "not_in")
        if isinstance(leaf.get(operator), dict)
    }
    for name in data.get("lists") or {}:
        if name not in used:
            yield problem(
                f"the list '{name}' is not used by any condition; use it with "
                f"{{list: {name}}} or remove it",
                ("lists", name),
                "warning",
            )


def _check_between(pair: list, path: KeyPath, problem: Any) -> Iterator[Problem]:
    low, high = pair
    if isinstance(low, str) != isinstance(high, str):
        yield problem("between mixes a number and a date; use two of the same", path)
    elif low > high:
        yield problem(
            f"between is [{low}, {high}] but the low end is above the high end; "
            f"write [{high}, {low}]",
            path,
        )


def _check_numbers(value: Any, path: KeyPath, problem: Any) -> Iterator[Problem]:
    if isinstance(value, float) and not math.isfinite(value):
        yield problem(f"{_name(path)} must be a finite number; found {value}", path)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _check_numbers(item, (*path, key), problem)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _check_numbers(item, (*path, index), problem)


def _check_points(data: dict, problem: Any) -> Iterator[Problem]:
    for section in ("fit", "engagement"):
        base = RULE_SECTIONS[section]
        for index, rule in enumerate(_get(data, base) or []):
            if rule["points"] == 0:
                yield problem(
                    f"rule '{rule['id']}' gives 0 points, so it changes nothing; "
                    "give it points or remove it",
                    (*base, index, "points"),
                )


def reachable_scores(data: dict) -> dict[str, float]:
    """The highest fit, engagement and total score any lead could get."""
    reachable: dict[str, float] = {}
    for group in ("fit", "engagement"):
        settings = _get(data, ("mql", group)) or {}
        best = sum(max(rule["points"], 0) for rule in settings.get("rules", []))
        cap = settings.get("cap")
        reachable[group] = min(best, cap) if cap is not None else best
    reachable["total"] = reachable["fit"] + reachable["engagement"]
    return reachable


def _check_thresholds(data: dict, problem: Any) -> Iterator[Problem]:
    threshold = data["mql"]["threshold"]
    reachable = reachable_scores(data)
    for score in ("total", "fit", "engagement"):
        minimum = threshold.get(score)
        if minimum is not None and minimum > reachable[score]:
            yield problem(
                f"the {score} threshold {minimum:g} cannot be reached: the most a "
                f"lead can score is {reachable[score]:g} (positive points, after any "
                "cap); only fast-track rules can make MQLs. Lower the threshold or "
                "add points",
                ("mql", "threshold", score),
                "warning",
            )


def _check_sql(data: dict, problem: Any) -> Iterator[Problem]:
    sql = data["sql"]
    require_any = sql.get("require_any")
    count = len(require_any["rules"]) if require_any else 0
    if require_any and require_any["min"] > count:
        rules = "is only 1 rule" if count == 1 else f"are only {count} rules"
        yield problem(
            f"require_any.min is {require_any['min']} but there {rules}; lower min "
            "or add rules",
            ("sql", "require_any", "min"),
        )
    if not sql.get("require") and not require_any and not sql.get("account"):
        yield problem(
            "sql has no rules, so every MQL counts as an SQL; add require or "
            "require_any rules",
            ("sql",),
            "warning",
        )


def _check_queues(data: dict, problem: Any) -> Iterator[Problem]:
    places = [
        (("routing", i), route) for i, route in enumerate(data.get("routing") or [])
    ]
    places.append((("fallback",), data["fallback"]))
    for path, route in places:
        if not route["queue"].strip():
            yield problem(
                "queue is blank; name the queue the leads go to", (*path, "queue")
            )


# --- against a dataset ---------------------------------------------------------


def referenced_fields(criteria: Criteria) -> set[str]:
    """Every lead field the criteria read: conditions, decay and account."""
    names = {
        leaf["field"]
        for _, leaf, _ in iter_conditions(criteria.data)
        if "field" in leaf
    }
    decay = _get(criteria.data, ("mql", "engagement", "decay"))
    if decay:
        names.add(decay["date_field"])
    account = criteria.data["sql"].get("account")
    if account:
        names.add(account["key"])
        names.add(account.get("department_field", "department"))
    return names


_ORDERED = {"gt", "gte", "lt", "lte", "between"}
_OPERATOR_KINDS: dict[str, set[str]] = {
    **{op: {"number", "date"} for op in _ORDERED},
    "within_days": {"date"},
    "older_than_days": {"date"},
    "contains": {"list", "text"},
    "contains_any": {"list", "text"},
    "contains_all": {"list", "text"},
    **{
        op: {"text", "boolean", "number", "date"} for op in ("eq", "ne", "in", "not_in")
    },
    "present": {"text", "boolean", "number", "date", "list"},
}


def check_against_leads(criteria: Criteria, leads: Leads) -> list[Problem]:
    """Problems with the fields ``criteria`` uses, checked against ``leads``.

    Each referenced field must exist in the dataset and its kind must fit the
    operator (ordering needs a number or date, recency a date, contains a list
    or text); values compared with number or date fields must be of that kind.
    The decay date field and the account fields are checked too.
    """
    columns = leads.columns
    problems: list[Problem] = []

    def need(
        name: str, path: KeyPath, kinds: set[str], purpose: str, by_operator: bool
    ) -> None:
        if name not in columns:
            close = difflib.get_close_matches(name, list(columns), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(
                criteria.problem(f"field '{name}' is not in {leads.source}{hint}", path)
            )
        elif columns[name].kind not in kinds:
            kind = columns[name].kind
            problems.append(
                criteria.problem(
                    f"field '{name}' holds {kind} values, but {purpose} needs "
                    f"{' or '.join(sorted(kinds))}"
                    f"{_kind_hint(kind, kinds, by_operator)}",
                    path,
                )
            )

    for path, leaf, _ in iter_conditions(criteria.data):
        if "field" not in leaf:
            continue
        operator = next(key for key in leaf if key != "field")
        kinds = _OPERATOR_KINDS[operator]
        need(leaf["field"], (*path, "field"), kinds, f"'{operator}'", True)
        column = columns.get(leaf["field"])
        if column is not None and column.kind in kinds:
            problems.extend(
                _value_mismatch(criteria, path, leaf, operator, column.kind)
            )

    decay = _get(criteria.data, ("mql", "engagement", "decay"))
    if decay:
        path = ("mql", "engagement", "decay", "date_field")
        need(decay["date_field"], path, {"date"}, "decay", False)
    account = criteria.data["sql"].get("account")
    if account:
        every = set(_OPERATOR_KINDS["present"])
        need(account["key"], ("sql", "account", "key"), every, "the account key", False)
        department = account.get("department_field", "department")
        path = ("sql", "account", "department_field")
        need(department, path, every, "the department field", False)
    return sorted(problems, key=lambda item: (item.line, item.column))


def _kind_hint(kind: str, kinds: set[str], operator: bool) -> str:
    """What to change when a field's kind does not fit its use."""
    if kind == "list" and "list" not in kinds:
        return "; test list fields with contains, contains_any or contains_all"
    wanted = " or ".join(sorted(kinds - {"text"}))
    retype = (
        f"set its kind under 'types' in the dataset profile if the column really "
        f"holds {wanted} values"
    )
    if kind == "text":
        return f"; pick another operator, or {retype}" if operator else f"; {retype}"
    if operator:
        return "; pick an operator that fits the field"
    return "; name a field of the right kind"


def _value_mismatch(
    criteria: Criteria, path: KeyPath, leaf: dict, operator: str, kind: str
) -> Iterator[Problem]:
    """Values that cannot compare with a number, date or boolean field."""
    value = leaf[operator]
    if isinstance(value, dict) or operator in (
        "present",
        "within_days",
        "older_than_days",
    ):
        return
    values = value if isinstance(value, list) else [value]
    wrong: list[Any] = []
    expected = ""
    if kind == "number":
        wrong = [item for item in values if isinstance(item, str | bool)]
        expected = "numbers"
    elif kind == "date" and operator not in (
        "contains",
        "contains_any",
        "contains_all",
    ):
        wrong = [item for item in values if not isinstance(item, str)]
        expected = "ISO dates such as 2026-06-30"
    elif kind == "boolean":
        wrong = [item for item in values if not isinstance(item, bool)]
        expected = "true or false"
    if wrong:
        yield criteria.problem(
            f"field '{leaf['field']}' holds {kind} values; compare it with {expected}, "
            f"not {wrong[0]!r}",
            (*path, operator),
        )
