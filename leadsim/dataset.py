"""Historical leads, prepared once so that every evaluation is column work.

A lead table arrives as raw text cells. :func:`prepare_leads` turns each field
into a :class:`Column` once per dataset: text is trimmed and lower-cased,
placeholders become missing, numbers, dates and booleans are parsed, and list
cells are split. Text and list fields are stored as integer codes into their
distinct values, so a condition is judged once per distinct value and then
looked up for every lead; this is what keeps a workshop edit instant.

The :class:`Profile` says how to read a table: which column is the id, which
are outcomes and segments, which hold lists, what counts as missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from leadsim.errors import DataError, Problem, raise_if_errors

logger = logging.getLogger(__name__)

KINDS = ("number", "date", "boolean", "text", "list")
TRUE_TOKENS = frozenset({"true", "yes", "1", "y", "t"})
FALSE_TOKENS = frozenset({"false", "no", "0", "n", "f"})
# "none" and "unknown" are real answers in CRM fields (budget, decision role),
# so they are not missing unless a profile says so.
DEFAULT_MISSING = ["", "N/A", "n/a", "NA", "-", "null"]
EPOCH = dt.date(1970, 1, 1)
OUTCOME_ROLES = ("opportunity", "won", "amount", "worked")
PROFILE_KEYS = frozenset(
    {
        "kind",
        "id_column",
        "created_column",
        "account_column",
        "as_of",
        "list_columns",
        "missing_values",
        "outcomes",
        "segments",
        "rename",
        "types",
    }
)


@dataclass
class Profile:
    """How to read one lead table (the ``kind: lead-dataset`` file)."""

    id_column: str = "lead_id"
    created_column: str | None = None
    account_column: str | None = None
    as_of: dt.date | None = None
    list_columns: dict[str, str] = field(default_factory=dict)
    missing_values: list[str] = field(default_factory=lambda: list(DEFAULT_MISSING))
    outcomes: dict[str, str] = field(default_factory=dict)
    segments: list[str] = field(default_factory=list)
    rename: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The profile as the YAML document it is saved as."""
        document: dict[str, Any] = {"kind": "lead-dataset"}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "source" or value in (None, {}, []):
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            document[item.name] = value
        return document

    def to_yaml(self) -> str:
        """Render the profile as YAML, keys in a stable order."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


@dataclass
class Column:
    """One prepared field.

    Numbers, dates (day numbers since 1970-01-01) and booleans (1.0/0.0) live in
    ``values`` as float64 with NaN for missing. Text and list fields live in
    ``codes`` (int32, -1 for missing) into ``categories``: normalised strings
    for text, frozensets of normalised items for lists. ``invalid`` counts raw
    cells that could not be read as the column's kind, by value.
    """

    name: str
    kind: str
    values: np.ndarray | None = None
    codes: np.ndarray | None = None
    categories: list[Any] = field(default_factory=list)
    invalid: dict[str, int] = field(default_factory=dict)
    first_invalid_row: int = 0

    @property
    def missing(self) -> np.ndarray:
        """True where the lead has no value for this field."""
        if self.codes is not None:
            return self.codes < 0
        assert self.values is not None
        return np.isnan(self.values)


@dataclass
class Leads:
    """A prepared lead table: the contract every evaluation works on."""

    frame: pd.DataFrame
    columns: dict[str, Column]
    profile: Profile
    as_of: dt.date
    fingerprint: str
    source: str = ""
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    """Derived arrays that depend only on the leads (account groups, decay)."""

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def ids(self) -> np.ndarray:
        """Lead ids as text, in table order."""
        return self.frame[self.profile.id_column].to_numpy(dtype=str)

    @property
    def as_of_day(self) -> int:
        """The as-of date as a day number."""
        return (self.as_of - EPOCH).days

    def outcome(self, role: str) -> np.ndarray | None:
        """The outcome column named by the profile for ``role``.

        ``opportunity``, ``won`` and ``worked`` come back as bool arrays
        (missing counts as false); ``amount`` as float64 with missing as 0.
        None when the profile names no column for the role.
        """
        name = self.profile.outcomes.get(role)
        if not name or name not in self.columns:
            return None

        column = self.columns[name]
        if role == "amount":
            assert column.values is not None
            return np.nan_to_num(column.values, nan=0.0)
        return truthy(column)

    def created_days(self) -> np.ndarray:
        """Creation dates as day numbers (NaN where unknown)."""
        name = self.profile.created_column
        if not name or name not in self.columns:
            return np.full(len(self), np.nan)
        column = self.columns[name]
        assert column.values is not None
        return column.values

    def check_fields(self, names: set[str]) -> list[Problem]:
        """Problems with fields a criteria file uses: unreadable cells.

        A rule on a numeric field with text in it would silently treat that
        text as missing; the user is told instead.
        """
        problems = []
        for name in sorted(names):
            column = self.columns.get(name)
            if column is None or not column.invalid:
                continue
            examples = ", ".join(repr(v) for v in list(column.invalid)[:3])
            count = sum(column.invalid.values())
            problems.append(
                Problem(
                    f"column '{name}' should hold {column.kind} values but "
                    f"{count} cell(s) do not, e.g. {examples} (first at data row "
                    f"{column.first_invalid_row}); fix them in the data, or add "
                    "the placeholder to the profile's missing_values",
                    file=self.source,
                    path=(name,),
                )
            )
        return problems


def truthy(column: Column) -> np.ndarray:
    """A boolean column (or any column) as a bool array, missing as false."""
    if column.values is not None:
        return np.nan_to_num(column.values, nan=0.0) > 0
    assert column.codes is not None
    table = np.array(
        [str(value) in TRUE_TOKENS for value in column.categories] + [False]
    )
    return table[column.codes]


def load_profile(path: str | Path) -> Profile:
    """Read a dataset profile file, reporting every problem at once."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError.single(
            "profile not found; check the path", file=str(path)
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise DataError.single(
            f"the profile is not valid YAML: {getattr(error, 'problem', error)}",
            file=str(path),
            line=mark.line + 1 if mark else 0,
            column=mark.column + 1 if mark else 0,
        ) from None
    return profile_from_dict(document, source=str(path))


