"""The bundled sample history: reproducible, consistent, messy, and telling."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from leadsim.dataset import load_profile
from leadsim.sample import (
    AS_OF,
    COUNTERS,
    DISCOVERY_FIELDS,
    EVENT_FIELDS,
    LEAD_FIELDS,
    OPTIONAL_FIELDS,
    SCENARIO_IDS,
    csv_bytes,
    generate,
    write_sample,
)

BLANKS = {"", "n/a", "-", "select"}


def read_text_table(path: Path) -> pd.DataFrame:
    """A CSV (plain or gzip) as raw strings, blanks kept as empty strings."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def sample_dir(repo_root: Path) -> Path:
    return repo_root / "sample_leads"


@pytest.fixture(scope="module")
def leads(sample_dir: Path) -> pd.DataFrame:
    return read_text_table(sample_dir / "leads.csv")


@pytest.fixture(scope="module")
def events(sample_dir: Path) -> pd.DataFrame:
    return read_text_table(sample_dir / "events.csv.gz")


def normal(column: pd.Series) -> pd.Series:
    return column.str.strip().str.lower()


def truthy(column: pd.Series) -> pd.Series:
    return normal(column).isin(["true", "yes", "1"])


def number(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column, errors="coerce")


# --- reproducible -----------------------------------------------------------


def test_same_seed_gives_the_same_tables() -> None:
    first_leads, first_events = generate(600, seed=3)
    second_leads, second_events = generate(600, seed=3)

    assert csv_bytes(first_leads) == csv_bytes(second_leads)
    assert csv_bytes(first_events) == csv_bytes(second_events)


def test_another_seed_gives_another_history() -> None:
    first, _ = generate(600, seed=3)
    other, _ = generate(600, seed=4)

    assert csv_bytes(first) != csv_bytes(other)


def test_generate_returns_the_asked_number_of_leads_with_the_scenarios_last() -> None:
    leads, events = generate(50, seed=1)

    assert len(leads) == 50
    assert list(leads.columns) == list(LEAD_FIELDS)
    assert list(events.columns) == list(EVENT_FIELDS)
    assert list(leads["lead_id"].tail(3)) == list(SCENARIO_IDS)


def test_committed_files_equal_a_fresh_generation(
    sample_dir: Path, tmp_path: Path
) -> None:
    write_sample(tmp_path, n_leads=20_000, seed=7)

    for name in ("leads.csv", "events.csv.gz"):
        fresh = (tmp_path / name).read_bytes()
        assert fresh == (sample_dir / name).read_bytes(), (
            f"sample_leads/{name} is stale; run "
            "python -m leadsim.sample --out sample_leads --leads 20000 --seed 7"
        )


def test_events_gzip_carries_no_time_or_name(sample_dir: Path) -> None:
    header = (sample_dir / "events.csv.gz").read_bytes()[:10]

    assert header[4:8] == b"\x00\x00\x00\x00"  # mtime
    assert header[3] & 0x08 == 0  # no file name


# --- shape ------------------------------------------------------------------


def test_sample_has_the_fields_of_the_brief(leads: pd.DataFrame) -> None:
    assert list(leads.columns) == list(LEAD_FIELDS)
    assert len(leads) == 20_000


def test_ids_are_unique_and_ids_and_dates_clean(leads: pd.DataFrame) -> None:
    assert leads["lead_id"].is_unique
    assert (leads["lead_id"] != "").all()
    assert (leads["account_id"] != "").all()

    created = pd.to_datetime(leads["created_at"], format="%Y-%m-%d")
    assert created.min() >= pd.Timestamp("2025-01-01")
    assert created.max() <= pd.Timestamp(AS_OF)


def test_accounts_have_several_contacts_in_several_departments(
    leads: pd.DataFrame,
) -> None:
    contacts = leads.groupby("account_id").size()
    departments = leads.assign(department=normal(leads["department"])).query(
        "department not in @BLANKS"
    )
    per_account = departments.groupby("account_id")["department"].nunique()

    assert 2_500 <= len(contacts) <= 3_500
    assert contacts.median() >= 4
    assert (per_account >= 3).mean() > 0.5
    assert set(per_account.index) <= set(contacts.index)
    known = set(normal(leads["department"])) - BLANKS
    assert known == {"it", "operations", "finance", "executive", "other"}


