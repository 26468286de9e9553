"""Design: edit every part of the draft without touching YAML.

Each form edit loads the draft text into a document, applies one operation
from :mod:`leadsim.editing`, dumps the document back and remembers the old
text for undo. Widget keys carry a short hash of the draft text, so after
any change (a form edit, an undo, a YAML edit, another draft) every widget
starts again from the draft's values.
"""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st

from leadsim import editing
from leadsim.criteria import check_against_leads, dump_criteria, reachable_scores
from leadsim.dataset import Leads
from leadsim.diff import describe_condition, diff_documents, render_diff
from leadsim.editing import Clause, ClauseList
from leadsim.errors import LeadsimError, Problem
from leadsim.store import StaleDraftError, check_slug
from leadsim.yamlio import load_yaml
from pages import common

_HISTORY_KEY = "design_history"
_STALE_KEY = "design_stale"
_MESSAGE_KEY = "design_message"
ROUTING_FIELDS = {
    "stage": "text",
    "score:fit": "number",
    "score:engagement": "number",
    "score:total": "number",
}
STAGES = ["disqualified", "lead", "mql", "sql"]
ADD_LABELS = {
    "exclude": "Add an exclusion",
    "fit": "Add a fit rule",
    "engagement": "Add an engagement rule",
    "fast_track": "Add a fast-track rule",
    "require": "Add an SQL requirement",
    "require_any": "Add SQL evidence",
    "routing": "Add a route",
}


# --- draft state ---------------------------------------------------------------


def _history() -> editing.UndoStack:
    if _HISTORY_KEY not in st.session_state:
        st.session_state[_HISTORY_KEY] = editing.UndoStack()
    return st.session_state[_HISTORY_KEY]


def _document() -> dict | None:
    try:
        document, _ = load_yaml(common.draft_text(), "<draft>")
    except LeadsimError:
        return None
    return document


def _commit(document: dict, message: str = "") -> None:
    """Make ``document`` the draft, remembering the old text for undo."""
    text = dump_criteria(document)
    if text == common.draft_text():
        return
    _history().push(common.draft_text())
    common.set_draft_text(text)
    if message:
        st.session_state[_MESSAGE_KEY] = message


def _key(*parts: object) -> str:
    """A widget key that changes whenever the draft text changes."""
    generation = hashlib.sha1(common.draft_text().encode()).hexdigest()[:10]
    return ":".join([generation, *map(str, parts)])


def _edit(path: tuple, key: str, convert=None) -> None:
    """Callback: put a widget's value at ``path`` of the draft."""
    document = _document()
    if document is None:
        return
    value = st.session_state[key]
    if convert is not None:
        value = convert(value)
    _commit(editing.set_path(document, path, value))


def _update_rule(section: str, index: int, field: str, key: str, convert=None) -> None:
    document = _document()
    if document is None:
        return
    value = st.session_state[key]
    if convert is not None:
        value = convert(value)
    _commit(editing.update_rule(document, section, index, {field: value}))


def _undo() -> None:
    text = _history().undo(common.draft_text())
    if text is not None:
        common.set_draft_text(text)


def _redo() -> None:
    text = _history().redo(common.draft_text())
    if text is not None:
        common.set_draft_text(text)


# --- fields and values -------------------------------------------------------------


def _fields(leads: Leads | None) -> dict[str, str]:
    """Field name -> kind, from the dataset (empty without one)."""
    if leads is None:
        return {}
    return {name: column.kind for name, column in sorted(leads.columns.items())}


@st.cache_data(show_spinner=False, max_entries=256)
def _choices(fingerprint: str, field: str, _leads: Leads) -> list[str]:
    column = _leads.columns.get(field)
    return editing.value_choices(column) if column is not None else []


def _kind(field: str, fields: dict[str, str]) -> str:
    return ROUTING_FIELDS.get(field) or fields.get(field, "text")


def _default_clause(fields: dict[str, str], routing: bool) -> Clause:
    if routing:
        return Clause("stage", "eq", "mql")
    for name, kind in fields.items():
        if kind == "text":
            return Clause(name, "present", True)
    name = next(iter(fields), "industry")
    return Clause(name, "present", True)


def _default_value(kind: str, operator: str, choices: list[str]) -> Any:
    if operator == "present":
        return True
    if operator in ("within_days", "older_than_days"):
        return 30
    if kind == "boolean":
        return True
    if operator == "between":
        return [0, 100]
    if operator in editing.LIST_OPERATORS:
        return choices[:1] or ["value"]
    if kind in ("number", "date") or operator in ("gt", "gte", "lt", "lte"):
        return 0 if kind == "number" else "2026-01-01"
    return choices[0] if choices else "value"


# --- the condition builder ---------------------------------------------------------


