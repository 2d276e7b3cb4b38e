"""A full vacuum deletes only the table's own debris: never a nested table, another tool's
files or a team's notes; it says what it kept; and deletion vectors count, and survive.

Each test runs on local disk and on S3 (moto_server), and checks the storage directly.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from deletion_vectors import delete_rows
from deltalake import DeltaTable, QueryBuilder, write_deltalake

from pointline_storage import (
    KEEP_DELETION_VECTOR,
    KEEP_NESTED_TABLE,
    KEEP_NOT_TABLE_FILE,
    KEEP_OUTSIDE_LAYOUT,
    KeptPath,
)
from reliability.store import ALL_PARTITIONS, Store, as_rows, directory, write_table

RETENTION_0: dict[str, Any] = {"retention_hours": 0, "enforce_retention_duration": False}
#: Deletion vectors are a table feature: deltalake sets the protocol when this is given.
WITH_DELETION_VECTORS = {"delta.enableDeletionVectors": "true"}


def put(store: Store, relative: str, data: bytes = b"not in the log") -> None:
    store.fs.makedirs(f"{store.fs_root}/{relative}".rsplit("/", 1)[0], exist_ok=True)
    with store.fs.open(f"{store.fs_root}/{relative}", "wb") as handle:
        handle.write(data)


def parquet_bytes(rows: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(rows, sink)
    return bytes(sink.getvalue().to_pybytes())


def live_count(store: Store, table: str) -> int:
    """Rows the engine reads, deletion vectors applied (DataFusion reads them)."""
    query = QueryBuilder().register("t", store.open(table))
    return int(pa.table(query.execute("select count(*) as n from t").read_all())["n"][0].as_py())


def test_full_vacuum_leaves_nested_tables_and_foreign_files_alone(store: Store) -> None:
    seed = as_rows(write_table(store, "t", files_per_partition=3))
    backend = store.backend()
    backend.compact_partitions("t", partitions=ALL_PARTITIONS[:2], min_small_files=2)
    # Someone else's Delta table inside ours, with history of its own (a removed file).
    inner = pa.table({"k": ["a", "b", "c"], "v": [1, 2, 3]})
    write_deltalake(store.uri("t/inner"), inner, storage_options=dict(store.storage_options))
    write_deltalake(
        store.uri("t/inner"),
        inner,
        mode="overwrite",
        storage_options=dict(store.storage_options),
    )
    # An Iceberg table, a hive-partitioned Parquet table, a team's notes.
    put(store, "t/ice/metadata/v1.metadata.json", b"{}")
    put(store, "t/ice/data/00000-0-a.parquet", parquet_bytes(inner))
    put(store, "t/hive/k=a/part-0.parquet", parquet_bytes(inner))
    put(store, "t/notes/readme.txt")
    # A stray file inside one of our partitions that no Delta writer makes.
    put(store, f"t/{directory(ALL_PARTITIONS[0])}notes.txt")
    # Real debris of ours: an orphan data file in a partition.
    orphan = f"{directory(ALL_PARTITIONS[5])}orphan.parquet"
    put(store, f"t/{orphan}", parquet_bytes(inner))
    before = store.disk_files("t")
    replaced = set(before) - store.live_files("t") - {orphan}
    replaced = {path for path in replaced if path.startswith("exchange=") and "#" not in path}
    replaced -= {f"{directory(ALL_PARTITIONS[0])}notes.txt"}

    dry = backend.vacuum_table("t", full=True, **RETENTION_0)
    assert store.disk_files("t") == before, "a dry run deletes nothing"
    real = backend.vacuum_table("t", full=True, dry_run=False, **RETENTION_0)

    assert set(real.deleted_files) == replaced | {orphan}
    assert real.deleted_files == dry.deleted_files
    assert real.deleted_count == len(real.deleted_files)
    after = store.disk_files("t")
    assert set(before) - set(after) == set(real.deleted_files)
    assert store.rows("t") == seed
    inner_table = store.open("t/inner")
    assert inner_table.version() == 1
    assert inner_table.to_pyarrow_table().sort_by("k").equals(inner)
    for kept_file in (
        "ice/metadata/v1.metadata.json",
        "hive/k=a/part-0.parquet",
        "notes/readme.txt",
        f"{directory(ALL_PARTITIONS[0])}notes.txt",
    ):
        assert kept_file in after
    kept = {entry.path: entry for entry in real.kept}
    assert real.kept == dry.kept
    assert kept["inner/"].reason == KEEP_NESTED_TABLE
    assert kept["inner/"].file_count >= 2  # the overwritten data file and the log
    assert kept["ice/"] == KeptPath("ice/", KEEP_NESTED_TABLE, 2)
    assert kept["hive/"] == KeptPath("hive/", KEEP_OUTSIDE_LAYOUT, 1)
    assert kept["notes/"] == KeptPath("notes/", KEEP_OUTSIDE_LAYOUT, 1)
    stray = f"{directory(ALL_PARTITIONS[0])}notes.txt"
    assert kept[stray] == KeptPath(stray, KEEP_NOT_TABLE_FILE, 1)
    assert set(kept) == {"inner/", "ice/", "hive/", "notes/", stray}
    assert [entry.path for entry in real.kept] == sorted(kept)
    again = backend.vacuum_table("t", full=True, dry_run=False, **RETENTION_0)
    assert again.deleted_files == ()
    assert again.kept == real.kept


def test_lite_vacuum_never_lists_files_the_log_did_not_remove(store: Store) -> None:
    write_table(store, "t", files_per_partition=2)
    backend = store.backend()
    backend.compact_partitions("t", partitions=ALL_PARTITIONS[:1], min_small_files=2)
    write_deltalake(
        store.uri("t/inner"), pa.table({"v": [1]}), storage_options=dict(store.storage_options)
    )
    put(store, "t/notes/readme.txt")
    report = backend.vacuum_table("t", dry_run=False, **RETENTION_0)
    assert report.deleted_count == 2
    assert all(path.startswith(directory(ALL_PARTITIONS[0])) for path in report.deleted_files)
    assert report.kept == ()
    assert "notes/readme.txt" in store.disk_files("t")
    assert store.open("t/inner").to_pyarrow_table().num_rows == 1


def _deletion_vector_table(store: Store) -> tuple[str, str]:
    """Two partitions of 3 files x 5 rows; rows 1 and 3 of one file of the first deleted
    by a deletion vector. Returns the data file and the deletion-vector file."""
    write_table(store, "t", files_per_partition=3, configuration=WITH_DELETION_VECTORS,
                partitions=ALL_PARTITIONS[:2])  # fmt: skip
    first = directory(ALL_PARTITIONS[0])
    files = pa.table(store.open("t").get_add_actions(flatten=True))["path"].to_pylist()
    target = sorted(path for path in files if path.startswith(first))[0]
    vector = delete_rows(store.fs, f"{store.fs_root}/t", target, [1, 3])
    # The engine honours the vector: the deletion is real, not only in our bookkeeping.
    assert live_count(store, "t") == 2 * 3 * 5 - 2
    return target, vector


def test_reports_count_live_rows_with_deletion_vectors(store: Store) -> None:
    _deletion_vector_table(store)
    backend = store.backend()
    inspection = backend.inspect_partitions("t")
    assert [stats.total_rows for stats in inspection.partitions] == [13, 15]
    report = backend.compact_partitions("t", partitions=ALL_PARTITIONS[:2], min_small_files=2)
    assert [p.status for p in report.partitions] == ["compacted", "compacted"]
    assert [(p.rows_before, p.rows_after) for p in report.partitions] == [(13, 13), (15, 15)]
    assert live_count(store, "t") == 28
    assert pa.table(store.open("t").deletion_vectors()).num_rows == 0  # rewritten without


def test_vacuum_lists_a_file_with_a_deletion_vector_once(store: Store) -> None:
    target, vector = _deletion_vector_table(store)
    backend = store.backend()
    backend.compact_partitions("t", partitions=ALL_PARTITIONS[:1], min_small_files=2)
    # The log now removes the file twice (the delete, then the compaction).
    removes = [
        action["remove"]["path"]
        for version in range(store.open("t").version() + 1)
        for action in store.commit("t", version)
        if "remove" in action
    ]
    assert removes.count(target) == 2
    replaced = {p for p in store.disk_files("t") if p.startswith(directory(ALL_PARTITIONS[0]))}
    replaced -= store.live_files("t")
    assert len(replaced) == 3

    lite = backend.vacuum_table("t", **RETENTION_0)
    assert set(lite.deleted_files) == replaced
    assert lite.deleted_count == 3 == len(set(lite.deleted_files))
    full = backend.vacuum_table("t", full=True, dry_run=False, **RETENTION_0)
    # No live vector is left, so the unused one is debris too.
    assert set(full.deleted_files) == replaced | {vector}
    assert full.deleted_count == 4
    assert full.kept == ()
    assert live_count(store, "t") == 28


def test_full_vacuum_keeps_live_deletion_vectors(store: Store) -> None:
    """deltalake 1.6's own full vacuum deletes a live deletion vector's file, after which
    the table cannot be read; ours keeps it and says so."""
    _, vector = _deletion_vector_table(store)
    backend = store.backend()
    dry = backend.vacuum_table("t", full=True, **RETENTION_0)
    engine = DeltaTable(store.uri("t"), storage_options=dict(store.storage_options) or None)
    assert vector in engine.vacuum(full=True, dry_run=True, **RETENTION_0)
    real = backend.vacuum_table("t", full=True, dry_run=False, **RETENTION_0)
    assert real.deleted_files == dry.deleted_files == ()
    assert real.kept == dry.kept == (KeptPath(vector, KEEP_DELETION_VECTOR, 1),)
    assert vector in store.disk_files("t")
    assert live_count(store, "t") == 28
