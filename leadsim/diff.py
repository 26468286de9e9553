"""What changed between two criteria files, in words a marketer reads.

:func:`diff_criteria` compares two criteria documents part by part (rules
matched by id across versions, caps, decay, thresholds, SQL requirements,
account promotion, routing, fallback, glossary, lists, owners) and returns one
:class:`Change` per difference. It is not a text diff: moving a key or
re-indenting a file changes nothing.

Each change also says which version bump it calls for; :func:`suggest_bump`
takes the largest. The policy, in the order a reviewer applies it:

* **major**: something an implementation relied on is gone or means something
  else: a rule, exclusion or route removed, a rule moved to another section,
  account promotion added, removed, or made (not) required, a new schema
  version or criteria id.
* **minor**: the same stages, decided differently: a rule or route added,
  points, conditions, caps, decay, thresholds, the number of optional SQL
  requirements, account numbers, queues, follow-up days, the routing order,
  the fallback, named lists and their items, and any key this module does
  not know.
* **patch**: wording only: labels, notes, discovery questions, glossary,
  title, description, owners, the order of rules within a section.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from leadsim.conditions import OPERATOR_WORDS
from leadsim.errors import format_path

if TYPE_CHECKING:
    from leadsim.criteria import Criteria

logger = logging.getLogger(__name__)

Level = Literal["major", "minor", "patch"]
LEVEL_ORDER: dict[str, int] = {"patch": 0, "minor": 1, "major": 2}

# (section, key path of its rule list, what one rule of it is called)
RULE_SECTIONS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("exclude", ("mql", "exclude"), "Exclusion"),
    ("fit", ("mql", "fit", "rules"), "Fit rule"),
    ("engagement", ("mql", "engagement", "rules"), "Engagement rule"),
    ("fast_track", ("mql", "fast_track"), "Fast-track rule"),
    ("require", ("sql", "require"), "SQL requirement"),
    ("require_any", ("sql", "require_any", "rules"), "Optional SQL requirement"),
)
SECTION_NAMES = {
    "exclude": "exclusions",
    "fit": "fit rules",
    "engagement": "engagement rules",
    "fast_track": "fast-track rules",
    "require": "SQL requirements",
    "require_any": "optional SQL requirements",
}
SECTION_AREAS = {
    "exclude": "Exclusions",
    "fit": "Fit rules",
    "engagement": "Engagement rules",
    "fast_track": "Fast-track rules",
    "require": "SQL requirements",
    "require_any": "Optional SQL requirements",
}
# Keys whose difference is never a change of the criteria themselves.
IGNORED_TOP = {"version", "publication", "kind"}
HANDLED_TOP = {
    "schema_version",
    "id",
    "title",
    "description",
    "owners",
    "glossary",
    "lists",
    "mql",
    "sql",
    "routing",
    "fallback",
}

# For a list-valued operator, how an added or removed item reads.
LIST_OPERATOR_CHANGES = {
    "in": ("now also matches", "no longer matches"),
    "contains_any": ("now also matches", "no longer matches"),
    "not_in": ("now also excludes", "no longer excludes"),
    "contains_all": ("now also requires", "no longer requires"),
}


@dataclass(frozen=True)
class Change:
    """One difference between two criteria files.

    ``area`` groups changes for display ("Fit rules", "Routing"); ``text`` is
    the sentence shown to people; ``level`` is the bump it calls for; ``path``
    is where it is in the newer file (the older one for removals).
    """

    area: str
    text: str
    level: Level
    path: tuple[str | int, ...] = ()


def diff_criteria(old: Criteria, new: Criteria) -> list[Change]:
    """Every difference from ``old`` to ``new``, in file order.

    Rules are matched by id wherever they are in the file; the version number
    and the publication record are not compared.
    """
    return diff_documents(old.data, new.data)


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """:func:`diff_criteria` over two criteria documents (plain mappings)."""
    differ = _Differ(old, new)
    differ.run()
    logger.debug("found %s changes", len(differ.changes))
    return differ.changes


def suggest_bump(changes: Iterable[Change]) -> Level | None:
    """The bump the changes call for (see the module notes), or ``None``."""
    levels = [change.level for change in changes]
    if not levels:
        return None
    return max(levels, key=LEVEL_ORDER.__getitem__)


def render_diff(changes: list[Change], markdown: bool = True) -> str:
    """The changes as a short list grouped by area.

    With ``markdown`` the areas are bold and changes are bullets; otherwise
    the areas are plain lines and changes are indented with dashes.
    """
    if not changes:
        return "No changes."
    lines: list[str] = []
    area = None
    for change in changes:
        if change.area != area:
            if lines:
                lines.append("")
            area = change.area
            lines.append(f"**{area}**" if markdown else f"{area}:")
        lines.append(f"- {change.text}" if markdown else f"  - {change.text}")
    return "\n".join(lines)


def summarize(changes: list[Change], limit: int = 2) -> str:
    """One line naming the weightiest changes and how many more there are.

    Changes that call for a bigger bump come first (file order among equals),
    so a reworded description never hides a removed rule.
    """
    if not changes:
        return "No changes."
    ranked = sorted(changes, key=lambda change: -LEVEL_ORDER[change.level])
    head = "; ".join(change.text for change in ranked[:limit])
    rest = len(changes) - limit
    return f"{head}; and {rest} more" if rest > 0 else head


def describe_condition(when: Any, nested: bool = False) -> str:
    """A condition as a sentence fragment: ``industry is one of a, b``."""
    if not isinstance(when, Mapping):
        return _value(when)
    for combiner, joiner in (("all", " and "), ("any", " or ")):
        if combiner in when and isinstance(when[combiner], list):
            parts = [describe_condition(part, nested=True) for part in when[combiner]]
            text = joiner.join(parts) if parts else "(nothing)"
            return f"({text})" if nested and len(parts) > 1 else text
    if "not" in when:
        return f"not ({describe_condition(when['not'])})"
    if "stage" in when:
        return f"stage is {_value(when['stage'])}"
    if "score" in when:
        return _describe_leaf(f"{when['score']} score", when, skip="score")
    return _describe_leaf(_field(when.get("field")), when, skip="field")


def _describe_leaf(subject: str, when: Mapping[str, Any], skip: str) -> str:
    operators = [key for key in when if key != skip]
    if len(operators) != 1:
        return f"{subject} {_value(dict(when))}"
    operator = operators[0]
    return f"{subject} {_phrase(operator, when[operator])}"


def _phrase(operator: str, value: Any) -> str:
    """The operator and its value: ``is at least 5``."""
    if operator == "present":
        return "is filled in" if value else "is empty"
    if operator == "between" and isinstance(value, list) and len(value) == 2:
        return f"is between {_value(value[0])} and {_value(value[1])}"
    if operator == "within_days":
        return f"is within the last {_value(value)} days"
    if operator == "older_than_days":
        return f"is more than {_value(value)} days ago"
    if isinstance(value, Mapping) and "list" in value:
        negation = "not " if operator in ("not_in",) else ""
        return f"is {negation}in the list {value['list']}"
    return f"{OPERATOR_WORDS.get(operator, operator)} {_value(value)}"


def _field(name: Any) -> str:
    return str(name).replace("_", " ")


def _value(value: Any) -> str:
    """A value as people write it: ``yes``, ``25``, ``a, b``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "nothing"
    return str(value)


