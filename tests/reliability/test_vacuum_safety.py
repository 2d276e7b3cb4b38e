"""Vacuum never deletes a file a version within the retention, or a writer, still needs;
and its dry run lists exactly what the real run then deletes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reliability.processes import Worker, job_partitions
from reliability.store import (
    ALL_PARTITIONS,
    Store,
    as_rows,
    committed_rows,
    rows_for,
    write_table,
)

RETENTION_0 = {"retention_hours": 0, "enforce_retention_duration": False}
#: A table whose minimum retention is one hour, so a one-hour vacuum passes the check.
ONE_HOUR = {"delta.deletedFileRetentionDuration": "interval 1 hours"}


def put_untracked(store: Store, relative: str, data: bytes = b"not in the log") -> None:
    """Write a file into the table's folders that no commit references."""
    with store.fs.open(f"{store.fs_root}/t/{relative}", "wb") as handle:
        handle.write(data)


def test_full_vacuum_keeps_an_in_flight_writers_file(store: Store, tmp_path: Path) -> None:
    seed = as_rows(write_table(store, "t", files_per_partition=2, configuration=ONE_HOUR))
    backend = store.backend()
    backend.compact_partitions("t", partitions=ALL_PARTITIONS[:2], min_small_files=2)
    go = tmp_path / "go"
    spec = ALL_PARTITIONS[3]
    ids = ["late-0", "late-1"]
    writer = Worker(
        store,
        {
            "do": "in_flight",
            "table": "t",
            "writer": "w",
            "partitions": job_partitions([spec]),
            "ids": ids,
            "go": str(go),
        },
    )
    in_flight = writer.wait_for("written")["path"]

    options: dict[str, Any] = {"retention_hours": 1, "full": True}
    dry = backend.vacuum_table("t", **options)
    real = backend.vacuum_table("t", dry_run=False, **options)
    assert in_flight not in dry.deleted_files
    assert real.deleted_files == dry.deleted_files == ()
    go.touch()
    writer.finish()
    late = as_rows(rows_for(str(spec["exchange"]), spec["day"], ids))
    assert store.rows("t") == seed + late
    assert in_flight in store.live_files("t")
    # The same untracked file is a candidate once the retention no longer covers it: the
    # retention, not luck, kept the writer's file.
    put_untracked(store, "exchange=sse/day=2024-01-02/abandoned.parquet")
    assert "exchange=sse/day=2024-01-02/abandoned.parquet" in (
        backend.vacuum_table("t", full=True, **RETENTION_0).deleted_files
    )


def test_vacuum_from_a_process_holding_an_older_view_keeps_newer_files(store: Store) -> None:
    """The caller loaded the table before another process appended to it; a full vacuum
    with no retention at all must still judge from the latest version."""
    seed = as_rows(write_table(store, "t", files_per_partition=2))
    older_view = store.open("t")
    older_files = store.live_files("t")
    backend = store.backend()
    backend.inspect_partitions("t")
    appended = Worker(
        store,
        {
            "do": "append",
            "table": "t",
            "writer": "w",
            "partitions": job_partitions(ALL_PARTITIONS),
            "stop": "",
            "max_commits": 3,
        },
    )
    expected = seed + committed_rows(appended.finish())
    new_files = store.live_files("t") - older_files
    assert len(new_files) == 3
    report = backend.vacuum_table("t", dry_run=False, full=True, **RETENTION_0)
    assert report.version == older_view.version() + 3
    assert report.deleted_files == ()
    assert new_files <= set(store.disk_files("t"))
    assert store.rows("t") == expected


@pytest.mark.parametrize("full", [False, True], ids=["lite", "full"])
def test_dry_run_lists_exactly_what_the_real_run_deletes(store: Store, full: bool) -> None:
    seed = as_rows(write_table(store, "t", files_per_partition=3))
    backend = store.backend()
    backend.compact_partitions("t", partitions=ALL_PARTITIONS[::2], min_small_files=2)
    put_untracked(store, "exchange=sse/day=2024-01-02/orphan.parquet")
    put_untracked(store, "exchange=szse/day=2024-01-05/half-written.parquet#1")
    before = store.disk_files("t")
    live = store.live_files("t")

    dry = backend.vacuum_table("t", full=full, **RETENTION_0)
    assert store.disk_files("t") == before, "a dry run deletes nothing"
    real = backend.vacuum_table("t", dry_run=False, full=full, **RETENTION_0)
    after = store.disk_files("t")

    assert real.deleted_files == dry.deleted_files
    assert set(real.deleted_files) == set(before) - set(after)
    assert real.deleted_bytes == dry.deleted_bytes == sum(before[p] for p in real.deleted_files)
    untracked = {
        "exchange=sse/day=2024-01-02/orphan.parquet",
        "exchange=szse/day=2024-01-05/half-written.parquet#1",
    }
    # Lite mode deletes only what the log removed; full mode every file the log lacks.
    assert set(after) == (live if full else live | untracked)
    assert len(real.deleted_files) > len(untracked)
    assert store.rows("t") == seed
