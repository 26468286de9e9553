"""Criteria files: schema, semantic checks, rules in file order, dataset checks."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsim.criteria import (
    Rule,
    check_against_leads,
    criteria_schema,
    dump_criteria,
    load_criteria,
    parse_criteria,
    reachable_scores,
    referenced_fields,
)
from leadsim.errors import CriteriaError
from leadsim.yamlio import dump_yaml

EXAMPLES = Path(__file__).parent / "criteria_examples"
VALID = sorted((EXAMPLES / "valid").glob("*.yaml"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.yaml"))
SMALL_TEAM = EXAMPLES / "valid" / "small-team.yaml"


def expectations(path: Path, marker: str) -> list[str]:
    """The ``# marker: ...`` lines at the top of an example file."""
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    prefix = f"# {marker}: "
    return [line[len(prefix) :] for line in lines if line.startswith(prefix)]


@pytest.mark.parametrize("path", VALID, ids=[path.stem for path in VALID])
def test_valid_example_loads_with_exactly_its_expected_warnings(path: Path) -> None:
    criteria = load_criteria(path)

    expected = expectations(path, "expect-warning")
    assert criteria.source == str(path)
    assert len(criteria.warnings) == len(expected)
    for fragment, warning in zip(expected, criteria.warnings, strict=True):
        assert warning.severity == "warning"
        assert fragment in warning.message


@pytest.mark.parametrize("path", INVALID, ids=[path.stem for path in INVALID])
def test_invalid_example_names_the_place_and_the_fix(path: Path) -> None:
    [expected] = expectations(path, "expect")
    location, fragment = re.fullmatch(r"(?:(\d+:\d+): )?(.*)", expected).groups()

    with pytest.raises(CriteriaError) as caught:
        load_criteria(path)

    rendered = [f"{p.line}:{p.column}: {p.message}" for p in caught.value.errors]
    wanted = f"{location}: {fragment}" if location else fragment
    assert any(wanted in line for line in rendered), rendered
    assert all(p.file == str(path) for p in caught.value.problems)


def test_examples_are_present() -> None:
    assert len(VALID) >= 5
    assert len(INVALID) >= 30


def test_properties_of_the_brief_example() -> None:
    criteria = load_criteria(EXAMPLES / "valid" / "product-brief.yaml")

    assert (criteria.id, criteria.version) == ("erp-lead-stages", "1.2.0")
    assert criteria.title == "ERP lead stages"
    assert criteria.data["lists"]["target_industries"][2] == "wholesale"
    assert [route["queue"] for route in criteria.routes()] == [
        "account-executives",
        "sdr-review",
        "nurture",
    ]


def test_rules_of_the_brief_example_in_file_order() -> None:
    criteria = load_criteria(EXAMPLES / "valid" / "product-brief.yaml")

    rules = criteria.rules()

    assert [(r.section, r.id, r.line, r.column) for r in rules] == [
        ("exclude", "competitor", 15, 7),
        ("fit", "target-industry", 19, 9),
        ("engagement", "eval-checklist", 25, 9),
        ("fast_track", "demo-request", 29, 7),
        ("require", "decision-role", 34, 7),
        ("require_any", "timeline", 38, 7),
        ("require_any", "budget", 39, 7),
    ]
    assert rules[1] == Rule(
        section="fit",
        id="target-industry",
        label="Target industry",
        when={"field": "industry", "in": {"list": "target_industries"}},
        points=20,
        question=None,
        line=19,
        column=9,
    )
    assert rules[4].question == "Who signs off the ERP selection?"
    assert rules[4].points is None


SQL_FIRST = """\
kind: lead-criteria
schema_version: 1
id: sql-first
version: 1.0.0
title: Sections in another order
owners: {marketing: M, sales: S}
fallback: {queue: nurture}
sql:
  require:
    - {id: budget, label: Budget, when: {field: budget_status, eq: approved}}
mql:
  fast_track:
    - {id: demo, label: Demo, when: {field: demo_requested, eq: true}}
  fit:
    rules:
      - {id: size, label: Size, points: 5, when: {field: employees, gte: 100}}
  threshold: {fit: 5}
"""


