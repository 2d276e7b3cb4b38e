"""Committing several partitions at once: exact filters, exact reports, the fallback."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake
from pointline_storage_delta.batches import cross_products, make_batches, single_filters

from pointline_storage import PartitionCompactionResult, load_backend
from pointline_storage.testing import sample_rows
from pointline_storage.testing.fixtures import sorted_rows

PARTITION_BY = ["exchange", "trading_date"]
DAYS = ("2024-01-02", "2024-01-03", "2024-01-04")


def write_table(path: Path, files: int = 4) -> None:
    for _ in range(files):
        write_deltalake(
            str(path), sample_rows(files_per_partition=1), mode="append", partition_by=PARTITION_BY
        )


def live_files(path: Path) -> dict[tuple[str, str], set[str]]:
    grouped: dict[tuple[str, str], set[str]] = {}
    for action in pa.table(DeltaTable(str(path)).get_add_actions(flatten=True)).to_pylist():
        key = (action["partition.exchange"], action["partition.trading_date"].isoformat())
        grouped.setdefault(key, set()).add(action["path"])
    return grouped


def spec(exchange: str, day: str) -> dict[str, str]:
    return {"exchange": exchange, "trading_date": day}


@pytest.mark.parametrize("seed", range(40))
def test_cross_products_cover_exactly_the_named_rows(seed: int) -> None:
    chooser = random.Random(seed)
    universe = list(itertools.product("abc", "12345", "xy"))
    rows = chooser.sample(universe, chooser.randrange(1, len(universe) + 1))
    covered = [row for product in cross_products(rows) for row in itertools.product(*product)]
    assert sorted(covered) == sorted(rows), "every named row once, no other row"


def test_a_full_grid_is_one_batch_and_a_diagonal_is_not() -> None:
    columns = ("exchange", "trading_date")
    grid = [(("exchange", e), ("trading_date", d)) for e in ("sse", "szse") for d in DAYS]
    (batch,) = make_batches(grid, columns, 100, filters_of=single_filters)
    assert batch.filters == (
        ("exchange", "in", ["sse", "szse"]),
        ("trading_date", "in", list(DAYS)),
    )
    assert batch.partitions == tuple(grid)
    diagonal = [grid[0], grid[4]]  # sse/day1, szse/day2
    assert [b.filters for b in make_batches(diagonal, columns, 100, filters_of=single_filters)] == [
        (("exchange", "=", "sse"), ("trading_date", "=", DAYS[0])),
        (("exchange", "=", "szse"), ("trading_date", "=", DAYS[1])),
    ]
    assert [
        len(b.partitions) for b in make_batches(grid, columns, 4, filters_of=single_filters)
    ] == [3, 1, 2]


def test_a_partition_with_a_null_value_is_batched_alone() -> None:
    columns = ("exchange", "trading_date")
    keys = [(("exchange", e), ("trading_date", DAYS[0])) for e in ("null", "sse", "szse")]
    assert [b.partitions for b in make_batches(keys, columns, 100, filters_of=single_filters)] == [
        (keys[0],),
        tuple(keys[1:]),
    ]


def test_a_staircase_of_partitions_never_compacts_an_unnamed_one(tmp_path: Path) -> None:
    write_table(tmp_path / "orders")
    before = live_files(tmp_path / "orders")
    version = DeltaTable(str(tmp_path / "orders")).version()
    named = {("sse", DAYS[0]), ("sse", DAYS[1]), ("szse", DAYS[1]), ("szse", DAYS[2])}
    backend = load_backend("delta-local", root=tmp_path)
    report = backend.compact_partitions(
        "orders", partitions=[spec(*key) for key in sorted(named)], min_small_files=2
    )
    assert report.succeeded_partitions == 4
    after = live_files(tmp_path / "orders")
    for key in before:
        if key in named:
            assert len(after[key]) == 1
            assert not after[key] & before[key]
        else:
            assert after[key] == before[key], f"{key} was not named"
    # sse x {day1, day2} and szse x {day2, day3}: two commits, not four.
    assert report.version_after == version + 2


def test_a_batch_report_equals_the_one_commit_per_partition_report(tmp_path: Path) -> None:
    named = [spec(e, d) for e in ("sse", "szse") for d in DAYS] + [spec("bse", DAYS[0])]
    reports = {}
    for per_commit in (1, 100):
        write_table(tmp_path / f"orders{per_commit}")
        backend = load_backend("delta-local", root=tmp_path)
        reports[per_commit] = backend.compact_partitions(
            f"orders{per_commit}",
            partitions=named,
            min_small_files=2,
            partitions_per_commit=per_commit,
        )
    single, batched = reports[1], reports[100]
    assert batched.partitions == single.partitions
    assert batched.succeeded_partitions == 6
    assert batched.attempted_partitions == single.attempted_partitions == 6
    assert single.version_after - single.version_before == 6
    assert batched.version_after - batched.version_before == 1


def test_a_batch_that_conflicts_is_redone_one_partition_per_commit(tmp_path: Path) -> None:
    path = tmp_path / "events"
    for number in range(5):
        rows = pa.table({"p": [f"p{i:02}" for i in range(6)], "v": [number] * 6})
        write_deltalake(str(path), rows, mode="append", partition_by=["p"])
    backend = load_backend("delta-local", root=tmp_path)

    def delete_before_the_batch_commits(result: PartitionCompactionResult) -> None:
        # p99 does not exist: it is reported (skipped) after planning, before any commit.
        if result.partition == (("p", "p99"),):
            DeltaTable(str(path)).delete("p = 'p02' AND v = 0")  # a concurrent writer

    report = backend.compact_partitions(
        "events",
        partitions=[{"p": f"p{i:02}"} for i in (*range(6), 99)],
        min_small_files=2,
        progress=delete_before_the_batch_commits,
    )
    # The batch planned from a view without the delete, so its one commit conflicted;
    # the fallback committed each partition from a fresh view.
    assert report.version_after - report.version_before == 1 + 6
    assert report.failed_partitions == 0
    removed = {dict(r.partition)["p"]: r.files_removed for r in report.partitions}
    assert removed == {"p00": 5, "p01": 5, "p02": 4, "p03": 5, "p04": 5, "p05": 5, "p99": 0}
    rows = {(row["p"], row["v"]) for row in DeltaTable(str(path)).to_pyarrow_table().to_pylist()}
    written = {(f"p{i:02}", number) for i in range(6) for number in range(5)}
    assert rows == written - {("p02", 0)}, "every row but the one the other writer deleted"


def test_compression_and_engine_limits_reach_the_engine(tmp_path: Path) -> None:
    write_table(tmp_path / "orders")
    rows = sorted_rows(DeltaTable(str(tmp_path / "orders")).to_pyarrow_table())
    backend = load_backend("delta-local", root=tmp_path)
    for day, compression, codec in ((DAYS[0], None, "ZSTD"), (DAYS[1], "Gzip( 3 )", "GZIP")):
        report = backend.compact_partitions(
            "orders",
            partitions=[spec("sse", day)],
            min_small_files=2,
            max_concurrent_tasks=1,
            max_spill_size=64 * 2**20,
            compression=compression,
        )
        assert report.succeeded_partitions == 1
        (uri,) = [
            uri
            for uri in DeltaTable(str(tmp_path / "orders")).file_uris()
            if f"exchange=sse/trading_date={day}/" in uri
        ]
        assert pq.ParquetFile(uri).metadata.row_group(0).column(0).compression == codec
    assert sorted_rows(DeltaTable(str(tmp_path / "orders")).to_pyarrow_table()).equals(rows)
