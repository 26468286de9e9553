"""Read a raw lead export into a frame of text cells.

CSV (any of ``, ; TAB |`` as delimiter; UTF-8, UTF-8 with a byte order mark,
UTF-16 with a byte order mark or Windows-1252), Parquet and Excel (``.xlsx``)
all come back the same way: one column per header, in file order, every cell
as text, empty cells as ``""``. Deciding what is missing, a number or a date is
the dataset profile's job, not the reader's.

Whatever is wrong with a file is raised as one :class:`DataError` whose
message says what to change.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pa_parquet

from leadsim.errors import DataError, Problem

logger = logging.getLogger(__name__)

MAX_BYTES = 500 * 1024 * 1024
"""Largest file read_table accepts. Bigger exports should be cut down first."""

DELIMITERS = ",;\t|"
CHUNK_BYTES = 4 * 1024 * 1024
SNIFF_CHARS = 64 * 1024
MAX_REPORTED_ROWS = 10

ProgressCallback = Callable[[float], None]
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx")

# Magic numbers of formats that are not text tables, so that a renamed file
# gets a message about what it really is instead of a parse error.
_ZIP = b"PK\x03\x04"
_PARQUET = b"PAR1"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OTHER_BINARY = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"SQLite format 3": "an SQLite database",
}
_FORMULA_START = r"^[=+\-@\t\r]"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def read_table(
    path: str | Path, progress: ProgressCallback | None = None
) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel file with every cell as raw text.

    Headers are kept as written (no renaming, duplicates refused); empty cells
    are empty strings, because what counts as missing is the profile's
    decision. ``progress``, when given, is called with the fraction read so
    far (0.0 to 1.0) while a large file is read, and with 1.0 at the end.

    Raises :class:`DataError` for a missing, empty, oversized, binary or
    undecodable file, a header without rows, ragged rows and duplicate or
    blank headers.
    """
    path = Path(path)
    report = progress or (lambda fraction: None)
    started = time.perf_counter()

    raw = _read_bytes(path, report)
    frame = _parse(raw, path, report)
    frame = _check_headers(frame, str(path))
    if frame.empty:
        raise DataError.single(
            "the file has a header row but no leads; export the rows too",
            file=str(path),
        )

    report(1.0)
    logger.info(
        "Read %s rows and %s columns from %s in %.2f s",
        len(frame),
        len(frame.columns),
        path,
        time.perf_counter() - started,
    )
    return frame


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy where text cells that a spreadsheet would run are inert.

    A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return gets a leading single quote, so that opening an exported CSV in a
    spreadsheet shows the text instead of evaluating it. Plain numbers such
    as ``-5`` or ``+3.2`` are left alone. Use this on every frame written for
    download; the frame passed in is not changed.
    """
    safe = frame.copy()
    for name in safe.columns:
        column = safe[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            # Few distinct values: make the categories themselves inert.
            categories = pd.Series(column.cat.categories, dtype=object)
            inert = neutralise_formulas(categories.to_frame())[0]
            safe[name] = column.cat.rename_categories(list(inert))
            continue
        if not (
            pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)
        ):
            continue
        text = column.astype("string")
        risky = text.str.contains(_FORMULA_START, regex=True, na=False)
        risky &= ~text.str.fullmatch(_PLAIN_NUMBER, na=False)
        if risky.any():
            safe[name] = column.astype(object).where(~risky, "'" + text.astype(object))
    return safe


def find_tables(folder: str | Path, recursive: bool = True) -> list[Path]:
    """Lead tables in a folder (CSV, TSV, TXT, Parquet, Excel), sorted by path.

    Compressed files and anything hidden are left out.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    pattern = "**/*" if recursive else "*"
    return sorted(
        path
        for path in folder.glob(pattern)
        if path.is_file()
        and path.suffix.lower() in TABLE_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def upload_name(name: str) -> str:
    """A safe file name for an uploaded table: no folders, plain characters.

    Keeps letters, digits, dot, dash and underscore; a name without a table
    suffix gets ``.csv``.
    """
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "upload"
    if Path(cleaned).suffix.lower() not in TABLE_SUFFIXES:
        cleaned += ".csv"
    return cleaned


def detect_encoding(raw: bytes) -> str:
    """Name the encoding of a text export: utf-16, utf-8-sig, utf-8 or cp1252.

    Tries strict decodes in order, so a file that is valid UTF-8 is read as
    UTF-8. Raises :class:`DataError` when none of them fits.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"

    for encoding in ("utf-8", "cp1252"):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    raise DataError.single(
        "the text is neither UTF-8 nor Windows-1252; save the export as "
        "'CSV UTF-8' and try again"
    )


def detect_delimiter(sample: str) -> str:
    """Guess the delimiter of a CSV sample among ``, ; TAB |``.

    Uses :class:`csv.Sniffer` and checks its answer against the header line;
    when sniffing fails, takes the candidate the header contains most often.
    A one-column file reads as comma-separated.
    """
    header = sample.split("\n", 1)[0]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and sniffed in header:
        return sniffed

    counts = {candidate: header.count(candidate) for candidate in DELIMITERS}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _read_bytes(path: Path, report: ProgressCallback) -> bytes:
    """Read the whole file in chunks, checking existence and size first."""
    if not path.exists():
        raise DataError.single("file not found; check the path", file=str(path))
    if not path.is_file():
        what = "a folder" if path.is_dir() else "not a regular file"
        raise DataError.single(
            f"this is {what}; choose a CSV, Parquet or Excel file",
            file=str(path),
        )

    size = path.stat().st_size
    if size > MAX_BYTES:
        raise DataError.single(
            f"the file is {size / 1024**2:,.0f} MB; leadsim reads files up to "
            f"{MAX_BYTES // 1024**2} MB. Export fewer columns or a shorter period",
            file=str(path),
        )

    chunks = []
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            chunks.append(chunk)
            done += len(chunk)
            # Reading is the first half of the work; parsing is the second.
            report(0.5 * done / max(size, 1))
    return b"".join(chunks)


def _parse(raw: bytes, path: Path, report: ProgressCallback) -> pd.DataFrame:
    """Pick the parser from the file's content, then its name."""
    source = str(path)
    if not raw or raw.isspace():
        raise DataError.single(
            "the file is empty; export the leads with a header row", file=source
        )

    if raw.startswith(_PARQUET):
        return _read_parquet(raw, source)
    if raw.startswith(_ZIP):
        return _read_excel(raw, source)
    if raw.startswith(_OLE):
        raise DataError.single(
            "this is an old Excel (.xls) workbook; save it as .xlsx or CSV",
            file=source,
        )
    for magic, what in _OTHER_BINARY.items():
        if raw.startswith(magic):
            raise DataError.single(
                f"this is {what}, not a lead table; choose a CSV, Parquet or "
                "Excel file",
                file=source,
            )
    return _read_csv(raw, source, report)


def _read_csv(raw: bytes, source: str, report: ProgressCallback) -> pd.DataFrame:
    """Decode, sniff the delimiter and parse a delimited text file."""
    encoding = _encoding_of(raw, source)
    if encoding == "utf-8":
        # Already checked as UTF-8: only the head needs decoding, and a
        # second copy of a large file in memory is avoided.
        utf8 = raw
        head = raw[: SNIFF_CHARS * 4].decode("utf-8", errors="ignore")[:SNIFF_CHARS]
    else:
        text = raw.decode(encoding)
        utf8 = text.encode("utf-8")
        head = text[:SNIFF_CHARS]
        del text
    if _looks_binary(head):
        raise _binary(source)

    sample = head.replace("\r\n", "\n").replace("\r", "\n")
    delimiter = detect_delimiter(sample)
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    logger.debug(
        "%s: encoding %s, delimiter %r, %s columns",
        source,
        encoding,
        delimiter,
        len(header),
    )
    if not header:
        raise DataError.single(
            "the first line is blank; the header row must come first", file=source
        )

    table, ragged = _parse_csv(utf8, delimiter, len(header), report, threads=True)
    if ragged:
        # Parallel parsing does not know row numbers; parse again to name them.
        _, ragged = _parse_csv(utf8, delimiter, len(header), report, threads=False)
        raise DataError([_ragged(source, *row) for row in ragged[:MAX_REPORTED_ROWS]])
    if table.num_rows == 0:
        raise DataError.single(
            "the file has a header row but no leads; export the rows too",
            file=source,
        )

    cells = table.to_pandas()
    frame = cells.iloc[1:].reset_index(drop=True)
    frame.columns = [str(name) for name in cells.iloc[0]]
    return frame


def _encoding_of(raw: bytes, source: str) -> str:
    """detect_encoding, with the file name in its error."""
    try:
        return detect_encoding(raw)
    except DataError as error:
        # Many NUL bytes without a UTF-16 mark mean a binary file, not text.
        if raw[:SNIFF_CHARS].count(b"\x00") > 0:
            raise _binary(source) from None
        raise DataError.single(error.problems[0].message, file=source) from None


def _parse_csv(
    utf8: bytes,
    delimiter: str,
    width: int,
    report: ProgressCallback,
    threads: bool,
) -> tuple[pa.Table, list[tuple[int, int, int]]]:
    """Parse UTF-8 CSV bytes into string columns, collecting ragged rows."""
    ragged: list[tuple[int, int, int]] = []

    def note_ragged(row: pa_csv.InvalidRow) -> str:
        ragged.append((row.number or 0, row.expected_columns, row.actual_columns))
        return "skip"

    names = [f"c{index}" for index in range(width)]
    read_options = pa_csv.ReadOptions(
        column_names=names, use_threads=threads, block_size=CHUNK_BYTES
    )
    parse_options = pa_csv.ParseOptions(
        delimiter=delimiter,
        # Line breaks inside values need quotes; without any, skip the
        # slower quote-aware line splitting.
        newlines_in_values=b'"' in utf8,
        invalid_row_handler=note_ragged,
    )
    convert_options = pa_csv.ConvertOptions(
        # pandas keeps text as large_string; reading it so skips a cast of
        # every column (a second per million leads).
        column_types=dict.fromkeys(names, pa.large_string()),
        null_values=[],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    if threads:
        # One parallel parse is more than twice as fast as a stream of
        # batches; progress then covers reading the bytes and the end.
        table = pa_csv.read_csv(
            io.BytesIO(utf8),
            read_options=read_options,
            parse_options=parse_options,
            convert_options=convert_options,
        )
        return table, sorted(ragged)

    # The stream's position tells how far the parser has got.
    counter = io.BytesIO(utf8)
    reader = pa_csv.open_csv(
        counter,
        read_options=read_options,
        parse_options=parse_options,
        convert_options=convert_options,
    )
    batches = []
    for batch in reader:
        batches.append(batch)
        report(0.5 + 0.5 * counter.tell() / max(len(utf8), 1))
    return pa.Table.from_batches(batches, schema=reader.schema), ragged


def _ragged(source: str, row: int, expected: int, actual: int) -> Problem:
    """One ragged row as a problem with its row number."""
    return Problem(
        f"row {row} has {actual} fields but the header has {expected}; "
        "fix the delimiters or quotes on that row",
        file=source,
        line=row,
    )


def _looks_binary(sample: str) -> bool:
    """True when a decoded sample holds NUL or many other control characters."""
    if "\x00" in sample:
        return True
    controls = len(_CONTROL.findall(sample))
    return controls > max(len(sample) // 100, 2)


def _binary(source: str) -> DataError:
    """The error for a file that is not text."""
    return DataError.single(
        "this looks like a binary file, not a text table; choose a CSV, "
        "Parquet or Excel file",
        file=source,
    )


def _read_parquet(raw: bytes, source: str) -> pd.DataFrame:
    """Read a Parquet file and turn every column into text."""
    try:
        table = pa_parquet.read_table(pa.BufferReader(raw))
    except (pa.ArrowException, OSError) as error:
        raise DataError.single(
            f"the Parquet file cannot be read ({error}); export it again",
            file=source,
        ) from None
    frame = table.to_pandas()
    return _as_text(frame, [str(name) for name in table.column_names])


def _read_excel(raw: bytes, source: str) -> pd.DataFrame:
    """Read the first sheet of an .xlsx workbook, first row as header."""
    try:
        sheet = pd.read_excel(
            io.BytesIO(raw), header=None, dtype=object, engine="openpyxl"
        )
    except Exception as error:  # openpyxl raises many types for bad workbooks
        raise DataError.single(
            f"the workbook cannot be read ({type(error).__name__}); save it "
            "again as .xlsx or CSV",
            file=source,
        ) from None
    if sheet.empty:
        raise DataError.single(
            "the first sheet is empty; put the leads on the first sheet, "
            "header row first",
            file=source,
        )

    sheet = _as_text(sheet, [str(name) for name in sheet.columns])
    header = [cell for cell in sheet.iloc[0]]
    frame = sheet.iloc[1:].reset_index(drop=True)
    frame.columns = header
    return frame


def _as_text(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Every column as text the way a CSV export would have written it."""
    columns = {}
    for position, name in enumerate(frame.columns):
        columns[position] = _column_text(frame[name])
    result = pd.DataFrame(columns)
    result.columns = names
    return result


def _column_text(column: pd.Series) -> pd.Series:
    """One column as text: ISO dates, true/false, whole numbers without .0."""
    missing = column.isna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(column):
        stamps = pd.to_datetime(column)
        at_midnight = (stamps.dropna() == stamps.dropna().dt.normalize()).all()
        text = stamps.dt.strftime("%Y-%m-%d" if at_midnight else "%Y-%m-%dT%H:%M:%S")
    elif pd.api.types.is_bool_dtype(column):
        text = column.map({True: "true", False: "false"})
    elif pd.api.types.is_numeric_dtype(column):
        text = pd.Series(_number_text(column.to_numpy(dtype=float)), index=column.index)
    else:
        text = column.map(_cell_text)
    return pd.Series(np.where(missing, "", text.astype(object)), dtype=object)


def _number_text(values: np.ndarray) -> np.ndarray:
    """Whole numbers without a trailing .0, others as repr."""
    whole = np.isfinite(values) & (values == np.round(values))
    text = values.astype(str)
    text[whole] = values[whole].astype(np.int64).astype(str)
    return text


def _cell_text(cell: object) -> str:
    """Text of one cell of a mixed column (Excel, Parquet lists)."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, (datetime.datetime, pd.Timestamp)):
        if cell.time() == datetime.time():
            return cell.strftime("%Y-%m-%d")
        return cell.isoformat()
    if isinstance(cell, datetime.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, (list, tuple, np.ndarray)):
        return ";".join(_cell_text(item) for item in cell)
    return str(cell)


def _check_headers(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Refuse duplicate headers; name or drop blank ones."""
    names = [str(name).strip() for name in frame.columns]
    keep = []
    problems = []
    for position, name in enumerate(names):
        if name:
            keep.append(position)
            continue
        if (frame.iloc[:, position].astype(str).str.strip() != "").any():
            problems.append(
                Problem(
                    f"column {position + 1} has values but no header; "
                    "give it a name in the header row",
                    file=source,
                    line=1,
                )
            )
        else:
            logger.info("Dropped empty column %s without a header", position + 1)

    seen: dict[str, int] = {}
    for position in keep:
        name = names[position]
        if name in seen:
            problems.append(
                Problem(
                    f"header {name!r} appears twice (columns "
                    f"{seen[name] + 1} and {position + 1}); rename one of them",
                    file=source,
                    line=1,
                    column=position + 1,
                )
            )
        else:
            seen[name] = position
    if problems:
        raise DataError(problems)

    frame = frame.iloc[:, keep].copy()
    frame.columns = [names[position] for position in keep]
    return frame