def profile_from_dict(document: Any, source: str = "") -> Profile:
    """Build a :class:`Profile` from its YAML document, checking its keys."""
    if not isinstance(document, dict):
        raise DataError.single(
            "a profile must be a mapping of keys such as id_column and as_of",
            file=source,
        )

    problems = [
        Problem(
            f"unknown key '{key}'; allowed keys are " + ", ".join(sorted(PROFILE_KEYS)),
            file=source,
            path=(key,),
        )
        for key in document
        if key not in PROFILE_KEYS
    ]
    if document.get("kind", "lead-dataset") != "lead-dataset":
        problems.append(
            Problem("kind must be 'lead-dataset'", file=source, path=("kind",))
        )
    for name, kind in (document.get("types") or {}).items():
        if kind not in KINDS:
            problems.append(
                Problem(
                    f"type '{kind}' of '{name}' is not one of " + ", ".join(KINDS),
                    file=source,
                    path=("types", name),
                )
            )
    for role in document.get("outcomes") or {}:
        if role not in OUTCOME_ROLES:
            problems.append(
                Problem(
                    f"unknown outcome '{role}'; use " + ", ".join(OUTCOME_ROLES),
                    file=source,
                    path=("outcomes", role),
                )
            )
    as_of = document.get("as_of")
    if isinstance(as_of, str):
        try:
            as_of = dt.date.fromisoformat(as_of)
        except ValueError:
            problems.append(
                Problem(
                    f"as_of '{as_of}' is not a date; write it as YYYY-MM-DD",
                    file=source,
                    path=("as_of",),
                )
            )
    if problems:
        raise DataError(problems)

    missing = document.get("missing_values")
    return Profile(
        id_column=str(document.get("id_column", "lead_id")),
        created_column=document.get("created_column"),
        account_column=document.get("account_column"),
        as_of=as_of if isinstance(as_of, dt.date) else None,
        list_columns={
            str(k): str(v) for k, v in (document.get("list_columns") or {}).items()
        },
        missing_values=[str(v) for v in missing]
        if missing is not None
        else list(DEFAULT_MISSING),
        outcomes={str(k): str(v) for k, v in (document.get("outcomes") or {}).items()},
        segments=[str(v) for v in document.get("segments") or []],
        rename={str(k): str(v) for k, v in (document.get("rename") or {}).items()},
        types={str(k): str(v) for k, v in (document.get("types") or {}).items()},
        source=source,
    )


def find_profile(data_path: str | Path) -> Path | None:
    """The profile saved beside a data file, if there is one.

    Looks for ``<stem>.profile.yaml`` first, then ``profile.yaml`` in the same
    folder.
    """
    data_path = Path(data_path)
    for candidate in (
        data_path.with_name(f"{data_path.stem}.profile.yaml"),
        data_path.with_name("profile.yaml"),
    ):
        if candidate.is_file():
            return candidate
    return None


