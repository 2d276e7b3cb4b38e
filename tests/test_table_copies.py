"""``TableCopies``: each sample table is written once, and every test gets a real copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable
from fsspec.implementations.local import LocalFileSystem

from pointline_storage import load_backend
from pointline_storage.testing import sorted_rows
from pointline_storage.testing.fixtures import PARTITIONED_SAMPLE, UNPARTITIONED_SAMPLE
from pointline_storage.testing.table_copies import TableCopies


@pytest.fixture
def copies(tmp_path: Path) -> TableCopies:
    return TableCopies(LocalFileSystem(), str(tmp_path / "cache"))


def create(copies: TableCopies, root: Path, table=PARTITIONED_SAMPLE) -> DeltaTable:
    backend = load_backend("delta-local", root=root)
    name = copies.create(table, backend=backend, table_path=str(root / table.name))
    assert name == table.name
    return DeltaTable(str(root / name))


def data_files(table: DeltaTable) -> set[str]:
    return set(table.file_uris())


def relative(table: DeltaTable, root: Path) -> set[str]:
    return {uri.removeprefix("file://").removeprefix(str(root)) for uri in data_files(table)}


def test_the_first_table_is_written_and_later_ones_are_copies(copies, tmp_path):
    first = create(copies, tmp_path / "a")
    second = create(copies, tmp_path / "b")
    # A second write would name its files anew; a copy keeps the names.
    assert relative(first, tmp_path / "a") == relative(second, tmp_path / "b")
    assert len(data_files(second)) == 60
    assert second.version() == first.version()
    assert sorted_rows(second.to_pyarrow_table()).equals(sorted_rows(first.to_pyarrow_table()))


def test_a_copy_changed_in_place_leaves_the_cached_table_intact(copies, tmp_path):
    create(copies, tmp_path / "a")
    damaged = create(copies, tmp_path / "b")
    victim = sorted(data_files(damaged))[0].removeprefix("file://")
    Path(victim).write_bytes(b"not a parquet file")
    fresh = create(copies, tmp_path / "c")
    assert fresh.to_pyarrow_table().num_rows == PARTITIONED_SAMPLE.files_per_partition * 20 * 6


def test_a_vanished_cache_is_written_again(copies, tmp_path):
    first = create(copies, tmp_path / "a")
    LocalFileSystem().rm(copies.cache_path, recursive=True)
    again = create(copies, tmp_path / "b")
    assert relative(again, tmp_path / "b").isdisjoint(relative(first, tmp_path / "a"))
    copied = create(copies, tmp_path / "c")
    assert relative(copied, tmp_path / "c") == relative(again, tmp_path / "b")


def test_each_distinct_table_is_cached_apart(copies, tmp_path):
    partitioned = create(copies, tmp_path / "a")
    flat = create(copies, tmp_path / "a", UNPARTITIONED_SAMPLE)
    assert partitioned.metadata().partition_columns == ["exchange", "trading_date"]
    assert flat.metadata().partition_columns == []
    flat_copy = create(copies, tmp_path / "b", UNPARTITIONED_SAMPLE)
    assert relative(flat_copy, tmp_path / "b") == relative(flat, tmp_path / "a")
