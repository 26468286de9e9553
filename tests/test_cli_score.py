"""``python -m leadsim score``: output columns, exit codes, bad lead tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from leadsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "criteria" / "erp-lead-stages" / "1.0.0.yaml"
SAMPLE = ROOT / "sample_leads" / "leads.csv"
COLUMNS = [
    "lead_id",
    "fit_score",
    "engagement_score",
    "total_score",
    "stage",
    "mql_via",
    "sql_via",
    "queue",
    "follow_up_days",
    "matched_rules",
]


def test_score_writes_one_row_per_lead_with_the_brief_columns(tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"

    code = main(
        [
            "score",
            "--criteria",
            str(PUBLISHED),
            "--leads",
            str(SAMPLE),
            "--out",
            str(out),
        ]
    )

    scored = pd.read_csv(out, keep_default_na=False)
    assert code == 0
    assert list(scored.columns) == COLUMNS
    assert len(scored) == 20_000 and scored["lead_id"].is_unique
    assert set(scored["stage"]) <= {"disqualified", "lead", "mql", "sql"}
    mql = scored["stage"] == "mql"
    assert set(scored.loc[mql, "mql_via"]) <= {"threshold", "fast_track"}
    assert (scored.loc[scored["stage"] == "sql", "sql_via"] != "").all()
    assert (scored["queue"] != "").all()


def _sample_rows(count: int) -> str:
    return "".join(SAMPLE.read_text().splitlines(keepends=True)[: count + 1])


def _text_in_employees() -> str:
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False, nrows=5)
    frame.loc[2, "employees"] = "about 500"
    return frame.to_csv(index=False)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param(b"", "empty", id="empty"),
        pytest.param(_sample_rows(0).encode(), "no leads", id="header-only"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff", "", id="binary"),
        pytest.param(
            _sample_rows(3).replace("lead_id", "lead_ident", 1).encode(),
            "id column 'lead_id'",
            id="missing-id-column",
        ),
        pytest.param(
            (_sample_rows(3) + _sample_rows(1).splitlines()[1] + "\n").encode(),
            "must be unique",
            id="duplicate-ids",
        ),
        pytest.param(_text_in_employees().encode(), "'about 500'", id="text-in-number"),
    ],
)
def test_bad_lead_tables_exit_1_with_a_message_and_no_traceback(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    data = tmp_path / "leads.csv"
    data.write_bytes(content)
    profile = ROOT / "sample_leads" / "profile.yaml"

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "leadsim",
            "score",
            "--criteria",
            str(PUBLISHED),
            "--leads",
            str(data),
            "--profile",
            str(profile),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )

    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert str(data) in run.stderr
    assert fragment.lower() in run.stderr.lower()


def test_missing_argument_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["score", "--leads", str(SAMPLE)])
    assert exited.value.code == 2
    assert "--criteria" in capsys.readouterr().err
