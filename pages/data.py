"""Data: bring your own lead history, check it, and simulate on it.

The page walks from a raw export to a dataset the other pages use: pick or
upload a file, review the proposed profile (field names, kinds, roles, what
counts as missing), read the quality report, save the profile beside the data
and make it the session's dataset. Reading, proposing and reviewing are done
by :mod:`leadsim.importer`, :mod:`leadsim.profiling` and
:mod:`leadsim.quality`; this page lays them out.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from leadsim import charts
from leadsim.dataset import KINDS, Profile, find_profile, load_profile
from leadsim.errors import DataError, LeadsimError, Problem
from leadsim.importer import (
    MAX_BYTES,
    TABLE_SUFFIXES,
    find_tables,
    neutralise_formulas,
    read_table,
    upload_name,
)
from leadsim.profiling import (
    ROLES,
    ColumnSummary,
    apply_table_edits,
    check_profile,
    placeholder_mask,
    profile_from_summaries,
    profile_path_for,
    profile_to_yaml,
    propose,
    save_profile,
    summaries_frame,
    summarise_columns,
)
from leadsim.quality import Finding, QualityReport, quality_report
from pages import common

PATH_KEY = "data_path"
FRAME_KEY = "data_frame"
DRAFT_KEY = "data_profile_draft"
REPORT_KEY = "data_report"
SOURCE_KEY = "data_source"
SAVED_KEY = "data_saved"

CHECK_TITLES = {
    "leak": "Fields that leak the outcome",
    "strong_value": "Values with near-certain conversion",
    "no_outcome": "No outcome",
    "placeholder": "Placeholders",
    "variants": "One value, several spellings",
    "missing": "Mostly missing fields",
    "segment_gap": "Missing in one segment",
    "invalid": "Unreadable cells",
    "outlier": "Outliers",
    "negative": "Impossible negatives",
    "future_date": "Dates after the as-of date",
    "constant": "Fields with one value",
}
DESCRIPTIVE_COLUMNS = [
    "header",
    "filled",
    "distinct",
    "examples",
    "placeholders",
    "variants",
]


def upload_folder() -> Path:
    """Where uploaded files are kept; ``LEADSIM_UPLOAD_DIR`` overrides it."""
    override = os.environ.get("LEADSIM_UPLOAD_DIR")
    return Path(override) if override else common.repo_root() / "uploads"


def _profile_target(data: Path) -> Path:
    """Beside the data when it is ours; in the upload folder otherwise.

    Files outside the project (a shared export, a mounted drive) are never
    written next to.
    """
    data = data.resolve()
    for folder in (common.repo_root(), upload_folder()):
        if data.is_relative_to(folder.resolve()):
            return profile_path_for(data)
    return upload_folder() / f"{data.stem}.profile.yaml"


def _existing_profile(data: Path) -> Path | None:
    beside = find_profile(data)
    if beside is not None:
        return beside
    target = _profile_target(data)
    return target if target.is_file() else None


# --- choosing a file ---------------------------------------------------------------


def _candidates() -> dict[str, Path]:
    """Tables on disk the user can pick, labelled by where they live."""
    root = common.repo_root()
    places = [
        ("sample", root / "sample_leads"),
        ("examples", root / "examples"),
        ("uploads", upload_folder()),
        ("shared data", root.parent / "shared" / "data"),
    ]
    found: dict[str, Path] = {}
    for label, folder in places:
        for path in find_tables(folder):
            if "dictionary" in path.stem:
                continue
            found[f"{label}: {path.relative_to(folder).as_posix()}"] = path
    return found


def _choose_file() -> Path | None:
    """The file the user picked or uploaded, or None."""
    source = st.radio(
        "Where is the lead history?",
        ["A file on disk", "Upload a file"],
        horizontal=True,
        key=SOURCE_KEY,
    )
    if source == "Upload a file":
        return _upload()

    candidates = _candidates()
    current = st.session_state.get(PATH_KEY)
    labels = [*candidates, "Another path…"]
    chosen_index = 0
    for index, path in enumerate(candidates.values()):
        if current and str(path) == current:
            chosen_index = index
    label = st.selectbox("Lead history", labels, index=chosen_index)
    if label == "Another path…":
        typed = st.text_input(
            "Path to a CSV, Parquet or Excel file",
            placeholder="/path/to/export.csv",
        )
        return Path(typed).expanduser() if typed.strip() else None
    return candidates[label]


def _upload() -> Path | None:
    upload = st.file_uploader(
        "CSV, Parquet or Excel export",
        type=[suffix.lstrip(".") for suffix in TABLE_SUFFIXES],
        help=f"Up to {MAX_BYTES // 1024**2} MB. The file is kept in "
        f"{upload_folder()} so that the profile can be saved beside it.",
    )
    if upload is None:
        return None
    target = upload_folder() / upload_name(upload.name)
    content = upload.getvalue()
    if not target.is_file() or target.read_bytes() != content:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return target


# --- reading -----------------------------------------------------------------------


def _file_key(path: Path) -> tuple[str, int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return str(path.resolve()), status.st_mtime_ns, status.st_size


def _read(path: Path) -> pd.DataFrame:
    """Read the table once per file version, with a progress bar."""
    key = _file_key(path)
    cached = st.session_state.get(FRAME_KEY)
    if key is not None and cached is not None and cached[0] == key:
        return cached[1]

    bar = st.progress(0.0, text=f"Reading {path.name}…")

    def show(fraction: float) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=f"Reading {path.name}…")

    try:
        frame = read_table(path, progress=show)
    finally:
        bar.empty()
    st.session_state[FRAME_KEY] = (key, frame)
    st.session_state.pop(DRAFT_KEY, None)
    st.session_state.pop(REPORT_KEY, None)
    return frame


# --- the profile -------------------------------------------------------------------


def _known_profiles() -> dict[str, Path]:
    """Profile files in the project and the upload folder, by label."""
    root = common.repo_root()
    found: dict[str, Path] = {}
    for label, folder in (
        ("sample", root / "sample_leads"),
        ("examples", root / "examples"),
        ("uploads", upload_folder()),
    ):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("**/*.yaml")):
            if path.name == "profile.yaml" or path.name.endswith(".profile.yaml"):
                found[f"{label}: {path.relative_to(folder).as_posix()}"] = path
    return found


def _start_profile(
    path: Path,
    frame: pd.DataFrame,
    *,
    fresh: bool = False,
    saved: Path | None = None,
) -> None:
    """Load a saved profile (``saved``, or the one beside the data) or propose one."""
    if saved is None and not fresh:
        saved = _existing_profile(path)
    if saved is not None:
        try:
            profile = load_profile(saved)
        except DataError as error:
            common.show_error(error, f"The saved profile {saved} cannot be read.")
        else:
            summaries = summarise_columns(frame, profile)
            st.session_state[DRAFT_KEY] = {
                "file": _file_key(path),
                "profile": profile,
                "summaries": summaries,
                "origin": f"the saved profile `{saved}`",
                "saved": saved,
                "version": _next_version(),
                "problems": check_profile(frame, profile),
            }
            return

    profile, summaries = propose(frame)
    st.session_state[DRAFT_KEY] = {
        "file": _file_key(path),
        "profile": profile,
        "summaries": summaries,
        "origin": "a proposal from the data",
        "version": _next_version(),
    }


def _next_version() -> int:
    # Widgets are keyed by this number, so a new start discards old edits.
    previous = st.session_state.get(DRAFT_KEY) or {}
    return int(previous.get("version", 0)) + 1


def _profile_editor(frame: pd.DataFrame, draft: dict) -> Profile | None:
    """The column table and settings; returns the edited profile or None."""
    base: Profile = draft["profile"]
    summaries: list[ColumnSummary] = draft["summaries"]

    st.markdown(
        "Each row is a column of the file. Edit **field** (the name criteria "
        "use), **kind**, **role** and, for lists, the **delimiter**. The other "
        "columns describe the data."
    )
    edited_table = st.data_editor(
        summaries_frame(summaries),
        width="stretch",
        key=f"data_columns_{draft['version']}",
        hide_index=True,
        num_rows="fixed",
        disabled=DESCRIPTIVE_COLUMNS,
        column_config={
            "header": st.column_config.TextColumn("column in the file"),
            "field": st.column_config.TextColumn("field", required=True),
            "kind": st.column_config.SelectboxColumn(
                "kind", options=list(KINDS), required=True
            ),
            "role": st.column_config.SelectboxColumn(
                "role",
                options=list(ROLES),
                help="id, created date, account, segment, or an outcome "
                "(opportunity, won, amount, worked)",
            ),
            "list_delimiter": st.column_config.TextColumn(
                "delimiter", help="for list fields: what separates the items"
            ),
            "filled": st.column_config.ProgressColumn(
                "filled", min_value=0.0, max_value=1.0, format="percent"
            ),
            "distinct": st.column_config.NumberColumn("values"),
            "examples": st.column_config.TextColumn("examples"),
            "placeholders": st.column_config.TextColumn("read as missing"),
            "variants": st.column_config.TextColumn("spelling variants"),
        },
    )
    edited = apply_table_edits(edited_table, summaries)

    left, right = st.columns([3, 2])
    spotted = _placeholders_in(frame)
    # The empty cell is always missing; it would show as a blank chip.
    chosen = [value for value in base.missing_values if value.strip()]
    options = list(dict.fromkeys([*chosen, *spotted]))
    missing = left.multiselect(
        "Values that mean 'missing'",
        options,
        default=chosen,
        accept_new_options=True,
        help="Compared case-insensitively, trimmed. The empty cell is always missing.",
        key=f"data_missing_{draft['version']}",
    )
    as_of = _as_of_input(right, base, draft["version"])

    settings = Profile(
        id_column=base.id_column,
        as_of=as_of,
        missing_values=["", *(str(value) for value in missing)],
        source=base.source,
    )
    try:
        profile = profile_from_summaries(edited, settings)
    except DataError as error:
        common.show_error(error, "The column table needs a fix:")
        return None

    problems = check_profile(frame, profile)
    common.show_problems(problems)
    if any(problem.severity == "error" for problem in problems):
        return None
    return profile


def _placeholders_in(frame: pd.DataFrame) -> list[str]:
    sample = pd.Series(pd.unique(frame.to_numpy(dtype=object).ravel()), dtype=object)
    found = sample[placeholder_mask(sample).to_numpy()].astype(str).str.strip()
    return sorted(set(found), key=str.lower)


def _as_of_input(container, base: Profile, version: int) -> dt.date | None:
    fixed = container.checkbox(
        "Fix the as-of date",
        value=base.as_of is not None,
        help="Recency rules and decay are measured to this date. Without it, "
        "the latest created date is used, or today.",
        key=f"data_fix_as_of_{version}",
    )
    if not fixed:
        return None
    return container.date_input(
        "As of",
        value=base.as_of or dt.date.today(),
        key=f"data_as_of_{version}",
    )


# --- the quality report --------------------------------------------------------------


def _report(frame: pd.DataFrame, profile: Profile, file_key: object) -> QualityReport:
    """The quality report, computed once per file version and profile."""
    key = (file_key, profile_to_yaml(profile))
    cached = st.session_state.get(REPORT_KEY)
    if cached is not None and cached[0] == key:
        return cached[1]
    with st.spinner("Checking the data…"):
        report = quality_report(frame, profile)
    st.session_state[REPORT_KEY] = (key, report)
    return report


def _missing_chart(report: QualityReport) -> alt.Chart | None:
    gaps = report.missing[report.missing["missing"] > 0]
    if gaps.empty:
        return None
    gaps = gaps.sort_values("missing_share", ascending=False).head(30)
    chart = (
        alt.Chart(gaps, title="Share of leads without a value")
        .mark_bar(color=charts.BASELINE_COLOUR)
        .encode(
            x=alt.X(
                "missing_share:Q",
                title=None,
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            y=alt.Y("field:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
            tooltip=[
                alt.Tooltip("field:N"),
                alt.Tooltip("kind:N"),
                alt.Tooltip("missing:Q", title="leads missing", format=","),
                alt.Tooltip("missing_share:Q", title="share", format=".1%"),
            ],
        )
        .properties(height=max(120, 30 * len(gaps)))
    )
    return charts.projector(chart)


def _segment_chart(report: QualityReport, segment: str) -> alt.Chart | None:
    table = report.missing_by_segment
    table = table[table["segment"] == segment]
    gappy = table.loc[table["missing_share"] > 0, "field"].unique()
    table = table[table["field"].isin(gappy)]
    if table.empty:
        return None
    chart = (
        alt.Chart(table, title=f"Missing share by {segment}")
        .mark_rect()
        .encode(
            x=alt.X("value:N", title=segment, axis=alt.Axis(labelLimit=200)),
            y=alt.Y("field:N", title=None, axis=alt.Axis(labelLimit=320)),
            color=alt.Color(
                "missing_share:Q",
                title="missing",
                scale=alt.Scale(domain=[0, 1], scheme="oranges"),
                legend=alt.Legend(format="%"),
            ),
            tooltip=[
                alt.Tooltip("value:N", title=segment),
                alt.Tooltip("field:N"),
                alt.Tooltip("leads:Q", format=","),
                alt.Tooltip("missing_share:Q", title="missing", format=".0%"),
            ],
        )
    )
    return charts.projector(chart.properties(height=alt.Step(28)))


def _show_report(report: QualityReport, profile: Profile) -> None:
    warnings = [f for f in report.findings if f.severity == "warning"]
    cells = st.columns(4)
    cells[0].metric("Leads", f"{report.leads:,}")
    cells[1].metric("Fields", f"{len(report.missing):,}")
    cells[2].metric("Warnings", len(warnings))
    cells[3].metric("Notes", len(report.findings) - len(warnings))

    chart = _missing_chart(report)
    if chart is None:
        st.success("No field has missing values.")
    else:
        st.altair_chart(chart, width="stretch")

    segments = [
        s for s in profile.segments if s in set(report.missing_by_segment["segment"])
    ]
    if segments:
        segment = st.selectbox("Missing values within a segment", segments)
        heatmap = _segment_chart(report, segment)
        if heatmap is not None:
            st.altair_chart(heatmap, width="stretch")

    by_check: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(finding)
    for check, title in CHECK_TITLES.items():
        findings = by_check.get(check, [])
        if not findings:
            continue
        serious = any(f.severity == "warning" for f in findings)
        with st.expander(f"{title} ({len(findings)})", expanded=serious):
            for finding in findings:
                if finding.severity == "warning":
                    st.warning(finding.message, icon=":material/warning:")
                else:
                    st.info(finding.message, icon=":material/info:")


# --- saving and using --------------------------------------------------------------


def _save_and_use(path: Path, profile: Profile, loaded: Path | None) -> None:
    target = Path(
        st.text_input(
            "Save the profile as",
            value=str(loaded or _profile_target(path)),
            help="Saved beside the data, where `--leads` and this app look for it.",
        )
    )
    left, right = st.columns(2)
    left.download_button(
        "Download the profile",
        profile_to_yaml(profile).encode("utf-8"),
        file_name=target.name,
        mime="application/x-yaml",
    )
    if right.button("Save and use this dataset", type="primary"):
        try:
            saved = save_profile(profile, path, to=target)
        except OSError as error:
            st.error(f"The profile cannot be saved to {target}: {error.strerror}.")
            return
        common.set_dataset(path, saved)
        st.session_state[SAVED_KEY] = str(saved)

    in_use = common.dataset_paths()[0].resolve()
    if st.session_state.get(SAVED_KEY) and in_use == path.resolve():
        _confirm_in_use(Path(st.session_state[SAVED_KEY]))


def _confirm_in_use(saved: Path) -> None:
    try:
        leads = common.current_leads()
    except LeadsimError as error:
        common.show_error(error, "The saved profile does not load:")
        return
    st.success(
        f"Saved `{saved}`. The other pages now use these {len(leads):,} leads.",
        icon=":material/check_circle:",
    )
    try:
        from leadsim.criteria import check_against_leads

        problems: list[Problem] = check_against_leads(common.current_baseline(), leads)
    except LeadsimError:
        problems = []
    if problems:
        st.markdown(
            "The published criteria name fields this dataset does not have; "
            "rules on them will not match until the criteria use this data's "
            "field names:"
        )
        common.show_problems(problems, limit=8)
    st.page_link(
        "pages/simulate.py", label="Simulate on it", icon=":material/query_stats:"
    )


def _preview(frame: pd.DataFrame, profile: Profile, path: Path) -> None:
    renamed = frame.rename(columns=profile.rename)
    st.dataframe(renamed.head(200), hide_index=True, width="stretch", placeholder="—")
    st.download_button(
        "Download the renamed table (CSV)",
        neutralise_formulas(renamed).to_csv(index=False).encode("utf-8"),
        file_name=f"{path.stem}-renamed.csv",
        mime="text/csv",
        help="Cells that a spreadsheet would run as formulas are quoted.",
    )


# --- the page ----------------------------------------------------------------------


common.page_setup(
    "Lead history",
    "Bring your own CRM export: check how leadsim reads it, what in it can be "
    "trusted, then simulate on it.",
)
in_use, in_use_profile = common.dataset_paths()
st.caption(
    f"The other pages use `{in_use}`"
    + (f" with the profile `{in_use_profile}`." if in_use_profile else ".")
)

path = _choose_file()
if path is None:
    st.info("Pick a file on disk or upload an export to begin.")
    st.stop()
st.session_state[PATH_KEY] = str(path)

try:
    frame = _read(path)
except DataError as error:
    common.show_error(error, f"{path.name} cannot be read:")
    st.stop()

draft = st.session_state.get(DRAFT_KEY)
if draft is None or draft["file"] != _file_key(path):
    _start_profile(path, frame)
    draft = st.session_state.get(DRAFT_KEY)
if draft is None:
    st.stop()

st.subheader("1. How to read it")
st.markdown(
    f"**{len(frame):,} leads, {len(frame.columns)} columns** in `{path.name}`. "
    f"The profile below starts from {draft['origin']}."
)
restart_left, restart_middle, restart_right = st.columns([2, 2, 1])
if restart_left.button("Propose again from the data"):
    _start_profile(path, frame, fresh=True)
    st.rerun()
profiles = _known_profiles()
if profiles:
    picked = restart_middle.selectbox(
        "Start from a saved profile",
        list(profiles),
        index=None,
        placeholder="Choose a profile file…",
        label_visibility="collapsed",
    )
    if restart_right.button("Load", disabled=picked is None):
        _start_profile(path, frame, saved=profiles[picked])
        st.rerun()

if draft.get("problems"):
    st.error(
        "The saved profile does not fit this data. The table below leaves out "
        "what it cannot place; review it and save again.",
        icon=":material/error:",
    )
    common.show_problems(draft["problems"])
profile = _profile_editor(frame, draft)
if profile is None:
    st.stop()
with st.expander("The profile as YAML"):
    st.code(profile_to_yaml(profile), language="yaml")

st.subheader("2. Can it be trusted?")
try:
    report = _report(frame, profile, draft["file"])
except DataError as error:
    common.show_error(error, "The profile cannot be applied to the data:")
    st.stop()
_show_report(report, profile)

st.subheader("3. Use it")
_save_and_use(path, profile, draft.get("saved"))

with st.expander("Preview the table"):
    _preview(frame, profile, path)