def _arrow(before: Any, after: Any) -> str:
    return f"{_value(before)} → {_value(after)}"


def _quote(value: Any) -> str:
    return f"“{_value(value)}”"


def _mapping(document: Any, *path: str) -> Mapping[str, Any]:
    node = document
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def _sequence(document: Any, path: tuple[str, ...]) -> list[Any]:
    node = _mapping(document, *path[:-1]).get(path[-1])
    return node if isinstance(node, list) else []


def _same_text(a: Any, b: Any) -> bool:
    return str(a).strip().casefold() == str(b).strip().casefold()


class _Differ:
    """Walks two documents part by part, collecting changes in file order."""

    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []
        self.old_rules = self._index_rules(old)
        self.new_rules = self._index_rules(new)

    def add(
        self, area: str, text: str, level: Level, path: tuple[str | int, ...] = ()
    ) -> None:
        self.changes.append(Change(area, text, level, path))

    def run(self) -> None:
        self.header()
        self.glossary()
        self.lists()
        self.rules_of("exclude")
        self.group("fit")
        self.group("engagement")
        self.threshold()
        self.rules_of("fast_track")
        self.rules_of("require")
        self.require_any()
        self.account()
        self.routing()
        self.fallback()
        self.leftovers()

    # -- header, glossary, lists ------------------------------------------

    def header(self) -> None:
        for key, level in (("schema_version", "major"), ("id", "major")):
            before, after = self.old.get(key), self.new.get(key)
            if before != after:
                name = "Schema version" if key == "schema_version" else "Criteria id"
                text = f"{name} {_value(before)} → {_value(after)}"
                self.add("Criteria", text, level, (key,))
        if self.old.get("title") != self.new.get("title"):
            before, after = self.old.get("title"), self.new.get("title")
            text = f"Title {_quote(before)} → {_quote(after)}"
            self.add("Criteria", text, "patch", ("title",))
        before, after = self.old.get("description"), self.new.get("description")
        if before != after:
            if before is None:
                text = f"Description added: {_value(after)}"
            elif after is None:
                text = "Description removed"
            else:
                text = f"Description now reads: {_value(after)}"
            self.add("Criteria", text, "patch", ("description",))
        before, after = _mapping(self.old, "owners"), _mapping(self.new, "owners")
        for role in _keys(before, after):
            if before.get(role) == after.get(role):
                continue
            who = f"{str(role).capitalize()} owner"
            if role not in before:
                text = f"{who} added: {_value(after[role])}"
            elif role not in after:
                text = f"{who} removed (was {_value(before[role])})"
            else:
                text = f"{who} {_value(before[role])} → {_value(after[role])}"
            self.add("Criteria", text, "patch", ("owners", role))

    def glossary(self) -> None:
        before, after = _mapping(self.old, "glossary"), _mapping(self.new, "glossary")
        for term in _keys(before, after):
            path = ("glossary", term)
            if term not in before:
                text = f"Added {_quote(term)}: {_value(after[term])}"
            elif term not in after:
                text = f"Removed {_quote(term)}"
            elif before[term] != after[term]:
                text = f"{_quote(term)} now reads: {_value(after[term])}"
            else:
                continue
            self.add("Glossary", text, "patch", path)

    def lists(self) -> None:
        before, after = _mapping(self.old, "lists"), _mapping(self.new, "lists")
        for name in _keys(before, after):
            path = ("lists", name)
            if name not in before:
                text = f"List {name} added: {_value(after[name])}"
            elif name not in after:
                text = f"List {name} removed (was {_value(before[name])})"
            elif before[name] != after[name]:
                text = f"List {name}: " + _item_changes(
                    before[name], after[name], ("added", "removed")
                )
            else:
                continue
            self.add("Lists", text, "minor", path)

    # -- rules ------------------------------------------------------------

    @staticmethod
    def _index_rules(document: Mapping[str, Any]) -> dict[str, tuple[str, int, dict]]:
        index: dict[str, tuple[str, int, dict]] = {}
        for section, path, _ in RULE_SECTIONS:
            for position, rule in enumerate(_sequence(document, path)):
                if isinstance(rule, Mapping) and "id" in rule:
                    index.setdefault(str(rule["id"]), (section, position, dict(rule)))
        return index

    def rules_of(self, section: str) -> None:
        _, path, noun = next(item for item in RULE_SECTIONS if item[0] == section)
        area = SECTION_AREAS[section]
        old_ids = [
            rule_id for rule_id, item in self.old_rules.items() if item[0] == section
        ]
        new_ids = [
            rule_id for rule_id, item in self.new_rules.items() if item[0] == section
        ]
        for rule_id in old_ids:
            if rule_id not in self.new_rules:
                rule = self.old_rules[rule_id][2]
                text = f"{noun} removed: {_label(rule)}{_points_note(rule, 'was ')}"
                where = (*path, self.old_rules[rule_id][1])
                self.add(area, text, "major", where)
        for rule_id in new_ids:
            new_section, position, rule = self.new_rules[rule_id]
            where = (*path, position)
            if rule_id not in self.old_rules:
                text = (
                    f"{noun} added: {_label(rule)}{_points_note(rule, '')}, "
                    f"when {describe_condition(rule.get('when'))}"
                )
                if rule.get("question"):
                    text += f"; discovery question: {_quote(rule['question'])}"
                self.add(area, text, "minor", where)
                continue
            old_section, _, old_rule = self.old_rules[rule_id]
            if old_section != new_section:
                text = (
                    f"{_label(rule)} moved from {SECTION_NAMES[old_section]} to "
                    f"{SECTION_NAMES[new_section]}"
                )
                self.add(area, text, "major", where)
            self.rule_details(area, old_rule, rule, where)
        self.order(area, [i for i in old_ids if i in new_ids], new_ids, path, noun)

    def order(
        self,
        area: str,
        old_ids: list[str],
        new_ids: list[str],
        path: tuple[str | int, ...],
        noun: str,
    ) -> None:
        """Report a new order of the items both versions share."""
        shared_new = [item for item in new_ids if item in old_ids]
        if shared_new != old_ids:
            text = f"{noun}s reordered: {', '.join(old_ids)} → {', '.join(shared_new)}"
            level: Level = "minor" if area == "Routing" else "patch"
            self.add(area, text, level, path)

    def rule_details(
        self, area: str, old: dict, new: dict, where: tuple[str | int, ...]
    ) -> None:
        name = _label(new)
        if old.get("label") != new.get("label"):
            renamed = f"{_quote(old.get('label'))} → {_quote(new.get('label'))}"
            text = f"Rule {new.get('id')} renamed: {renamed}"
            self.add(area, text, "patch", (*where, "label"))
        if old.get("points") != new.get("points"):
            text = f"{name}: {_arrow(old.get('points'), new.get('points'))} points"
            self.add(area, text, "minor", (*where, "points"))
        if old.get("when") != new.get("when"):
            text = f"{name}: {_condition_change(old.get('when'), new.get('when'))}"
            self.add(area, text, "minor", (*where, "when"))
        for key, words in (("question", "discovery question"), ("note", "note")):
            if old.get(key) != new.get(key):
                text = f"{name}: {_wording(words, old.get(key), new.get(key))}"
                self.add(area, text, "patch", (*where, key))
        known = {"id", "label", "points", "when", "question", "note"}
        for key in _keys(old, new):
            if key not in known and old.get(key) != new.get(key):
                text = f"{name}: {key} {_value(old.get(key))} → {_value(new.get(key))}"
                self.add(area, text, "minor", (*where, key))

    # -- groups, threshold, SQL -------------------------------------------

    def group(self, name: str) -> None:
        before = _mapping(self.old, "mql", name)
        after = _mapping(self.new, "mql", name)
        area = SECTION_AREAS[name]
        title = name.capitalize()
        self.number(
            area,
            f"{title} cap",
            before.get("cap"),
            after.get("cap"),
            ("mql", name, "cap"),
        )
        self.decay(area, title, before.get("decay"), after.get("decay"), name)
        self.rules_of(name)
        for key in _keys(before, after):
            if key not in ("cap", "decay", "rules"):
                self.generic(area, ("mql", name, key), before.get(key), after.get(key))

    def number(
        self,
        area: str,
        subject: str,
        before: Any,
        after: Any,
        path: tuple[str | int, ...],
        unit: str = "",
        level: Level = "minor",
    ) -> None:
        """Report a number that was added, removed or changed."""
        if before == after:
            return
        if before is None:
            text = f"{subject} added: {_value(after)}{unit}"
        elif after is None:
            text = f"{subject} removed (was {_value(before)}{unit})"
        else:
            text = f"{subject} {_value(before)} → {_value(after)}{unit}"
        self.add(area, text, level, path)

    def decay(self, area: str, title: str, before: Any, after: Any, name: str) -> None:
        path = ("mql", name, "decay")
        if before == after:
            return
        if not isinstance(before, Mapping) or not isinstance(after, Mapping):
            if isinstance(after, Mapping):
                text = f"{title} decay added: {_decay_words(after)}"
            elif isinstance(before, Mapping):
                text = f"{title} decay removed (was {_decay_words(before)})"
            else:
                text = f"{title} decay {_value(before)} → {_value(after)}"
            self.add(area, text, "minor", path)
            return
        self.number(
            area,
            f"{title} decay half-life",
            before.get("half_life_days"),
            after.get("half_life_days"),
            (*path, "half_life_days"),
            unit=" days",
        )
        if before.get("date_field") != after.get("date_field"):
            text = (
                f"{title} decay measured from {_field(before.get('date_field'))} → "
                f"{_field(after.get('date_field'))}"
            )
            self.add(area, text, "minor", (*path, "date_field"))
        for key in _keys(before, after):
            if key not in ("half_life_days", "date_field"):
                self.generic(area, (*path, key), before.get(key), after.get(key))

    def threshold(self) -> None:
        before = _mapping(self.old, "mql", "threshold")
        after = _mapping(self.new, "mql", "threshold")
        for key in _keys(before, after):
            self.number(
                "MQL threshold",
                f"MQL {key} threshold",
                before.get(key),
                after.get(key),
                ("mql", "threshold", key),
            )

    def require_any(self) -> None:
        before = _mapping(self.old, "sql", "require_any").get("min")
        after = _mapping(self.new, "sql", "require_any").get("min")
        if before != after:
            if after is None:
                text = (
                    "SQL: the optional requirements are gone "
                    f"(at least {_value(before)} had to hold)"
                )
            elif before is None:
                text = (
                    f"SQL: at least {_value(after)} of the optional "
                    "requirements must now hold"
                )
            else:
                text = (
                    f"SQL: at least {_value(before)} → {_value(after)} of the "
                    "optional requirements must hold"
                )
            self.add(
                "Optional SQL requirements",
                text,
                "minor",
                ("sql", "require_any", "min"),
            )
        self.rules_of("require_any")

    def account(self) -> None:
        before = _mapping(self.old, "sql").get("account")
        after = _mapping(self.new, "sql").get("account")
        path = ("sql", "account")
        area = "Account promotion"
        if before == after:
            return
        if not isinstance(before, Mapping) or not isinstance(after, Mapping):
            if isinstance(after, Mapping):
                text = f"Account promotion added: {_account_words(after)}"
            else:
                text = f"Account promotion removed (was: {_account_words(before)})"
            self.add(area, text, "major", path)
            return
        labels = {
            "min_contacts": "minimum MQL contacts",
            "min_departments": "minimum departments",
        }
        for key, label in labels.items():
            self.number(
                area,
                f"Account promotion: {label}",
                before.get(key),
                after.get(key),
                (*path, key),
            )
        for key, label in (
            ("key", "account key"),
            ("department_field", "department field"),
        ):
            if before.get(key) != after.get(key):
                change = _arrow(before.get(key), after.get(key))
                text = f"Account promotion: {label} {change}"
                self.add(area, text, "minor", (*path, key))
        if bool(before.get("required")) != bool(after.get("required")):
            if after.get("required"):
                text = (
                    "Account promotion now required: an SQL whose account is "
                    "not sales-ready stays MQL"
                )
            else:
                text = (
                    "Account promotion no longer required: an SQL no longer "
                    "needs a sales-ready account"
                )
            self.add(area, text, "major", (*path, "required"))
        known = {*labels, "key", "department_field", "required"}
        for key in _keys(before, after):
            if key not in known:
                self.generic(area, (*path, key), before.get(key), after.get(key))

    # -- routing ----------------------------------------------------------

    def routing(self) -> None:
        before = _routes(self.old)
        after = _routes(self.new)
        area = "Routing"
        for route_id, (position, route) in before.items():
            if route_id not in after:
                text = f"Route removed: {route_id} (sent {_route_words(route)})"
                self.add(area, text, "major", ("routing", position))
        for route_id, (position, route) in after.items():
            path = ("routing", position)
            if route_id not in before:
                text = (
                    f"Route added at position {position + 1}: {route_id} sends "
                    f"{_route_words(route)}"
                )
                self.add(area, text, "minor", path)
                continue
            old = before[route_id][1]
            if old.get("queue") != route.get("queue"):
                change = _arrow(old.get("queue"), route.get("queue"))
                text = f"Route {route_id}: queue {change}"
                self.add(area, text, "minor", (*path, "queue"))
            self.number(
                area,
                f"Route {route_id}: follow-up",
                old.get("follow_up_days"),
                route.get("follow_up_days"),
                (*path, "follow_up_days"),
                unit=" days",
            )
            if old.get("when") != route.get("when"):
                change = _condition_change(old.get("when"), route.get("when"))
                text = f"Route {route_id}: {change}"
                self.add(area, text, "minor", (*path, "when"))
            for key in ("label", "note"):
                if old.get(key) != route.get(key):
                    change = _wording(key, old.get(key), route.get(key))
                    text = f"Route {route_id}: {change}"
                    self.add(area, text, "patch", (*path, key))
            for key in _keys(old, route):
                if key not in (
                    "id",
                    "queue",
                    "follow_up_days",
                    "when",
                    "label",
                    "note",
                ):
                    self.generic(area, (*path, key), old.get(key), route.get(key))
        shared_old = [route_id for route_id in before if route_id in after]
        self.order(area, shared_old, list(after), ("routing",), "Route")

    def fallback(self) -> None:
        before, after = _mapping(self.old, "fallback"), _mapping(self.new, "fallback")
        if before.get("queue") != after.get("queue"):
            text = f"Fallback queue {_arrow(before.get('queue'), after.get('queue'))}"
            self.add("Fallback", text, "minor", ("fallback", "queue"))
        self.number(
            "Fallback",
            "Fallback follow-up",
            before.get("follow_up_days"),
            after.get("follow_up_days"),
            ("fallback", "follow_up_days"),
            unit=" days",
        )
        for key in _keys(before, after):
            if key not in ("queue", "follow_up_days"):
                self.generic(
                    "Fallback", ("fallback", key), before.get(key), after.get(key)
                )

    # -- anything else ----------------------------------------------------

    def leftovers(self) -> None:
        """Report keys this differ does not know, so none is missed."""
        for key in _keys(self.old, self.new):
            if key not in HANDLED_TOP and key not in IGNORED_TOP:
                self.generic("Other", (key,), self.old.get(key), self.new.get(key))
        for part, known in (
            ("mql", {"exclude", "fit", "engagement", "threshold", "fast_track"}),
            ("sql", {"require", "require_any", "account"}),
        ):
            before, after = _mapping(self.old, part), _mapping(self.new, part)
            for key in _keys(before, after):
                if key not in known:
                    self.generic("Other", (part, key), before.get(key), after.get(key))
        before = _mapping(self.old, "sql", "require_any")
        after = _mapping(self.new, "sql", "require_any")
        for key in _keys(before, after):
            if key not in ("min", "rules"):
                self.generic(
                    "Other",
                    ("sql", "require_any", key),
                    before.get(key),
                    after.get(key),
                )

    def generic(
        self, area: str, path: tuple[str | int, ...], before: Any, after: Any
    ) -> None:
        if before != after:
            text = f"{format_path(path)}: {_value(before)} → {_value(after)}"
            self.add(area, text, "minor", path)


