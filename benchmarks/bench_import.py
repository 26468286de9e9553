"""Benchmark: read a large raw export, propose its profile, review its quality.

Run from the repository root::

    python benchmarks/bench_import.py [--copies 10]

Builds a CSV of ``copies`` times the bundled sample (20,000 leads each, with
fresh lead ids) in a temporary folder, then times the three steps a user waits
for on the Data page. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leadsim.importer import read_table  # noqa: E402
from leadsim.profiling import propose  # noqa: E402
from leadsim.quality import quality_report  # noqa: E402


def main() -> None:
    """Build the file, time each step, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()

    sample = read_table(ROOT / "sample_leads" / "leads.csv")
    big = pd.concat([sample] * args.copies, ignore_index=True)
    big["lead_id"] = [f"L{number:08d}" for number in range(len(big))]

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        big.to_csv(path, index=False)
        size = path.stat().st_size / 1024**2
        print(f"{len(big):,} leads, {len(big.columns)} columns, {size:,.0f} MB")

        started = time.perf_counter()
        frame = read_table(path)
        read_seconds = time.perf_counter() - started
        print(
            f"read_table       {read_seconds:6.2f} s  ({size / read_seconds:,.0f} MB/s)"
        )

        started = time.perf_counter()
        profile, _ = propose(frame)
        print(f"propose          {time.perf_counter() - started:6.2f} s")

        started = time.perf_counter()
        report = quality_report(frame, profile)
        print(
            f"quality_report   {time.perf_counter() - started:6.2f} s  "
            f"({len(report.findings)} findings)"
        )


if __name__ == "__main__":
    main()