def test_profile_describes_every_field(sample_dir: Path) -> None:
    document = yaml.safe_load((sample_dir / "profile.yaml").read_text())
    profile = load_profile(sample_dir / "profile.yaml")

    assert list(document["types"]) == list(LEAD_FIELDS)
    assert profile.id_column == "lead_id"
    assert str(profile.as_of) == AS_OF.isoformat()
    assert profile.outcomes["worked"] == "worked_by_sales"
    assert set(profile.list_columns) == {
        "modules_of_interest",
        "content_downloads",
        "required_modules",
    }
    # "none" is a real budget answer, so it must not count as missing here
    assert "none" not in [value.lower() for value in profile.missing_values]


# --- the snapshot sums up the events ----------------------------------------


def test_counters_equal_the_event_sums(
    leads: pd.DataFrame, events: pd.DataFrame
) -> None:
    counted = events.groupby(["lead_id", "event_type"]).size().unstack(fill_value=0)
    counted = counted.reindex(leads["lead_id"], fill_value=0)

    for event_type, counter in COUNTERS.items():
        expected = counted[event_type].to_numpy()
        assert (number(leads[counter]).to_numpy() == expected).all(), counter
    demos = counted["demo_request"].to_numpy() > 0
    assert (truthy(leads["demo_requested"]).to_numpy() == demos).all()


def test_last_activity_is_the_latest_event(
    leads: pd.DataFrame, events: pd.DataFrame
) -> None:
    latest = events.groupby("lead_id")["occurred_at"].max()
    expected = leads["lead_id"].map(latest).fillna("")

    assert (leads["last_activity_at"] == expected).all()
    assert (leads["last_activity_at"] == "").sum() == 0  # every lead has an event


def test_content_downloads_are_the_downloaded_assets(
    leads: pd.DataFrame, events: pd.DataFrame
) -> None:
    downloads = events[events["event_type"] == "content_download"]
    assets = downloads.groupby("lead_id")["asset"].agg(frozenset)
    expected = leads["lead_id"].map(assets)
    listed = leads["content_downloads"].map(
        lambda cell: frozenset(filter(None, cell.split(";")))
    )

    assert all(
        listed_set == (wanted if isinstance(wanted, frozenset) else frozenset())
        for listed_set, wanted in zip(listed, expected, strict=True)
    )
    assert (downloads["asset"] != "").all()


def test_every_event_belongs_to_a_lead(
    leads: pd.DataFrame, events: pd.DataFrame
) -> None:
    assert set(events["lead_id"]) <= set(leads["lead_id"])
    assert len(events) > 5 * len(leads)


# --- a CRM's mess -----------------------------------------------------------


def test_discovery_answers_only_where_sales_worked(leads: pd.DataFrame) -> None:
    worked = truthy(leads["worked_by_sales"])

    for name in DISCOVERY_FIELDS:
        assert (leads.loc[~worked, name] == "").all(), name
        assert (leads.loc[worked, name] != "").mean() > 0.3, name
    assert 0.1 < worked.mean() < 0.35


@pytest.mark.parametrize("field", OPTIONAL_FIELDS)
def test_optional_fields_are_blank_for_5_to_15_percent(
    leads: pd.DataFrame, field: str
) -> None:
    blank = normal(leads[field]).isin(BLANKS).mean()

    assert 0.05 <= blank <= 0.15


def test_text_has_case_and_spacing_variants(leads: pd.DataFrame) -> None:
    industries = set(leads["industry"])

    assert "manufacturing" in industries
    assert "MANUFACTURING" in industries
    assert "Manufacturing" in industries
    assert " manufacturing " in industries