def test_rules_follow_the_file_not_the_section_order() -> None:
    criteria = parse_criteria(SQL_FIRST)

    assert criteria.source == "<draft>"
    assert [(r.section, r.id) for r in criteria.rules()] == [
        ("require", "budget"),
        ("fast_track", "demo"),
        ("fit", "size"),
    ]


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = (
        SQL_FIRST.replace("version: 1.0.0", "version: one")
        .replace("label: Size, points: 5", "label: Size, points: five")
        .replace("{queue: nurture}", "{queue: nurture, folow_up_days: 3}")
    )

    with pytest.raises(CriteriaError) as caught:
        parse_criteria(text, "draft.yaml")

    assert [(p.line, p.column) for p in caught.value.problems] == [
        (4, 1),
        (7, 28),
        (16, 33),
    ]
    assert "did you mean 'follow_up_days'?" in caught.value.problems[1].message
    assert str(caught.value).splitlines()[0].startswith("draft.yaml:4:1: version must")


def test_missing_keys_are_named_together() -> None:
    with pytest.raises(CriteriaError) as caught:
        parse_criteria("kind: lead-criteria\nid: x\n")

    assert [p.render() for p in caught.value.problems] == [
        "<draft>:1:1: missing keys 'schema_version', 'version', 'title', "
        "'owners', 'mql', 'sql' and 'fallback' in the criteria file; add them"
    ]


def test_another_kind_of_file_gets_one_problem_about_its_kind() -> None:
    text = "kind: lead-dataset\nid_column: lead_id\nas_of: 2026-06-30\n"

    with pytest.raises(CriteriaError) as caught:
        parse_criteria(text, "profile.yaml")

    assert [p.render() for p in caught.value.problems] == [
        "profile.yaml:1:1: kind must be 'lead-criteria'; found 'lead-dataset', so "
        "this is not a criteria file: check the file name (at kind)"
    ]


def test_semantic_errors_are_all_reported_with_warnings() -> None:
    text = SQL_FIRST.replace("points: 5", "points: 0").replace(
        "id: demo,", "id: budget,"
    )

    with pytest.raises(CriteriaError) as caught:
        parse_criteria(text)

    assert [(p.severity, p.line) for p in caught.value.problems] == [
        ("error", 13),
        ("error", 16),
        ("warning", 17),
    ]


def test_a_list_no_condition_uses_is_a_warning() -> None:
    text = SQL_FIRST.replace(
        "fallback:", "lists:\n  spare: [a, b]\n  used: [c]\nfallback:"
    ).replace("eq: approved", "in: {list: used}")

    criteria = parse_criteria(text)

    assert [w.render() for w in criteria.warnings] == [
        "<draft>:8:3: warning: the list 'spare' is not used by any condition; use "
        "it with {list: spare} or remove it (at lists.spare)"
    ]


def test_reachable_scores_sum_positive_points_under_the_caps() -> None:
    criteria = load_criteria(EXAMPLES / "valid" / "enterprise-abm.yaml")

    # fit: 25 + 10 + 20 + 10 = 65, capped at 60; the -5 rule never helps.
    # engagement: 15 + 10 + 10 + 5 = 40 under the cap of 50; -10 never helps.
    assert reachable_scores(criteria.data) == {
        "fit": 60,
        "engagement": 40,
        "total": 100,
    }


@pytest.mark.parametrize(
    ("threshold", "warned"),
    [
        pytest.param("{fit: 5}", [], id="reachable"),
        pytest.param("{fit: 5.5}", ["fit threshold 5.5"], id="fit-above-sum"),
        pytest.param("{engagement: 1}", ["engagement threshold 1"], id="no-rules"),
        pytest.param("{total: 6}", ["total threshold 6"], id="total-above-sum"),
        pytest.param("{total: 0}", [], id="zero-always-reached"),
    ],
)
def test_unreachable_threshold_is_a_warning(threshold: str, warned: list[str]) -> None:
    criteria = parse_criteria(SQL_FIRST.replace("{fit: 5}", threshold))

    messages = [w.message for w in criteria.warnings]
    assert len(messages) == len(warned)
    for fragment, message in zip(warned, messages, strict=True):
        assert fragment in message
        assert "cannot be reached" in message