def _set_clauses(section: str, index: int, clauses: ClauseList) -> None:
    document = _document()
    if document is None:
        return
    when = editing.from_clauses(clauses) if clauses.clauses else None
    if when is None:
        st.session_state[_MESSAGE_KEY] = "A rule needs at least one condition."
        return
    _commit(editing.update_rule(document, section, index, {"when": when}))


def _clause_changed(
    section: str, index: int, position: int, part: str, key: str, kind: str
) -> None:
    rule = editing.rules_of(_document() or {}, section)[index]
    clauses = editing.to_clauses(rule["when"])
    clause = clauses.clauses[position]
    value = st.session_state[key]
    if part == "mode":
        clauses.mode = value
    elif part == "negated":
        clause.negated = bool(value)
    elif part == "field":
        clause.field = value
        clause.operator = editing.OPERATORS.get(_kind_hint(value), ("present",))[0]
        clause.value = True if clause.operator == "present" else clause.value
        if value == "stage":
            clause.operator, clause.value = "eq", "mql"
        elif value.startswith("score:"):
            clause.operator, clause.value = "gte", 0
        else:
            clause.operator, clause.value = "present", True
    elif part == "operator":
        clause.operator = value
        clause.value = _default_value(kind, value, [])
    elif part == "value":
        try:
            clause.value = _value_from_widget(value, kind, clause.operator)
        except ValueError as error:
            st.session_state[_MESSAGE_KEY] = f"Not changed: {error}"
            return
    _set_clauses(section, index, clauses)


def _kind_hint(field: str) -> str:
    return ROUTING_FIELDS.get(field, st.session_state.get(f"kind:{field}", "text"))


