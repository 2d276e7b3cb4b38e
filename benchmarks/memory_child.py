"""Run one side of case 4 in a process of its own and print its peak RSS as JSON.

Usage: ``python -m benchmarks.memory_child SIDE TABLE_PATH``, SIDE one of ``ours``, ``raw``,
``sorted``, ``raw_zorder`` (by ``ts``, case 9), ``sorted_keys``, ``raw_zorder_keys`` (by
``side`` then ``ts``, case 10). Only what a side needs is imported, so each process's peak
is that side's own cost.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

PARTITION = {"exchange": "sse", "trading_date": "2024-01-02"}


def main() -> None:
    """Compact the partition one way; print ``{"seconds": ..., "max_rss_bytes": ...}``."""
    side, table = sys.argv[1], Path(sys.argv[2])
    # numpy is installed here only for the benchmark's chart (matplotlib), and pyarrow
    # imports it whenever it is installed: measure the library as the project's own
    # environment runs it, without numpy (pyarrow does not need it).
    sys.modules["numpy"] = None  # type: ignore[assignment]
    started = time.perf_counter()
    keys = {"sorted": ("ts",), "sorted_keys": ("side", "ts")}
    if side in ("raw", "raw_zorder", "raw_zorder_keys"):
        from deltalake import DeltaTable

        filters = [(column, "=", value) for column, value in PARTITION.items()]
        optimize = DeltaTable(str(table)).optimize
        if side == "raw":
            metrics = optimize.compact(partition_filters=filters)
        else:
            columns = ["ts"] if side == "raw_zorder" else ["side", "ts"]
            metrics = optimize.z_order(columns, partition_filters=filters)
        assert metrics["numFilesRemoved"] > 1, metrics
    else:
        from pointline_storage import load_backend

        backend = load_backend("delta-local", root=table.parent)
        sort_by = keys.get(side)
        report = backend.compact_partitions(table.name, partitions=[PARTITION], sort_by=sort_by)
        assert report.succeeded_partitions == 1, report
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "max_rss_bytes": peak_rss()}))


def peak_rss() -> int:
    """This process's peak resident set size in bytes (Linux).

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries that over from the parent
    across fork and exec, so a child of a big parent reports the parent's peak.
    ``VmHWM`` belongs to this process's own address space.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status: peak RSS needs Linux")


if __name__ == "__main__":
    main()
