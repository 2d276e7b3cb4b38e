"""A small partitioned Delta table on local disk, and another host's lease on it, for tests
of the compaction pipeline, plans and executors."""

from __future__ import annotations

import time
from pathlib import Path

import fsspec
from pointline_storage_delta.holders import Holder
from pointline_storage_delta.leases import Lease, lease_path

from pointline_storage import Backend, load_backend
from pointline_storage.testing import sample_rows
from pointline_storage.testing.checks import key

SSE = {"exchange": "sse", "trading_date": "2024-01-02"}
SZSE = {"exchange": "szse", "trading_date": "2024-01-02"}


def small_table(root: Path) -> Backend:
    """A delta-local backend on ``root`` holding table ``t``: six partitions of 4 files."""
    backend = load_backend("delta-local", root=root)
    backend.write_sample_table(
        "t",
        rows=sample_rows(files_per_partition=4),
        partition_by=("exchange", "trading_date"),
        rows_per_file=20,
    )
    return backend


def lease_elsewhere(root: Path, spec: dict[str, object]) -> None:
    """A live lease of another host's compaction on one partition of table ``t``."""
    path = lease_path(str(root / "t"), key(spec), 1)
    now = time.time()
    holder = Holder(host="another-host", pid=4242)
    lease = Lease(path, "theirs", holder, key(spec), now, now + 600)
    fs = fsspec.filesystem("file")
    fs.makedirs(path.rpartition("/")[0], exist_ok=True)
    fs.pipe_file(lease.path, lease.to_json())
