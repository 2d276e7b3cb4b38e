"""Case 4: peak resident memory of compacting a 1 GB partition, each side in its own process."""

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
    """78 appends of a 1M-row file into one partition."""
    table = root / "one_gigabyte"
    chunk = order_events(
        exchanges=["sse"], days=[dt.date(2024, 1, 2)], rows_per_partition=ROWS_PER_FILE, seed=4
    )
    write_appends(str(table), [chunk] * FILES, {})
    return table


def run(root: Path, repeats: int) -> list[Row]:
    """Peak RSS (and time) of our call and of the raw call, alternating, fresh copies."""
    base = build(root)
    size = pa.table(DeltaTable(str(base)).get_add_actions())["size_bytes"].to_pylist()
    size = sum(size)
    peaks: dict[str, list[int]] = {"raw": [], "ours": []}
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
            peaks[side].append(json.loads(done.stdout)["max_rss_bytes"])
    raw, ours = (statistics.median(peaks[side]) for side in ("raw", "ours"))
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
