"""``python -m leadsim validate`` and ``schema``: output, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from leadsim.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = Path(__file__).parent / "criteria_examples"
VALID = sorted((EXAMPLES / "valid").glob("*.yaml"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.yaml"))
SHIPPED = sorted((REPO / "criteria").glob("**/*.yaml"))
BRIEF = EXAMPLES / "valid" / "product-brief.yaml"
SMALL_TEAM = EXAMPLES / "valid" / "small-team.yaml"


def run(*argv: str) -> tuple[int, str, str]:
    """Run ``python -m leadsim`` in a fresh process: exit code, stdout, stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "leadsim", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    return result.returncode, result.stdout, result.stderr


def test_validate_reports_ok_with_id_version_and_counts(capsys) -> None:
    status = main(["validate", str(SMALL_TEAM)])

    out, err = capsys.readouterr()
    assert status == 0
    assert out == f"ok: {SMALL_TEAM} (small-team 0.1.0, 3 rules, 1 route)\n"
    assert err == ""


def test_warnings_go_to_stderr_and_keep_exit_code_zero(capsys) -> None:
    status = main(["validate", str(BRIEF)])

    out, err = capsys.readouterr()
    assert status == 0
    assert out == f"ok: {BRIEF} (erp-lead-stages 1.2.0, 7 rules, 3 routes)\n"
    assert err.startswith(f"{BRIEF}:27:15: warning: the total threshold 60 cannot")


@pytest.mark.parametrize("path", INVALID, ids=[path.stem for path in INVALID])
def test_every_invalid_example_exits_1_with_located_lines(capsys, path: Path) -> None:
    status = main(["validate", str(path)])

    out, err = capsys.readouterr()
    expected = path.read_bytes().split(b"\n", 1)[0].decode()[len("# expect: ") :]
    assert status == 1
    assert out == ""
    assert f"{path}:{expected}" in err
    assert "Traceback" not in err


def test_all_files_are_checked_and_one_bad_file_fails_the_run(capsys) -> None:
    bad = EXAMPLES / "invalid" / "zero-points.yaml"

    status = main(["validate", str(bad), str(SMALL_TEAM), "missing.yaml"])

    out, err = capsys.readouterr()
    assert status == 1
    assert out == f"ok: {SMALL_TEAM} (small-team 0.1.0, 3 rules, 1 route)\n"
    lines = err.splitlines()
    assert lines[0].startswith(f"{bad}:23:9: rule 'webinar' gives 0 points")
    assert lines[1].startswith(f"{bad}:26:5: warning: the total threshold 30")
    assert lines[2] == (
        "missing.yaml: file not found; check the path and the current directory"
    )
    assert len(lines) == 3


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        pytest.param("python-object-tag", ":6:8: the tag '!!python/object", id="tag"),
        pytest.param(
            "alias-bomb", "9:12: the document expands to more than 100,000", id="bomb"
        ),
        pytest.param("deep-nesting", ":2:63: nesting deeper than 50", id="deep"),
        pytest.param("tab-indentation", ":16:1: a tab is used", id="tab"),
    ],
)
def test_hostile_input_through_the_real_entry_point(name: str, fragment: str) -> None:
    path = EXAMPLES / "invalid" / f"{name}.yaml"

    status, out, err = run("validate", str(path))

    assert (status, out) == (1, "")
    assert fragment in err
    assert "Traceback" not in err


