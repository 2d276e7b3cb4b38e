"""Vacuum scenarios of the engine's own test suite, through ``vacuum_table``: what the
engine promises must hold through our API too (on tables written here, not its fixtures)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from pointline_storage import load_backend

ROWS = pa.table({"id": list(range(6)), "deleted": [False, True] * 3})
RETENTION_0 = {"retention_hours": 0, "enforce_retention_duration": False}


def on_disk(table: Path) -> set[str]:
    return {
        str(path.relative_to(table))
        for path in table.rglob("*.parquet")
        if "_delta_log" not in path.parts
    }


def test_overwritten_files_are_deleted_after_a_zero_retention(tmp_path: Path) -> None:
    table = tmp_path / "t"
    write_deltalake(str(table), ROWS, mode="overwrite")
    original = on_disk(table)
    write_deltalake(str(table), ROWS, mode="overwrite")
    current = on_disk(table) - original
    backend = load_backend("delta-local", root=tmp_path)
    dry = backend.vacuum_table("t", **RETENTION_0)
    assert set(dry.deleted_files) == original
    real = backend.vacuum_table("t", dry_run=False, **RETENTION_0)
    assert real.deleted_files == dry.deleted_files
    assert on_disk(table) == current
    assert DeltaTable(str(table)).to_pyarrow_table().num_rows == ROWS.num_rows


def test_lite_finds_only_the_logs_tombstones_full_also_strays(tmp_path: Path) -> None:
    for partitioned in (False, True):
        name = "partitioned" if partitioned else "flat"
        table = tmp_path / name
        partition_by = ["deleted"] if partitioned else None
        write_deltalake(str(table), ROWS, mode="overwrite", partition_by=partition_by)
        original = on_disk(table)
        write_deltalake(str(table), ROWS, mode="overwrite", partition_by=partition_by)
        stray = "deleted=false/stray.parquet" if partitioned else "stray.parquet"
        (table / stray).write_bytes(b"never in the log")
        backend = load_backend("delta-local", root=tmp_path)
        lite = backend.vacuum_table(name, **RETENTION_0)
        assert set(lite.deleted_files) == original
        full = backend.vacuum_table(name, full=True, **RETENTION_0)
        assert set(full.deleted_files) == original | {stray}


def test_full_vacuum_keeps_recently_removed_old_files_for_time_travel(tmp_path: Path) -> None:
    """A file written ten days ago and removed just now is needed by the versions before
    its removal: a full vacuum with the default week of retention must keep it."""
    table = tmp_path / "t"
    for _ in range(3):
        write_deltalake(str(table), ROWS, mode="append", partition_by=["deleted"])
    ten_days_ago = time.time() - 10 * 24 * 3600
    for relative in sorted(on_disk(table))[:2]:
        os.utime(table / relative, (ten_days_ago, ten_days_ago))
    before = DeltaTable(str(table)).version()
    backend = load_backend("delta-local", root=tmp_path)
    compacted = backend.compact_partitions(
        "t", partitions=[{"deleted": False}, {"deleted": True}], min_small_files=2
    )
    assert compacted.succeeded_partitions == 2  # the old files are tombstones now
    report = backend.vacuum_table("t", dry_run=False, full=True)
    assert report.deleted_files == ()
    old = DeltaTable(str(table), version=before).to_pyarrow_table()
    assert old.num_rows == 3 * ROWS.num_rows


def test_vacuum_after_a_checkpoint(tmp_path: Path) -> None:
    table = tmp_path / "t"
    write_deltalake(str(table), ROWS, mode="overwrite")
    DeltaTable(str(table)).create_checkpoint()
    first = on_disk(table)
    write_deltalake(str(table), ROWS, mode="overwrite")
    backend = load_backend("delta-local", root=tmp_path)
    assert backend.vacuum_table("t").deleted_files == ()  # within the week
    report = backend.vacuum_table("t", dry_run=False, full=True, **RETENTION_0)
    assert set(report.deleted_files) == first
    assert DeltaTable(str(table)).to_pyarrow_table().num_rows == ROWS.num_rows


def test_a_vacuum_adds_no_commit(tmp_path: Path) -> None:
    """The engine's own real vacuum commits VACUUM START and END; ours deletes the list
    the engine's dry run gave, and the table's history stays the writers'."""
    table = tmp_path / "t"
    write_deltalake(str(table), ROWS, mode="overwrite")
    write_deltalake(str(table), ROWS, mode="overwrite")
    version = DeltaTable(str(table)).version()
    backend = load_backend("delta-local", root=tmp_path)
    report = backend.vacuum_table("t", dry_run=False, **RETENTION_0)
    assert report.deleted_count == 1
    assert report.version == version
    assert DeltaTable(str(table)).version() == version
