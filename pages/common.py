"""Session and loading helpers that every page of the workshop app shares.

Pages stay thin: they call these helpers for the dataset, the published
baseline and the draft being edited, then lay out widgets. Everything that
computes lives in :mod:`leadsim`; this module only caches and remembers.

Public API (stable, for every page):

- ``BASELINE_COLOUR``, ``DRAFT_COLOUR``: the two colours used everywhere.
- ``repo_root()``, ``criteria_root()``: where files live. ``criteria_root``
  honours the ``LEADSIM_CRITERIA_ROOT`` environment variable (tests use it).
- ``set_dataset(data_path, profile_path)``, ``dataset_paths()``: which lead
  history this session works on (the bundled sample by default).
- ``current_leads() -> Leads``: the prepared leads, cached by file content.
- ``store() -> CriteriaStore``: the criteria store over ``criteria_root()``.
- ``criteria_id()``: the criteria family being worked on.
- ``current_baseline() -> Criteria``: the latest published version.
- ``draft_text()``, ``set_draft_text(text)``: the draft YAML in this session.
- ``current_draft() -> (Criteria | None, list[Problem])``: the parsed draft.
- ``draft_name()``, ``draft_base_revision()``, ``draft_is_saved()``: which
  stored draft is open, the revision it was based on, whether it is saved.
- ``open_draft(name, text, revision)``, ``open_stored_draft(name)``,
  ``save_draft()``: switch drafts; save through the store (raises
  ``StaleDraftError`` when someone else saved since).
- ``capacity()``, ``set_capacity(n)``: the SDR capacity, leads a week.
- ``evaluation_for(criteria, leads)``, ``simulation_for(draft, baseline,
  leads)``, ``current_simulation()``: cached by content; read-only results.
- ``headline(evaluation)``: leads, MQLs, SQLs and the two headline rates.
- ``show_problems(problems)``, ``show_error(error, intro)``: problems inline,
  location first, never a traceback.
- ``page_setup(title, intro)``: call first on every page (title, and a
  guard that the page runs inside ``app.py``'s navigation).
- ``navigation_pages()``: the menu; ``page_link(path, label, icon)``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import streamlit as st

from leadsim import charts
from leadsim.charts import BASELINE_COLOUR as BASELINE_COLOUR
from leadsim.charts import DRAFT_COLOUR as DRAFT_COLOUR
from leadsim.criteria import Criteria, parse_criteria
from leadsim.dataset import Leads, load_leads
from leadsim.errors import CriteriaError, LeadsimError, Problem, format_path
from leadsim.evaluate import ConditionCache, Evaluation, evaluate
from leadsim.simulate import Simulation, simulate
from leadsim.stats import Rate, as_amounts, as_flags, funnel_rates, funnel_table
from leadsim.store import CriteriaStore, revision_of

logger = logging.getLogger(__name__)

DEFAULT_CRITERIA_ID = "erp-lead-stages"
DEFAULT_CAPACITY = 120
# The rates the Simulate page offers per segment, with their chart titles.
SEGMENT_RATES = {
    "mql_opportunity": "MQLs → opportunity",
    "mql_to_sql": "MQL → SQL rate",
    "opportunity_coverage": "opportunities caught",
    "mql_won": "MQLs → won",
}
SEGMENT_RATE_TITLES = tuple(SEGMENT_RATES.values())

_DATA_KEY = "leadsim_data_path"
_PROFILE_KEY = "leadsim_profile_path"
_CRITERIA_ID_KEY = "leadsim_criteria_id"
_DRAFT_TEXT_KEY = "leadsim_draft_text"
_DRAFT_NAME_KEY = "leadsim_draft_name"
_DRAFT_REVISION_KEY = "leadsim_draft_revision"
_CAPACITY_KEY = "leadsim_capacity"


def repo_root() -> Path:
    """The project directory (the one holding ``app.py``)."""
    return Path(__file__).resolve().parent.parent


def criteria_root() -> Path:
    """Where criteria families live; ``LEADSIM_CRITERIA_ROOT`` overrides it."""
    override = os.environ.get("LEADSIM_CRITERIA_ROOT")
    return Path(override) if override else repo_root() / "criteria"


def sample_paths() -> tuple[Path, Path]:
    """The bundled sample history and its profile."""
    folder = repo_root() / "sample_leads"
    return folder / "leads.csv", folder / "profile.yaml"


# --- dataset -----------------------------------------------------------------


def set_dataset(data_path: str | Path, profile_path: str | Path | None) -> None:
    """Make this session work on another lead history.

    The Data page calls this after the user has saved a profile. Leads are
    loaded lazily by :func:`current_leads`; the simulation is recomputed.
    """
    st.session_state[_DATA_KEY] = str(data_path)
    st.session_state[_PROFILE_KEY] = str(profile_path) if profile_path else ""


def dataset_paths() -> tuple[Path, Path | None]:
    """The lead history and profile of this session (the sample by default)."""
    sample_data, sample_profile = sample_paths()
    data = st.session_state.get(_DATA_KEY) or str(sample_data)
    profile = st.session_state.get(_PROFILE_KEY, str(sample_profile))
    return Path(data), Path(profile) if profile else None


@st.cache_data(show_spinner=False, max_entries=64)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    # Keyed by mtime and size so the bytes are hashed once per file version.
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digest(path: Path | None) -> str:
    """The sha256 of a file's bytes, cached by modification time and size."""
    if path is None or not path.exists():
        return ""
    status = path.stat()
    return _file_digest(str(path), status.st_mtime_ns, status.st_size)


