"""Sorted compaction by several keys on the Delta backend (a lexicographic rewrite of our
own, :mod:`pointline_storage_delta.sorted_rewrite`), on real tables on disk."""

from __future__ import annotations

import itertools
import json
import shutil
import urllib.parse
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from deletion_vectors import delete_rows
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError
from deltalake.transaction import AddAction, RemoveAction
from pointline_storage_delta.snapshot import open_snapshot
from pointline_storage_delta.sorted_rewrite import STAGING_PREFIX, SortedRewriter
from test_delta_sort_by import (
    DAY,
    PARTITION_BY,
    SMALL_TARGET,
    SOURCE_FILES,
    SSE,
    SSE_KEY,
    SZSE,
    TABLE,
    table_rows,
)

from pointline_storage import (
    SKIP_ALREADY_SORTED,
    InvalidOptionError,
    PointlineStorageError,
    StorageError,
    load_backend,
    resolve_table_location,
)
from pointline_storage.sample import order_events
from pointline_storage.testing import sorted_rows

KEYS = ("side", "ts")


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten per-source files, each covering both sides and the whole session."""
    path = tmp_path_factory.mktemp("source") / TABLE
    everything = order_events(exchanges=("sse", "szse"), days=(DAY,), rows_per_partition=20_000)
    for start in range(SOURCE_FILES):
        chunk = everything.take(list(range(start, everything.num_rows, SOURCE_FILES)))
        write_deltalake(str(path), chunk, mode="append", partition_by=PARTITION_BY)
    return path


@pytest.fixture
def table(source: Path, tmp_path: Path) -> Path:
    copy = tmp_path / TABLE
    shutil.copytree(source, copy)
    return copy


def files_of(path: Path, exchange: str) -> list[dict]:
    actions = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True))
    return actions.filter(pc.equal(actions["partition.exchange"], exchange)).to_pylist()


def rows_in_order(path: Path, exchange: str) -> list[list[tuple]]:
    """Each file's (side, ts) rows as stored, files ordered by their first row."""
    files = [
        pq.read_table(path / file["path"], columns=list(KEYS)).to_pylist()
        for file in files_of(path, exchange)
    ]
    return sorted([tuple(row[k] for k in KEYS) for row in rows] for rows in files)


def assert_lexicographic(path: Path, exchange: str) -> None:
    """Every file sorted by (side, ts), and each file starts where the previous ended."""
    files = rows_in_order(path, exchange)
    assert len(files) > 1
    for rows in files:
        assert rows == sorted(rows)
    for before, after in itertools.pairwise(files):
        assert before[-1] <= after[0]


def last_commit(path: Path) -> list[dict]:
    commit = sorted((path / "_delta_log").glob("*.json"))[-1]
    return [json.loads(line) for line in commit.read_text().splitlines()]


