"""Acceptance on a real lead export nobody here wrote (X Education).

The data lives outside the project, in ../shared/data; these tests skip when
it is absent. They check that the shipped profile and criteria run on it, that
per-segment rates of the simulation agree with a plain pandas computation on
the raw file, and that the quality report flags what the data's own README
says is wrong with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadsim import cli
from leadsim.criteria import load_criteria
from leadsim.dataset import load_leads, load_profile
from leadsim.importer import read_table
from leadsim.profiling import propose_profile
from leadsim.quality import quality_report
from leadsim.simulate import simulate

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "x-education-leads.csv"
EXAMPLE = ROOT / "examples" / "x-education"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not DATA.is_file(), reason=f"{DATA} is not present"),
]

PLACEHOLDERS = {"", "select", "n/a", "-", "null", "unknown"}
SEGMENTS = {
    "source": "Lead Source",
    "lead_origin": "Lead Origin",
    "occupation": "What is your current occupation",
    "city": "City",
}


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The export read by pandas alone, the way an analyst would."""
    return pd.read_csv(DATA, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def simulation():  # noqa: ANN201 - a Simulation
    leads = load_leads(DATA, EXAMPLE / "profile.yaml")
    return simulate(
        load_criteria(EXAMPLE / "criteria.yaml"),
        load_criteria(EXAMPLE / "baseline.yaml"),
        leads,
    )


def test_the_export_reads_as_documented(raw: pd.DataFrame) -> None:
    frame = read_table(DATA)

    assert frame.shape == (9240, 37)
    assert (frame.to_numpy() == raw.to_numpy()).all()
    assert (frame["Converted"] == "1").sum() == 3561


@pytest.mark.parametrize("field", sorted(SEGMENTS))
def test_segment_rates_match_pandas(simulation, raw: pd.DataFrame, field: str) -> None:
    draft_stage = simulation.evaluations[1].stage
    raw_value = raw[SEGMENTS[field]].str.strip().str.lower()
    value = raw_value.where(~raw_value.isin(PLACEHOLDERS), "(missing)")
    table = pd.DataFrame(
        {
            "value": value,
            "converted": raw["Converted"] == "1",
            "mql": np.isin(draft_stage, ["mql", "sql"]),
        }
    )
    expected = table.groupby("value").agg(
        leads=("converted", "size"),
        mql=("mql", "sum"),
        mql_converted=("converted", lambda c: c[table.loc[c.index, "mql"]].sum()),
    )

    for segment in simulation.segments[field]:
        row = expected.loc[segment.value]
        draft = segment.draft
        assert draft.leads == row["leads"], segment.value
        assert draft.mql == row["mql"], segment.value
        rate = draft.rates["mql_opportunity"]
        assert rate.successes == row["mql_converted"], segment.value
        if row["mql"]:
            assert rate.value == pytest.approx(row["mql_converted"] / row["mql"])


def test_overall_conversion_matches_pandas(simulation, raw: pd.DataFrame) -> None:
    converted = raw["Converted"] == "1"
    mql = np.isin(simulation.evaluations[1].stage, ["mql", "sql"])

    coverage = simulation.draft.rates["opportunity_coverage"]
    assert coverage.n == converted.sum() == 3561
    assert coverage.successes == (converted & mql).sum()


def test_exclusions_match_pandas(simulation, raw: pd.DataFrame) -> None:
    dead_ends = {"email bounced", "unsubscribed", "email marked spam"}
    excluded = (
        (raw["Do Not Email"] == "Yes")
        | (raw["Do Not Call"] == "Yes")
        | raw["Last Activity"].str.lower().isin(dead_ends)
    )

    stage = simulation.evaluations[1].stage
    assert (stage == "disqualified").sum() == excluded.sum()
    assert (excluded.to_numpy() == (stage == "disqualified")).all()


def test_quality_report_flags_what_the_readme_says() -> None:
    frame = read_table(DATA)
    report = quality_report(frame, load_profile(EXAMPLE / "profile.yaml"))

    placeholders = {f.field for f in report.of("placeholder") if "Select" in f.values}
    assert {"specialization", "city", "lead_profile", "heard_about_us"} <= placeholders
    (variants,) = [f for f in report.of("variants") if f.field == "source"]
    assert {"Google", "google"} <= set(variants.values)
    assert {"tags", "lead_quality"} <= report.fields_flagged("leak")
    assert "source" not in report.fields_flagged("leak")


def test_proposed_profile_finds_the_outcome_and_placeholders() -> None:
    profile = propose_profile(read_table(DATA))

    assert profile.outcomes == {"opportunity": "converted"}
    assert profile.rename["Prospect ID"] == profile.id_column == "lead_id"
    assert profile.rename["Lead Source"] == "source"
    assert "Select" in profile.missing_values
    assert profile.types["do_not_email"] == "boolean"
    assert profile.types["total_visits"] == "number"


def test_profile_command_on_the_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.profile.yaml"

    status = cli.main(["profile", str(DATA), "--out", str(out)])

    printed = capsys.readouterr().out
    assert status == 0
    assert load_profile(out).outcomes == {"opportunity": "converted"}
    assert "tags all but decides the opportunity outcome" in printed


def test_simulate_command_on_the_export(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if "simulate" not in cli.build_parser().format_help():
        pytest.skip("the simulate command is not part of the command line yet")

    status = cli.main(
        [
            "simulate",
            "--criteria",
            str(EXAMPLE / "criteria.yaml"),
            "--baseline",
            str(EXAMPLE / "baseline.yaml"),
            "--leads",
            str(DATA),
            "--profile",
            str(EXAMPLE / "profile.yaml"),
            "--format",
            "json",
        ]
    )

    assert status == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dataset"]["leads"] == 9240
