"""The markdown summary and the ``simulate`` command, on the hand-worked fixture.

The fixture lives in ``test_simulate.py``; the figures quoted here come from
its comments, and the Wilson intervals were worked out by hand (for 2/3:
centre 0.573, half-width 0.365; for 3/5: centre 0.557, half-width 0.326).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_simulate import BASELINE, COLUMNS, DRAFT, LEADS, PROFILE

from leadsim.cli import main
from leadsim.criteria import load_criteria, parse_criteria
from leadsim.dataset import load_leads, prepare_leads
from leadsim.report import count_change, delta_text, rate_text, render_markdown
from leadsim.simulate import simulate
from leadsim.stats import compare, rate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def markdown() -> str:
    frame = pd.DataFrame(LEADS, columns=COLUMNS, dtype=str)
    leads = prepare_leads(frame, PROFILE, source="fixture.csv")
    simulation = simulate(
        parse_criteria(DRAFT), parse_criteria(BASELINE), leads, capacity=3
    )
    return render_markdown(simulation)


def test_title_names_both_versions(markdown):
    assert markdown.startswith("## Simulation: fixture 1.1.0 against fixture 1.0.0")
    assert "Replayed on 10 historical leads from `fixture.csv`" in markdown


def test_headline_counts(markdown):
    assert "| MQLs (stage mql or sql) | 3 | 6 | +3 (+100.0%) |" in markdown
    assert "| SQLs | 2 | 3 | +1 (+50.0%) |" in markdown


def test_headline_rate_with_intervals_and_no_false_win(markdown):
    assert (
        "| MQL→SQL rate | 66.7% (20.8–93.9%, n=3) ⚠ small sample "
        "| 60.0% (23.1–88.2%, n=5) ⚠ small sample | -6.7 pts, not significant |"
    ) in markdown
    assert "significant |" not in markdown.replace("not significant |", "")


def test_unobserved_leads_are_said_plainly(markdown):
    assert "leave out 1 new MQL and 0 new SQLs that sales never worked" in markdown
    assert "- Sales never worked 1 lead that the draft newly makes MQL" in markdown


def test_sales_load_against_capacity(markdown):
    assert "| Weeks over the SDR capacity of 3 | 0 of 2 | 1 of 2 |" in markdown


def test_top_flips_with_reasons(markdown):
    assert "3 leads change stage or queue (3 change stage, 0 only their queue)" in (
        markdown
    )
    assert "Stage moves: lead → mql: 2, lead → sql: 1." in markdown
    assert (
        "| L4 | lead → mql | nurture → sdr-review | engagement 15 → 35 "
        "(+20 eval-checklist, new rule); now meets total ≥ 30; "
        "queue nurture → sdr-review |"
    ) in markdown


def test_segment_shift_and_new_rule(markdown):
    assert "| region = north | 5 | 1 → 4 |" in markdown
    assert "| `eval-checklist` | engagement | new | 6 | 50.0% vs 66.7% |" in markdown


def test_sweep_marks_the_draft_threshold(markdown):
    # At 30: six MQLs, 4 of the 5 observed reached an opportunity, all 4
    # opportunities caught.
    assert "| **30** (draft) | 6 | 80.0% | 100.0% | 100.0% |" in markdown


@pytest.mark.parametrize(
    ("before", "after", "text"),
    [
        pytest.param(200, 250, "+50 (+25.0%)", id="growth"),
        pytest.param(0, 7, "+7", id="from-zero"),
        pytest.param(1200, 1000, "-200 (-16.7%)", id="drop"),
    ],
)
def test_count_change(before, after, text):
    assert count_change(before, after) == text


def test_rate_and_delta_text():
    # 100/1000 is (8.3%, 12.0%); 200/1000 is (17.7%, 22.6%): separate.
    assert rate_text(rate(100, 1000)) == "10.0% (8.3–12.0%, n=1,000)"
    assert delta_text(compare(rate(100, 1000), rate(200, 1000))) == (
        "**+10.0 pts**, significant"
    )
    assert rate_text(rate(0, 0)) == "n/a (no leads)"


@pytest.fixture
def fixture_files(tmp_path):
    pd.DataFrame(LEADS, columns=COLUMNS).to_csv(tmp_path / "leads.csv", index=False)
    profile = PROFILE.to_yaml()
    (tmp_path / "leads.profile.yaml").write_text(profile, encoding="utf-8")
    (tmp_path / "draft.yaml").write_text(DRAFT, encoding="utf-8")
    (tmp_path / "base.yaml").write_text(BASELINE, encoding="utf-8")
    return tmp_path


def _arguments(folder: Path, *extra: str) -> list[str]:
    return [
        "simulate",
        "--criteria",
        str(folder / "draft.yaml"),
        "--baseline",
        str(folder / "base.yaml"),
        "--leads",
        str(folder / "leads.csv"),
        *extra,
    ]


def test_command_line_json(fixture_files, capsys):
    assert main(_arguments(fixture_files, "--capacity", "3")) == 0

    document = json.loads(capsys.readouterr().out)
    assert document["baseline"]["stages"]["mql"] == 1
    assert document["draft"]["stages"]["sql"] == 3
    assert document["flips"]["count"] == 3
    assert document["load"]["draft"]["weeks_over_capacity"] == 1


def test_command_line_markdown_to_a_file(fixture_files):
    out = fixture_files / "summary.md"

    code = main(_arguments(fixture_files, "--format", "markdown", "--out", str(out)))

    assert code == 0
    assert "| SQLs | 2 | 3 | +1 (+50.0%) |" in out.read_text(encoding="utf-8")


def test_command_line_refuses_bad_input(fixture_files, capsys):
    (fixture_files / "draft.yaml").write_text("kind: lead-criteria\n", encoding="utf-8")

    assert main(_arguments(fixture_files)) == 1
    assert "draft.yaml" in capsys.readouterr().err


def test_command_line_refuses_a_negative_capacity(fixture_files, capsys):
    assert main(_arguments(fixture_files, "--capacity", "-5")) == 1
    assert "--capacity must be a positive number" in capsys.readouterr().err


def test_markdown_for_the_shipped_draft(tmp_path):
    published = ROOT / "criteria" / "erp-lead-stages" / "1.0.0.yaml"
    drafts = sorted((published.parent / "drafts").glob("*.yaml"))
    sample = ROOT / "sample_leads" / "leads.csv"
    if not (published.exists() and drafts and sample.exists()):
        pytest.skip("the shipped draft, published version or sample is not there yet")

    simulation = simulate(
        load_criteria(drafts[0]), load_criteria(published), load_leads(sample), 60
    )
    text = render_markdown(simulation)

    assert "### Headline" in text
    assert f"| MQLs (stage mql or sql) | {simulation.baseline.mql:,} |" in text
    assert "### Caveats" in text
    if simulation.flips.count:
        assert simulation.flips.listed[0].reason in text