def _value_from_widget(value: Any, kind: str, operator: str) -> Any:
    if isinstance(value, list):
        if len(value) == 1 and str(value[0]).startswith("list:"):
            return {"list": str(value[0])[5:]}
        return [editing.parse_value(str(item), kind, "eq") for item in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and kind == "number":
        return int(value) if float(value).is_integer() else value
    return editing.parse_value(str(value), kind, operator)


def _add_clause(section: str, index: int, fields: dict[str, str]) -> None:
    rule = editing.rules_of(_document() or {}, section)[index]
    clauses = editing.to_clauses(rule["when"])
    clauses.clauses.append(_default_clause(fields, section == "routing"))
    _set_clauses(section, index, clauses)


def _remove_clause(section: str, index: int, position: int) -> None:
    rule = editing.rules_of(_document() or {}, section)[index]
    clauses = editing.to_clauses(rule["when"])
    del clauses.clauses[position]
    _set_clauses(section, index, clauses)


def _condition_builder(
    section: str,
    index: int,
    when: Any,
    fields: dict[str, str],
    leads: Leads | None,
    lists: list[str],
) -> None:
    """Field / operator / value rows combined with all or any; not per row."""
    clauses = editing.to_clauses(when)
    if not clauses.editable:
        st.info(
            f"When: {describe_condition(when)}. This condition nests groups "
            "inside groups; change it in the YAML tab.",
            icon=":material/account_tree:",
        )
        return

    routing = section == "routing"
    names = list(ROUTING_FIELDS) + list(fields) if routing else list(fields)
    if len(clauses.clauses) > 1:
        st.radio(
            "Combine",
            ["all", "any"],
            index=0 if clauses.mode == "all" else 1,
            format_func=lambda mode: "all must hold" if mode == "all" else "any holds",
            horizontal=True,
            key=_key(section, index, "mode"),
            on_change=_clause_changed,
            args=(section, index, 0, "mode", _key(section, index, "mode"), "text"),
        )
    for position, clause in enumerate(clauses.clauses):
        _clause_row(section, index, position, clause, names, fields, leads, lists)
    st.button(
        "Add a condition",
        key=_key(section, index, "add-clause"),
        icon=":material/add:",
        on_click=_add_clause,
        args=(section, index, fields),
    )


def _clause_row(
    section: str,
    index: int,
    position: int,
    clause: Clause,
    names: list[str],
    fields: dict[str, str],
    leads: Leads | None,
    lists: list[str],
) -> None:
    kind = _kind(clause.field, fields)
    options = names if clause.field in names else [clause.field, *names]
    not_col, field_col, op_col, value_col, remove_col = st.columns(
        [1.4, 3, 3, 5, 0.8], vertical_alignment="bottom"
    )

    def key(part: str) -> str:
        return _key(section, index, position, part)

    def args(part: str) -> tuple:
        return (section, index, position, part, key(part), kind)

    not_col.checkbox(
        "not",
        value=clause.negated,
        key=key("negated"),
        on_change=_clause_changed,
        args=args("negated"),
        help="Tick to invert this condition.",
    )
    field_col.selectbox(
        "field",
        options,
        index=options.index(clause.field),
        format_func=lambda name: _field_label(name, fields),
        key=key("field"),
        on_change=_clause_changed,
        args=args("field"),
    )
    operators = list(editing.OPERATORS.get(kind, editing.ALL_OPERATORS))
    if clause.field == "stage":
        operators = ["eq"]
    elif clause.field.startswith("score:"):
        operators = ["gte", "gt", "lte", "lt", "eq", "between"]
    if clause.operator not in operators:
        operators.insert(0, clause.operator)
    op_col.selectbox(
        "operator",
        operators,
        index=operators.index(clause.operator),
        format_func=lambda op: editing.OPERATOR_WORDS.get(op, op),
        key=key("operator"),
        on_change=_clause_changed,
        args=args("operator"),
    )
    with value_col:
        _value_widget(clause, kind, key("value"), args("value"), leads, lists)
    remove_col.button(
        "",
        key=key("remove"),
        icon=":material/close:",
        help="Remove this condition",
        on_click=_remove_clause,
        args=(section, index, position),
    )


def _field_label(name: str, fields: dict[str, str]) -> str:
    if name == "stage":
        return "stage (routing)"
    if name.startswith("score:"):
        return f"{name[6:]} score"
    if name in fields:
        return f"{name} ({fields[name]})"
    return f"{name} (not in the data)"


def _value_label(value: str) -> str:
    if value.startswith("list:"):
        return f"{value[5:].replace('_', ' ')} (named list)"
    return value


def _value_widget(
    clause: Clause,
    kind: str,
    key: str,
    args: tuple,
    leads: Leads | None,
    lists: list[str],
) -> None:
    callback = {"key": key, "on_change": _clause_changed, "args": args}
    if clause.field == "stage":
        value = str(clause.value)
        options = STAGES if value in STAGES else [value, *STAGES]
        st.selectbox("stage", options, index=options.index(value), **callback)
        return
    if clause.operator == "present" or kind == "boolean":
        st.selectbox(
            "value",
            [True, False],
            index=0 if clause.value else 1,
            format_func=lambda flag: "yes" if flag else "no",
            **callback,
        )
        return

    choices = []
    if leads is not None and kind in ("text", "list"):
        choices = _choices(leads.fingerprint, clause.field, leads)
    if clause.operator in editing.LIST_OPERATORS and kind in ("text", "list"):
        if isinstance(clause.value, dict):
            current = [f"list:{clause.value.get('list')}"]
        else:
            current = [editing.format_value(item) for item in clause.value or []]
        references = [f"list:{name}" for name in lists]
        options = list(dict.fromkeys([*current, *references, *choices]))
        st.multiselect(
            "values",
            options,
            default=current,
            format_func=_value_label,
            accept_new_options=True,
            help="Values seen in the data, most frequent first; type to add one. "
            "list:NAME uses a named list.",
            **callback,
        )
        return
    if kind in ("text", "list") and clause.operator in ("eq", "ne", "contains"):
        current = editing.format_value(clause.value)
        options = list(dict.fromkeys([current, *choices]))
        st.selectbox(
            "value",
            options,
            index=0,
            accept_new_options=True,
            help="Values seen in the data, most frequent first; type to add one.",
            **callback,
        )
        return
    hint = {
        "between": "two values: low, high",
        "within_days": "days before the as-of date",
        "older_than_days": "days before the as-of date",
    }.get(clause.operator, "a date as 2026-03-31" if kind == "date" else "a value")
    st.text_input(
        "value", value=editing.format_value(clause.value), help=hint, **callback
    )


# --- rule lists ----------------------------------------------------------------------


def _new_rule(section: str, fields: dict[str, str]) -> None:
    document = _document()
    if document is None:
        return
    clause = _default_clause(fields, section == "routing")
    when = editing.clause_to_leaf(clause)
    if section == "routing":
        rule: dict = {
            "id": "",
            "label": "New route",
            "when": when,
            "queue": "new-queue",
        }
        rule.pop("label")
        rule["id"] = editing.unique_id(document, "new-route")
    else:
        rule = {"id": "", "label": "New rule", "when": when}
    if section in ("fit", "engagement"):
        rule["points"] = 10
    if section in ("require", "require_any"):
        rule["question"] = "What does sales ask to confirm this?"
    _commit(editing.add_rule(document, section, rule), "Added; edit it below.")


def _remove(section: str, index: int) -> None:
    document = _document()
    if document is not None:
        _commit(editing.remove_rule(document, section, index))


def _move(section: str, index: int, offset: int) -> None:
    document = _document()
    if document is not None:
        _commit(editing.move_rule(document, section, index, offset))


def _points(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def _follow_up(value: float) -> int | None:
    return int(value) if value else None


def _rule_list(
    section: str,
    document: dict,
    fields: dict[str, str],
    leads: Leads | None,
    counts: dict[str, int],
) -> None:
    """Every rule of one section, each in an expander, and an add button."""
    rules = editing.rules_of(document, section)
    lists = sorted((document.get("lists") or {}).keys())
    if not rules:
        st.caption("None yet.")
    for index, rule in enumerate(rules):
        title = _rule_title(section, rule, counts)
        # A stable key keeps a rule open across edits; a closed rule's
        # widgets are not built at all, which keeps every edit quick.
        key = f"design_rule:{section}:{index}"
        expander = st.expander(
            title,
            expanded=bool(st.session_state.get(f"{key}:open")),
            key=key,
            on_change=_remember_open,
            args=(key,),
        )
        if expander.open:
            with expander:
                _rule_form(section, index, rule, len(rules), fields, leads, lists)
    st.button(
        ADD_LABELS[section],
        key=_key(section, "new"),
        icon=":material/add_circle:",
        on_click=_new_rule,
        args=(section, fields),
    )


def _remember_open(key: str) -> None:
    # The title shows points and counts, so it changes with every edit and
    # Streamlit makes a new expander; this keeps the rule open regardless.
    st.session_state[f"{key}:open"] = bool(st.session_state.get(key))


def _rule_title(section: str, rule: dict, counts: dict[str, int]) -> str:
    name = rule.get("label") or rule.get("id", "")
    if section == "routing":
        follow = rule.get("follow_up_days")
        after = f", follow up in {follow} days" if follow else ""
        name = rule.get("label") or rule.get("id")
        when = describe_condition(rule.get("when"))
        return f"**{name}** → {rule.get('queue')}{after} — when {when}"
    points = rule.get("points")
    prefix = f"{points:+g} · " if isinstance(points, (int, float)) else ""
    matched = counts.get(rule.get("id", ""))
    leads = f" · {matched:,} leads" if matched is not None else ""
    return f"{prefix}**{name}**{leads} — {describe_condition(rule.get('when'))}"


def _rule_form(
    section: str,
    index: int,
    rule: dict,
    size: int,
    fields: dict[str, str],
    leads: Leads | None,
    lists: list[str],
) -> None:
    def key(part: str) -> str:
        return _key(section, index, part)

    columns = st.columns([4, 2, 1, 1, 1])
    if section == "routing":
        columns[0].text_input(
            "queue",
            value=rule.get("queue", ""),
            key=key("queue"),
            on_change=_update_rule,
            args=(section, index, "queue", key("queue")),
        )
        columns[1].number_input(
            "follow up after (days, 0 = none)",
            min_value=0,
            value=int(rule.get("follow_up_days") or 0),
            key=key("follow"),
            on_change=_update_rule,
            args=(section, index, "follow_up_days", key("follow"), _follow_up),
        )
    else:
        columns[0].text_input(
            "label",
            value=rule.get("label", ""),
            key=key("label"),
            on_change=_update_rule,
            args=(section, index, "label", key("label")),
        )
    if section in ("fit", "engagement"):
        columns[1].number_input(
            "points",
            value=float(rule.get("points", 0)),
            step=5.0,
            format="%g",
            key=key("points"),
            on_change=_update_rule,
            args=(section, index, "points", key("points"), _points),
        )
    if section == "routing":
        columns[2].button(
            "",
            icon=":material/arrow_upward:",
            key=key("up"),
            disabled=index == 0,
            help="Try this route earlier (the first match wins)",
            on_click=_move,
            args=(section, index, -1),
        )
        columns[3].button(
            "",
            icon=":material/arrow_downward:",
            key=key("down"),
            disabled=index == size - 1,
            help="Try this route later",
            on_click=_move,
            args=(section, index, 1),
        )
    columns[4].button(
        "",
        icon=":material/delete:",
        key=key("remove"),
        help="Remove",
        on_click=_remove,
        args=(section, index),
    )
    if section in ("require", "require_any"):
        st.text_input(
            "discovery question sales asks",
            value=rule.get("question", ""),
            key=key("question"),
            on_change=_update_rule,
            args=(section, index, "question", key("question")),
        )
    st.text_input(
        "note: why the teams agreed this (optional)",
        value=rule.get("note", ""),
        key=key("note"),
        on_change=_update_rule,
        args=(section, index, "note", key("note"), _optional_text),
    )
    st.caption(f"id `{rule.get('id')}` · when {describe_condition(rule.get('when'))}")
    _condition_builder(section, index, rule.get("when"), fields, leads, lists)


def _optional_text(value: str) -> str | None:
    return value.strip() or None


# --- the sections ------------------------------------------------------------------


def _scoring_tab(document: dict, fields, leads, counts) -> None:
    for group, unit in (("fit", "fit"), ("engagement", "engagement")):
        settings = editing.get_path(document, ("mql", group), {}) or {}
        st.subheader(f"{unit.capitalize()} score")
        left, right = st.columns(2)
        capped = settings.get("cap") is not None
        left.checkbox(
            f"Cap the {unit} score",
            value=capped,
            key=_key(group, "capped"),
            on_change=_edit,
            args=(("mql", group, "cap"), _key(group, "capped")),
            kwargs={"convert": lambda on: 50 if on else None},
        )
        if capped:
            right.slider(
                f"{unit} cap (points)",
                0,
                200,
                int(settings["cap"]),
                step=5,
                key=_key(group, "cap"),
                on_change=_edit,
                args=(("mql", group, "cap"), _key(group, "cap")),
            )
        if group == "engagement":
            _decay(settings, fields)
        _rule_list(group, document, fields, leads, counts)
        st.divider()


def _decay(settings: dict, fields: dict[str, str]) -> None:
    decay = settings.get("decay")
    left, middle, right = st.columns(3)
    dates = [name for name, kind in fields.items() if kind == "date"]
    default_field = "last_activity_at" if "last_activity_at" in dates else None
    default_field = default_field or (dates[0] if dates else "last_activity_at")
    left.checkbox(
        "Older engagement counts less (decay)",
        value=decay is not None,
        key=_key("decay", "on"),
        on_change=_edit,
        args=(("mql", "engagement", "decay"), _key("decay", "on")),
        kwargs={
            "convert": lambda on: (
                {"half_life_days": 60, "date_field": default_field} if on else None
            )
        },
    )
    if decay is None:
        return
    middle.slider(
        "half-life (days): points halve every",
        1,
        365,
        int(decay.get("half_life_days", 60)),
        key=_key("decay", "half"),
        on_change=_edit,
        args=(("mql", "engagement", "decay", "half_life_days"), _key("decay", "half")),
    )
    options = dates if decay.get("date_field") in dates else [decay.get("date_field")]
    options = list(dict.fromkeys([*options, *dates]))
    right.selectbox(
        "measured from",
        options,
        index=options.index(decay.get("date_field")),
        key=_key("decay", "field"),
        on_change=_edit,
        args=(("mql", "engagement", "decay", "date_field"), _key("decay", "field")),
    )


def _threshold_tab(document: dict, fields, leads, counts) -> None:
    threshold = editing.get_path(document, ("mql", "threshold"), {}) or {}
    try:
        reachable = reachable_scores(document)
    except (KeyError, TypeError):
        reachable = {"total": 200, "fit": 100, "engagement": 100}
    st.subheader("MQL threshold: every minimum that is set must hold")
    for score in ("total", "fit", "engagement"):
        left, right = st.columns([1, 3])
        present = threshold.get(score) is not None
        left.checkbox(
            f"minimum {score} score",
            value=present,
            key=_key("threshold", score, "on"),
            on_change=_edit,
            args=(("mql", "threshold", score), _key("threshold", score, "on")),
            kwargs={"convert": lambda on: 20 if on else None},
            disabled=score == "total" and present and len(threshold) == 1,
        )
        if present:
            top = int(max(reachable.get(score, 100), threshold[score], 10))
            right.slider(
                f"{score} at least",
                0,
                top,
                int(threshold[score]),
                key=_key("threshold", score),
                on_change=_edit,
                args=(("mql", "threshold", score), _key("threshold", score)),
                help=f"The most a lead can score here is {reachable.get(score, 0):g}.",
            )
    st.subheader("Fast track: any match makes an MQL whatever the score")
    _rule_list("fast_track", document, fields, leads, counts)


def _exclusions_tab(document: dict, fields, leads, counts) -> None:
    st.subheader("Exclusions: any match disqualifies the lead")
    _rule_list("exclude", document, fields, leads, counts)


def _sql_tab(document: dict, fields, leads, counts) -> None:
    st.subheader("Sales must confirm all of these")
    _rule_list("require", document, fields, leads, counts)
    st.subheader("…and at least some of these")
    require_any = editing.get_path(document, ("sql", "require_any"))
    if require_any is not None:
        st.columns(3)[0].number_input(
            "how many of them at least",
            min_value=1,
            value=int(require_any.get("min", 1)),
            key=_key("require_any", "min"),
            on_change=_edit,
            args=(("sql", "require_any", "min"), _key("require_any", "min")),
        )
    _rule_list("require_any", document, fields, leads, counts)
    st.subheader("Account-level promotion (ABM)")
    _account(document, fields)


def _account(document: dict, fields: dict[str, str]) -> None:
    account = editing.get_path(document, ("sql", "account"))
    text_fields = [name for name, kind in fields.items() if kind == "text"]
    st.checkbox(
        "Promote every MQL contact of a sales-ready account to SQL",
        value=account is not None,
        key=_key("account", "on"),
        on_change=_edit,
        args=(("sql", "account"), _key("account", "on")),
        kwargs={
            "convert": lambda on: (
                {"key": "account_id", "min_contacts": 2, "min_departments": 2}
                if on
                else None
            )
        },
    )
    if account is None:
        return
    columns = st.columns(5)
    key_options = list(dict.fromkeys([account.get("key", "account_id"), *text_fields]))
    columns[0].selectbox(
        "account field",
        key_options,
        key=_key("account", "key"),
        on_change=_edit,
        args=(("sql", "account", "key"), _key("account", "key")),
    )
    columns[1].number_input(
        "MQL contacts at least",
        min_value=1,
        value=int(account.get("min_contacts", 2)),
        key=_key("account", "contacts"),
        on_change=_edit,
        args=(("sql", "account", "min_contacts"), _key("account", "contacts")),
    )
    columns[2].number_input(
        "departments at least",
        min_value=1,
        value=int(account.get("min_departments", 1)),
        key=_key("account", "departments"),
        on_change=_edit,
        args=(("sql", "account", "min_departments"), _key("account", "departments")),
    )
    current = account.get("department_field", "department")
    department_options = list(dict.fromkeys([current, *text_fields]))
    columns[3].selectbox(
        "department field",
        department_options,
        key=_key("account", "department_field"),
        on_change=_edit,
        args=(
            ("sql", "account", "department_field"),
            _key("account", "department_field"),
        ),
    )
    columns[4].checkbox(
        "required for SQL",
        value=bool(account.get("required", False)),
        key=_key("account", "required"),
        on_change=_edit,
        args=(("sql", "account", "required"), _key("account", "required")),
        help="An SQL whose account is not sales-ready stays an MQL.",
    )


def _routing_tab(document: dict, fields, leads, counts) -> None:
    st.subheader("Routes, tried from the top: the first match wins")
    _rule_list("routing", document, fields, leads, counts)
    st.subheader("Fallback: where every other lead goes")
    fallback = document.get("fallback") or {}
    left, right = st.columns(2)
    left.text_input(
        "fallback queue",
        value=fallback.get("queue", ""),
        key=_key("fallback", "queue"),
        on_change=_edit,
        args=(("fallback", "queue"), _key("fallback", "queue")),
    )
    right.number_input(
        "follow up after (days, 0 = none)",
        min_value=0,
        value=int(fallback.get("follow_up_days") or 0),
        key=_key("fallback", "follow"),
        on_change=_edit,
        args=(("fallback", "follow_up_days"), _key("fallback", "follow")),
        kwargs={"convert": _follow_up},
    )


def _about_tab(document: dict) -> None:
    st.subheader("What this criteria file is")
    st.text_input(
        "title",
        value=document.get("title", ""),
        key=_key("about", "title"),
        on_change=_edit,
        args=(("title",), _key("about", "title")),
    )
    st.text_area(
        "description",
        value=document.get("description", ""),
        key=_key("about", "description"),
        on_change=_edit,
        args=(("description",), _key("about", "description")),
        kwargs={"convert": _optional_text},
    )
    owners = document.get("owners") or {}
    left, right = st.columns(2)
    for column, team in ((left, "marketing"), (right, "sales")):
        column.text_input(
            f"owner for {team}",
            value=owners.get(team, ""),
            key=_key("about", team),
            on_change=_edit,
            args=(("owners", team), _key("about", team)),
        )
    _lists_editor(document)
    _glossary_editor(document)


def _lists_editor(document: dict) -> None:
    st.subheader("Named lists that rules can use")
    lists = document.get("lists") or {}
    rows = [
        {"name": name, "values": ", ".join(map(str, values))}
        for name, values in lists.items()
    ]
    with st.form(_key("lists", "form")):
        edited = st.data_editor(
            rows or [{"name": "", "values": ""}],
            num_rows="dynamic",
            width="stretch",
            key=_key("lists", "table"),
            column_config={"values": st.column_config.TextColumn(width="large")},
        )
        if st.form_submit_button("Apply list changes"):
            named = {
                str(row["name"]).strip(): [
                    item.strip()
                    for item in str(row.get("values") or "").split(",")
                    if item.strip()
                ]
                for row in edited
                if row.get("name") and str(row["name"]).strip()
            }
            _commit(editing.set_path(document, ("lists",), named or None))
            st.rerun()


def _glossary_editor(document: dict) -> None:
    st.subheader("Glossary: the words both teams agreed on")
    glossary = document.get("glossary") or {}
    rows = [{"term": term, "meaning": meaning} for term, meaning in glossary.items()]
    with st.form(_key("glossary", "form")):
        edited = st.data_editor(
            rows or [{"term": "", "meaning": ""}],
            num_rows="dynamic",
            width="stretch",
            key=_key("glossary", "table"),
            column_config={"meaning": st.column_config.TextColumn(width="large")},
        )
        if st.form_submit_button("Apply glossary changes"):
            terms = {
                str(row["term"]).strip(): str(row.get("meaning") or "").strip()
                for row in edited
                if row.get("term") and str(row["term"]).strip()
            }
            _commit(editing.set_path(document, ("glossary",), terms or None))
            st.rerun()


def _yaml_tab(problems: list[Problem]) -> None:
    # Monospace, so that a problem's column lines up with what is on screen.
    st.html(
        "<style>[class*='yaml'] textarea {font-family: ui-monospace, "
        "'DejaVu Sans Mono', monospace; font-size: 15px; white-space: pre; "
        "overflow-wrap: normal; overflow-x: auto;}</style>"
    )
    left, right = st.columns([3, 2])
    key = _key("yaml")
    left.text_area(
        "Draft YAML (edits apply when you click outside the box)",
        value=common.draft_text(),
        height=620,
        key=key,
        on_change=_yaml_changed,
        args=(key,),
    )
    with right:
        errors = [problem for problem in problems if problem.severity == "error"]
        if not problems:
            st.success("The draft is valid.", icon=":material/check_circle:")
        elif errors:
            st.error(f"{len(errors)} error(s): the draft cannot be simulated yet.")
        _problems_with_lines(problems, common.draft_text())


def _yaml_changed(key: str) -> None:
    text = st.session_state[key]
    if text != common.draft_text():
        _history().push(common.draft_text())
        common.set_draft_text(text)


def _problems_with_lines(problems: list[Problem], text: str) -> None:
    """Each problem with the line it points at and a caret under its column."""
    lines = text.splitlines()
    for problem in problems[:20]:
        common.show_problems([problem])
        if 0 < problem.line <= len(lines):
            number = problem.line
            caret = " " * (len(str(number)) + 2 + max(problem.column - 1, 0)) + "^"
            st.code(f"{number}: {lines[number - 1]}\n{caret}", language=None)


# --- header: open, save, undo ---------------------------------------------------------


def _save() -> None:
    try:
        common.save_draft()
    except StaleDraftError as error:
        st.session_state[_STALE_KEY] = {
            "text": error.current_text,
            "revision": error.current_revision,
            "message": _sentence(error),
        }
        return
    except LeadsimError as error:
        st.session_state[_MESSAGE_KEY] = _sentence(error)
        return
    st.session_state.pop(_STALE_KEY, None)
    st.session_state[_MESSAGE_KEY] = f"Saved draft {common.draft_name()}."


def _sentence(error: LeadsimError) -> str:
    """An error's messages as one sentence, without the file location."""
    text = "; ".join(problem.message for problem in error.problems)
    return (text[:1].upper() + text[1:] + ".") if text else "The draft was not saved."


def _keep_mine() -> None:
    stale = st.session_state.pop(_STALE_KEY)
    common.open_draft(common.draft_name(), common.draft_text(), stale["revision"])
    _save()


def _take_theirs() -> None:
    stale = st.session_state.pop(_STALE_KEY)
    _history().push(common.draft_text())
    if stale["text"] is None:
        common.open_draft(common.draft_name(), common.draft_text(), None)
    else:
        common.open_draft(common.draft_name(), stale["text"], stale["revision"])


def _open_named(key: str) -> None:
    name = st.session_state[key]
    if name != common.draft_name():
        common.open_stored_draft(name)
        _history().past.clear()
        _history().future.clear()


def _save_as(key: str) -> None:
    name = st.session_state[key].strip()
    try:
        check_slug(name, "draft name")
    except LeadsimError as error:
        st.session_state[_MESSAGE_KEY] = _sentence(error)
        return
    common.open_draft(name, common.draft_text(), None)
    _save()


def _header() -> None:
    name = common.draft_name()
    saved = common.draft_is_saved()
    names = common.store().drafts(common.criteria_id())
    columns = st.columns([3, 3, 1, 1, 2])
    options = list(dict.fromkeys([*names, name]))
    columns[0].selectbox(
        "Draft",
        options,
        index=options.index(name),
        key=_key("open"),
        on_change=_open_named,
        args=(_key("open"),),
        help="Drafts saved on disk; everyone in the workshop sees the same ones.",
        disabled=not saved and bool(names),
    )
    columns[1].text_input(
        "Save as a new draft named",
        placeholder="e.g. q3-workshop",
        key=_key("save-as"),
        on_change=_save_as,
        args=(_key("save-as"),),
    )
    history = _history()
    columns[2].button(
        "Undo",
        icon=":material/undo:",
        disabled=not history.past,
        on_click=_undo,
        width="stretch",
    )
    columns[3].button(
        "Redo",
        icon=":material/redo:",
        disabled=not history.future,
        on_click=_redo,
        width="stretch",
    )
    columns[4].button(
        "Save draft" if not saved else "Saved",
        icon=":material/save:",
        type="primary" if not saved else "secondary",
        disabled=saved,
        on_click=_save,
        width="stretch",
    )
    if not saved:
        st.caption(
            f"Unsaved changes to **{name}**. Switch drafts after saving; "
            f"{len(history.past)} edit(s) can be undone."
        )


def _stale_panel() -> None:
    stale = st.session_state.get(_STALE_KEY)
    if not stale:
        return
    st.error(stale["message"], icon=":material/sync_problem:")
    theirs_text = stale["text"] or ""
    try:
        theirs, _ = load_yaml(theirs_text, "<saved>")
        mine, _ = load_yaml(common.draft_text(), "<yours>")
        changes = diff_documents(theirs, mine)
        st.markdown("**What your version changes compared with the saved one:**")
        st.markdown(render_diff(changes) or "No differences in meaning.")
    except (LeadsimError, KeyError, TypeError):
        pass
    left, right = st.columns(2)
    left.markdown("**Saved on disk (someone else's)**")
    left.code(theirs_text or "(deleted)", language="yaml")
    right.markdown("**Yours (not saved)**")
    right.code(common.draft_text(), language="yaml")
    left.button("Take theirs (drop mine)", on_click=_take_theirs)
    right.button("Keep mine (replace theirs)", type="primary", on_click=_keep_mine)


# --- the page ----------------------------------------------------------------------


def _rule_counts(leads: Leads | None) -> dict[str, int]:
    draft, _ = common.current_draft()
    if draft is None or leads is None:
        return {}
    try:
        evaluation = common.evaluation_for(draft, leads)
    except LeadsimError:
        return {}
    return {rule_id: int(mask.sum()) for rule_id, mask in evaluation.matches.items()}


common.page_setup(
    "Design the draft",
    "Change points, thresholds and requirements; every edit is checked at once. "
    "Save the draft so the whole room works on one version.",
)

try:
    leads: Leads | None = common.current_leads()
except LeadsimError as error:
    common.show_error(error, "The lead history cannot be read; fields are not listed.")
    leads = None

_header()
_stale_panel()
message = st.session_state.pop(_MESSAGE_KEY, "")
if message:
    st.toast(message)

draft, problems = common.current_draft()
if draft is not None and leads is not None:
    try:
        problems = problems + check_against_leads(draft, leads)
    except LeadsimError as error:
        problems = problems + list(error.problems)

fields = _fields(leads)
for name, kind in fields.items():
    st.session_state[f"kind:{name}"] = kind
document = _document() if draft is not None else None

if document is None:
    # A draft that does not validate is fixed in YAML (or undone) first: the
    # form only edits documents whose every part has the expected shape.
    st.error(
        "The draft has errors, listed beside the text at their line. Fix them "
        "here, or press Undo, to edit with the form again.",
        icon=":material/error:",
    )
    _yaml_tab(problems)
    st.stop()

data_errors = [problem for problem in problems if problem.severity == "error"]
if data_errors:
    # The draft is valid YAML but cannot run on this lead history.
    st.error(
        f"The draft cannot run on this lead history ({len(data_errors)} "
        "problem(s), each at its line in the YAML tab). First: "
        + data_errors[0].message,
        icon=":material/error:",
    )

counts = _rule_counts(leads)
tabs = st.tabs(
    [
        "Scoring",
        "Threshold & fast track",
        "Exclusions",
        "SQL",
        "Routing",
        "About, lists & glossary",
        "YAML",
    ],
    key="design_tab",
    on_change="rerun",
)
sections = [
    lambda: _scoring_tab(document, fields, leads, counts),
    lambda: _threshold_tab(document, fields, leads, counts),
    lambda: _exclusions_tab(document, fields, leads, counts),
    lambda: _sql_tab(document, fields, leads, counts),
    lambda: _routing_tab(document, fields, leads, counts),
    lambda: _about_tab(document),
    lambda: _yaml_tab(problems),
]
# Only the open tab is built: the others cost nothing on a rerun.
for tab, render in zip(tabs, sections):
    if tab.open:
        with tab:
            render()
