"""The workshop app in Streamlit's AppTest: every page, and the key workflows.

Each test runs the app on a copy of the repository's criteria (see the
``criteria_root`` fixture), so saves never touch the repository.
"""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from leadsim import simulate as simulate_module
from leadsim.criteria import parse_criteria
from leadsim.dataset import load_leads
from leadsim.evaluate import evaluate
from leadsim.simulate import simulate

PAGES = {
    "home": "pages/home.py",
    "data": "pages/data.py",
    "design": "pages/design.py",
    "simulate": "pages/simulate.py",
    "publish": "pages/publish.py",
}
TIMEOUT = 120


@pytest.fixture
def app(repo_root, criteria_root):
    """The app, not yet run."""
    return AppTest.from_file(str(repo_root / "app.py"), default_timeout=TIMEOUT)


@pytest.fixture(scope="module")
def leads(sample_leads_path, sample_profile_path):
    return load_leads(sample_leads_path, sample_profile_path)


def _open(app: AppTest, page: str) -> AppTest:
    app.run()
    if page != "home":
        app.switch_page(PAGES[page])
        app.run()
    return app


def _metric(app: AppTest, label: str):
    return next(metric for metric in app.metric if metric.label == label)


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_without_exception(app, page, repo_root):
    if not (repo_root / PAGES[page]).exists():
        pytest.fail(f"{PAGES[page]} is missing from the navigation's pages")

    _open(app, page)

    assert not app.exception, app.exception[0].stack_trace if app.exception else ""
    assert app.title, f"the {page} page shows no title"


def test_home_shows_the_published_criteria_headline(app, leads, criteria_root):
    baseline = parse_criteria(
        (criteria_root / "erp-lead-stages" / "1.0.0.yaml").read_text(),
    )
    counts = evaluate(baseline, leads).stage_counts()

    _open(app, "home")

    assert _metric(app, "Leads").value == f"{len(leads):,}"
    assert _metric(app, "MQLs").value == f"{counts['mql'] + counts['sql']:,}"
    assert _metric(app, "SQLs").value == f"{counts['sql']:,}"


def test_moving_the_threshold_changes_the_kpis_by_what_the_simulator_says(
    app, leads, criteria_root
):
    _open(app, "simulate")
    slider = app.slider(key="simulate_threshold")
    before = slider.value

    slider.set_value(before - 10).run()

    assert not app.exception
    draft = parse_criteria(app.session_state["leadsim_draft_text"])
    assert draft.data["mql"]["threshold"]["total"] == before - 10
    baseline = parse_criteria(
        (criteria_root / "erp-lead-stages" / "1.0.0.yaml").read_text()
    )
    expected = simulate(draft, baseline, leads, capacity=120)
    mqls = _metric(app, "MQLs")
    assert mqls.value == f"{expected.draft.mql:,}"
    difference = expected.draft.mql - expected.baseline.mql
    assert mqls.delta == (f"+{difference:,}" if difference > 0 else "no change")
    assert _metric(app, "SQLs").value == f"{expected.draft.sql:,}"
    rate = expected.draft.rates["mql_opportunity"].value
    assert _metric(app, "MQL → opp.").value == f"{rate:.1%}"


def test_a_rule_edit_shows_on_simulate_what_a_fresh_simulation_says(
    app, leads, criteria_root
):
    """The session's simulation after an edit is updated from the last one;
    the page must still show exactly what a simulation from scratch gives."""
    # Results are shared between sessions; an earlier test's would stand in
    # for this session's first simulation and leave it nothing to build on.
    st.cache_resource.clear()
    _open(app, "simulate")
    app.switch_page(PAGES["design"])
    app.session_state["design_rule:fit:0"] = True  # open the first fit rule
    app.run()
    points = next(box for box in app.number_input if box.label == "points")
    points.set_value(points.value + 15).run()
    app.switch_page(PAGES["simulate"])
    app.run()

    assert not app.exception
    caches = app.session_state["leadsim_condition_caches"]
    (cache,) = caches.values()
    assert cache.latest[simulate_module._LATEST].updated  # built on the last one
    draft = parse_criteria(app.session_state["leadsim_draft_text"])
    baseline = parse_criteria(
        (criteria_root / "erp-lead-stages" / "1.0.0.yaml").read_text()
    )
    expected = simulate(draft, baseline, leads, capacity=120)
    assert _metric(app, "MQLs").value == f"{expected.draft.mql:,}"
    assert _metric(app, "SQLs").value == f"{expected.draft.sql:,}"
    rate = expected.draft.rates["mql_opportunity"].value
    assert _metric(app, "MQL → opp.").value == f"{rate:.1%}"