def test_dates_in_conditions_are_iso_strings() -> None:
    criteria = load_criteria(EXAMPLES / "valid" / "published-with-dates.yaml")

    [rule] = [r for r in criteria.rules() if r.section == "fit"]
    assert rule.when["between"] == ["2026-01-01", "2026-12-31"]
    assert criteria.data["publication"]["published_at"] == "2026-07-01T09:30:00+00:00"


@pytest.mark.parametrize("path", VALID, ids=[path.stem for path in VALID])
def test_dump_round_trips_every_valid_example(path: Path) -> None:
    criteria = load_criteria(path)

    text = dump_criteria(criteria.data)

    assert parse_criteria(text).data == criteria.data
    assert text.startswith("kind: lead-criteria\nschema_version: 1\nid: ")


def test_dump_writes_the_brief_key_order() -> None:
    shuffled = dict(reversed(list(parse_criteria(SQL_FIRST).data.items())))

    text = dump_criteria(shuffled)

    top = [line.split(":")[0] for line in text.splitlines() if line[0] != " "]
    assert top == [
        "kind",
        "schema_version",
        "id",
        "version",
        "title",
        "owners",
        "mql",
        "sql",
        "fallback",
    ]
    assert (
        "      - id: size\n"
        "        label: Size\n"
        "        points: 5\n"
        "        when: {field: employees, gte: 100}\n"
    ) in text
    assert "owners: {marketing: M, sales: S}\n" in text


