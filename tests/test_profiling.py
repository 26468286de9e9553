"""Proposing a dataset profile for a raw export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from leadsim import cli
from leadsim.dataset import Profile, find_profile, load_profile, prepare_leads
from leadsim.errors import DataError
from leadsim.profiling import (
    ColumnSummary,
    apply_table_edits,
    check_profile,
    field_name,
    placeholder_mask,
    profile_from_summaries,
    propose,
    propose_profile,
    save_profile,
    snake_case,
    summaries_frame,
    summarise_columns,
)


def hubspot_export() -> pd.DataFrame:
    """A small HubSpot contacts export, as read_table returns it."""
    return pd.DataFrame(
        {
            "Record ID": ["101", "102", "103", "104", "105", "106"],
            "Create Date": [
                "2026-01-05",
                "2026-01-09",
                "2026-02-11",
                "2026-02-12",
                "2026-03-01",
                "2026-03-02",
            ],
            "Original Source": [
                "Organic Search",
                "organic search",
                "Paid Social",
                "Organic Search",
                "Paid Social",
                "Direct",
            ],
            "Company Name": ["Acme", "Acme", "Bolt", "Cogs", "Bolt", "Dyna"],
            "Industry": ["Manufacturing", "Select", "Retail", "Retail", "-", "Retail"],
            "Number of Employees": ["250", "250", "40", "1200", "", "40"],
            "Job Title": ["CFO", "IT lead", "Buyer", "COO", "Buyer", "Owner"],
            "Country/Region": ["DE", "DE", "US", "US", "US", "FR"],
            "Modules": [
                "finance;inventory",
                "finance",
                "inventory;production",
                "finance;production",
                "",
                "inventory",
            ],
            "Converted": ["1", "0", "0", "1", "0", "0"],
            "Demo Requested": ["Yes", "no", "No", "YES", "no", "No"],
        }
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Create Date", "created_at"),
        ("Original Source", "source"),
        ("Lifecycle Stage", "lifecycle_stage"),
        ("Company Name", "company"),
        ("Number of Employees", "employees"),
        ("Job Title", "job_title"),
        ("Country/Region", "region"),
        ("Created Date", "created_at"),
        ("Lead Source", "source"),
        ("No. of Employees", "employees"),
        ("Company / Account", "company"),
        ("Title", "job_title"),
        ("Lead Status", "lead_status"),
        ("What is your current occupation", "what_is_your_current_occupation"),
        ("TotalVisits", "total_visits"),
        ("2nd Touch", "f_2nd_touch"),
        ("???", "column"),
    ],
)
def test_field_names(header: str, expected: str) -> None:
    assert field_name(header) == expected


def test_snake_case_splits_camel_case() -> None:
    assert snake_case("leadID") == "lead_id"
    assert snake_case("Page Views Per Visit") == "page_views_per_visit"


def test_hubspot_export_gets_sample_names_and_roles() -> None:
    profile = propose_profile(hubspot_export())

    assert profile.rename["Record ID"] == "lead_id"
    assert profile.rename["Create Date"] == "created_at"
    assert profile.rename["Original Source"] == "source"
    assert profile.rename["Country/Region"] == "region"
    assert profile.id_column == "lead_id"
    assert profile.created_column == "created_at"
    assert profile.account_column == "company"
    assert profile.as_of == dt.date(2026, 3, 2)
    assert profile.outcomes == {"opportunity": "converted"}
    assert profile.list_columns == {"modules": ";"}
    assert "Select" in profile.missing_values


def test_kinds_are_inferred() -> None:
    profile = propose_profile(hubspot_export())

    assert profile.types["created_at"] == "date"
    assert profile.types["employees"] == "number"
    assert profile.types["demo_requested"] == "boolean"
    assert profile.types["converted"] == "boolean"
    assert profile.types["source"] == "text"
    assert profile.types["modules"] == "list"
    assert "lead_id" not in profile.types


def test_segments_prefer_known_names_and_skip_identifiers() -> None:
    profile = propose_profile(hubspot_export())

    assert profile.segments == ["source", "industry", "region"]


def test_variants_and_placeholders_are_reported_per_column() -> None:
    _, summaries = propose(hubspot_export())
    by_header = {summary.header: summary for summary in summaries}

    assert by_header["Original Source"].variants == [
        ["Organic Search", "organic search"]
    ]
    assert by_header["Industry"].placeholders == ["-", "Select"]
    assert by_header["Industry"].filled_share == pytest.approx(4 / 6)
    assert by_header["Industry"].distinct == 2


def test_a_proposed_profile_prepares_the_table() -> None:
    frame = hubspot_export()

    leads = prepare_leads(frame, propose_profile(frame))

    assert leads.outcome("opportunity").tolist() == [1, 0, 0, 1, 0, 0]
    assert leads.columns["industry"].missing.tolist() == [0, 1, 0, 0, 1, 0]
    assert leads.columns["source"].categories == [
        "organic search",
        "paid social",
        "direct",
    ]


def test_salesforce_last_activity_is_renamed_only_when_it_holds_dates() -> None:
    dates = pd.DataFrame(
        {"Lead ID": ["a", "b"], "Last Activity": ["2026-01-02", "2026-02-03"]}
    )
    names = pd.DataFrame(
        {"Lead ID": ["a", "b"], "Last Activity": ["Email Opened", "SMS Sent"]}
    )

    assert propose_profile(dates).rename["Last Activity"] == "last_activity_at"
    assert propose_profile(names).rename["Last Activity"] == "last_activity"


def test_id_falls_back_to_the_first_unique_column() -> None:
    frame = pd.DataFrame({"Stage": ["a", "a", "b"], "Email": ["x@a", "y@a", "z@b"]})

    profile = propose_profile(frame)

    assert profile.rename["Email"] == "lead_id"
    assert profile.id_column == "lead_id"


def test_placeholder_mask() -> None:
    values = pd.Series(["Select", "select specialization", "--None--", "", "Selecta"])

    assert placeholder_mask(values).tolist() == [True, True, True, False, False]


def test_edited_summaries_become_a_profile() -> None:
    frame = hubspot_export()
    proposed, summaries = propose(frame)
    for summary in summaries:
        if summary.field == "industry":
            summary.field = "sector"
        if summary.field == "region":
            summary.role = ""

    edited = profile_from_summaries(summaries, proposed)

    assert edited.rename["Industry"] == "sector"
    assert "sector" in edited.segments
    assert "region" not in edited.segments
    assert edited.types["sector"] == "text"


def test_edited_summaries_refuse_clashes() -> None:
    summaries = [
        ColumnSummary(header="A", field="lead_id", kind="text", role="id"),
        ColumnSummary(header="B", field="lead_id", kind="text", role="id"),
        ColumnSummary(header="C", field="c", kind="colour"),
    ]

    with pytest.raises(DataError) as error:
        profile_from_summaries(summaries, Profile())

    messages = [problem.message for problem in error.value.problems]
    assert messages == [
        "columns 'A' and 'B' both become 'lead_id'; give one of them another "
        "field name",
        "both 'A' and 'B' are marked as id; keep one",
        "kind 'colour' of 'C' is not one of number, date, boolean, text, list",
    ]


def test_check_profile_names_missing_columns() -> None:
    profile = Profile(
        id_column="lead_id",
        rename={"Record ID": "lead_id", "Gone": "gone"},
        outcomes={"opportunity": "converted"},
        segments=["industry", "territory"],
        source="p.yaml",
    )

    problems = check_profile(hubspot_export(), profile)

    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    assert [p.path for p in errors] == [
        ("outcomes", "opportunity"),
        ("segments",),
        ("segments",),
    ]
    assert errors[0].message.startswith("'converted' is not a column of the data")
    assert [p.path for p in warnings] == [("rename", "Gone")]


def test_saved_profile_is_found_and_round_trips(tmp_path: Path) -> None:
    data = tmp_path / "export.csv"
    data.write_text("x\n")
    profile = propose_profile(hubspot_export())

    saved = save_profile(profile, data)
    loaded = load_profile(saved)

    assert saved.name == "export.profile.yaml"
    assert find_profile(data) == saved
    assert loaded.rename == profile.rename
    assert loaded.types == profile.types
    assert loaded.as_of == profile.as_of
    assert loaded.missing_values == profile.missing_values


def test_summaries_follow_an_existing_profile() -> None:
    frame = hubspot_export()
    profile = propose_profile(frame)
    profile.types["employees"] = "text"

    summaries = summarise_columns(frame, profile)
    by_field = {summary.field: summary for summary in summaries}

    assert by_field["employees"].kind == "text"
    assert by_field["lead_id"].role == "id"
    assert by_field["converted"].role == "opportunity"
    assert by_field["modules"].list_delimiter == ";"


def test_column_table_round_trips_edits() -> None:
    frame = hubspot_export()
    proposed, summaries = propose(frame)
    table = summaries_frame(summaries)
    row = table.index[table["header"] == "Job Title"][0]
    table.loc[row, ["field", "kind", "role"]] = ["title", "list", "segment"]

    edited = apply_table_edits(table, summaries)
    profile = profile_from_summaries(edited, proposed)

    assert list(table.columns[:4]) == ["header", "field", "kind", "role"]
    assert (
        table.loc[table["header"] == "Industry", "placeholders"].item() == "-, Select"
    )
    assert profile.rename["Job Title"] == "title"
    assert profile.list_columns["title"] == ";"
    assert "title" in profile.segments


def test_unknown_role_is_refused() -> None:
    summaries = [ColumnSummary(header="A", field="a", kind="text", role="boss")]

    with pytest.raises(DataError, match="role 'boss' of 'A' is not one of"):
        profile_from_summaries(summaries, Profile())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"id,name\n", "header row but no leads", id="header-only"),
        pytest.param(b"id,name\n1,a\n2\n", ":3:1: row 3 has 1 fields", id="ragged"),
        pytest.param(b"id,id\n1,2\n", "'id' appears twice", id="duplicate-header"),
        pytest.param(b"\x00\x01\x02" * 100, "binary file", id="binary"),
        pytest.param(b"id,name\n1,\x81\x8d\n", "neither UTF-8", id="bad-encoding"),
    ],
)
def test_profile_command_refuses_bad_files(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    expected: str,
) -> None:
    data = tmp_path / "leads.csv"
    data.write_bytes(content)

    status = cli.main(["profile", str(data)])

    captured = capsys.readouterr()
    assert status == 1
    assert expected in captured.err
    assert captured.err.startswith(str(data))
    assert "Traceback" not in captured.err + captured.out


def test_profile_command_refuses_a_profile_naming_missing_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "leads.csv"
    data.write_text("lead_id,industry\n1,retail\n2,it\n")
    profile = tmp_path / "p.yaml"
    profile.write_text("kind: lead-dataset\nid_column: lead_id\nsegments: [region]\n")

    status = cli.main(["profile", str(data), "--profile", str(profile)])

    captured = capsys.readouterr()
    assert status == 1
    assert f"{profile}: 'region' is not a column of the data" in captured.err


def test_profile_command_writes_the_proposal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "export.csv"
    hubspot_export().to_csv(data, index=False)
    out = tmp_path / "export.profile.yaml"

    status = cli.main(["profile", str(data), "--out", str(out)])

    printed = capsys.readouterr().out
    assert status == 0
    assert load_profile(out).rename["Create Date"] == "created_at"
    assert "Data quality of 6 leads (as of 2026-03-02):" in printed
    assert "'-', 'Select' in industry are each a form default" in printed
