"""Cases 4, 9 and 10: peak resident memory of compacting a 1 GB partition (4: plain, 9:
sorted by ts, 10: sorted by side then ts, against raw ``optimize.z_order`` of the same
columns), each side in its own process."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable

from benchmarks.data import fresh_copy, order_events, write_appends
from benchmarks.report import Row, check

FILES = 78
ROWS_PER_FILE = 1_000_000  # ~12.8 MB per file: 78 files make ~1 GB


def build(root: Path) -> Path:
    """78 appends of a 1M-row file into one partition (built once per run of the suite).

    Every file holds the same rows, so all 78 cover one ts range: nothing is in order.
    """
    table = root / "one_gigabyte"
    if (table / "_delta_log").exists():
        return table
    chunk = order_events(
        exchanges=["sse"], days=[dt.date(2024, 1, 2)], rows_per_partition=ROWS_PER_FILE, seed=4
    )
    write_appends(str(table), [chunk] * FILES, {})
    return table


def run(root: Path, repeats: int) -> list[Row]:
    """Peak RSS (and time) of our call and of the raw call, alternating, fresh copies."""
    size, (raw, ours) = _peaks(root, repeats, ("raw", "ours"))
    ratio = ours / raw
    case = f"4 peak RSS, one {size / 1e9:.2f} GB partition"
    return [
        Row(case, "raw optimize.compact", f"{raw / 2**20:.0f} MiB"),
        Row(
            case,
            "compact_partitions",
            f"{ours / 2**20:.0f} MiB",
            f"{ratio:.2f}x raw",
            "<= 1.2",
            check(ratio, at_most=1.2),
        ),
    ]


def run_sorted(root: Path, repeats: int) -> list[Row]:
    """Case 7: the same partition sorted by ts, ours against raw ``optimize.z_order``."""
    size, (raw, ours), seconds = _peaks(root, repeats, ("raw_zorder", "sorted"), timed=True)
    ratio = ours / raw
    case = f"9 peak RSS, sort_by ts, one {size / 1e9:.2f} GB partition"
    return [
        Row(case, "raw optimize.z_order(['ts'])", f"{raw / 2**20:.0f} MiB  {seconds[0]:.0f} s"),
        Row(
            case,
            "compact_partitions(sort_by=('ts',))",
            f"{ours / 2**20:.0f} MiB  {seconds[1]:.0f} s",
            f"{ratio:.2f}x raw",
            "<= 1.2",
            check(ratio, at_most=1.2),
        ),
    ]


def run_sorted_keys(root: Path, repeats: int) -> list[Row]:
    """Case 10: sorted by two keys (our lexicographic rewrite) against the engine's own
    rewrite by those two columns, raw ``optimize.z_order(["side", "ts"])``."""
    sides = ("raw_zorder_keys", "sorted_keys")
    size, (raw, ours), seconds = _peaks(root, repeats, sides, timed=True)
    ratio = ours / raw
    case = f"10 peak RSS, sort_by (side, ts), one {size / 1e9:.2f} GB partition"
    return [
        Row(
            case,
            "raw optimize.z_order(['side', 'ts'])",
            f"{raw / 2**20:.0f} MiB  {seconds[0]:.0f} s",
        ),
        Row(
            case,
            "compact_partitions(sort_by=('side', 'ts'))",
            f"{ours / 2**20:.0f} MiB  {seconds[1]:.0f} s",
            f"{ratio:.2f}x raw",
            "<= 1.2",
            check(ratio, at_most=1.2),
        ),
    ]


def _peaks(root: Path, repeats: int, sides: tuple[str, str], *, timed: bool = False):
    """The partition's size and each side's median peak RSS (and, if ``timed``, seconds)."""
    base = build(root)
    size = pa.table(DeltaTable(str(base)).get_add_actions())["size_bytes"].to_pylist()
    size = sum(size)
    peaks: dict[str, list[int]] = {side: [] for side in sides}
    times: dict[str, list[float]] = {side: [] for side in sides}
    for _ in range(repeats):
        for side in peaks:
            copy = fresh_copy(base, root / f"memory_{side}")
            done = subprocess.run(
                [sys.executable, "-m", "benchmarks.memory_child", side, str(copy)],
                check=True,
                capture_output=True,
                text=True,
                cwd=Path(__file__).resolve().parent.parent,
            )
            measured = json.loads(done.stdout)
            peaks[side].append(measured["max_rss_bytes"])
            times[side].append(measured["seconds"])
    medians = tuple(statistics.median(peaks[side]) for side in sides)
    if timed:
        return size, medians, tuple(statistics.median(times[side]) for side in sides)
    return size, medians