def load_leads(path: str | Path, profile_path: str | Path | None = None) -> Leads:
    """Read and prepare a lead table, with its profile.

    Without ``profile_path`` the profile beside the data is used (see
    :func:`find_profile`), or, failing that, one proposed from the data.
    """
    from leadsim.importer import read_table

    started = time.perf_counter()
    path = Path(path)
    frame = read_table(path)

    if profile_path is None:
        profile_path = find_profile(path)
    if profile_path is not None:
        profile = load_profile(profile_path)
    else:
        # profiling builds on this module, hence the import here.
        from leadsim.profiling import propose_profile

        profile = propose_profile(frame)

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    digest.update(profile.to_yaml().encode())
    leads = prepare_leads(
        frame, profile, source=str(path), fingerprint=digest.hexdigest()
    )
    logger.info(
        "loaded %s leads from %s in %.2f s",
        f"{len(leads):,}",
        path,
        time.perf_counter() - started,
    )
    return leads


def prepare_leads(
    frame: pd.DataFrame,
    profile: Profile,
    source: str = "",
    fingerprint: str | None = None,
) -> Leads:
    """Turn a frame of raw text cells into prepared columns.

    Runs once per dataset. Raises :class:`DataError` when the table is empty
    or its id column is missing or not unique.
    """
    from leadsim.profiling import check_profile

    renamed = frame.rename(columns=profile.rename)
    _check_table(renamed, profile, source)
    raise_if_errors(check_profile(frame, profile), DataError)
    frame = renamed

    missing = {str(value).strip().lower() for value in profile.missing_values}
    missing.add("")
    names = [str(name) for name in frame.columns if name != profile.id_column]

    def prepare(name: str) -> Column:
        return prepare_column(
            name, frame[name], _kind_of(name, profile), missing, profile
        )

    # Factorizing Arrow text releases the GIL, so columns prepare in parallel.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        columns = dict(zip(names, pool.map(prepare, names)))

    as_of = profile.as_of or _latest_date(columns, profile)
    if fingerprint is None:
        fingerprint = _frame_fingerprint(frame, profile)
    return Leads(
        frame=frame,
        columns=columns,
        profile=profile,
        as_of=as_of,
        fingerprint=fingerprint,
        source=source,
    )


def _check_table(frame: pd.DataFrame, profile: Profile, source: str) -> None:
    if len(frame.columns) == 0 or len(frame) == 0:
        raise DataError.single(
            "the lead table has no rows; export the leads with at least one row",
            file=source,
        )
    if profile.id_column not in frame.columns:
        raise DataError.single(
            f"the id column '{profile.id_column}' is not in the table; set "
            "id_column in the profile to one of: "
            + ", ".join(map(str, frame.columns[:12])),
            file=source,
        )

    ids = frame[profile.id_column].astype(str).str.strip()
    duplicated = ids[ids.duplicated(keep=False)]
    blank = ids[ids == ""]
    problems = []
    if len(duplicated):
        examples = ", ".join(sorted(set(duplicated))[:5])
        problems.append(
            Problem(
                f"lead ids must be unique, but {duplicated.nunique()} id(s) repeat "
                f"(e.g. {examples}, first at data row {int(duplicated.index[0]) + 1}); "
                "remove the duplicate rows or choose another id column",
                file=source,
                path=(profile.id_column,),
            )
        )
    if len(blank):
        problems.append(
            Problem(
                f"{len(blank)} lead(s) have no id (first at data row "
                f"{int(blank.index[0]) + 1}); fill the ids or drop those rows",
                file=source,
                path=(profile.id_column,),
            )
        )
    if problems:
        raise DataError(problems)


def _kind_of(name: str, profile: Profile) -> str | None:
    if name in profile.types:
        return profile.types[name]
    if name in profile.list_columns:
        return "list"
    return None


