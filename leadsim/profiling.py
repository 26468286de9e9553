"""Propose a dataset profile for a raw CRM export.

A user brings an export whose headers are phrases ("Create Date", "Lead
Source"), whose forms write ``Select`` for "not answered", and whose outcome
column might be called ``Converted``. :func:`propose_profile` reads the raw
text cells once and guesses what the profile should say: a field name for
every header (the sample's names for standard HubSpot and Salesforce headers,
snake_case for the rest), the kind of every field, which columns are the id,
creation date, account, outcomes and segments, and which values are
placeholders for "missing". Every guess is a proposal that the user reviews
on the Data page before the profile is saved.

The work is done per column on its distinct values, never per lead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from leadsim.dataset import (
    DEFAULT_MISSING,
    KINDS,
    OUTCOME_ROLES,
    Profile,
    infer_kind,
)
from leadsim.errors import DataError, Problem

logger = logging.getLogger(__name__)

PROFILE_SUFFIX = ".profile.yaml"

# Standard export headers of HubSpot contacts, Salesforce leads and Marketo
# people, keyed by their letters and digits only, mapped to the field names of
# the bundled sample so that criteria written for the sample keep working.
KNOWN_HEADERS: dict[str, str] = {
    # HubSpot contacts
    "recordid": "lead_id",
    "contactid": "lead_id",
    "createdate": "created_at",
    "originalsource": "source",
    "lifecyclestage": "lifecycle_stage",
    "leadstatus": "lead_status",
    "companyname": "company",
    "associatedcompany": "company",
    "associatedcompanyid": "account_id",
    "associatedcompanyprimary": "company",
    "industry": "industry",
    "numberofemployees": "employees",
    "jobtitle": "job_title",
    "countryregion": "region",
    "emaildomain": "email_domain",
    "lastactivitydate": "last_activity_at",
    "numberofformsubmissions": "form_submissions",
    "numberofpageviews": "page_visits",
    "marketingemailsclicked": "email_clicks",
    "numberofeventsattended": "event_signups",
    "becameanopportunitydate": "opportunity_at",
    "closedate": "closed_at",
    "department": "department",
    "jobfunction": "department",
    "originalcampaign": "campaign",
    # Salesforce leads
    "leadid": "lead_id",
    "createddate": "created_at",
    "leadsource": "source",
    "noofemployees": "employees",
    "employees": "employees",
    "companyaccount": "company",
    "company": "company",
    "accountid": "account_id",
    "convertedaccountid": "account_id",
    "title": "job_title",
    "region": "region",
    "lastactivity": "last_activity_at",
    "campaign": "campaign",
    "primarycampaignsource": "campaign",
    "convertedopportunityid": "opportunity_id",
    # Marketo people
    "createdat": "created_at",
    "personsource": "source",
    "numberofemployeescompany": "employees",
    # Generic id headers
    "prospectid": "lead_id",
    "id": "lead_id",
}

# The sample's field kinds: a known header is only renamed to a sample field
# when its values fit that kind (Salesforce "Last Activity" is a date, while
# other exports use the same header for an activity name).
SAMPLE_KINDS: dict[str, str] = {
    "created_at": "date",
    "last_activity_at": "date",
    "opportunity_at": "date",
    "closed_at": "date",
    "employees": "number",
    "form_submissions": "number",
    "page_visits": "number",
    "email_clicks": "number",
    "event_signups": "number",
}

PLACEHOLDERS = frozenset(
    {
        "",
        "select",
        "select one",
        "please select",
        "choose one",
        "--none--",
        "none",
        "null",
        "nan",
        "n/a",
        "na",
        "#n/a",
        "-",
        "--",
        "?",
        "unknown",
        "not provided",
        "not specified",
        "(blank)",
    }
)
# Form defaults such as "Select" or "Select Specialization".
_SELECT_PROMPT = r"(please )?select( an?| one| your)?( \w+)?"

ID_NAMES = ("lead_id", "id", "lead_number", "record_id", "prospect_id")
CREATED_NAMES = ("created_at", "create_date", "created_date", "created", "created_on")
ACCOUNT_NAMES = ("account_id", "account", "company_id", "account_name", "company")
OUTCOME_NAMES: dict[str, tuple[str, ...]] = {
    "opportunity": (
        "reached_opportunity",
        "converted",
        "is_converted",
        "opportunity",
        "became_opportunity",
    ),
    "won": ("won", "is_won", "closed_won", "customer"),
    "amount": ("won_amount", "amount", "deal_amount", "revenue"),
    "worked": ("worked_by_sales", "worked", "contacted", "sales_accepted"),
}
OUTCOME_KINDS = {
    "opportunity": "boolean",
    "won": "boolean",
    "amount": "number",
    "worked": "boolean",
}
SEGMENT_NAMES = (
    "industry",
    "region",
    "source",
    "company_size_band",
    "country",
    "lead_origin",
    "department",
    "role",
)
ROLES = ("", "id", "created", "account", "segment", *OUTCOME_ROLES)
MAX_SEGMENTS = 4
KIND_SAMPLE = 5000
MAX_SEGMENT_VALUES = 30
LIST_DELIMITERS = (";", "|")


@dataclass
class ColumnSummary:
    """What the proposal found in one raw column, for review on the Data page.

    ``variants`` lists groups of raw spellings that differ only in case or
    spacing (``["Google", "google"]``); ``placeholders`` the raw values
    proposed as missing; ``role`` one of ``id``, ``created``, ``account``,
    ``segment``, an outcome role, or ``""``.
    """

    header: str
    field: str
    kind: str
    role: str = ""
    filled_share: float = 0.0
    distinct: int = 0
    examples: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    variants: list[list[str]] = field(default_factory=list)
    list_delimiter: str = ""
    top_share: float = 0.0
    unique: bool = False


def field_name(header: str) -> str:
    """The field name for a raw header: a sample name or snake_case.

    Known HubSpot, Salesforce and Marketo headers map to the sample's names
    (``Create Date`` to ``created_at``); others become snake_case
    (``What is your current occupation`` to
    ``what_is_your_current_occupation``). The kind check of
    :func:`propose_profile` may still keep a known header in snake_case.
    """
    known = KNOWN_HEADERS.get(_letters(header))
    return known or snake_case(header)


def snake_case(header: str) -> str:
    """Lower-case words joined by underscores; never empty, never a digit first."""
    words = re.findall(r"[0-9a-z]+", _split_camel(header).lower())
    name = "_".join(words) or "column"
    return f"f_{name}" if name[0].isdigit() else name


def propose_profile(frame: pd.DataFrame) -> Profile:
    """Propose a profile for a frame of raw text cells (as read_table returns).

    The profile's field names refer to the renamed columns, as
    :func:`leadsim.dataset.prepare_leads` expects. Review the result; see
    :func:`summarise_columns` for what was found per column.
    """
    profile, _ = propose(frame)
    return profile


def propose(frame: pd.DataFrame) -> tuple[Profile, list[ColumnSummary]]:
    """Propose a profile and return it with the per-column findings."""
    if frame.empty or len(frame.columns) == 0:
        raise DataError.single("the table has no rows to propose a profile from")

    counts = _value_counts(frame)
    placeholders = _placeholders_in(counts)
    missing = {value.strip().lower() for value in placeholders} | {""}
    summaries = [
        _summarise(column, header, len(frame), missing)
        for header, column in counts.items()
    ]
    _name_fields(summaries)
    _assign_roles(summaries, frame)

    profile = _profile_from(summaries, frame, placeholders)
    logger.info(
        "Proposed a profile for %s columns: id %s, %s outcome(s), %s segment(s)",
        len(summaries),
        profile.id_column,
        len(profile.outcomes),
        len(profile.segments),
    )
    return profile, summaries


def summarise_columns(frame: pd.DataFrame, profile: Profile) -> list[ColumnSummary]:
    """Describe every raw column under an existing profile, for review.

    Kinds and roles come from the profile where it names them; the rest is
    found in the data as :func:`propose` would.
    """
    missing = {value.strip().lower() for value in profile.missing_values} | {""}
    summaries = []
    for header, column in _value_counts(frame).items():
        summary = _summarise(column, header, len(frame), missing)
        summary.field = profile.rename.get(str(header), str(header))
        summary.kind = profile.types.get(summary.field, summary.kind)
        if summary.field in profile.list_columns:
            summary.kind = "list"
            summary.list_delimiter = profile.list_columns[summary.field]
        summary.role = _role_in(profile, summary.field)
        summaries.append(summary)
    return summaries


def profile_from_summaries(summaries: list[ColumnSummary], base: Profile) -> Profile:
    """Rebuild a profile after the user edited the column table.

    Field names, kinds and roles come from ``summaries``; ``as_of`` and
    ``missing_values`` from ``base``. Raises :class:`DataError` when two
    columns get the same field name or a role is given twice.
    """
    _check_edited(summaries)
    by_role: dict[str, str] = {}
    for summary in summaries:
        if summary.role and summary.role != "segment":
            by_role[summary.role] = summary.field

    return Profile(
        id_column=by_role.get("id", base.id_column),
        created_column=by_role.get("created"),
        account_column=by_role.get("account"),
        as_of=base.as_of,
        list_columns={
            s.field: s.list_delimiter or ";" for s in summaries if s.kind == "list"
        },
        missing_values=list(base.missing_values),
        outcomes={role: by_role[role] for role in OUTCOME_ROLES if role in by_role},
        segments=[s.field for s in summaries if s.role == "segment"],
        rename={s.header: s.field for s in summaries if s.header != s.field},
        types={s.field: s.kind for s in summaries if s.role != "id"},
        source=base.source,
    )


def summaries_frame(summaries: list[ColumnSummary]) -> pd.DataFrame:
    """The column table for review: one row per raw column.

    ``header``, ``filled``, ``distinct``, ``examples``, ``placeholders`` and
    ``variants`` describe the data; ``field``, ``kind``, ``role`` and
    ``list_delimiter`` are the editable choices, read back with
    :func:`apply_table_edits`.
    """
    return pd.DataFrame(
        {
            "header": [s.header for s in summaries],
            "field": [s.field for s in summaries],
            "kind": [s.kind for s in summaries],
            "role": [s.role for s in summaries],
            "list_delimiter": [s.list_delimiter for s in summaries],
            "filled": [s.filled_share for s in summaries],
            "distinct": [s.distinct for s in summaries],
            "examples": [", ".join(s.examples[:3]) for s in summaries],
            "placeholders": [", ".join(s.placeholders) for s in summaries],
            "variants": [
                "; ".join(" / ".join(group) for group in s.variants[:3])
                for s in summaries
            ],
        }
    )


def apply_table_edits(
    table: pd.DataFrame, summaries: list[ColumnSummary]
) -> list[ColumnSummary]:
    """Summaries with the field, kind, role and delimiter edited in ``table``.

    Rows are matched by ``header``; blank cells read as "" and a missing
    delimiter of a list field as ``;``.
    """
    edits = table.set_index("header")
    edited = []
    for summary in summaries:
        if summary.header not in edits.index:
            edited.append(summary)
            continue
        row = edits.loc[summary.header]
        kind = _cell(row["kind"]) or summary.kind
        delimiter = _cell(row["list_delimiter"]) if kind == "list" else ""
        edited.append(
            dataclasses.replace(
                summary,
                field=_cell(row["field"]),
                kind=kind,
                role=_cell(row["role"]),
                list_delimiter=delimiter or (";" if kind == "list" else ""),
            )
        )
    return edited


def _cell(value: object) -> str:
    """An edited table cell as trimmed text ("" for None or NaN)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def check_profile(frame: pd.DataFrame, profile: Profile) -> list[Problem]:
    """Problems with a profile against the raw frame it should describe.

    Every column the profile names (after renaming) must exist; a rename of
    a header the file does not have is a warning.
    """
    source = profile.source
    headers = {str(header) for header in frame.columns}
    fields = {profile.rename.get(header, header) for header in headers}
    problems = [
        Problem(
            f"the profile renames '{header}', which is not a column of the data",
            file=source,
            path=("rename", header),
            severity="warning",
        )
        for header in profile.rename
        if header not in headers
    ]

    for path, name in _named_columns(profile):
        if name not in fields:
            problems.append(
                Problem(
                    f"'{name}' is not a column of the data; name one of: "
                    + ", ".join(sorted(fields)[:12]),
                    file=source,
                    path=path,
                )
            )
    return problems