@st.cache_resource(show_spinner="Loading the lead history…", max_entries=4)
def _load_leads(
    data: str, profile: str, data_digest: str, profile_digest: str
) -> Leads:
    # The digests are part of the cache key: a changed file loads again.
    return load_leads(data, profile or None)


def current_leads() -> Leads:
    """The prepared leads of this session, loaded once per file content.

    Raises :class:`leadsim.errors.DataError` when the data cannot be used;
    pages show it with :func:`show_error`.
    """
    data, profile = dataset_paths()
    return _load_leads(
        str(data),
        str(profile) if profile else "",
        file_digest(data),
        file_digest(profile),
    )


# --- criteria ------------------------------------------------------------------


def criteria_id() -> str:
    """The criteria family this session works on."""
    return st.session_state.get(_CRITERIA_ID_KEY, DEFAULT_CRITERIA_ID)


@st.cache_resource(show_spinner=False, max_entries=4)
def _store(root: str) -> CriteriaStore:
    return CriteriaStore(Path(root))


def store() -> CriteriaStore:
    """The criteria store over :func:`criteria_root` (one per root)."""
    return _store(str(criteria_root()))


@st.cache_resource(show_spinner=False, max_entries=16)
def _parse_file(path: str, digest: str) -> Criteria:
    # The digest keys the cache on content; the path is for messages.
    return parse_criteria(Path(path).read_text(encoding="utf-8"), path)


def current_baseline() -> Criteria:
    """The latest published version of the current criteria family.

    Raises :class:`leadsim.errors.CriteriaError` when none is published.
    """
    version = store().current(criteria_id())
    if version is None:
        folder = criteria_root() / criteria_id()
        raise CriteriaError.single(
            f"No published version of {criteria_id()} in {folder}; "
            "publish a draft first or pick another criteria folder.",
            file=str(folder),
        )
    path = store().version_path(criteria_id(), version)
    return _parse_file(str(path), file_digest(path))


# --- the draft ---------------------------------------------------------------


def draft_text() -> str:
    """The draft YAML of this session.

    The first call opens the first stored draft, or, failing that, a copy of
    the published baseline named ``workshop`` (not yet saved).
    """
    if _DRAFT_TEXT_KEY not in st.session_state:
        open_initial_draft()
    return st.session_state[_DRAFT_TEXT_KEY]


def set_draft_text(text: str) -> None:
    """Replace the draft YAML of this session (not saved to disk)."""
    st.session_state[_DRAFT_TEXT_KEY] = text


def draft_name() -> str:
    """The name of the stored draft being edited."""
    draft_text()
    return st.session_state.get(_DRAFT_NAME_KEY, "")


def draft_base_revision() -> str | None:
    """The stored revision this session's text is based on (``None``: unsaved)."""
    draft_text()
    return st.session_state.get(_DRAFT_REVISION_KEY)


def draft_is_saved() -> bool:
    """True when the session's text is exactly the stored draft it is based on."""
    revision = draft_base_revision()
    return revision is not None and revision == revision_of(draft_text().encode())


