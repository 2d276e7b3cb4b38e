"""Compaction and vacuum while other processes write to the same table.

Writers, competing compactions and conflicting overwrites run in real worker processes.
Every check compares the table's whole contents (a multiset of rows, so a duplicate
shows) with what the workers report as committed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pointline_storage import PartitionCompactionResult
from pointline_storage.testing.checks import key
from reliability.processes import Worker, job_partitions
from reliability.store import (
    ALL_PARTITIONS,
    Row,
    Store,
    as_rows,
    assert_every_version_reads,
    committed_rows,
    directory,
    rows_for,
    write_table,
)

NAMED = ALL_PARTITIONS[:6]  # compacted; the last two are written to but never named
SSE_ONLY = [spec for spec in ALL_PARTITIONS if spec["exchange"] == "sse"]


def append_workers(store: Store, stop: Path, tag: str) -> list[Worker]:
    """Three paced appenders: over every partition, over one exchange, over unnamed
    partitions."""
    groups = [ALL_PARTITIONS, SSE_ONLY, ALL_PARTITIONS[6:]]
    return [
        Worker(
            store,
            {
                "do": "append",
                "table": "t",
                "writer": f"{tag}w{number}",
                "partitions": job_partitions(group),
                "stop": str(stop),
                "pause": store.writer_pause,
            },
        )
        for number, group in enumerate(groups)
    ]


def stop_all(workers: list[Worker], stop: Path) -> Counter[Row]:
    """Stop the appenders; return what they committed (none may have failed)."""
    stop.touch()
    events = [event for worker in workers for event in worker.finish()]
    assert [event for event in events if event["event"] == "error"] == []
    return committed_rows(events)


def test_appends_during_compaction_keep_every_row_exactly_once(
    store: Store, tmp_path: Path
) -> None:
    expected = as_rows(write_table(store, "t", files_per_partition=4))
    backend = store.backend()
    named_dirs = tuple(directory(spec) for spec in NAMED)
    for number in range(store.rounds):
        if number:  # fragment the named partitions again
            expected += as_rows(write_table(store, "t", files_per_partition=3, tag=f"r{number}"))
        stop = tmp_path / f"stop-{number}"
        workers = append_workers(store, stop, tag=f"r{number}")
        for worker in workers:
            worker.wait_for("committed")  # every appender is writing now
        version_before = store.open("t").version()
        report = backend.compact_partitions("t", partitions=NAMED, min_small_files=2)
        expected += stop_all(workers, stop)

        assert [r.status for r in report.partitions] == ["compacted"] * len(NAMED)
        assert store.rows("t") == expected
        # Every compaction commit is valid: it changes no row and touches only named
        # partitions, whatever the appenders committed around it.
        latest = store.open("t").version()
        optimized = 0
        for version in range(version_before + 1, latest + 1):
            actions = store.commit("t", version)
            info = next(a["commitInfo"] for a in actions if "commitInfo" in a)
            if info["operation"] != "OPTIMIZE":
                assert not any("remove" in action for action in actions)
                continue
            optimized += 1
            removed = [a["remove"]["path"] for a in actions if "remove" in a]
            assert removed
            assert all(path.startswith(named_dirs) for path in removed)
            assert store.rows("t", version) == store.rows("t", version - 1)
        assert optimized >= 1


@pytest.mark.parametrize("conflict", ["delete", "overwrite"])
def test_a_conflicting_writer_fails_only_its_partition_and_a_rerun_is_safe(
    store: Store, conflict: str
) -> None:
    seed = as_rows(write_table(store, "t", files_per_partition=4))
    backend = store.backend()
    victim = NAMED[2]
    victim_rows = Counter(
        {row: n for row, n in seed.items() if row[:2] == (victim["exchange"], victim["day"])}
    )
    doomed = sorted(victim_rows)[0]
    replacement = as_rows(rows_for(str(victim["exchange"]), victim["day"], ["new-0", "new-1"]))

    def conflict_before_the_victim(result: PartitionCompactionResult) -> None:
        if result.partition != key(NAMED[1]):
            return
        job: dict[str, Any] = {"table": "t", "partitions": job_partitions([victim])}
        if conflict == "delete":
            job.update(do="delete", predicate=f"id = '{doomed[2]}'")
        else:
            job.update(do="overwrite", ids=["new-0", "new-1"])
        Worker(store, job).finish()

    # One commit per partition, so the conflict lands between two of them (a batch
    # commit's fallback is tested in test_delta_batches.py).
    report = backend.compact_partitions(
        "t",
        partitions=NAMED,
        min_small_files=2,
        progress=conflict_before_the_victim,
        partitions_per_commit=1,
    )
    by_key = {result.partition: result for result in report.partitions}
    failed = by_key[key(victim)]
    assert failed.status == "failed"
    assert "CommitFailedError" in (failed.error or "")
    assert report.succeeded_partitions == len(NAMED) - 1
    assert report.failed_partitions == 1
    if conflict == "delete":
        expected = seed - Counter([doomed])
    else:
        expected = seed - victim_rows + replacement
    assert store.rows("t") == expected, "nothing lost but what the other writer removed"

    rerun = backend.compact_partitions("t", partitions=NAMED, min_small_files=2)
    rerun_status = {result.partition: result.status for result in rerun.partitions}
    # Only the failed partition can still have work; an overwrite left it one file.
    assert rerun_status.pop(key(victim)) == ("compacted" if conflict == "delete" else "skipped")
    assert set(rerun_status.values()) == {"skipped"}
    assert store.rows("t") == expected


def compactors(store: Store, start: Path, groups: list[list[dict[str, object]]]) -> list[Worker]:
    """One compaction worker per group of partitions, all waiting for ``start``."""
    return [
        Worker(
            store,
            {"do": "compact", "table": "t", "partitions": job_partitions(g), "start": str(start)},
        )
        for g in groups
    ]


def reports(workers: list[Worker]) -> list[dict[str, Any]]:
    """The final report of each compaction worker (each must exit cleanly)."""
    return [
        next(e["report"] for e in worker.finish() if e["event"] == "report") for worker in workers
    ]


#: What a compaction reports for a partition another compaction holds the lease of.
LEASED_OUT = "PartitionLeasedError: another compaction holds partition"


def assert_one_compacted(results: list[dict[str, Any]]) -> None:
    """Of two compactions of one partition, one compacted it; the other was refused by
    the lease, or found nothing left to do when it started after the first finished."""
    statuses = sorted(result["status"] for result in results)
    assert statuses in (["compacted", "failed"], ["compacted", "skipped"]), results
    for result in results:
        if result["status"] == "failed":
            assert result["error"].startswith(LEASED_OUT), result["error"]


def test_two_compactions_of_one_partition_at_once(store: Store) -> None:
    """Another process compacts a partition while this one is about to: one must win,
    the other must fail cleanly or find nothing to do, and no row may be duplicated."""
    expected = as_rows(write_table(store, "t", files_per_partition=4))
    backend = store.backend()
    contested = NAMED[1]
    other: list[dict[str, Any]] = []

    def the_other_compactor_goes_first(result: PartitionCompactionResult) -> None:
        if result.partition == key(NAMED[0]):
            job = {"do": "compact", "table": "t", "partitions": job_partitions([contested])}
            other.extend(e["report"] for e in Worker(store, job).finish() if "report" in e)

    report = backend.compact_partitions(
        "t", partitions=NAMED[:2], min_small_files=2, progress=the_other_compactor_goes_first
    )
    (theirs,) = other[0]["partitions"]
    ours = next(r for r in report.partitions if r.partition == key(contested))
    assert_one_compacted([theirs, ours.to_dict()])
    assert store.rows("t") == expected
    files = store.live_files("t")
    assert sum(path.startswith(directory(contested)) for path in files) == 1


def test_two_processes_started_together_on_the_same_partitions(
    store: Store, tmp_path: Path
) -> None:
    """Two processes released at the same instant on the same partitions: each partition
    is compacted exactly once and no row is duplicated (without leases, most rounds
    duplicate some partition)."""
    expected = Counter[Row]()
    for number in range(2):
        expected += as_rows(write_table(store, "t", files_per_partition=3, tag=f"r{number}"))
        start = tmp_path / f"start-{number}"
        workers = compactors(store, start, [ALL_PARTITIONS, ALL_PARTITIONS])
        start.touch()
        first, second = reports(workers)
        for ours, theirs in zip(first["partitions"], second["partitions"], strict=True):
            assert_one_compacted([ours, theirs])
        assert store.rows("t") == expected
        files = store.live_files("t")
        for spec in ALL_PARTITIONS:
            assert sum(path.startswith(directory(spec)) for path in files) == 1


def test_disjoint_partition_sets_compact_in_parallel(store: Store, tmp_path: Path) -> None:
    """The scale-out contract: workers given disjoint partitions all succeed."""
    expected = as_rows(write_table(store, "t", files_per_partition=4))
    groups = [ALL_PARTITIONS[n::4] for n in range(4)]
    for number in range(1):  # four workers start per round: one round is the budget
        if number:
            expected += as_rows(write_table(store, "t", files_per_partition=3, tag=f"r{number}"))
        start = tmp_path / f"start-{number}"
        workers = compactors(store, start, groups)
        start.touch()
        for report in reports(workers):
            assert [p["status"] for p in report["partitions"]] == ["compacted", "compacted"]
        assert store.rows("t") == expected
        files = store.live_files("t")
        for spec in ALL_PARTITIONS:
            assert sum(path.startswith(directory(spec)) for path in files) == 1


@pytest.mark.parametrize(
    ("options", "deletes"),
    [
        ({"retention_hours": 0, "enforce_retention_duration": False, "full": False}, True),
        ({"retention_hours": 1, "enforce_retention_duration": False, "full": True}, False),
    ],
    ids=["lite-retention-0", "full-retention-1h"],
)
def test_vacuum_while_a_writer_appends(
    store: Store, tmp_path: Path, options: dict[str, Any], deletes: bool
) -> None:
    expected = as_rows(write_table(store, "t", files_per_partition=3))
    backend = store.backend()
    stop = tmp_path / "stop"
    writer = Worker(
        store,
        {
            "do": "append",
            "table": "t",
            "writer": "w",
            "partitions": job_partitions(ALL_PARTITIONS),
            "stop": str(stop),
            "pause": store.writer_pause,
        },
    )
    writer.wait_for("committed")
    deleted: list[str] = []
    vacuumed_at = 0
    for _ in range(store.rounds):
        backend.compact_partitions("t", partitions=ALL_PARTITIONS, min_small_files=2)
        report = backend.vacuum_table("t", dry_run=False, **options)
        deleted += report.deleted_files
        vacuumed_at = report.version
    stop.touch()
    expected += committed_rows(writer.finish())
    assert [e for e in writer.events if e["event"] == "error"] == []

    assert store.rows("t") == expected
    assert store.live_files("t") <= set(store.disk_files("t")), "no live file deleted"
    assert not set(deleted) & store.live_files("t")
    # Versions within the retention still read: all of them when vacuum kept every
    # removed file, else every version from the snapshot the last vacuum read.
    since = vacuumed_at if deletes else 0
    assert assert_every_version_reads(store, "t", since=since) >= 1
    assert bool(deleted) == deletes
