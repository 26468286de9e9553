"""Reading raw exports: encodings, delimiters, formats and bad files."""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from leadsim import importer
from leadsim.errors import DataError
from leadsim.importer import (
    detect_delimiter,
    detect_encoding,
    neutralise_formulas,
    read_table,
)


def write(tmp_path: Path, content: bytes, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def message_of(error: pytest.ExceptionInfo[DataError]) -> str:
    return "\n".join(problem.message for problem in error.value.problems)


@pytest.mark.parametrize(
    ("content", "expected_company"),
    [
        pytest.param("id,company\n1,Müller AG\n".encode(), "Müller AG", id="utf-8"),
        pytest.param(
            b"\xef\xbb\xbf" + "id,company\n1,Müller AG\n".encode(),
            "Müller AG",
            id="utf-8-bom",
        ),
        pytest.param(
            "id,company\n1,Müller – AG €\n".encode("cp1252"),
            "Müller – AG €",
            id="windows-1252",
        ),
        pytest.param(
            "id,company\n1,Müller AG\n".encode("utf-16"), "Müller AG", id="utf-16"
        ),
    ],
)
def test_encodings_are_detected(
    tmp_path: Path, content: bytes, expected_company: str
) -> None:
    frame = read_table(write(tmp_path, content))

    assert list(frame.columns) == ["id", "company"]
    assert frame.loc[0, "company"] == expected_company


@pytest.mark.parametrize(
    ("delimiter",),
    [(",",), (";",), ("\t",), ("|",)],
    ids=["comma", "semicolon", "tab", "pipe"],
)
def test_delimiters_are_detected(tmp_path: Path, delimiter: str) -> None:
    rows = [["Lead ID", "Company", "Employees"], ["007", "Acme, Inc", "1.5"]]
    text = "\n".join(delimiter.join(f'"{cell}"' for cell in row) for row in rows)

    frame = read_table(write(tmp_path, text.encode()))

    assert list(frame.columns) == ["Lead ID", "Company", "Employees"]
    assert frame.iloc[0].tolist() == ["007", "Acme, Inc", "1.5"]


def test_cells_stay_raw_text(tmp_path: Path) -> None:
    content = (
        b'id,score,note,flag\r\n007,,"two\r\nlines",NA\r\n008,-3,=SUM(A1:A2),null\r\n'
    )

    frame = read_table(write(tmp_path, content))

    assert frame["id"].tolist() == ["007", "008"]
    assert frame["score"].tolist() == ["", "-3"]
    assert frame["note"].tolist() == ["two\r\nlines", "=SUM(A1:A2)"]
    assert frame["flag"].tolist() == ["NA", "null"]


def test_progress_is_reported_up_to_one(tmp_path: Path) -> None:
    seen: list[float] = []
    path = write(tmp_path, b"id\n" + b"".join(b"%d\n" % n for n in range(1000)))

    frame = read_table(path, progress=seen.append)

    assert len(frame) == 1000
    assert seen == sorted(seen)
    assert seen[-1] == 1.0


def test_parquet_becomes_text(tmp_path: Path) -> None:
    source = pd.DataFrame(
        {
            "lead_id": ["a", "b"],
            "employees": [250, 1200],
            "score": [1.5, None],
            "created_at": pd.to_datetime(["2026-01-05", "2026-02-01"]),
            "won": [True, False],
        }
    )
    path = tmp_path / "leads.parquet"
    source.to_parquet(path)

    frame = read_table(path)

    assert frame.to_dict("list") == {
        "lead_id": ["a", "b"],
        "employees": ["250", "1200"],
        "score": ["1.5", ""],
        "created_at": ["2026-01-05", "2026-02-01"],
        "won": ["true", "false"],
    }


def test_excel_first_sheet_becomes_text(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Lead ID", "Created Date", "No. of Employees", "Converted"])
    sheet.append(["L-1", datetime.datetime(2026, 3, 2), 40, True])
    sheet.append(["L-2", None, 2.5, False])
    path = tmp_path / "leads.xlsx"
    workbook.save(path)

    frame = read_table(path)

    assert frame.to_dict("list") == {
        "Lead ID": ["L-1", "L-2"],
        "Created Date": ["2026-03-02", ""],
        "No. of Employees": ["40", "2.5"],
        "Converted": ["true", "false"],
    }


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"\n\n  \n", "the file is empty", id="blank-lines"),
        pytest.param(b"id,company\n", "header row but no leads", id="header-only"),
        pytest.param(
            b"id,company,id\n1,a,2\n",
            "'id' appears twice (columns 1 and 3)",
            id="duplicate-header",
        ),
        pytest.param(
            b"id,,company\n1,x,a\n",
            "column 2 has values but no header",
            id="blank-header",
        ),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image", id="png"),
        pytest.param(bytes(range(256)) * 4, "looks like a binary file", id="binary"),
        pytest.param(
            b"id,company\n1,caf\x81\x8d\n",
            "neither UTF-8 nor Windows-1252",
            id="bad-encoding",
        ),
        pytest.param(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "old Excel (.xls)",
            id="xls",
        ),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = write(tmp_path, content)

    with pytest.raises(DataError) as error:
        read_table(path)

    assert expected in message_of(error)
    assert error.value.problems[0].file == str(path)


def test_ragged_rows_are_listed_with_their_row_numbers(tmp_path: Path) -> None:
    content = b"id,company,industry\n1,a,x\n2,b\n3,c,y,extra\n4,d,z\n"

    with pytest.raises(DataError) as error:
        read_table(write(tmp_path, content))

    assert [problem.line for problem in error.value.problems] == [3, 4]
    assert "row 3 has 2 fields but the header has 3" in message_of(error)
    assert "row 4 has 4 fields but the header has 3" in message_of(error)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="this is a folder; choose"):
        read_table(tmp_path)
    with pytest.raises(DataError, match="not a regular file"):
        read_table("/dev/null")