def _keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Any]:
    """Keys of both mappings: the newer file's order, then removed ones."""
    return [*after, *(key for key in before if key not in after)]


def _label(rule: Mapping[str, Any]) -> str:
    return str(rule.get("label") or rule.get("id"))


def _points_note(rule: Mapping[str, Any], prefix: str) -> str:
    points = rule.get("points")
    if points is None:
        return ""
    sign = "+" if not prefix and points > 0 else ""
    return f" ({prefix}{sign}{_value(points)} points)"


def _item_changes(before: Any, after: Any, words: tuple[str, str]) -> str:
    """``added a, b; removed c`` for two lists, compared as people read them."""
    if not isinstance(before, list) or not isinstance(after, list):
        return f"{_value(before)} → {_value(after)}"
    added = [item for item in after if not any(_same_text(item, old) for old in before)]
    removed = [
        item for item in before if not any(_same_text(item, new) for new in after)
    ]
    parts = []
    if added:
        parts.append(f"{words[0]} {_value(added)}")
    if removed:
        parts.append(f"{words[1]} {_value(removed)}")
    return "; ".join(parts) or f"reordered or re-cased: {_value(after)}"


def _condition_change(before: Any, after: Any) -> str:
    """How a condition changed, as specifically as the two forms allow."""
    if _is_leaf(before) and _is_leaf(after):
        subject_key = "score" if "score" in after else "field"
        operators_before = [key for key in before if key != subject_key]
        operators_after = [key for key in after if key != subject_key]
        if (
            before.get(subject_key) == after.get(subject_key)
            and operators_before == operators_after
            and len(operators_after) == 1
        ):
            operator = operators_after[0]
            old_value, new_value = before[operator], after[operator]
            if (
                operator in LIST_OPERATOR_CHANGES
                and isinstance(old_value, list)
                and isinstance(new_value, list)
            ):
                return _item_changes(
                    old_value, new_value, LIST_OPERATOR_CHANGES[operator]
                )
            subject = (
                f"{after['score']} score"
                if subject_key == "score"
                else _field(after.get("field"))
            )
            was, now = _phrase(operator, old_value), _phrase(operator, new_value)
            return f"{subject} {was} → {now}"
    parts = _part_changes(before, after)
    if parts:
        return parts
    return (
        f"condition now “{describe_condition(after)}” "
        f"(was “{describe_condition(before)}”)"
    )