def test_invalid_yaml_shows_the_error_at_its_line(app):
    _open(app, "design")
    app.session_state["design_tab"] = "YAML"  # only the open tab is built
    app.run()
    text = app.session_state["leadsim_draft_text"]
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines) if "points:" in line)
    indent = lines[number][: len(lines[number]) - len(lines[number].lstrip())]
    lines[number] = f"{indent}points: lots"

    app.text_area(key=_yaml_key(app)).set_value("\n".join(lines)).run()

    assert not app.exception
    messages = [error.value for error in app.error]
    assert any(f"line {number + 1}," in message for message in messages), messages
    assert any("points" in block.value and "^" in block.value for block in app.code)


def _yaml_key(app: AppTest) -> str:
    return next(area.key for area in app.text_area if area.key.endswith(":yaml"))


def test_changing_points_edits_the_draft_and_undo_restores_it(app):
    _open(app, "design")
    app.session_state["design_rule:fit:0"] = True  # open the first fit rule
    app.run()
    original = app.session_state["leadsim_draft_text"]
    points = next(box for box in app.number_input if box.label == "points")
    old = points.value

    points.set_value(old + 7).run()

    changed = app.session_state["leadsim_draft_text"]
    assert changed != original
    assert f"points: {int(old + 7)}" in changed
    next(button for button in app.button if button.label == "Undo").click().run()
    assert parse_criteria(app.session_state["leadsim_draft_text"]).data == (
        parse_criteria(original).data
    )


def test_saving_writes_the_draft_and_a_stale_save_shows_both_versions(
    app, criteria_root
):
    _open(app, "design")
    app.session_state["design_tab"] = "Threshold & fast track"
    app.run()
    name = app.session_state["leadsim_draft_name"]
    path = criteria_root / "erp-lead-stages" / "drafts" / f"{name}.yaml"
    slider = next(s for s in app.slider if s.label == "total at least")
    slider.set_value(slider.value - 5).run()

    _save(app).run()

    assert path.read_text() == app.session_state["leadsim_draft_text"]

    # Someone else saves meanwhile; this session edits again and saves.
    path.write_text(path.read_text().replace("title:", "title: Theirs -", 1))
    slider = next(s for s in app.slider if s.label == "total at least")
    slider.set_value(slider.value - 5).run()
    _save(app).run()

    assert "Theirs -" in path.read_text()  # nothing overwritten
    assert any("saved by someone else" in error.value for error in app.error)
    shown = [block.value for block in app.code]
    assert any("Theirs -" in block for block in shown)
    mine = app.session_state["leadsim_draft_text"].strip()
    assert any(block.strip() == mine for block in shown)
    labels = [button.label for button in app.button]
    assert "Keep mine (replace theirs)" in labels
    assert "Take theirs (drop mine)" in labels


def _save(app: AppTest):
    return next(button for button in app.button if button.label == "Save draft").click()


def test_a_second_session_is_independent(repo_root, criteria_root):
    first = _open(
        AppTest.from_file(str(repo_root / "app.py"), default_timeout=TIMEOUT),
        "simulate",
    )
    second = _open(
        AppTest.from_file(str(repo_root / "app.py"), default_timeout=TIMEOUT),
        "simulate",
    )
    threshold = second.slider(key="simulate_threshold").value

    first.slider(key="simulate_threshold").set_value(threshold - 10).run()
    second.run()

    assert first.slider(key="simulate_threshold").value == threshold - 10
    assert second.slider(key="simulate_threshold").value == threshold
    assert _metric(first, "MQLs").value != _metric(second, "MQLs").value


DESIGN_TABS = [
    "Scoring",
    "Threshold & fast track",
    "Exclusions",
    "SQL",
    "Routing",
    "About, lists & glossary",
    "YAML",
]


@pytest.mark.parametrize("tab", DESIGN_TABS)
def test_every_design_tab_renders_with_its_first_rule_open(app, tab):
    _open(app, "design")
    app.session_state["design_tab"] = tab
    for section in ("fit", "exclude", "fast_track", "require", "routing"):
        app.session_state[f"design_rule:{section}:0"] = True

    app.run()

    assert not app.exception, app.exception[0].stack_trace if app.exception else ""


def test_the_title_is_edited_without_yaml(app):
    _open(app, "design")
    app.session_state["design_tab"] = "About, lists & glossary"
    app.run()

    app.text_input(key=_widget_key(app, ":about:title")).set_value("Q3 stages").run()

    assert parse_criteria(app.session_state["leadsim_draft_text"]).title == "Q3 stages"


def _widget_key(app: AppTest, suffix: str) -> str:
    return next(box.key for box in app.text_input if box.key.endswith(suffix))


@pytest.mark.parametrize("page", ["home", "design", "simulate"])
def test_a_history_without_the_criteria_fields_shows_problems_not_tracebacks(
    app, tmp_path, page
):
    history = tmp_path / "thin.csv"
    history.write_text("lead_id,created_at\nL1,2026-01-05\nL2,2026-01-06\n")
    app.session_state["leadsim_data_path"] = str(history)
    app.session_state["leadsim_profile_path"] = ""

    _open(app, page)

    assert not app.exception, app.exception[0].stack_trace if app.exception else ""
    assert app.error, "the missing fields should be reported"