def test_size_limit_names_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_BYTES", 1024 * 1024)
    path = write(tmp_path, b"id\n" + b"1\n" * (600 * 1024))

    with pytest.raises(DataError, match="reads files up to 1 MB"):
        read_table(path)


def test_empty_unnamed_trailing_column_is_dropped(tmp_path: Path) -> None:
    frame = read_table(write(tmp_path, b"id,company,\n1,a,\n2,b,\n"))

    assert list(frame.columns) == ["id", "company"]


def test_detect_encoding_prefers_utf8() -> None:
    assert detect_encoding("é".encode()) == "utf-8"
    assert detect_encoding("é".encode("cp1252")) == "cp1252"


def test_detect_delimiter_trusts_the_header() -> None:
    assert detect_delimiter("a;b;c\n1;2,5;3\n") == ";"
    assert detect_delimiter("only\n1\n") == ","


def test_neutralise_formulas_quotes_formulas_but_not_numbers() -> None:
    frame = pd.DataFrame(
        {
            "note": ["=HYPERLINK(1)", "+cmd", "-2+3", "@SUM(A1)", "plain", "-5"],
            "count": [1, 2, 3, 4, 5, 6],
        }
    )

    safe = neutralise_formulas(frame)

    assert safe["note"].tolist() == [
        "'=HYPERLINK(1)",
        "'+cmd",
        "'-2+3",
        "'@SUM(A1)",
        "plain",
        "-5",
    ]
    assert safe["count"].tolist() == [1, 2, 3, 4, 5, 6]
    assert frame["note"].iloc[0] == "=HYPERLINK(1)"


def test_find_tables_lists_tables_only(tmp_path: Path) -> None:
    for name in ["b.csv", "a.xlsx", "notes.md", "a.profile.yaml", ".hidden/x.csv"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.parquet").write_text("x")

    found = importer.find_tables(tmp_path)

    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.xlsx",
        "b.csv",
        "sub/c.parquet",
    ]
    assert importer.find_tables(tmp_path / "absent") == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("HubSpot export (May).csv", "HubSpot_export_May_.csv"),
        ("../../etc/passwd", "passwd.csv"),
        ("C:\\Users\\me\\leads.xlsx", "leads.xlsx"),
        ("...", "upload.csv"),
    ],
)
def test_upload_name_is_safe(name: str, expected: str) -> None:
    assert importer.upload_name(name) == expected


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "leads.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")

    with pytest.raises(DataError, match="the workbook cannot be read"):
        read_table(path)


def test_categorical_cells_that_look_like_formulas_are_neutralised() -> None:
    import pandas as pd

    from leadsim.importer import neutralise_formulas

    frame = pd.DataFrame({"queue": pd.Categorical(["=cmd()", "sdr", "=cmd()"])})

    safe = neutralise_formulas(frame)

    assert safe["queue"].tolist() == ["'=cmd()", "sdr", "'=cmd()"]
    assert frame["queue"].tolist()[0] == "=cmd()"