def prepare_column(
    name: str,
    raw: pd.Series,
    kind: str | None,
    missing: set[str],
    profile: Profile,
) -> Column:
    """Prepare one raw text column as ``kind`` (inferred when None).

    Work is done once per distinct raw value, then spread to the leads by
    their codes.
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    codes = np.asarray(codes)
    normal_text = pd.Series(uniques, dtype=object).fillna("").astype(str)
    normal_text = normal_text.str.strip().str.lower()
    normal = normal_text.tolist()
    is_missing = np.append(normal_text.isin(missing).to_numpy(), True)

    if kind is None:
        kind = infer_kind([v for v, m in zip(normal, is_missing) if not m])
    if kind == "list":
        delimiter = profile.list_columns.get(name, ";")
        return _list_column(name, codes, normal, is_missing, delimiter, missing)
    if kind == "text":
        return _text_column(name, codes, normal, is_missing)

    parse = {"number": _parse_number, "date": _parse_date, "boolean": _parse_bool}[kind]
    parsed = np.array([parse(value) for value in normal] + [np.nan], dtype=float)
    parsed[is_missing] = np.nan
    values = parsed[codes]

    bad = np.isnan(parsed[:-1]) & ~is_missing[:-1]
    column = Column(name=name, kind=kind, values=values)
    if bad.any():
        _record_invalid(column, codes, uniques, bad)
    return column


def _record_invalid(
    column: Column, codes: np.ndarray, uniques: np.ndarray, bad: np.ndarray
) -> None:
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    column.invalid = {str(uniques[i]): int(counts[i]) for i in np.flatnonzero(bad)}
    bad_codes = np.flatnonzero(bad)
    column.first_invalid_row = int(np.flatnonzero(np.isin(codes, bad_codes))[0]) + 1


def _text_column(
    name: str, codes: np.ndarray, normal: list[str], is_missing: np.ndarray
) -> Column:
    # Case and spacing variants of one value collapse into one category here.
    merged, categories = pd.factorize(
        np.array(
            [v if not m else None for v, m in zip(normal, is_missing[:-1])],
            dtype=object,
        ),
        use_na_sentinel=True,
    )
    lookup = np.append(merged, -1).astype(np.int32)
    return Column(
        name=name,
        kind="text",
        codes=lookup[codes],
        categories=[str(value) for value in categories],
    )


def _list_column(
    name: str,
    codes: np.ndarray,
    normal: list[str],
    is_missing: np.ndarray,
    delimiter: str,
    missing: set[str],
) -> Column:
    items: list[frozenset[str] | None] = []
    for value, gone in zip(normal, is_missing[:-1]):
        parts = (
            frozenset(part.strip() for part in value.split(delimiter.lower())) - missing
        )
        items.append(parts if parts and not gone else None)

    categories: list[frozenset[str]] = []
    index: dict[frozenset[str], int] = {}
    lookup = np.full(len(items) + 1, -1, dtype=np.int32)
    for position, parts in enumerate(items):
        if parts is None:
            continue
        if parts not in index:
            index[parts] = len(categories)
            categories.append(parts)
        lookup[position] = index[parts]
    return Column(name=name, kind="list", codes=lookup[codes], categories=categories)


def infer_kind(values: list[str]) -> str:
    """Guess a field's kind from its distinct, normalised, non-missing values."""
    if not values:
        return "text"
    if all(value in TRUE_TOKENS | FALSE_TOKENS for value in values) and not all(
        value in {"0", "1"} for value in values
    ):
        return "boolean"
    if not np.isnan(np.array([_parse_number(v) for v in values])).any():
        return "number"
    if not np.isnan(np.array([_parse_date(v) for v in values])).any():
        return "date"
    return "text"


def _parse_number(text: str) -> float:
    try:
        number = float(text.replace(",", "")) if text else np.nan
    except ValueError:
        return np.nan
    return number if np.isfinite(number) else np.nan


def _parse_date(text: str) -> float:
    try:
        moment = dt.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return np.nan
    return float((moment.date() - EPOCH).days)


def _parse_bool(text: str) -> float:
    if text in TRUE_TOKENS:
        return 1.0
    if text in FALSE_TOKENS:
        return 0.0
    return np.nan


def _latest_date(columns: dict[str, Column], profile: Profile) -> dt.date:
    column = columns.get(profile.created_column or "")
    if column is not None and column.values is not None and column.kind == "date":
        latest = np.nanmax(column.values) if (~np.isnan(column.values)).any() else None
        if latest is not None:
            return EPOCH + dt.timedelta(days=int(latest))
    return dt.date.today()


def _frame_fingerprint(frame: pd.DataFrame, profile: Profile) -> str:
    digest = hashlib.sha256()
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest.update(hashed.tobytes())
    digest.update(profile.to_yaml().encode())
    return digest.hexdigest()


def day_number(value: object) -> float:
    """An ISO date (or date object) from a criteria file as a day number."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return float((value - EPOCH).days)
    return _parse_date(str(value).strip().lower())
