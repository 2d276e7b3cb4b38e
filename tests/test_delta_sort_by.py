"""Sorted compaction (``sort_by``) on the Delta backend, on real tables on disk."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import itertools
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from pointline_storage import (
    SKIP_ALREADY_SORTED,
    CompactionPlan,
    InvalidOptionError,
    PartitionStats,
    PointlineStorageError,
    load_backend,
)
from pointline_storage.cli import cli
from pointline_storage.sample import order_events
from pointline_storage.testing import sorted_rows

TABLE = "orders"
PARTITION_BY = ["exchange", "trading_date"]
DAY = dt.date(2024, 1, 2)
SSE = {"exchange": "sse", "trading_date": DAY.isoformat()}
SZSE = {"exchange": "szse", "trading_date": DAY.isoformat()}
SSE_KEY = (("exchange", "sse"), ("trading_date", DAY.isoformat()))
SZSE_KEY = (("exchange", "szse"), ("trading_date", DAY.isoformat()))
#: The engine cuts a file only between the batches (up to 8192 rows) its sort yields.
ROWS_PER_PARTITION = 4 * 8192
SMALL_TARGET = 100_000
SOURCE_FILES = 10


def rows() -> pa.Table:
    return order_events(
        exchanges=("sse", "szse"), days=(DAY,), rows_per_partition=ROWS_PER_PARTITION
    )


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Per-source files: each of the ten covers the whole session of both partitions."""
    path = tmp_path_factory.mktemp("source") / TABLE
    everything = rows()
    for start in range(SOURCE_FILES):
        chunk = everything.take(list(range(start, everything.num_rows, SOURCE_FILES)))
        write_deltalake(str(path), chunk, mode="append", partition_by=PARTITION_BY)
    return path


@pytest.fixture
def table(source: Path, tmp_path: Path) -> Path:
    copy = tmp_path / TABLE
    for item in source.rglob("*"):
        target = copy / item.relative_to(source)
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.read_bytes())
    return copy


def files_of(path: Path, partition: dict[str, str]) -> list[dict]:
    actions = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True))
    mine = pc.and_(
        pc.equal(actions["partition.exchange"], partition["exchange"]),
        pc.equal(pc.cast(actions["partition.trading_date"], pa.string()), DAY.isoformat()),
    )
    return actions.filter(mine).sort_by("min.ts").to_pylist()


def assert_laid_out(path: Path, partition: dict[str, str]) -> None:
    """Every file sorted by ts (read back from the file itself) and ranges disjoint."""
    files = files_of(path, partition)
    assert len(files) > 1
    for file in files:
        ts = pq.read_table(path / file["path"], columns=["ts"])["ts"]
        assert pc.all(pc.less_equal(ts[:-1], ts[1:])).as_py(), file["path"]
    for before, after in itertools.pairwise(files):
        assert before["max.ts"] <= after["min.ts"]


def table_rows(path: Path) -> pa.Table:
    return sorted_rows(DeltaTable(str(path)).to_pyarrow_table())