def test_a_few_impossible_values(leads: pd.DataFrame) -> None:
    negative = (number(leads["employees"]) < 0).sum()
    far_timeline = (number(leads["timeline_months"]) == 999).sum()
    after_as_of = (leads["last_activity_at"] > AS_OF.isoformat()).sum()

    assert 5 <= negative <= 100
    assert 1 <= far_timeline <= 100
    assert 1 <= after_as_of <= 100


def test_booleans_are_true_false_with_some_yes_no(leads: pd.DataFrame) -> None:
    values = set(normal(leads["demo_requested"]))

    assert values == {"true", "false", "yes", "no"}
    assert set(leads["reached_opportunity"]) == {"true", "false"}


# --- outcomes ---------------------------------------------------------------


def test_base_rates_are_plausible(leads: pd.DataFrame) -> None:
    reached = truthy(leads["reached_opportunity"])
    won = truthy(leads["won"])

    assert 0.08 <= reached.mean() <= 0.15
    assert 0.2 <= won.sum() / reached.sum() <= 0.35
    assert not (won & ~reached).any()
    assert (number(leads.loc[won, "won_amount"]) > 0).all()
    assert (leads.loc[~won, "won_amount"] == "").all()
    assert (leads.loc[~reached, "opportunity_at"] == "").all()


def test_outcome_dates_follow_creation(leads: pd.DataFrame) -> None:
    reached = leads[truthy(leads["reached_opportunity"])]
    closed = reached[reached["closed_at"] != ""]

    assert (reached["opportunity_at"] > reached["created_at"]).all()
    assert (closed["closed_at"] > closed["opportunity_at"]).all()
    assert (reached["opportunity_at"] <= AS_OF.isoformat()).all()


def test_fit_and_engagement_raise_the_opportunity_rate(leads: pd.DataFrame) -> None:
    target = normal(leads["industry"]).isin(
        ["manufacturing", "distribution", "wholesale", "food & beverage"]
    )
    outgrown = normal(leads["current_system"]).isin(
        ["spreadsheets", "quickbooks", "xero", "sage", "legacy on-prem erp"]
    )
    engaged = (number(leads["pricing_page_visits"]) >= 1) | leads[
        "content_downloads"
    ].str.contains("erp-evaluation-checklist")
    reached = truthy(leads["reached_opportunity"])

    high = reached[target & outgrown & engaged].mean()
    low = reached[~target & ~engaged].mean()

    assert high > 3 * low
    assert high > 0.2


def test_discovery_answers_raise_the_opportunity_rate(leads: pd.DataFrame) -> None:
    worked = leads[truthy(leads["worked_by_sales"])]
    reached = truthy(worked["reached_opportunity"])
    ready = (
        normal(worked["decision_role"]).isin(["decision_maker", "champion"])
        & truthy(worked["discovery_call_agreed"])
        & (number(worked["timeline_months"]) <= 6)
    )

    assert reached[ready].mean() > 2 * reached[~ready].mean()


def test_leads_sales_never_worked_rarely_reach_opportunity(
    leads: pd.DataFrame,
) -> None:
    worked = truthy(leads["worked_by_sales"])
    reached = truthy(leads["reached_opportunity"])

    assert 0 < reached[~worked].mean() < 0.05
    assert reached[worked].mean() > 0.3


def test_generate_keeps_ids_unique_at_another_size() -> None:
    leads, events = generate(30_000, seed=11)

    assert leads["lead_id"].is_unique
    assert len(events) > 5 * len(leads)
    assert np.all(events["lead_id"].isin(leads["lead_id"]))


def test_csv_bytes_round_trip(leads: pd.DataFrame) -> None:
    text = csv_bytes(leads.head(200))
    again = pd.read_csv(io.BytesIO(text), dtype=str, keep_default_na=False)

    pd.testing.assert_frame_equal(again, leads.head(200))


def test_events_file_is_gzip(sample_dir: Path) -> None:
    with gzip.open(sample_dir / "events.csv.gz", "rt") as stream:
        assert stream.readline().strip() == ",".join(EVENT_FIELDS)
