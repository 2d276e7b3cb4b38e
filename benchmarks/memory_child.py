"""Run one side of case 4 in a process of its own and print its peak RSS as JSON.

Usage: ``python -m benchmarks.memory_child {ours|raw} TABLE_PATH``. Only what a side needs
is imported, so each process's peak is that side's own cost.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

PARTITION = {"exchange": "sse", "trading_date": "2024-01-02"}


def main() -> None:
    """Compact the partition one way; print ``{"seconds": ..., "max_rss_bytes": ...}``."""
    side, table = sys.argv[1], Path(sys.argv[2])
    started = time.perf_counter()
    if side == "raw":
        from deltalake import DeltaTable

        filters = [(column, "=", value) for column, value in PARTITION.items()]
        metrics = DeltaTable(str(table)).optimize.compact(partition_filters=filters)
        assert metrics["numFilesRemoved"] > 1, metrics
    else:
        from pointline_storage import load_backend

        backend = load_backend("delta-local", root=table.parent)
        report = backend.compact_partitions(table.name, partitions=[PARTITION])
        assert report.succeeded_partitions == 1, report
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "max_rss_bytes": peak}))


if __name__ == "__main__":
    main()
