"""Preparing lead tables: normalised columns, profiles, bad tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadsim.dataset import (
    Profile,
    find_profile,
    infer_kind,
    load_leads,
    load_profile,
    prepare_leads,
)
from leadsim.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


def _frame(**columns: list[str]) -> pd.DataFrame:
    size = len(next(iter(columns.values())))
    return pd.DataFrame({"lead_id": [f"L{i}" for i in range(size)], **columns})


def test_text_variants_collapse_and_placeholders_are_missing() -> None:
    frame = _frame(industry=["Manufacturing", " manufacturing ", "N/A", "", "Retail"])
    leads = prepare_leads(frame, Profile(missing_values=["N/A"]))

    column = leads.columns["industry"]
    assert column.categories == ["manufacturing", "retail"]
    assert column.codes.tolist() == [0, 0, -1, -1, 1]


@pytest.mark.parametrize(
    ("cells", "kind"),
    [
        pytest.param(["yes", "No", "TRUE"], "boolean", id="yes-no-true"),
        pytest.param(["1", "0", "1"], "number", id="zero-one-is-number"),
        pytest.param(["3.5", "1,200", "-4"], "number", id="numbers"),
        pytest.param(["2026-01-05", "2025-12-31T10:00:00"], "date", id="dates"),
        pytest.param(["a", "2026-01-05"], "text", id="mixed-is-text"),
    ],
)
def test_kind_is_inferred_from_values(cells: list[str], kind: str) -> None:
    assert infer_kind([c.strip().lower() for c in cells]) == kind


def test_numbers_dates_booleans_and_lists_are_parsed() -> None:
    frame = _frame(
        employees=["1,200", "40", "x"],
        created=["2026-01-02", "", "1970-01-11"],
        demo=["Yes", "no", ""],
        modules=["Finance; HR", "", "hr"],
    )
    profile = Profile(
        list_columns={"modules": ";"},
        types={"employees": "number", "created": "date", "demo": "boolean"},
    )
    leads = prepare_leads(frame, profile)

    employees = leads.columns["employees"]
    assert employees.values[:2].tolist() == [1200.0, 40.0]
    assert np.isnan(employees.values[2])
    assert employees.invalid == {"x": 1} and employees.first_invalid_row == 3
    assert leads.columns["created"].values[2] == 10.0
    assert leads.columns["demo"].values[:2].tolist() == [1.0, 0.0]
    modules = leads.columns["modules"]
    assert [modules.categories[c] for c in modules.codes[[0, 2]]] == [
        frozenset({"finance", "hr"}),
        frozenset({"hr"}),
    ]
    assert modules.codes[1] == -1


def test_as_of_defaults_to_the_latest_created_date() -> None:
    frame = _frame(created=["2026-01-02", "2026-03-04", ""])
    leads = prepare_leads(frame, Profile(created_column="created"))
    assert leads.as_of == dt.date(2026, 3, 4)


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        pytest.param(pd.DataFrame({"lead_id": []}), "no rows", id="empty"),
        pytest.param(pd.DataFrame({"id": ["1"]}), "id column 'lead_id'", id="no-id"),
        pytest.param(
            pd.DataFrame({"lead_id": ["a", "b", "a"]}), "repeat (e.g. a", id="dupes"
        ),
        pytest.param(pd.DataFrame({"lead_id": ["a", " "]}), "no id", id="blank-id"),
    ],
)
def test_bad_tables_are_refused_with_what_to_do(
    frame: pd.DataFrame, fragment: str
) -> None:
    with pytest.raises(DataError) as raised:
        prepare_leads(frame, Profile())
    assert fragment in str(raised.value)


def test_profile_unknown_keys_and_bad_types_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text("kind: lead-dataset\nid_colum: x\ntypes: {a: money}\nas_of: soon\n")

    with pytest.raises(DataError) as raised:
        load_profile(path)

    messages = [problem.message for problem in raised.value.problems]
    assert len(messages) == 3
    assert "unknown key 'id_colum'" in messages[0]
    assert "money" in messages[1] and "as_of 'soon'" in messages[2]


def test_profile_round_trips_through_yaml(tmp_path: Path) -> None:
    profile = Profile(
        id_column="id",
        as_of=dt.date(2026, 6, 30),
        segments=["industry"],
        outcomes={"opportunity": "won_opp"},
    )
    path = tmp_path / "leads.profile.yaml"
    path.write_text(profile.to_yaml())

    loaded = load_profile(path)

    assert (loaded.id_column, loaded.as_of, loaded.segments, loaded.outcomes) == (
        "id",
        dt.date(2026, 6, 30),
        ["industry"],
        {"opportunity": "won_opp"},
    )
    assert find_profile(tmp_path / "leads.csv") == path


def test_sample_history_loads_with_its_profile() -> None:
    leads = load_leads(ROOT / "sample_leads" / "leads.csv")

    assert len(leads) == 20_000
    assert leads.as_of == dt.date(2026, 6, 30)
    assert leads.columns["content_downloads"].kind == "list"
    assert leads.columns["created_at"].kind == "date"
    opportunity = leads.outcome("opportunity")
    assert opportunity is not None and 0.05 < opportunity.mean() < 0.25


def test_profile_naming_missing_columns_is_refused() -> None:
    frame = _frame(industry=["a", "b"])
    profile = Profile(segments=["territory"], outcomes={"opportunity": "converted_x"})

    with pytest.raises(DataError) as raised:
        prepare_leads(frame, profile)

    message = str(raised.value)
    assert "'territory' is not a column" in message
    assert "'converted_x' is not a column" in message