def test_sort_by_lays_the_partition_out_and_a_rerun_rewrites_nothing(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    before = table_rows(table)
    szse_before = {file["path"] for file in files_of(table, SZSE)}
    report = backend.compact_partitions(
        TABLE, partitions=[SSE], target_file_size_bytes=SMALL_TARGET, sort_by=["ts"]
    )
    (result,) = report.partitions
    assert result.status == "compacted"
    assert result.unsorted_files == SOURCE_FILES - 1  # ten files over one range
    assert result.files_removed == SOURCE_FILES
    assert report.sort_by == ("ts",)
    assert_laid_out(table, SSE)
    assert {file["path"] for file in files_of(table, SZSE)} == szse_before
    assert table_rows(table).equals(before)
    version = DeltaTable(str(table)).version()
    again = backend.compact_partitions(
        TABLE, partitions=[SSE], target_file_size_bytes=SMALL_TARGET, sort_by=["ts"]
    )
    (result,) = again.partitions
    assert (result.status, result.skipped_reason) == ("skipped", SKIP_ALREADY_SORTED)
    assert result.unsorted_files == 0
    assert again.version_before == again.version_after == version


def test_several_partitions_sort_in_one_commit(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    before = table_rows(table)
    version = DeltaTable(str(table)).version()
    report = backend.compact_partitions(
        TABLE, partitions=[SSE, SZSE], target_file_size_bytes=SMALL_TARGET, sort_by=("ts",)
    )
    assert report.succeeded_partitions == 2
    assert report.version_after == version + 1
    assert_laid_out(table, SSE)
    assert_laid_out(table, SZSE)
    assert table_rows(table).equals(before)


def test_appended_files_wait_for_min_small_files_then_fold_in(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    options = {"target_file_size_bytes": SMALL_TARGET, "sort_by": ("ts",)}
    backend.compact_partitions(TABLE, partitions=[SSE], **options)
    late = rows().filter(pc.equal(pc.field("exchange"), "sse")).slice(0, 3)
    for _ in range(2):  # each late file spans part of the laid-out range
        write_deltalake(str(table), late, mode="append")
    inspection = backend.inspect_partitions(TABLE, [SSE], sort_by=("ts",))
    assert inspection.partitions[0].unsorted_files == 2
    waiting = backend.compact_partitions(TABLE, partitions=[SSE], min_small_files=3, **options)
    assert waiting.partitions[0].skipped_reason == SKIP_ALREADY_SORTED
    folded = backend.compact_partitions(TABLE, partitions=[SSE], min_small_files=2, **options)
    assert folded.partitions[0].status == "compacted"
    assert_laid_out(table, SSE)
    assert folded.partitions[0].rows_after == ROWS_PER_PARTITION + 6


def test_a_dry_run_plans_the_sort_and_writes_nothing(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    version = DeltaTable(str(table)).version()
    report = backend.compact_partitions(TABLE, partitions=[SSE], dry_run=True, sort_by=("ts",))
    (result,) = report.partitions
    assert (result.status, result.unsorted_files) == ("would_compact", SOURCE_FILES - 1)
    assert DeltaTable(str(table)).version() == version


def test_inspection_counts_unsorted_files_only_when_asked(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    plain = backend.inspect_partitions(TABLE)
    assert {stats.unsorted_files for stats in plain.partitions} == {None}
    assert plain.sort_by is None
    backend.compact_partitions(
        TABLE, partitions=[SSE], target_file_size_bytes=SMALL_TARGET, sort_by=("ts",)
    )
    inspection = backend.inspect_partitions(TABLE, sort_by=("ts",))
    counts = {stats.partition: stats.unsorted_files for stats in inspection.partitions}
    assert counts == {SSE_KEY: 0, SZSE_KEY: SOURCE_FILES - 1}
    assert inspection.to_arrow()["unsorted_files"].to_pylist() == [0, SOURCE_FILES - 1]
    named = backend.inspect_partitions(
        TABLE, [{"exchange": "bse", "trading_date": DAY}], sort_by=("ts",)
    )
    assert named.partitions[0].unsorted_files == 0


@pytest.mark.parametrize(
    ("sort_by", "message"),
    [
        (("nope",), "no such column"),
        (("exchange",), "it is a partition column"),
    ],
)
def test_invalid_keys_are_refused_before_anything_is_written(
    table: Path, sort_by: tuple[str, ...], message: str
) -> None:
    backend = load_backend("delta-local", root=table.parent)
    listing = sorted(str(path) for path in table.rglob("*"))
    for dry_run in (False, True):
        with pytest.raises(InvalidOptionError, match=message) as caught:
            backend.compact_partitions(TABLE, partitions=[SSE], dry_run=dry_run, sort_by=sort_by)
        assert isinstance(caught.value, PointlineStorageError)
        assert isinstance(caught.value, ValueError)
    with pytest.raises(InvalidOptionError, match=message):
        backend.inspect_partitions(TABLE, sort_by=sort_by)
    assert sorted(str(path) for path in table.rglob("*")) == listing  # not even a lease


@pytest.mark.parametrize("sort_by", ["ts", (), ("ts", "ts"), ("",), (1,)])
def test_the_facade_refuses_malformed_sort_keys(table: Path, sort_by: object) -> None:
    backend = load_backend("delta-local", root=table.parent)
    with pytest.raises(InvalidOptionError, match="sort_by"):
        backend.compact_partitions(TABLE, partitions=[SSE], sort_by=sort_by)  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="sort_by"):
        backend.inspect_partitions(TABLE, sort_by=sort_by)  # type: ignore[arg-type]


def test_the_cli_sorts_and_inspects_by_columns(table: Path) -> None:
    common = ["--backend", "delta-local", "--root", str(table.parent), "--table", TABLE]
    partition = "exchange=sse,trading_date=2024-01-02"
    runner = CliRunner()
    compacted = runner.invoke(
        cli,
        [
            *("compact", *common, "--partition", partition, "--sort-by", "ts"),
            *("--target-file-size", str(SMALL_TARGET)),
        ],
    )
    assert compacted.exit_code == 0, compacted.output
    assert "sorted by ts" in compacted.output
    assert_laid_out(table, SSE)
    inspected = runner.invoke(cli, ["inspect", *common, "--sort-by", "ts"])
    assert inspected.exit_code == 0, inspected.output
    assert "UNSORTED BY ts" in inspected.output
    again = runner.invoke(cli, ["compact", *common, "--partition", partition, "--sort-by", "ts"])
    assert f"{SKIP_ALREADY_SORTED} by ts (0 out of order < 8)" in again.output
    refused = runner.invoke(cli, ["compact", *common, "--partition", partition, "--sort-by", "ts,"])
    assert refused.exit_code == 2
    assert "expected col[,col...]" in refused.output


def test_an_unpartitioned_table_sorts_as_one_partition(tmp_path: Path) -> None:
    everything = rows().drop_columns(PARTITION_BY)
    for start in range(3):
        chunk = everything.take(list(range(start, everything.num_rows, 3)))
        write_deltalake(str(tmp_path / "flat"), chunk, mode="append")
    backend = load_backend("delta-local", root=tmp_path)
    before = table_rows(tmp_path / "flat")
    report = backend.compact_partitions(
        "flat",
        partitions=[{}],
        target_file_size_bytes=SMALL_TARGET,
        min_small_files=2,
        sort_by=("ts",),
    )
    assert (report.partitions[0].status, report.partitions[0].unsorted_files) == ("compacted", 2)
    assert backend.inspect_partitions("flat", sort_by=("ts",)).partitions[0].unsorted_files == 0
    assert table_rows(tmp_path / "flat").equals(before)


def test_engine_options_apply_to_the_sort(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    backend.compact_partitions(
        TABLE,
        partitions=[SSE],
        target_file_size_bytes=SMALL_TARGET,
        sort_by=("ts",),
        compression="snappy",
        max_spill_size=64 << 20,
        max_concurrent_tasks=1,
    )
    assert_laid_out(table, SSE)
    for file in files_of(table, SSE):
        metadata = pq.ParquetFile(table / file["path"]).metadata
        assert metadata.row_group(0).column(0).compression == "SNAPPY"


@pytest.mark.parametrize(
    ("unsorted", "min_small_files", "expected"),
    [(0, 8, SKIP_ALREADY_SORTED), (7, 8, SKIP_ALREADY_SORTED), (8, 8, None), (0, 0, None)],
)
def test_the_sorted_skip_rule_counts_unsorted_files_not_small_ones(
    unsorted: int, min_small_files: int, expected: str | None
) -> None:
    # Forty small files, all mergeable: only the files out of order decide.
    stats = PartitionStats(SSE_KEY, 40, 40, 4000, 400, unsorted_files=unsorted)
    reason = stats.skip_reason(min_small_files=min_small_files, can_merge=True, sorting=True)
    assert reason == expected
    assert (
        PartitionStats.empty(SSE_KEY).skip_reason(min_small_files=0, can_merge=True, sorting=True)
        == "no_files"
    )


def test_a_sorted_plan_carries_its_key_through_json_and_executes_sorted(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    before = table_rows(table)
    plan = backend.plan_compaction(
        TABLE, partitions=[SSE, SZSE], target_file_size_bytes=SMALL_TARGET, sort_by=["ts"]
    )
    assert plan.sort_by == ("ts",)
    assert [p.stats.unsorted_files for p in plan.partitions] == [SOURCE_FILES - 1] * 2
    shipped = CompactionPlan.from_json(plan.to_json())
    assert shipped == plan
    first, second = shipped.split(2)
    assert (first.sort_by, second.sort_by) == (("ts",), ("ts",))

    report = backend.execute_plan(first)
    assert report.sort_by == ("ts",)
    assert report.succeeded_partitions == 1
    assert_laid_out(table, dict(first.partitions[0].partition))
    # The other shard, run on an executor, sorts too; planned again, nothing is left.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        sharded = backend.execute_plan(second, executor=pool, shards=1)
    assert (sharded.succeeded_partitions, sharded.sort_by) == (1, ("ts",))
    assert_laid_out(table, SSE)
    assert_laid_out(table, SZSE)
    assert table_rows(table).equals(before)
    again = backend.plan_compaction(
        TABLE, partitions=[SSE, SZSE], target_file_size_bytes=SMALL_TARGET, sort_by=["ts"]
    )
    assert again.partitions == ()
    assert {r.skipped_reason for r in again.skipped} == {SKIP_ALREADY_SORTED}


def test_compact_with_an_executor_sorts(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        report = backend.compact_partitions(
            TABLE,
            partitions=[SSE, SZSE],
            target_file_size_bytes=SMALL_TARGET,
            sort_by=("ts",),
            executor=pool,
            shards=2,
        )
    assert report.sort_by == ("ts",)
    assert report.succeeded_partitions == 2
    assert_laid_out(table, SSE)
    assert_laid_out(table, SZSE)