def test_schema_is_valid_draft_2020_12() -> None:
    schema = criteria_schema()

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def schema_objects(node: object, path: str = "#") -> list[tuple[str, dict]]:
    """Every object schema with declared properties, with a path for messages."""
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            found.append((path, node))
        for key, child in node.items():
            found += schema_objects(child, f"{path}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += schema_objects(child, f"{path}/{index}")
    return found


def test_every_schema_property_has_a_description() -> None:
    missing = [
        f"{path}/{name}"
        for path, node in schema_objects(criteria_schema())
        for name, prop in node["properties"].items()
        if not prop.get("description")
    ]

    assert missing == []


def test_schema_objects_are_closed_except_inside_publication() -> None:
    open_objects = [
        path
        for path, node in schema_objects(criteria_schema())
        if node.get("additionalProperties") is not False
    ]

    assert open_objects == ["#/$defs/publication/properties/approvals/items"]


def leads_with(**kinds: str) -> SimpleNamespace:
    """A stand-in for leadsim.dataset.Leads: only columns[name].kind and source."""
    columns = {name: SimpleNamespace(kind=kind) for name, kind in kinds.items()}
    return SimpleNamespace(columns=columns, source="leads.csv")


SAMPLE_KINDS = dict(
    email_domain="text",
    industry="text",
    content_downloads="list",
    demo_requested="boolean",
    decision_role="text",
    timeline_months="number",
    budget_status="text",
    account_id="text",
    department="text",
    last_activity_at="date",
)


def test_referenced_fields_cover_conditions_decay_and_account() -> None:
    criteria = load_criteria(EXAMPLES / "valid" / "product-brief.yaml")

    assert referenced_fields(criteria) == set(SAMPLE_KINDS)


def test_brief_example_fits_the_sample_fields() -> None:
    criteria = load_criteria(EXAMPLES / "valid" / "product-brief.yaml")

    assert check_against_leads(criteria, leads_with(**SAMPLE_KINDS)) == []


@pytest.mark.parametrize(
    ("change", "kinds", "expected"),
    [
        pytest.param(
            ("field: industry, in:", "field: industy, in:"),
            {},
            "20:17: field 'industy' is not in leads.csv; did you mean 'industry'?",
            id="unknown-field",
        ),
        pytest.param(
            (),
            {"timeline_months": "text"},
            "38:61: field 'timeline_months' holds text values, but 'lte' needs "
            "date or number; pick another operator, or set its kind under 'types' "
            "in the dataset profile if the column really holds date or number "
            "values",
            id="ordering-on-text",
        ),
        pytest.param(
            (),
            {"content_downloads": "number"},
            "26:17: field 'content_downloads' holds number values, but 'contains' "
            "needs list or text; pick an operator that fits the field",
            id="contains-on-number",
        ),
        pytest.param(
            (),
            {"email_domain": "list"},
            "15:57: field 'email_domain' holds list values, but 'in' needs boolean "
            "or date or number or text; test list fields with contains, "
            "contains_any or contains_all",
            id="in-on-list",
        ),
        pytest.param(
            (),
            {"last_activity_at": "text"},
            "23:33: field 'last_activity_at' holds text values, but decay needs "
            "date; set its kind under 'types' in the dataset profile if the "
            "column really holds date values",
            id="decay-not-a-date",
        ),
        pytest.param(
            ("key: account_id", "key: account"),
            {},
            "41:5: field 'account' is not in leads.csv; did you mean 'account_id'?",
            id="account-key-missing",
        ),
        pytest.param(
            (),
            {"department": None},
            "44:5: field 'department' is not in leads.csv",
            id="department-field-missing",
        ),
        pytest.param(
            ("lte: 12}", "eq: soon}"),
            {},
            "38:85: field 'timeline_months' holds number values; compare it with "
            "numbers, not 'soon'",
            id="text-against-number",
        ),
        pytest.param(
            ("demo_requested, eq: true", "demo_requested, eq: maybe"),
            {},
            "30:33: field 'demo_requested' holds boolean values; compare it with "
            "true or false, not 'maybe'",
            id="text-against-boolean",
        ),
    ],
)
def test_check_against_leads(
    change: tuple[str, str], kinds: dict[str, str | None], expected: str
) -> None:
    text = (EXAMPLES / "valid" / "product-brief.yaml").read_text()
    if change:
        assert change[0] in text
        text = text.replace(change[0], change[1], 1)
    criteria = parse_criteria(text, "brief.yaml")
    merged = {**SAMPLE_KINDS, **kinds}
    leads = leads_with(**{k: v for k, v in merged.items() if v is not None})

    problems = check_against_leads(criteria, leads)

    assert [f"{p.line}:{p.column}: {p.message}" for p in problems] == [expected]
    assert problems[0].file == "brief.yaml"


def test_check_against_leads_covers_routing_and_nested_conditions() -> None:
    criteria = load_criteria(EXAMPLES / "valid" / "enterprise-abm.yaml")
    kinds = dict.fromkeys(
        ["email_domain", "job_title", "role", "industry", "current_system"], "text"
    )
    kinds |= dict(employees="number", region="text", modules_of_interest="list")
    kinds |= dict(webinar_attended="number", last_activity_at="date")
    kinds |= dict(created_at="date", demo_requested="boolean", decision_role="text")
    kinds |= dict(timeline_months="number", budget_status="text")
    kinds |= dict(required_modules="list", account_id="text", department="text")

    assert check_against_leads(criteria, leads_with(**kinds)) == []

    kinds["created_at"] = "number"
    [problem] = check_against_leads(criteria, leads_with(**kinds))
    assert "compare it with numbers, not '2025-09-01'" in problem.message


def all_paths(value: object, path: tuple = ()) -> list[tuple]:
    """Every key path in a document, the document itself included."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += all_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += all_paths(child, (*path, index))
    return found


odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "x", "sql", "fit", "2026-01-01", "industry", "a-b"]),
    st.lists(st.sampled_from([1, "a", None]), max_size=3),
    st.fixed_dictionaries({"list": st.sampled_from(["target_industries", "x"])}),
    st.fixed_dictionaries({"field": st.just("industry")}),
    st.fixed_dictionaries({"stage": st.just("mql")}),
    st.fixed_dictionaries({"all": st.just([])}),
)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_mutation_is_valid_or_a_criteria_error(data: st.DataObject) -> None:
    """No edit of a valid file can crash validation: every outcome is reported."""
    path = data.draw(st.sampled_from(VALID), label="example")
    document = copy.deepcopy(load_criteria(path).data)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        target = data.draw(st.sampled_from(all_paths(document)[1:]), label="path")
        parent = document
        for step in target[:-1]:
            parent = parent[step]
        if data.draw(st.booleans(), label="delete"):
            del parent[target[-1]]
        else:
            parent[target[-1]] = data.draw(odd_values, label="value")

    try:
        criteria = parse_criteria(dump_yaml(document), "mutated.yaml")
    except CriteriaError as error:
        assert error.errors
        assert all(problem.file == "mutated.yaml" for problem in error.problems)
        assert all(problem.message for problem in error.problems)
    else:
        assert criteria.rules() is not None