# For an all/any combination, how an added or removed part reads.
PART_CHANGES = {
    "all": ("now also requires", "no longer requires"),
    "any": ("now also matches when", "no longer matches when"),
}


def _part_changes(before: Any, after: Any) -> str:
    """Parts added to or removed from the same all/any combination, or ``""``."""
    if not (isinstance(before, Mapping) and isinstance(after, Mapping)):
        return ""
    if len(before) != 1 or list(before) != list(after):
        return ""
    combiner = next(iter(after))
    old_parts, new_parts = before[combiner], after[combiner]
    if combiner not in PART_CHANGES or not (
        isinstance(old_parts, list) and isinstance(new_parts, list)
    ):
        return ""
    added = [part for part in new_parts if part not in old_parts]
    removed = [part for part in old_parts if part not in new_parts]
    kept_old = [part for part in old_parts if part in new_parts]
    kept_new = [part for part in new_parts if part in old_parts]
    if kept_old != kept_new or not (added or removed):
        return ""
    if len(added) == len(removed) == 1:
        return _condition_change(removed[0], added[0])
    words = PART_CHANGES[combiner]
    texts = [f"{words[0]} {describe_condition(part, nested=True)}" for part in added]
    texts += [f"{words[1]} {describe_condition(part, nested=True)}" for part in removed]
    return "; ".join(texts)


