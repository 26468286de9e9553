"""Draft editing operations: each returns a new document and says what it did."""

from __future__ import annotations

import numpy as np
import pytest

from leadsim import editing
from leadsim.editing import Clause, ClauseList, UndoStack


def _document() -> dict:
    return {
        "id": "erp-lead-stages",
        "mql": {
            "fit": {
                "cap": 50,
                "rules": [
                    {
                        "id": "target-industry",
                        "label": "Target industry",
                        "points": 20,
                        "when": {"field": "industry", "in": ["manufacturing"]},
                    }
                ],
            },
            "threshold": {"total": 60},
        },
        "routing": [
            {"id": "a", "when": {"stage": "sql"}, "queue": "aes"},
            {"id": "b", "when": {"stage": "mql"}, "queue": "sdr"},
        ],
    }


def test_set_path_copies_and_creates_missing_mappings():
    document = _document()

    changed = editing.set_path(document, ("mql", "engagement", "cap"), 40)

    assert changed["mql"]["engagement"] == {"cap": 40}
    assert "engagement" not in document["mql"]


def test_set_path_with_none_removes_an_optional_setting():
    changed = editing.set_path(_document(), ("mql", "fit", "cap"), None)

    assert "cap" not in changed["mql"]["fit"]
    assert changed["mql"]["fit"]["rules"][0]["points"] == 20


def test_add_rule_makes_a_unique_id_from_the_label():
    document = editing.add_rule(
        _document(), "fit", {"label": "Target industry", "points": 5, "when": {}}
    )

    ids = [rule["id"] for rule in document["mql"]["fit"]["rules"]]
    assert ids == ["target-industry", "target-industry-2"]


def test_add_rule_creates_an_absent_section():
    document = editing.add_rule(
        _document(), "exclude", {"id": "rival", "label": "Rival", "when": {}}
    )

    assert document["mql"]["exclude"][0]["id"] == "rival"


def test_update_rule_changes_points_and_removes_none_keys():
    document = editing.update_rule(_document(), "fit", 0, {"points": 35, "label": None})

    rule = document["mql"]["fit"]["rules"][0]
    assert rule["points"] == 35
    assert "label" not in rule


def test_update_rule_out_of_range_says_which_rule():
    with pytest.raises(IndexError, match="fit has no rule number 3"):
        editing.update_rule(_document(), "fit", 2, {"points": 1})


def test_remove_and_move_rules():
    removed = editing.remove_rule(_document(), "routing", 0)
    moved = editing.move_rule(_document(), "routing", 1, -1)

    assert [route["id"] for route in removed["routing"]] == ["b"]
    assert [route["id"] for route in moved["routing"]] == ["b", "a"]


def test_move_rule_past_the_end_changes_nothing():
    moved = editing.move_rule(_document(), "routing", 1, 1)

    assert [route["id"] for route in moved["routing"]] == ["a", "b"]


def test_glossary_terms_are_added_and_removed():
    document = editing.set_glossary_term(_document(), " active project ", " A plan ")
    assert document["glossary"] == {"active project": "A plan"}

    document = editing.set_glossary_term(document, "active project", None)
    assert "glossary" not in document


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param(
            {"field": "industry", "eq": "retail"},
            ClauseList("all", [Clause("industry", "eq", "retail")]),
            id="single-leaf",
        ),
        pytest.param(
            {
                "any": [
                    {"field": "a", "gt": 1},
                    {"not": {"field": "b", "present": True}},
                ]
            },
            ClauseList(
                "any",
                [Clause("a", "gt", 1), Clause("b", "present", True, negated=True)],
            ),
            id="any-with-not",
        ),
        pytest.param(
            {"all": [{"stage": "mql"}, {"score": "fit", "gte": 35}]},
            ClauseList(
                "all", [Clause("stage", "eq", "mql"), Clause("score:fit", "gte", 35)]
            ),
            id="routing-leaves",
        ),
        pytest.param(
            {"all": [{"any": [{"field": "a", "eq": 1}]}]},
            ClauseList("all", [], editable=False),
            id="nested-is-read-only",
        ),
    ],
)
def test_to_clauses(condition, expected):
    assert editing.to_clauses(condition) == expected


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "industry", "in": {"list": "target_industries"}},
        {"all": [{"stage": "mql"}, {"score": "total", "gte": 60}]},
        {"any": [{"field": "x", "eq": "y"}, {"not": {"field": "z", "lt": 3}}]},
    ],
    ids=["leaf-with-list", "routing", "any-not"],
)
def test_clauses_round_trip(condition):
    assert editing.from_clauses(editing.to_clauses(condition)) == condition


@pytest.mark.parametrize(
    ("text", "kind", "operator", "expected"),
    [
        ("42", "number", "gte", 42),
        ("2.5", "number", "lt", 2.5),
        ("10, 50", "number", "between", [10, 50]),
        ("retail, Wholesale ", "text", "in", ["retail", "Wholesale"]),
        ("list:target_industries", "text", "in", {"list": "target_industries"}),
        ("yes", "boolean", "eq", True),
        ("No", "text", "present", False),
        ("30", "date", "within_days", 30),
        ("2026-01-31", "date", "gte", "2026-01-31"),
    ],
)
def test_parse_value(text, kind, operator, expected):
    assert editing.parse_value(text, kind, operator) == expected


@pytest.mark.parametrize(
    ("text", "kind", "operator", "message"),
    [
        ("many", "number", "gte", "'many' is not a number"),
        ("5", "number", "between", "two values"),
        ("31/01/2026", "date", "gte", "type it as 2026-03-31"),
        ("maybe", "boolean", "eq", "type yes or no"),
        ("  ", "text", "eq", "Type a value"),
    ],
)
def test_parse_value_says_what_to_type(text, kind, operator, message):
    with pytest.raises(ValueError, match=message):
        editing.parse_value(text, kind, operator)


def test_format_value_inverts_parse_value_for_lists():
    assert editing.format_value([10, 50.0]) == "10, 50"
    assert editing.format_value(True) == "yes"


class _Column:
    def __init__(self, kind, codes, categories):
        self.kind = kind
        self.codes = np.array(codes, dtype=np.int32)
        self.categories = categories
        self.values = None


def test_value_choices_ranks_text_values_by_frequency():
    column = _Column("text", [1, 1, 0, -1, 1, 2], ["retail", "manufacturing", "x"])

    assert editing.value_choices(column) == ["manufacturing", "retail", "x"]


def test_value_choices_counts_list_items_across_sets():
    categories = [frozenset({"finance", "hr"}), frozenset({"finance"})]
    column = _Column("list", [0, 1, 1, -1], categories)

    # finance appears in 3 leads, hr in 1.
    assert editing.value_choices(column) == ["finance", "hr"]


def test_undo_and_redo_walk_the_history():
    stack = UndoStack(limit=2)
    stack.push("v1")
    stack.push("v1")  # unchanged rerun: no new entry
    stack.push("v2")
    stack.push("v3")

    assert stack.past == ["v2", "v3"]
    assert stack.undo("v4") == "v3"
    assert stack.redo("v3") == "v4"
    assert stack.undo("v4") == "v3"
    assert stack.undo("v3") == "v2"
    assert stack.undo("v2") is None
