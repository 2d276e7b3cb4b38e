"""Run every benchmark case and print one table of medians, ratios and targets.

Usage: ``uv run --group bench python -m benchmarks [--repeats N] [--workdir DIR]
[--cases 1,2,...]`` (``--cases 8,9`` runs only the sorted-compaction cases).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import deltalake

from benchmarks import (
    case_many_partitions,
    case_memory,
    case_one_partition,
    case_planning,
    case_s3,
    case_scaleout,
    case_sorted,
    case_vacuum,
)
from benchmarks.chart import case_two_chart
from benchmarks.report import Row, render

CHART = Path(__file__).resolve().parent / "case2.png"
CASES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)


def main() -> None:
    """Parse options, run the cases (all by default), print the table, write the case 2
    chart when case 2 ran."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="runs per side (default 3)")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary dir")
    parser.add_argument("--chart", type=Path, default=CHART, help=f"default: {CHART}")
    parser.add_argument(
        "--cases",
        type=lambda text: {int(number) for number in text.split(",")},
        default=set(CASES),
        help="comma-separated case numbers (default: all)",
    )
    options = parser.parse_args()
    cases = options.cases
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pointline-bench-", dir=options.workdir) as work:
        root = Path(work)
        rows: list[Row] = []
        samples = None
        if cases & {1, 5}:
            # Case 1 is short and its target tight: more runs steady its median.
            rows += _step(
                "case 1", lambda: case_one_partition.run(root / "c1", max(6, options.repeats))
            )
        if cases & {2, 3}:
            base = _step("case 2 table", lambda: case_many_partitions.build(root / "c2"))
            case2, samples = _step(
                "case 2", lambda: case_many_partitions.run(root / "c2", base, options.repeats)
            )
            rows += case2
            rows += _step("case 3", lambda: case_planning.run(base, max(5, options.repeats)))
        if 4 in cases:
            rows += _step(
                "case 4", lambda: case_memory.run(root / "c4", max(2, options.repeats - 1))
            )
        if 5 in cases:
            # Case 1's table again, uploaded to a local moto_server.
            base1 = root / "c1" / "one_partition"
            rows += _step("case 5", lambda: case_s3.run(base1, max(3, options.repeats)))
        if 6 in cases:
            base6 = _step("case 6 tables", lambda: case_vacuum.build(root / "c6"))
            small6 = case_vacuum.build(root / "c6", case_vacuum.S3_FILES_PER_PARTITION)
            rows += _step(
                "case 6",
                lambda: case_vacuum.run(base6, root / "c6", options.repeats, s3_base=small6),
            )
        if 7 in cases:
            rows += _step("case 7", lambda: case_scaleout.run(root / "c7", options.repeats))
        if 8 in cases:
            rows += _step("case 8", lambda: case_sorted.run(root / "c8", options.repeats))
        if 9 in cases:
            rows += _step(
                "case 9",
                lambda: case_memory.run_sorted(root / "c4", max(2, options.repeats - 1)),
            )
        if 10 in cases:
            rows += _step(
                "case 10",
                lambda: case_memory.run_sorted_keys(root / "c4", max(2, options.repeats - 1)),
            )
    if samples is not None:
        case_two_chart(samples, options.chart)
    print()
    print(
        f"pointline-storage benchmarks: deltalake {deltalake.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{options.repeats} runs per side; {time.perf_counter() - started:.0f} s in all"
    )
    print(render(rows))
    if samples is not None:
        print(f"chart of case 2: {options.chart}")


def _step(label, function):
    started = time.perf_counter()
    print(f"{label} ...", end=" ", flush=True)
    result = function()
    print(f"{time.perf_counter() - started:.0f} s", flush=True)
    return result


if __name__ == "__main__":
    main()
