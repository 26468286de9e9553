"""Safe YAML loading: plain data, marks, and every guard against bad input."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsim.errors import CriteriaError, DataError
from leadsim.yamlio import (
    YamlLimits,
    dump_yaml,
    load_yaml,
    load_yaml_file,
    nearest_mark,
    read_yaml_text,
)


def problem_of(text: str, **options: object) -> tuple[int, int, str]:
    """The single problem that loading ``text`` raises, as (line, column, message)."""
    with pytest.raises(CriteriaError) as caught:
        load_yaml(text, "f.yaml", **options)  # type: ignore[arg-type]
    [problem] = caught.value.problems
    assert problem.file == "f.yaml"
    return problem.line, problem.column, problem.message


def test_plain_data_and_marks_for_keys_and_items() -> None:
    text = "a: 1\nb:\n  - x: yes\n    y: [1, two]\n  - 2.5\n"

    data, marks = load_yaml(text)

    assert data == {"a": 1, "b": [{"x": True, "y": [1, "two"]}, 2.5]}
    assert marks[()] == (1, 1)
    assert marks[("a",)] == (1, 1)
    assert marks[("b",)] == (2, 1)
    assert marks[("b", 0)] == (3, 5)
    assert marks[("b", 0, "y")] == (4, 5)
    assert marks[("b", 0, "y", 1)] == (4, 12)
    assert marks[("b", 1)] == (5, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("d: 2026-06-30\n", "2026-06-30", id="date"),
        pytest.param("d: 2026-06-30 09:15:00\n", "2026-06-30T09:15:00", id="datetime"),
        pytest.param(
            "d: 2026-06-30T09:15:00+02:00\n", "2026-06-30T09:15:00+02:00", id="zone"
        ),
        pytest.param("d: '2026-06-30'\n", "2026-06-30", id="quoted"),
        pytest.param("d: 1.2.0\n", "1.2.0", id="version-stays-text"),
    ],
)
def test_unquoted_dates_become_iso_strings(text: str, expected: str) -> None:
    data, _ = load_yaml(text)

    assert data["d"] == expected


def test_keys_are_kept_as_written() -> None:
    data, _ = load_yaml("2024: a\nnull: b\n'yes': c\n")

    assert list(data) == ["2024", "null", "yes"]


def test_nearest_mark_falls_back_to_the_closest_ancestor() -> None:
    _, marks = load_yaml("a:\n  b: {c: 1}\n")

    assert nearest_mark(marks, ("a", "b", "c")) == (2, 7)
    assert nearest_mark(marks, ("a", "b", "missing", 3)) == (2, 3)
    assert nearest_mark(marks, ("nowhere",)) == (1, 1)


def test_aliases_are_expanded_to_plain_values() -> None:
    data, _ = load_yaml("base: &b [x, y]\ncopy: *b\n")

    assert data["copy"] == ["x", "y"]


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        pytest.param(
            "a:\n\tb: 1\n", 2, 1, "replace the tab with spaces", id="tab-indent"
        ),
        pytest.param(
            "a: 1\nb: 2\na: 3\n",
            3,
            1,
            "duplicate key 'a' (first at line 1, column 1)",
            id="duplicate-key",
        ),
        pytest.param(
            "x: !!python/object/apply:os.system [ls]\n",
            1,
            4,
            "the tag '!!python/object/apply:os.system' is not allowed",
            id="python-object",
        ),
        pytest.param(
            "x: !!binary aGVsbG8=\n", 1, 4, "the tag '!!binary'", id="binary-tag"
        ),
        pytest.param("x: !custom 1\n", 1, 4, "the tag '!custom'", id="local-tag"),
        pytest.param("x: [1, 2\n", 2, 1, "malformed YAML", id="unclosed-list"),
        pytest.param("a: 1\n b: 2\n", 2, 3, "malformed YAML", id="bad-indent"),
        pytest.param("a: *nope\n", 1, 4, "unknown alias '*nope'", id="unknown-alias"),
        pytest.param("a: &r [*r]\n", 1, 8, "recursive reference", id="recursive"),
        pytest.param("? [1]\n: 2\n", 1, 3, "a key must be plain text", id="list-key"),
        pytest.param("<<: {a: 1}\n", 1, 1, "merge keys ('<<')", id="merge-key"),
        pytest.param("a: 1\n---\nb: 2\n", 2, 1, "more than one YAML", id="two-docs"),
        pytest.param("- a\n- b\n", 1, 1, "not a list", id="list-document"),
        pytest.param("just text\n", 1, 1, "not a single value", id="scalar-doc"),
        pytest.param("# nothing\n", 1, 1, "the document is empty", id="empty"),
        pytest.param("n: 1_000x\n", 0, 0, "", id="odd-scalar-is-text"),
    ],
)
def test_bad_yaml_is_a_located_problem(
    text: str, line: int, column: int, fragment: str
) -> None:
    if not fragment:
        data, _ = load_yaml(text)
        assert data == {"n": "1_000x"}
        return

    found = problem_of(text)

    assert found[:2] == (line, column)
    assert fragment in found[2]


def test_problems_that_do_not_stop_the_walk_are_all_reported() -> None:
    text = "a: 1\na: 2\nb: !!python/object:x 1\nc: !!int zz\nd: [\n"

    with pytest.raises(CriteriaError) as caught:
        load_yaml(text, "f.yaml")

    assert [(p.line, p.column) for p in caught.value.problems] == [
        (2, 1),
        (3, 4),
        (4, 4),
        (6, 1),
    ]
    assert caught.value.problems[2].message == (
        "'zz' is not a valid int; put it in quotes if it is meant as text"
    )
    assert caught.value.problems[3].message.startswith("malformed YAML")


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        pytest.param("a: 1\nb: x\x00y\n", 2, 5, "control character (#x0000)", id="nul"),
        pytest.param("a: 1\nb: \x07\n", 2, 4, "control character (#x0007)", id="bell"),
        pytest.param("a: \ud800\n", 1, 4, "cannot be saved as UTF-8", id="surrogate"),
    ],
)
def test_characters_yaml_cannot_hold(
    text: str, line: int, column: int, fragment: str
) -> None:
    found = problem_of(text)

    assert found[:2] == (line, column)
    assert fragment in found[2]


def test_deep_nesting_is_refused_at_the_limit() -> None:
    shallow = "a: " + "[" * 49 + "]" * 49 + "\n"
    deep = "a: " + "[" * 50 + "]" * 50 + "\n"

    load_yaml(shallow)
    line, column, message = problem_of(deep)

    # The root mapping is level 1, so the 50th list (column 4 + 49) is one too many.
    assert (line, column) == (1, 53)
    assert "nesting deeper than 50 levels" in message


def test_deep_block_nesting_is_refused() -> None:
    text = (
        "".join("  " * level + f"k{level}:\n" for level in range(80)) + "  " * 80 + "x"
    )

    line, column, message = problem_of(text)

    assert (line, column) == (51, 101)
    assert "nesting deeper" in message


def billion_laughs(levels: int) -> str:
    text = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for level in range(1, levels):
        text += f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]\n"
    return text


def test_alias_bomb_is_refused_before_expanding() -> None:
    line, _, message = problem_of(billion_laughs(10))

    # Values so far: l0 10, l1 91, l2 820, l3 7,381, l4 66,430; l5 adds
    # 597,871 and crosses the limit on line 6, long before the full 9**10.
    assert line == 6
    assert "expands to more than 500,000 values" in message


def test_too_many_aliases_are_refused() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 5) + "]\n"

    line, column, message = problem_of(text, limits=YamlLimits(max_aliases=4))

    assert (line, column) == (2, 21)
    assert "more than 4 aliases" in message


def test_oversized_text_is_refused() -> None:
    with pytest.raises(CriteriaError) as caught:
        load_yaml("a: 1\n" * 100, limits=YamlLimits(max_bytes=100))

    assert "the file is 500 bytes, over the 100 bytes limit" in str(caught.value)


def test_error_type_can_be_chosen() -> None:
    with pytest.raises(DataError):
        load_yaml("- 1\n", error_type=DataError)


def test_a_50_megabyte_file_fails_on_its_size(tmp_path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as handle:
        handle.write("kind: lead-criteria\nglossary:\n")
        block = "".join(f"  term{n}: {'x' * 80}\n" for n in range(1000))
        while handle.tell() < 50_000_000:
            handle.write(block)

    with pytest.raises(CriteriaError) as caught:
        read_yaml_text(path)

    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert re.fullmatch(
        r"the file is 50\.[01] MB, over the 5\.0 MB limit for this kind of file; "
        r"check that this is the right file",
        problem.message,
    )


def test_missing_file(tmp_path) -> None:
    with pytest.raises(CriteriaError) as caught:
        read_yaml_text(tmp_path / "nope.yaml")

    assert caught.value.problems[0].message.startswith("file not found")


def test_directory_instead_of_file(tmp_path) -> None:
    with pytest.raises(CriteriaError) as caught:
        read_yaml_text(tmp_path)

    assert "this is a directory" in str(caught.value)


def test_non_utf8_bytes_are_located(tmp_path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"a: 1\ntitle: caf\xe9\n")

    with pytest.raises(CriteriaError) as caught:
        read_yaml_text(path)

    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (2, 11)
    assert "not UTF-8 text (byte 0xe9" in problem.message


def test_byte_order_mark_is_dropped(tmp_path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")

    text, data, marks = load_yaml_file(path)

    assert text == "a: 1\n"
    assert data == {"a": 1}
    assert marks[("a",)] == (1, 1)


def test_dump_orders_keys_by_rank_and_keeps_the_rest_in_place() -> None:
    rank = {"kind": 0, "id": 1}
    data = {"zeta": 1, "id": "x", "alpha": 2, "kind": "k"}

    text = dump_yaml(data, key_rank=lambda key: rank.get(key, 9))

    assert text == "kind: k\nid: x\nzeta: 1\nalpha: 2\n"


def test_dump_round_trips_and_writes_no_anchors() -> None:
    shared = ["a", "b"]
    data = {
        "one": shared,
        "two": shared,
        "date": "2026-06-30",
        "yes": "yes",
        "nested": [{"x": 1.5, "y": None, "z": True}],
    }

    text = dump_yaml(data)

    assert "&" not in text and "*" not in text
    assert "  - a\n" in text
    assert load_yaml(text)[0] == data


def test_dump_puts_small_containers_on_one_line_within_the_width() -> None:
    data = {
        "short": {"field": "industry", "in": {"list": "targets"}},
        "long": {"field": "industry", "in": ["manufacturing", "distribution"]},
        "values": ["a, b", "c: d"],
        "deep": [{"x": [1, 2]}],
    }

    # The width is measured on compact JSON: "short" takes 48 characters.
    text = dump_yaml(data, flow_width=50)

    assert text == (
        "short: {field: industry, in: {list: targets}}\n"
        "long:\n"
        "  field: industry\n"
        "  in: [manufacturing, distribution]\n"
        "values: ['a, b', 'c: d']\n"
        "deep: [{x: [1, 2]}]\n"
    )
    assert load_yaml(text)[0] == data


plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(st.text(max_size=10), plain_values, max_size=5),
    flow_width=st.sampled_from([0, 30, 88]),
)
def test_dump_then_load_gives_the_same_data(data: dict, flow_width: int) -> None:
    text = dump_yaml(data, flow_width=flow_width)

    assert load_yaml(text)[0] == data


yaml_pieces = st.sampled_from(
    [
        "a",
        ": ",
        "- ",
        "\n",
        "  ",
        "\t",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "&x ",
        "*x",
        "!!str ",
        "!!python/object ",
        "'",
        '"',
        "#",
        "---\n",
        "? ",
        "<<: ",
        "1.5",
        "2026-06-30",
        "yes",
        "~",
        "|\n",
        ">\n",
        "%YAML 1.1\n",
        "\x00",
        "é",
    ]
)


@settings(max_examples=300, deadline=None)
@given(text=st.lists(yaml_pieces, max_size=30).map("".join))
def test_any_text_loads_or_raises_a_located_criteria_error(text: str) -> None:
    try:
        load_yaml(text, "f.yaml")
    except CriteriaError as error:
        assert error.problems
        assert all(problem.file == "f.yaml" for problem in error.problems)
