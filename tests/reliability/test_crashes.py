"""Compaction and vacuum processes killed with SIGKILL at random points.

Kill points are drawn from a seeded generator; where the kill lands still depends on the
machine's timing, so each test prints what its kills hit (run pytest with ``-s``).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import pyarrow as pa

from reliability.processes import Worker, job_partitions
from reliability.store import ALL_PARTITIONS, Store, by_id, directory, write_table

COMPACTION_KILLS = 6
#: The crash tests' partitions, and rows per file: enough that writing a compacted file
#: takes long enough for a kill to land in it.
PARTITIONS = ALL_PARTITIONS[:3]
ROWS_PER_FILE = 4000


def kill_when_files_vanish(store: Store, worker: Worker, count: int) -> list[dict[str, Any]]:
    """SIGKILL the worker as soon as ``count`` files under its table are gone (or when it
    ends); return what it reported."""
    before = set(store.disk_files("t"))
    deadline = time.monotonic() + 60
    while worker.process.poll() is None and time.monotonic() < deadline:
        if len(before - set(store.disk_files("t"))) >= count:
            break
    return worker.kill()


def test_killed_compactions_lose_no_row_and_their_orphans_are_vacuumed(local_store: Store) -> None:
    """After every kill the table reads every row; a rerun completes; the files the killed
    runs left behind are listed by a full dry run and removed by a real one.

    Local disk only: kills are timed by watching for the engine's new file, and an S3
    object appears only once fully uploaded, so a kill would land mid-write only by
    chance; the parts of a multipart upload a SIGKILL abandons are invisible to listings
    and to vacuum (a bucket lifecycle rule, AbortIncompleteMultipartUpload, reclaims them).

    The orphans are made eligible with retention 0 (enforcement off) rather than by
    setting their modification times back: object stores such as S3 cannot do the latter,
    and no writer runs at that point, so nothing in flight can be caught. That young
    orphans are protected is checked first, with a one-hour retention.
    """
    store = local_store
    rng = random.Random(20240102)
    options: dict[str, Any] = {"partitions": PARTITIONS, "rows_per_file": ROWS_PER_FILE}
    written = [write_table(store, "t", files_per_partition=2, **options)]
    landed: Counter[str] = Counter()
    for number in range(COMPACTION_KILLS):
        written.append(write_table(store, "t", files_per_partition=2, tag=f"r{number}", **options))
        expected = by_id(pa.concat_tables(written))
        job = {"do": "compact", "table": "t", "partitions": job_partitions(PARTITIONS)}
        if number % 3 != 2:  # as a random partition's new file appears, it kills itself
            job["die_in"] = directory(PARTITIONS[rng.randrange(len(PARTITIONS))])
        worker = Worker(store, job)
        worker.wait_for("started")
        if "die_in" in job:
            events = worker.finish_killed()
        else:  # at a random time within the run
            for _ in range(rng.randrange(len(PARTITIONS))):
                worker.wait_for("partition")
            time.sleep(rng.uniform(0, 0.1))
            events = worker.kill()
        finished = sum(event["event"] == "partition" for event in events)
        landed["after the report" if events[-1]["event"] == "report" else f"{finished} done"] += 1
        assert store.sorted_rows("t").equals(expected), f"round {number}: rows changed"
        assert store.live_files("t") <= set(store.disk_files("t"))
        # No waiting: the next run takes over the leases of this host's killed one at once.

    backend = store.backend()
    rerun = backend.compact_partitions("t", partitions=PARTITIONS, min_small_files=2)
    assert rerun.failed_partitions == 0
    assert store.sorted_rows("t").equals(expected)
    assert len(store.live_files("t")) == len(PARTITIONS)

    on_disk = set(store.disk_files("t"))
    orphans = on_disk - store.referenced_files("t")
    removed = on_disk - store.live_files("t") - orphans
    young = backend.vacuum_table(
        "t", retention_hours=1, enforce_retention_duration=False, full=True
    )
    assert young.deleted_files == (), "orphans and removed files are younger than an hour"
    retention_0 = {"retention_hours": 0, "enforce_retention_duration": False, "full": True}
    dry = backend.vacuum_table("t", **retention_0)
    assert set(dry.deleted_files) == orphans | removed
    real = backend.vacuum_table("t", dry_run=False, **retention_0)
    assert real.deleted_files == dry.deleted_files
    assert set(store.disk_files("t")) == store.live_files("t")
    assert store.sorted_rows("t").equals(expected)
    names = sorted(path.rsplit("/", 1)[-1] for path in orphans)
    print(f"\ncompaction kills: {dict(landed)}; orphans left: {names}")
    assert orphans, "no kill landed while a compacted file was being written"


def test_a_killed_vacuum_leaves_a_readable_table_and_a_rerun_finishes(store: Store) -> None:
    rng = random.Random(20240103)
    written = [write_table(store, "t", files_per_partition=1)]
    backend = store.backend()
    options = {"retention_hours": 0, "enforce_retention_duration": False, "full": True}
    landed: Counter[str] = Counter()
    for number in range(max(2, store.rounds + 1)):  # local: 4 kills; S3: one of each kind
        written.append(write_table(store, "t", files_per_partition=3, tag=f"r{number}"))
        expected = by_id(pa.concat_tables(written))
        backend.compact_partitions("t", partitions=ALL_PARTITIONS, min_small_files=2)
        removable = set(store.disk_files("t")) - store.live_files("t")
        worker = Worker(
            store, {"do": "vacuum", "table": "t", "options": {**options, "dry_run": False}}
        )
        worker.wait_for("started")
        if number % 2:
            time.sleep(rng.uniform(0, 0.3))
            worker.kill()
        else:  # once its deletions have begun
            kill_when_files_vanish(store, worker, rng.randint(1, len(removable)))
        left = removable & set(store.disk_files("t"))
        landed["none deleted" if left == removable else "all deleted" if not left else "part"] += 1
        assert store.sorted_rows("t").equals(expected), f"round {number}: rows changed"
        assert store.live_files("t") <= set(store.disk_files("t"))

    rerun = backend.vacuum_table("t", dry_run=False, **options)
    assert set(store.disk_files("t")) == store.live_files("t")
    assert backend.vacuum_table("t", **options).deleted_files == ()
    assert store.sorted_rows("t").equals(expected)
    print(f"\nvacuum kills: {dict(landed)}; rerun deleted {rerun.deleted_count}")