def open_draft(name: str, text: str, revision: str | None) -> None:
    """Make a draft (its name, text and base revision) this session's draft."""
    st.session_state[_DRAFT_NAME_KEY] = name
    st.session_state[_DRAFT_TEXT_KEY] = text
    st.session_state[_DRAFT_REVISION_KEY] = revision


def open_stored_draft(name: str) -> None:
    """Open a stored draft by name (raises ``PublishError`` if it is gone)."""
    draft = store().read_draft(criteria_id(), name)
    open_draft(draft.name, draft.text, draft.revision)


def open_initial_draft() -> None:
    """Open the first stored draft, or a copy of the baseline as ``workshop``."""
    names = store().drafts(criteria_id())
    if names:
        open_stored_draft(names[0])
        return

    version = store().current(criteria_id())
    text = store().version_text(criteria_id(), version) if version else ""
    open_draft("workshop", text, None)


def save_draft() -> str:
    """Save the session's draft to the store, based on the revision it opened.

    Returns the new revision. Raises :class:`leadsim.store.StaleDraftError`
    (with the text on disk) when someone else saved since; the session's
    text is kept so the page can show both versions.
    """
    revision = store().save_draft(
        criteria_id(), draft_name(), draft_text(), draft_base_revision()
    )
    st.session_state[_DRAFT_REVISION_KEY] = revision
    return revision


@st.cache_resource(show_spinner=False, max_entries=32)
def _parse_text(text: str) -> tuple[Criteria | None, list[Problem]]:
    try:
        return parse_criteria(text, source="<draft>"), []
    except CriteriaError as error:
        return None, list(error.problems)


def current_draft() -> tuple[Criteria | None, list[Problem]]:
    """The parsed draft and its problems (errors leave the criteria ``None``).

    Warnings of a valid draft are returned as problems too.
    """
    criteria, problems = _parse_text(draft_text())
    if criteria is not None:
        return criteria, list(criteria.warnings)
    return None, problems


# --- simulation ----------------------------------------------------------------


def capacity() -> int:
    """The SDR team's capacity in leads a week, as set in this session."""
    return int(st.session_state.get(_CAPACITY_KEY, DEFAULT_CAPACITY))


def set_capacity(leads_per_week: int) -> None:
    """Remember the SDR capacity for every page of this session."""
    st.session_state[_CAPACITY_KEY] = int(leads_per_week)


def condition_cache(fingerprint: str) -> ConditionCache:
    """This session's rule-column cache for one dataset.

    Per session, because the cache is not safe to share between threads;
    after a one-rule edit only that rule's column is computed again.
    """
    caches = st.session_state.setdefault("leadsim_condition_caches", {})
    if fingerprint not in caches:
        caches.clear()
        caches[fingerprint] = ConditionCache()
    return caches[fingerprint]


@st.cache_resource(
    show_spinner="Simulating the draft against the baseline…", max_entries=32
)
def _simulate(
    draft_text: str,
    baseline_text: str,
    leads_key: str,
    capacity: int,
    _draft: Criteria,
    _baseline: Criteria,
    _leads: Leads,
) -> Simulation:
    # Underscored arguments are not hashed; the texts and keys stand in.
    return simulate(
        _draft,
        _baseline,
        _leads,
        capacity=capacity or None,
        cache=condition_cache(leads_key),
    )


def simulation_for(draft: Criteria, baseline: Criteria, leads: Leads) -> Simulation:
    """Simulate ``draft`` against ``baseline``, cached by their content.

    The result is shared by sessions with the same inputs; treat it as
    read-only.
    """
    return _simulate(
        draft.text, baseline.text, leads.fingerprint, capacity(), draft, baseline, leads
    )


def current_simulation() -> Simulation | None:
    """The session's draft simulated against the baseline, or ``None``.

    ``None`` when the draft does not parse; pages then show its problems.
    """
    draft, _ = current_draft()
    if draft is None:
        return None
    return simulation_for(draft, current_baseline(), current_leads())


# --- rendering -----------------------------------------------------------------