def test_several_keys_sort_lexicographically_in_one_quiet_commit(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    before = table_rows(table)
    szse_before = {file["path"] for file in files_of(table, "szse")}
    report = backend.compact_partitions(
        TABLE, partitions=[SSE], target_file_size_bytes=SMALL_TARGET, sort_by=KEYS
    )
    (result,) = report.partitions
    assert result.status == "compacted"
    assert result.files_removed == SOURCE_FILES
    assert result.after_file_count == len(files_of(table, "sse")) > 1
    assert (result.rows_before, result.rows_after) == (20_000, 20_000)
    assert report.sort_by == KEYS
    assert_lexicographic(table, "sse")
    assert {file["path"] for file in files_of(table, "szse")} == szse_before
    assert table_rows(table).equals(before)
    # One commit, marked as ours, that changes no data: readers of changes see nothing.
    actions = last_commit(table)
    assert actions[0]["commitInfo"]["pointlineStorage"] == {
        "operation": "SORT",
        "sortBy": list(KEYS),
    }
    changes = [a.get("add") or a.get("remove") for a in actions[1:]]
    assert len(changes) == SOURCE_FILES + result.after_file_count
    assert {change["dataChange"] for change in changes} == {False}
    # The new files live in the partition's directory; nothing staged is left.
    directory = "exchange=sse/trading_date=2024-01-02/"
    assert all(file["path"].startswith(directory) for file in files_of(table, "sse"))
    assert "/" not in {file["path"][len(directory) :] for file in files_of(table, "sse")}
    assert not list(table.rglob(f"{STAGING_PREFIX}*"))
    # Laid out by the first key, so a rerun rewrites nothing.
    inspected = backend.inspect_partitions(TABLE, [SSE], sort_by=KEYS)
    assert inspected.partitions[0].unsorted_files == 0
    version = DeltaTable(str(table)).version()
    again = backend.compact_partitions(
        TABLE, partitions=[SSE], target_file_size_bytes=SMALL_TARGET, sort_by=KEYS
    )
    assert again.partitions[0].skipped_reason == SKIP_ALREADY_SORTED
    assert again.version_before == again.version_after == version


def test_a_batch_of_partitions_is_one_commit(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    before = table_rows(table)
    version = DeltaTable(str(table)).version()
    report = backend.compact_partitions(
        TABLE, partitions=[SSE, SZSE], target_file_size_bytes=SMALL_TARGET, sort_by=KEYS
    )
    assert [r.status for r in report.partitions] == ["compacted", "compacted"]
    assert report.version_after == version + 1
    for exchange in ("sse", "szse"):
        assert_lexicographic(table, exchange)
    assert table_rows(table).equals(before)


def test_nulls_sort_first_and_awkward_partition_values_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "t"
    for part in range(4):
        n = 500
        write_deltalake(
            str(path),
            pa.table(
                {
                    "venue": ["a b:c%d/é"] * n if part % 2 else pa.nulls(n, pa.string()),
                    "sym": [None if i % 7 == 0 else f"s{i % 5}" for i in range(n)],
                    "ts": pa.array([(i * 7919 + part) % 1000 for i in range(n)], pa.int64()),
                }
            ),
            mode="append",
            partition_by=["venue"],
        )
    backend = load_backend("delta-local", root=tmp_path)
    before = sorted_rows(DeltaTable(str(path)).to_pyarrow_table())
    report = backend.compact_partitions(
        "t",
        partitions=[{"venue": "a b:c%d/é"}, {"venue": None}],
        sort_by=("sym", "ts"),
        min_small_files=1,
    )
    assert [r.status for r in report.partitions] == ["compacted", "compacted"], report
    loaded = DeltaTable(str(path))
    assert len(loaded.file_uris()) == 2  # the removes matched the encoded paths
    assert sorted_rows(loaded.to_pyarrow_table()).equals(before)
    for uri in loaded.file_uris():
        rows = pq.read_table(uri).to_pylist()
        keys = [(row["sym"] is not None, row["sym"] or "", row["ts"]) for row in rows]
        assert keys == sorted(keys)  # nulls first, then by sym, then by ts
    again = backend.compact_partitions(
        "t", partitions=[{"venue": None}], sort_by=("sym", "ts"), min_small_files=1
    )
    assert again.partitions[0].status == "skipped"


@pytest.mark.parametrize("option", ["max_spill_size", "max_concurrent_tasks"])
def test_engine_knobs_that_cannot_apply_are_refused_before_anything_is_written(
    table: Path, option: str
) -> None:
    backend = load_backend("delta-local", root=table.parent)
    listing = sorted(str(path) for path in table.rglob("*"))
    with pytest.raises(InvalidOptionError, match=f"with {option}") as caught:
        backend.compact_partitions(TABLE, partitions=[SSE], sort_by=KEYS, **{option: 2})
    assert isinstance(caught.value, PointlineStorageError)
    assert sorted(str(path) for path in table.rglob("*")) == listing  # not even a lease
    # One key is the engine's sort, which takes them.
    backend.compact_partitions(TABLE, partitions=[SSE], sort_by=("ts",), **{option: 2})


def test_column_mapping_tables_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "mapped"
    write_deltalake(
        str(path),
        pa.table({"p": ["x"] * 4, "a": [2, 1, 2, 1], "b": [1, 2, 3, 4]}),
        partition_by=["p"],
        configuration={
            "delta.columnMapping.mode": "name",
            "delta.minReaderVersion": "2",
            "delta.minWriterVersion": "5",
        },
    )
    backend = load_backend("delta-local", root=tmp_path)
    with pytest.raises(InvalidOptionError, match="column mapping"):
        backend.compact_partitions("mapped", partitions=[{"p": "x"}], sort_by=("a", "b"))


def test_files_with_deletion_vectors_fail_the_partition_and_nothing_is_written(
    table: Path,
) -> None:
    fs = fsspec.filesystem("file")
    victim = files_of(table, "sse")[0]["path"]
    delete_rows(fs, str(table), victim, [0, 1, 2])
    backend = load_backend("delta-local", root=table.parent)
    before = table_rows(table)
    version = DeltaTable(str(table)).version()
    report = backend.compact_partitions(
        TABLE, partitions=[SSE, SZSE], sort_by=KEYS, continue_on_error=True, min_small_files=2
    )
    statuses = {r.partition[0][1]: (r.status, r.error or "") for r in report.partitions}
    assert statuses["sse"][0] == "failed"
    assert "deletion vectors" in statuses["sse"][1]
    assert statuses["szse"][0] == "compacted"
    assert table_rows(table).equals(before)
    assert report.version_after == version + 1
    assert not list(table.rglob(f"{STAGING_PREFIX}*"))


def test_a_file_removed_meanwhile_fails_the_commit_and_leaves_nothing(table: Path) -> None:
    """A concurrent rewrite of the same files wins; ours must not bring rows back."""
    location = resolve_table_location(str(table.parent), TABLE)
    snapshot = open_snapshot(location, TABLE, {})
    DeltaTable(str(table)).optimize.compact()  # another writer rewrites every file
    before = table_rows(table)
    parquet_before = sorted(table.rglob("*.parquet"))
    with pytest.raises(StorageError, match="changed while they were rewritten"):
        SortedRewriter(location, {}).rewrite(
            snapshot, [SSE_KEY], sort_by=KEYS, target=SMALL_TARGET, writer_properties=None
        )
    assert table_rows(table).equals(before)
    assert sorted(table.rglob("*.parquet")) == parquet_before  # staged files deleted
    assert not list(table.rglob(f"{STAGING_PREFIX}*"))


def test_a_plan_by_several_keys_executes_the_same_rewrite(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    before = table_rows(table)
    plan = backend.plan_compaction(
        TABLE, partitions=[SSE], target_file_size_bytes=SMALL_TARGET, sort_by=KEYS
    )
    assert type(plan).from_json(plan.to_json()).sort_by == KEYS
    with pytest.raises(InvalidOptionError, match="with max_spill_size"):
        backend.execute_plan(plan, max_spill_size=2**20)
    report = backend.execute_plan(plan)
    assert [r.status for r in report.partitions] == ["compacted"]
    assert_lexicographic(table, "sse")
    assert table_rows(table).equals(before)


def test_the_engine_refuses_a_commit_without_retries_once_the_table_moved(tmp_path: Path) -> None:
    """What the rewrite's last check relies on: with ``max_commit_retries=0`` a commit built
    on a version that is no longer the latest fails instead of being rebased."""
    path = str(tmp_path / "t")
    write_deltalake(path, pa.table({"a": [1]}))
    stale = DeltaTable(path)
    (first,) = pa.table(stale.get_add_actions(flatten=True))["path"].to_pylist()
    write_deltalake(path, pa.table({"a": [2]}), mode="append")
    remove = RemoveAction(path=first, data_change=False, deletion_timestamp=0)
    with pytest.raises(CommitFailedError):
        stale.create_write_transaction(
            [remove],
            mode="append",
            schema=stale.schema(),
            commit_properties=CommitProperties(max_commit_retries=0),
        )
    assert sorted(DeltaTable(path).to_pyarrow_table()["a"].to_pylist()) == [1, 2]


def test_full_vacuum_reclaims_the_staging_of_a_killed_rewrite_and_keeps_nested_tables(
    table: Path,
) -> None:
    """A rewrite killed between staging and commit leaves its staging table at the root;
    one inside a partition directory is reclaimed too, not taken for a nested table."""
    staging = [
        table / "exchange=sse" / "trading_date=2024-01-02" / f"{STAGING_PREFIX}dead",
        table / f"{STAGING_PREFIX}dead2",
    ]
    for folder in staging:
        write_deltalake(str(folder), pa.table({"order_id": [1, 2]}))
    write_deltalake(str(table / "inner"), pa.table({"x": [1]}))  # a real nested table
    staged = {str(p.relative_to(table)) for f in staging for p in f.rglob("*") if p.is_file()}
    backend = load_backend("delta-local", root=table.parent)
    before = table_rows(table)
    young = backend.vacuum_table(TABLE, full=True)  # within the week: kept
    assert not staged & set(young.deleted_files)
    now = {"retention_hours": 0, "enforce_retention_duration": False}
    dry = backend.vacuum_table(TABLE, full=True, **now)
    assert staged <= set(dry.deleted_files)
    assert not any(path.startswith("inner/") for path in dry.deleted_files)
    assert "inner/" in {kept.path for kept in dry.kept}
    real = backend.vacuum_table(TABLE, full=True, dry_run=False, **now)
    assert real.deleted_files == dry.deleted_files
    assert not [p for f in staging if f.exists() for p in f.rglob("*") if p.is_file()]
    assert DeltaTable(str(table / "inner")).to_pyarrow_table().num_rows == 1
    assert table_rows(table).equals(before)


def test_staged_files_are_deleted_after_a_failed_commit_only_when_it_surely_did_not_land(
    table: Path,
) -> None:
    """A lost answer to a commit that landed must not delete the files it added."""
    from pointline_storage_delta.sorted_rewrite import _landed

    location = resolve_table_location(str(table.parent), TABLE)
    snapshot = open_snapshot(location, TABLE, {})
    (live, *_) = files_of(table, "sse")

    def add(path: str) -> AddAction:
        return AddAction(path, 1, {}, 0, data_change=False, stats="{}")

    assert _landed(snapshot, [add(urllib.parse.unquote(live["path"]))]) is True
    assert _landed(snapshot, [add("exchange=sse/trading_date=2024-01-02/never.parquet")]) is False
    # The next commit cannot be read: whether the failed commit landed is unknown.
    (table / "_delta_log" / f"{snapshot.version + 1:020d}.json").write_text("{not json")
    assert _landed(snapshot, [add("anything.parquet")]) is None
