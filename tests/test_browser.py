"""The workshop in a real browser: Playwright driving Debian's Chromium.

The test starts ``streamlit run app.py`` on a free localhost port, on a copy
of the repository's criteria (``LEADSIM_CRITERIA_ROOT``), walks the workshop
path (home, Design: change a rule's points, Simulate: see the delta, save)
and writes a screenshot of every page to ``docs/screenshots/``.

Without /usr/bin/chromium the tests skip with the reason; under ``CI=true``
a missing Chromium fails instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1600, "height": 1300}
START_TIMEOUT = 60.0
STEP_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing; install Debian's chromium to run browser tests"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason + " (CI=true: a skipped browser test is a failure)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(
        f"streamlit did not answer within {START_TIMEOUT:.0f} s:\n{log.read_text()}"
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A copy of the repository's criteria that the app may write to."""
    root = tmp_path_factory.mktemp("browser") / "criteria"
    shutil.copytree(Path(__file__).resolve().parent.parent / "criteria", root)
    return root


@pytest.fixture(scope="module")
def server(repo_root, workspace, tmp_path_factory) -> Iterator[str]:
    """``streamlit run app.py`` on a free port; yields its URL."""
    _require_chromium()
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    environment = {**os.environ, "LEADSIM_CRITERIA_ROOT": str(workspace)}
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=repo_root, env=environment, stdout=output, stderr=output
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser(server):
    """Headless Chromium with background networking off."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    opened.set_default_timeout(STEP_TIMEOUT_MS)
    yield opened
    context.close()


@pytest.fixture(scope="module")
def screenshots(repo_root) -> Path:
    folder = repo_root / "docs" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _settle(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_timeout(400)
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]',
        timeout=STEP_TIMEOUT_MS,
    )
    page.wait_for_timeout(300)


def _go(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    _settle(page)


def _shot(page, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def _metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(has_text=label).first


def _mqls(page) -> int:
    value = _metric(page, "MQLs").get_by_test_id("stMetricValue").inner_text()
    return int(value.replace(",", ""))


def test_workshop_path(page, server, workspace, screenshots):
    page.goto(server)
    _settle(page)
    assert page.get_by_role("heading", name="MQL and SQL workshop").is_visible()
    assert _metric(page, "MQL → SQL").is_visible()
    _shot(page, screenshots, "home")

    _go(page, "Simulate")
    page.get_by_role("heading", name="Simulate the draft").wait_for()
    mqls_before = _mqls(page)

    _go(page, "Design")
    page.get_by_role("heading", name="Design the draft").wait_for()
    _shot(page, screenshots, "design")
    first_rule = page.get_by_test_id("stExpander").first
    first_rule.locator("summary").click()
    _settle(page)
    points = first_rule.get_by_label("points")
    new_points = int(float(points.input_value())) + 40
    points.fill(str(new_points))
    points.press("Enter")
    _settle(page)
    assert page.get_by_text("Unsaved changes").is_visible()
    assert first_rule.get_by_label("points").input_value() == str(new_points)
    _shot(page, screenshots, "design-rule")

    _go(page, "Simulate")
    page.get_by_role("heading", name="Simulate the draft").wait_for()
    assert _mqls(page) > mqls_before  # more points, more MQLs
    _shot(page, screenshots, "simulate")
    for tab in ("Segments", "Scores & threshold", "Rules", "Flips", "Lead lookup"):
        page.get_by_role("tab", name=tab).click()
        _settle(page)
        name = tab.lower().replace(" & ", "-").replace(" ", "-")
        _shot(page, screenshots, f"simulate-{name}")

    _go(page, "Design")
    for tab in ("Threshold & fast track", "SQL", "Routing", "YAML"):
        page.get_by_role("tab", name=tab).click()
        _settle(page)
        name = tab.lower().replace(" & ", "-").replace(" ", "-")
        _shot(page, screenshots, f"design-{name}")
    page.get_by_role("button", name="Save draft").click()
    _settle(page)
    assert page.get_by_role("button", name="Saved").is_visible()
    drafts = (workspace / "erp-lead-stages" / "drafts").glob("*.yaml")
    assert any(f"points: {new_points}" in path.read_text() for path in drafts)


@pytest.mark.parametrize("title", ["Data", "Publish"])
def test_other_pages_render(page, server, screenshots, title):
    page.goto(server)
    _settle(page)

    _go(page, title)

    assert page.get_by_test_id("stException").count() == 0
    _shot(page, screenshots, title.lower())


def test_a_second_tab_is_an_independent_session(browser, server):
    first = browser.new_context(viewport=VIEWPORT).new_page()
    second = browser.new_context(viewport=VIEWPORT).new_page()
    for tab in (first, second):
        tab.set_default_timeout(STEP_TIMEOUT_MS)
        tab.goto(f"{server}/simulate")
        _settle(tab)
    before = _metric(second, "MQLs").get_by_test_id("stMetricValue").inner_text()

    slider = first.get_by_role("slider").first
    slider.focus()
    for _ in range(10):
        slider.press("ArrowLeft")
    _settle(first)
    first_value = _metric(first, "MQLs").get_by_test_id("stMetricValue").inner_text()
    second.reload()
    _settle(second)
    after = _metric(second, "MQLs").get_by_test_id("stMetricValue").inner_text()

    assert first_value != before
    assert after == before


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_missing_chromium_fails_under_ci_and_skips_elsewhere(
    monkeypatch, tmp_path, ci, outcome
):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", ci)

    with pytest.raises(outcome, match="no-chromium is missing"):
        _require_chromium()