def show_problems(problems: list[Problem], *, limit: int = 20) -> None:
    """Render problems inline: errors in red, warnings in amber, location first."""
    for problem in problems[:limit]:
        where = f"**line {problem.line}, column {problem.column or 1}:** "
        path = f" (at `{format_path(problem.path)}`)" if problem.path else ""
        text = (where if problem.line else "") + problem.message + path
        if problem.severity == "warning":
            st.warning(text, icon=":material/warning:")
        else:
            st.error(text, icon=":material/error:")
    if len(problems) > limit:
        st.caption(f"…and {len(problems) - limit} more.")


def show_error(error: LeadsimError, intro: str = "") -> None:
    """Render a leadsim error as its problems, never as a traceback."""
    if intro:
        st.error(intro)
    show_problems(list(error.problems))


ENTRY_KEY = "leadsim_entry_ran"


def navigation_pages() -> list[st.Page]:
    """The app's pages in menu order (paths relative to ``app.py``)."""
    return [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/data.py", title="Data", icon=":material/table_chart:"),
        st.Page("pages/design.py", title="Design", icon=":material/edit_note:"),
        st.Page("pages/simulate.py", title="Simulate", icon=":material/query_stats:"),
        st.Page("pages/publish.py", title="Publish", icon=":material/verified:"),
    ]


def ensure_entry() -> None:
    """Make sure the page runs inside ``app.py``'s navigation.

    Until some session has run ``st.navigation``, Streamlit serves the
    ``pages/`` folder directly, so a first visitor who opens a deep link
    (``/simulate``) would get the page without the app around it. Calling
    ``st.navigation`` switches the folder convention off for every session,
    and finds the page the visitor asked for; switching to it reruns
    through ``app.py``, which sets :data:`ENTRY_KEY`.
    """
    if st.session_state.get(ENTRY_KEY):
        return
    requested = st.navigation(navigation_pages(), position="hidden")
    st.session_state[ENTRY_KEY] = True
    st.switch_page(requested)


@st.cache_resource(show_spinner=False)
def _warm_charts() -> threading.Thread:
    # Once per server process, in the background: the Simulate page's first
    # redraw then finds every chart layout built.
    thread = threading.Thread(
        target=charts.warm_templates, args=(SEGMENT_RATE_TITLES,), daemon=True
    )
    thread.start()
    return thread


def page_setup(title: str, intro: str = "") -> None:
    """The shared page header: a title and one line of what the page is for.

    Call it first on every page; it also makes sure the page runs inside
    the app's navigation (see :func:`ensure_entry`).
    """
    ensure_entry()
    _warm_charts()
    st.title(title)
    if intro:
        st.caption(intro)


@st.cache_resource(show_spinner=False, max_entries=16)
def _evaluate(
    criteria_text: str, leads_key: str, _criteria: Criteria, _leads: Leads
) -> Evaluation:
    # Keyed by the criteria text and the dataset fingerprint.
    return evaluate(_criteria, _leads, cache=condition_cache(leads_key))


def evaluation_for(criteria: Criteria, leads: Leads) -> Evaluation:
    """Evaluate criteria on leads, cached by criteria text and dataset."""
    return _evaluate(criteria.text, leads.fingerprint, criteria, leads)


def headline(evaluation: Evaluation) -> dict[str, Rate | int]:
    """Headline numbers of one evaluation: counts and the key rates.

    Keys: ``leads``, ``mql`` (MQL or beyond), ``sql``, ``mql_to_sql`` and
    ``mql_opportunity`` (both :class:`leadsim.stats.Rate`).
    """
    leads = evaluation.leads
    table = funnel_table(
        evaluation.stage_code,
        as_flags(leads.outcome("opportunity"), len(leads)),
        as_flags(leads.outcome("won"), len(leads)),
        as_amounts(leads.outcome("amount"), len(leads)),
    )
    numbers = table.numbers()
    rates = funnel_rates(numbers)
    return {
        "leads": int(numbers["leads"][0]),
        "mql": int(numbers["mql"][0]),
        "sql": int(numbers["sql"][0]),
        "mql_to_sql": rates["mql_to_sql"],
        "mql_opportunity": rates["mql_opportunity"],
    }


def page_link(path: str, label: str, icon: str) -> None:
    """A link to another page, or its plain label while that page is missing."""
    if (repo_root() / path).exists():
        st.page_link(path, label=label, icon=icon)
    else:
        st.markdown(label)