def profile_to_yaml(profile: Profile) -> str:
    """The profile as the YAML text saved beside the data."""
    header = (
        "# Dataset profile: how leadsim reads this lead table.\n"
        "# Field names below are the renamed columns (see rename).\n"
    )
    return header + profile.to_yaml()


def profile_path_for(data_path: str | Path) -> Path:
    """Where the profile of a data file is saved: ``<stem>.profile.yaml``.

    :func:`leadsim.dataset.find_profile` looks there first.
    """
    data_path = Path(data_path)
    return data_path.with_name(data_path.stem + PROFILE_SUFFIX)


def save_profile(
    profile: Profile, data_path: str | Path, to: str | Path | None = None
) -> Path:
    """Write the profile beside the data file (or to ``to``); return its path."""
    path = Path(to) if to else profile_path_for(data_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(profile_to_yaml(profile), encoding="utf-8")
    logger.info("Saved the dataset profile to %s", path)
    return path


# --- per column -------------------------------------------------------------


def _value_counts(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Each column's distinct raw cells with their lead counts, commonest first.

    Everything the proposal learns about a column comes from these counts,
    so the leads themselves are gone over once.
    """
    counts = {}
    for header in frame.columns:
        column = frame[header].value_counts(sort=True)
        column.index = pd.Index(column.index.to_numpy(dtype=object).astype(str))
        counts[str(header)] = column
    return counts


def _placeholders_in(counts: dict[str, pd.Series]) -> list[str]:
    """Default missing values plus the placeholder spellings found in cells."""
    distinct = pd.Series(
        np.concatenate([column.index.to_numpy() for column in counts.values()]),
        dtype=object,
    )
    # Placeholders are short; long cells (ids, free text) need no regex.
    distinct = distinct[distinct.str.len() <= 40].drop_duplicates()
    stripped = distinct.str.strip()
    found = stripped[placeholder_mask(stripped)].drop_duplicates()

    proposed = list(DEFAULT_MISSING)
    known = {value.lower() for value in proposed}
    for text in sorted(found, key=str.lower):
        if text.lower() not in known:
            known.add(text.lower())
            proposed.append(text)
    return proposed


def placeholder_mask(values: pd.Series) -> pd.Series:
    """True for cells that look like a form default standing for "no answer".

    ``Select``, ``--None--``, ``N/A``, ``unknown`` and the like, in any case;
    blank cells are not counted (they are missing anyway).
    """
    keys = values.astype(str).str.strip().str.lower()
    matches = keys.isin(PLACEHOLDERS) | keys.str.fullmatch(_SELECT_PROMPT)
    return matches & (keys != "")


def _summarise(
    counts: pd.Series, header: str, rows: int, missing: set[str]
) -> ColumnSummary:
    """Kind, fill, variants and placeholders of one column, from its counts."""
    stripped = counts.index.str.strip()
    normal = stripped.str.lower()
    is_missing = normal.isin(list(missing))

    present = counts[~is_missing]
    filled = int(present.sum())
    present_normal = normal[~is_missing]
    # The commonest distinct values decide the kind; a rare odd cell is then
    # reported by the quality check as unreadable rather than hiding a type.
    kind = infer_kind(list(present_normal.unique()[:KIND_SAMPLE]))
    summary = ColumnSummary(
        header=header,
        field=header,
        kind=kind,
        filled_share=filled / max(rows, 1),
        distinct=int(present_normal.nunique()),
        top_share=_top_share(present, present_normal),
        examples=[str(v) for v in present.index[:5]],
        placeholders=sorted(set(stripped[is_missing]) - {""}),
        unique=filled == rows and bool((counts <= 1).all()),
    )
    if kind == "text":
        summary.variants = _variants(present)
        summary.list_delimiter = _list_delimiter(present)
        if summary.list_delimiter:
            summary.kind = "list"
    return summary


def _top_share(present: pd.Series, normal: pd.Index) -> float:
    """The share of filled cells that hold the most common value."""
    if present.empty:
        return 0.0
    merged = present.groupby(normal.to_numpy()).sum()
    return float(merged.max() / merged.sum())


def _variants(present: pd.Series) -> list[list[str]]:
    """Groups of raw spellings of one value that differ in case or spacing."""
    spellings = pd.Series(present.index, dtype=object).astype(str)
    keys = spellings.str.lower().str.replace(r"\s+", " ", regex=True).str.strip()
    shared = keys.duplicated(keep=False).to_numpy()
    grouped = spellings[shared].groupby(keys[shared].to_numpy()).agg(list)
    groups = [sorted(group) for group in grouped if len(group) > 1]
    return sorted(groups, key=lambda group: -int(present[group].sum()))


def _list_delimiter(present: pd.Series) -> str:
    """The delimiter of a list field, or "" when the values are plain text.

    A field is a list when at least a fifth of its filled cells hold the
    delimiter and its items repeat across cells (fewer distinct items than
    distinct cells).
    """
    values = pd.Series(present.index, dtype=object).astype(str)
    weights = present.to_numpy()
    for delimiter in LIST_DELIMITERS:
        holds = values.str.contains(delimiter, regex=False).to_numpy()
        if weights[holds].sum() < 0.2 * weights.sum() or holds.sum() < 2:
            continue
        items = values.str.split(delimiter, regex=False).explode().str.strip()
        if items.str.lower().nunique() < len(values):
            return delimiter
    return ""


# --- names and roles ----------------------------------------------------------


def _name_fields(summaries: list[ColumnSummary]) -> None:
    """Give every column a unique field name."""
    taken: set[str] = set()
    for summary in summaries:
        name = field_name(summary.header)
        expected = SAMPLE_KINDS.get(name)
        if expected and summary.kind != expected:
            name = snake_case(summary.header)
        if name in taken:
            name = _unique(snake_case(summary.header), taken)
        taken.add(name)
        summary.field = name


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _assign_roles(summaries: list[ColumnSummary], frame: pd.DataFrame) -> None:
    """Pick the id, created, account, outcome and segment columns."""
    by_field = {summary.field: summary for summary in summaries}

    identity = _pick_id(summaries, frame)
    identity.role = "id"
    identity.kind = "text"
    if identity.field != "lead_id" and "lead_id" not in by_field:
        identity.field = "lead_id"

    created = _first_named(summaries, CREATED_NAMES, kind="date")
    if created is None:
        created = next(
            (s for s in summaries if s.kind == "date" and "creat" in s.field), None
        )
    if created is not None:
        created.role = "created"

    account = _first_named(summaries, ACCOUNT_NAMES, kind="text")
    if account is not None and account.distinct < account.filled_share * len(frame):
        account.role = "account"

    for role in OUTCOME_ROLES:
        outcome = _outcome_column(summaries, role)
        if outcome is not None:
            outcome.role = role
            outcome.kind = OUTCOME_KINDS[role]

    for summary in _segment_columns(summaries, len(frame)):
        summary.role = "segment"


def _pick_id(summaries: list[ColumnSummary], frame: pd.DataFrame) -> ColumnSummary:
    """The id column: a named id that is unique, else the first unique column."""
    unique = [s for s in summaries if s.unique and s.kind != "date"]
    for name in ID_NAMES:
        for summary in unique:
            if summary.field == name or snake_case(summary.header) == name:
                return summary
    if unique:
        return unique[0]
    return summaries[0]


def _first_named(
    summaries: list[ColumnSummary], names: tuple[str, ...], kind: str
) -> ColumnSummary | None:
    for name in names:
        for summary in summaries:
            if summary.role or summary.kind != kind:
                continue
            if summary.field == name or snake_case(summary.header) == name:
                return summary
    return None


def _outcome_column(summaries: list[ColumnSummary], role: str) -> ColumnSummary | None:
    """A free column named like the outcome whose values fit it."""
    wanted = OUTCOME_KINDS[role]
    for name in OUTCOME_NAMES[role]:
        for summary in summaries:
            if summary.role or summary.field != name:
                continue
            boolean_like = summary.kind == "boolean" or (
                summary.kind == "number" and summary.distinct <= 2
            )
            if wanted == "boolean" and boolean_like:
                return summary
            if wanted == "number" and summary.kind == "number":
                return summary
    return None


def _segment_columns(summaries: list[ColumnSummary], rows: int) -> list[ColumnSummary]:
    """Categorical columns that split the leads into readable groups.

    A segment has between 2 and 30 values with at least two leads each on
    average, is filled for at least half of the leads, and no value holds
    more than 95% of them. Known segment names come first.
    """
    candidates = [
        s
        for s in summaries
        if not s.role
        and s.kind == "text"
        and 2 <= s.distinct <= MAX_SEGMENT_VALUES
        and s.filled_share >= 0.5
        and s.top_share <= 0.95
        # At least two leads per value on average, or it is an identifier.
        and 2 * s.distinct <= s.filled_share * rows
    ]

    def rank(summary: ColumnSummary) -> tuple[int, float, int]:
        named = summary.field in SEGMENT_NAMES
        position = SEGMENT_NAMES.index(summary.field) if named else len(SEGMENT_NAMES)
        return position, -round(summary.filled_share, 1), summary.distinct

    return sorted(candidates, key=rank)[:MAX_SEGMENTS]


def _profile_from(
    summaries: list[ColumnSummary], frame: pd.DataFrame, placeholders: list[str]
) -> Profile:
    """Assemble the proposed profile from the annotated columns."""
    base = Profile(
        id_column="lead_id",
        as_of=_latest_created(summaries, frame, placeholders),
        missing_values=placeholders,
    )
    return profile_from_summaries(summaries, base)


def _latest_created(
    summaries: list[ColumnSummary], frame: pd.DataFrame, placeholders: list[str]
) -> dt.date | None:
    """The latest creation date, the natural as-of date of a history."""
    created = next((s for s in summaries if s.role == "created"), None)
    if created is None:
        return None
    dates = pd.to_datetime(
        frame[created.header].str.strip(), format="ISO8601", errors="coerce", utc=True
    )
    latest = dates.max()
    return None if pd.isna(latest) else latest.date()


def _role_in(profile: Profile, name: str) -> str:
    """The role a profile gives a field, or ""."""
    if name == profile.id_column:
        return "id"
    if name == profile.created_column:
        return "created"
    if name == profile.account_column:
        return "account"
    for role, column in profile.outcomes.items():
        if column == name:
            return role
    return "segment" if name in profile.segments else ""


def _named_columns(profile: Profile) -> list[tuple[tuple[str, ...], str]]:
    """Every (key path, field name) a profile refers to."""
    named: list[tuple[tuple[str, ...], str]] = [(("id_column",), profile.id_column)]
    for key in ("created_column", "account_column"):
        value = getattr(profile, key)
        if value:
            named.append(((key,), value))
    named += [(("outcomes", role), name) for role, name in profile.outcomes.items()]
    named += [(("segments",), name) for name in profile.segments]
    named += [(("list_columns", name), name) for name in profile.list_columns]
    named += [(("types", name), name) for name in profile.types]
    return named


def _check_edited(summaries: list[ColumnSummary]) -> None:
    """Refuse an edited column table with clashing names or roles."""
    problems = []
    seen: dict[str, str] = {}
    roles: dict[str, str] = {}
    for summary in summaries:
        name = summary.field.strip()
        if not name:
            problems.append(
                Problem(
                    f"column '{summary.header}' needs a field name",
                    path=(summary.header,),
                )
            )
        elif name in seen:
            problems.append(
                Problem(
                    f"columns '{seen[name]}' and '{summary.header}' both become "
                    f"'{name}'; give one of them another field name",
                    path=(summary.header,),
                )
            )
        seen.setdefault(name, summary.header)
        if summary.kind not in KINDS:
            problems.append(
                Problem(
                    f"kind '{summary.kind}' of '{summary.header}' is not one of "
                    + ", ".join(KINDS),
                    path=(summary.header,),
                )
            )
        if summary.role not in ROLES:
            problems.append(
                Problem(
                    f"role '{summary.role}' of '{summary.header}' is not one of "
                    + ", ".join(role for role in ROLES if role),
                    path=(summary.header,),
                )
            )
        elif summary.role and summary.role != "segment":
            if summary.role in roles:
                problems.append(
                    Problem(
                        f"both '{roles[summary.role]}' and '{summary.header}' are "
                        f"marked as {summary.role}; keep one",
                        path=(summary.header,),
                    )
                )
            roles.setdefault(summary.role, summary.header)
    if problems:
        raise DataError(problems)


def _letters(header: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(header).lower())


def _split_camel(header: str) -> str:
    """``TotalVisits`` to ``Total Visits``, ``leadID`` to ``lead ID``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(header))
    return re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