def _wording(what: str, before: Any, after: Any) -> str:
    """A text that was added, removed or reworded."""
    if before is None:
        return f"{what} added: {_quote(after)}"
    if after is None:
        return f"{what} removed (was {_quote(before)})"
    return f"{what} {_quote(before)} → {_quote(after)}"


def _is_leaf(when: Any) -> bool:
    return isinstance(when, Mapping) and ("field" in when or "score" in when)


def _decay_words(decay: Mapping[str, Any]) -> str:
    return (
        f"half-life {_value(decay.get('half_life_days'))} days from "
        f"{_field(decay.get('date_field'))}"
    )


def _account_words(account: Any) -> str:
    if not isinstance(account, Mapping):
        return _value(account)
    text = (
        "an account is sales-ready with at least "
        f"{_value(account.get('min_contacts'))} "
        f"MQL contacts across {_value(account.get('min_departments'))} "
        f"{_field(account.get('department_field'))} values"
    )
    return text + (", required for SQL" if account.get("required") else "")


def _routes(document: Mapping[str, Any]) -> dict[str, tuple[int, dict]]:
    routes: dict[str, tuple[int, dict]] = {}
    for position, route in enumerate(_sequence(document, ("routing",))):
        if isinstance(route, Mapping):
            routes.setdefault(str(route.get("id", position)), (position, dict(route)))
    return routes


def _route_words(route: Mapping[str, Any]) -> str:
    text = f"{describe_condition(route.get('when'))} to {_value(route.get('queue'))}"
    days = route.get("follow_up_days")
    return text + (f", follow-up in {_value(days)} days" if days is not None else "")