def test_a_50_megabyte_file_fails_with_a_clear_message(tmp_path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("w") as handle:
        handle.write("kind: lead-criteria\nlists:\n  big:\n")
        chunk = "    - manufacturing-and-distribution-and-wholesale\n" * 20_000
        while handle.tell() < 50_000_000:
            handle.write(chunk)

    status, out, err = run("validate", str(path))

    assert (status, out) == (1, "")
    assert err.startswith(f"{path}: the file is 5")
    assert "MB, over the 2.0 MB limit for this kind of file" in err


def test_missing_file_and_directory(tmp_path) -> None:
    status, out, err = run("validate", str(tmp_path / "nope.yaml"), str(tmp_path))

    assert (status, out) == (1, "")
    assert err.splitlines() == [
        f"{tmp_path / 'nope.yaml'}: file not found; check the path and the current "
        "directory",
        f"{tmp_path}: this is a directory; give the path of a YAML file",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["validate"], id="no-files"),
        pytest.param(["validate", "--nope", "x.yaml"], id="unknown-option"),
        pytest.param(["frobnicate"], id="unknown-command"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)

    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_profile_without_leads_is_refused(capsys) -> None:
    status = main(["validate", str(SMALL_TEAM), "--profile", "p.yaml"])

    assert status == 1
    assert "--profile needs --leads DATA" in capsys.readouterr().err


def test_a_bug_is_one_line_without_verbose(monkeypatch, capsys) -> None:
    import leadsim.criteria

    def broken(path: str) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(leadsim.criteria, "load_criteria", broken)

    status = main(["validate", "x.yaml"])

    assert status == 1
    assert capsys.readouterr().err == (
        "internal error: ZeroDivisionError: division by zero; this is a leadsim "
        "bug, not your input: rerun with --verbose and report the output\n"
    )
    with pytest.raises(ZeroDivisionError):
        main(["--verbose", "validate", "x.yaml"])


def test_schema_prints_the_packaged_json_schema(capsys) -> None:
    status = main(["schema"])

    schema = json.loads(capsys.readouterr().out)
    assert status == 0
    assert schema["properties"]["kind"]["const"] == "lead-criteria"
    assert schema["required"][:4] == ["kind", "schema_version", "id", "version"]


def fake_leads(**kinds: str) -> SimpleNamespace:
    columns = {name: SimpleNamespace(kind=kind) for name, kind in kinds.items()}
    return SimpleNamespace(columns=columns, source="history.csv")


def test_validate_against_leads(monkeypatch, capsys) -> None:
    import leadsim.dataset

    calls = []

    def load_leads(path: str, profile_path: str | None = None) -> SimpleNamespace:
        calls.append((path, profile_path))
        leads = fake_leads(industry="text", webinar_attended="number")
        leads.check_fields = lambda names: []
        return leads

    monkeypatch.setattr(leadsim.dataset, "load_leads", load_leads)

    status = main(
        ["validate", str(SMALL_TEAM), "--leads", "h.csv", "--profile", "h.yaml"]
    )

    out, err = capsys.readouterr()
    assert calls == [("h.csv", "h.yaml")]
    assert status == 1
    assert out == ""
    assert err == (
        f"{SMALL_TEAM}:31:14: field 'discovery_call_agreed' is not in history.csv "
        "(at sql.require[0].when.field)\n"
    )


def write_history(folder: Path, webinar_cell: str) -> tuple[Path, Path]:
    """A 21-lead table and its profile; one webinar count is ``webinar_cell``."""
    rows = ["lead_id,created_at,industry,webinar_attended,discovery_call_agreed"]
    rows += [f"L{n},2026-01-05,Manufacturing,{n % 3},yes" for n in range(20)]
    rows.append(f"L99,2026-01-06,Retail,{webinar_cell},no")
    data = folder / "history.csv"
    data.write_text("\n".join(rows) + "\n")
    profile = folder / "history.profile.yaml"
    profile.write_text(
        "kind: lead-dataset\nid_column: lead_id\ncreated_column: created_at\n"
        "as_of: 2026-06-30\ntypes: {webinar_attended: number}\n"
    )
    return data, profile


def test_validate_against_a_real_table(tmp_path, capsys) -> None:
    data, profile = write_history(tmp_path, "4")

    status = main(
        ["validate", str(SMALL_TEAM), "--leads", str(data), "--profile", str(profile)]
    )

    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    assert out.startswith(f"ok: {SMALL_TEAM} (small-team 0.1.0")


def test_text_in_a_number_column_used_by_a_rule_is_reported(tmp_path, capsys) -> None:
    data, profile = write_history(tmp_path, "lots")

    status = main(
        ["validate", str(SMALL_TEAM), "--leads", str(data), "--profile", str(profile)]
    )

    out, err = capsys.readouterr()
    assert (status, out) == (1, "")
    assert err.startswith(f"{data}: column 'webinar_attended' should hold number")
    assert "'lots'" in err


@pytest.mark.parametrize("path", VALID, ids=[path.stem for path in VALID])
def test_every_valid_example_passes(path: Path, capsys) -> None:
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {path} (")


@pytest.mark.skipif(not SHIPPED, reason="no criteria files shipped under criteria/")
@pytest.mark.parametrize(
    "path", SHIPPED, ids=[str(path.relative_to(REPO)) for path in SHIPPED]
)
def test_shipped_criteria_files_validate(path: Path, capsys) -> None:
    status = main(["validate", str(path)])

    out, err = capsys.readouterr()
    assert status == 0, err
    assert out.startswith(f"ok: {path} (")
