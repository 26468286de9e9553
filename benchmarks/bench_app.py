"""How fast the Simulate page redraws after a threshold move, in a real browser.

Starts ``streamlit run app.py`` on a free port (criteria copied to a temporary
folder), opens the Simulate page in headless Chromium, moves the threshold
slider down one step at a time (a new simulation each time) and prints how
long each redraw took, from the key press until Streamlit reports the script
run finished.

    python benchmarks/bench_app.py [--moves 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(port: int, criteria: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1",
    ]  # fmt: skip
    environment = {**os.environ, "LEADSIM_CRITERIA_ROOT": str(criteria)}
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health")
            return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("streamlit did not start within 60 s")


def _measure(url: str, moves: int) -> list[float]:
    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{url}/simulate")
        page.wait_for_timeout(1000)
        page.wait_for_selector(IDLE, timeout=60_000)
        slider = page.get_by_role("slider").first
        for _ in range(moves):
            slider.focus()
            started = time.perf_counter()
            slider.press("ArrowLeft")  # a new threshold each time: no cache hits
            try:
                page.wait_for_selector(RUNNING, timeout=2_000)
            except PlaywrightTimeout:
                pass  # the run finished before the first poll saw it
            page.wait_for_selector(IDLE, timeout=60_000)
            timings.append(time.perf_counter() - started)
        browser.close()
    return timings


def main() -> None:
    """Run the measurement and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=20)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        criteria = Path(folder) / "criteria"
        shutil.copytree(ROOT / "criteria", criteria)
        port = _free_port()
        server = _start(port, criteria)
        try:
            timings = _measure(f"http://127.0.0.1:{port}", arguments.moves)
        finally:
            server.terminate()
            server.wait(timeout=10)

    ordered = sorted(timings)
    print(f"threshold moves: {len(timings)} on the bundled sample (20,000 leads)")
    print(f"redraw median:   {statistics.median(timings):.3f} s")
    print(f"redraw p90:      {ordered[int(0.9 * (len(ordered) - 1))]:.3f} s")
    print(f"redraw max:      {ordered[-1]:.3f} s")


if __name__ == "__main__":
    main()
