"""``TableCopies``: each distinct table is written once, and every test gets a real copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable
from fsspec.implementations.local import LocalFileSystem

from pointline_storage import PointlineStorageError, load_backend
from pointline_storage.testing import TableCopies, sample_rows, sorted_rows
from pointline_storage.testing.fixtures import SAMPLE_PARTITION_BY, SAMPLE_ROWS_PER_FILE

ROWS = sample_rows()


@pytest.fixture
def copies(tmp_path: Path) -> TableCopies:
    return TableCopies(LocalFileSystem(), str(tmp_path / "cache"))


def write(copies: TableCopies, root: Path, rows=ROWS, partition_by=SAMPLE_PARTITION_BY):
    backend = load_backend("delta-local", root=root)

    def through_backend(name, rows, partition_by, per_file):
        backend.write_sample_table(
            name, rows=rows, partition_by=partition_by, rows_per_file=per_file
        )

    cached = copies.wrap(through_backend, lambda name: str(root / name))
    cached("orders", rows, partition_by, SAMPLE_ROWS_PER_FILE)
    return DeltaTable(str(root / "orders"))


def relative(table: DeltaTable, root: Path) -> set[str]:
    return {uri.removeprefix("file://").removeprefix(str(root)) for uri in table.file_uris()}


def test_the_first_table_is_written_and_later_ones_are_copies(copies, tmp_path):
    first = write(copies, tmp_path / "a")
    second = write(copies, tmp_path / "b")
    # A second write would name its files anew; a copy keeps the names.
    assert relative(first, tmp_path / "a") == relative(second, tmp_path / "b")
    assert len(second.file_uris()) == 60
    assert second.version() == first.version()
    assert sorted_rows(second.to_pyarrow_table()).equals(sorted_rows(ROWS))


def test_a_copy_changed_in_place_leaves_the_cached_table_intact(copies, tmp_path):
    write(copies, tmp_path / "a")
    damaged = write(copies, tmp_path / "b")
    Path(sorted(damaged.file_uris())[0].removeprefix("file://")).write_bytes(b"not parquet")
    fresh = write(copies, tmp_path / "c")
    assert sorted_rows(fresh.to_pyarrow_table()).equals(sorted_rows(ROWS))


def test_a_vanished_cache_is_written_again(copies, tmp_path):
    first = write(copies, tmp_path / "a")
    LocalFileSystem().rm(copies.cache_path, recursive=True)
    again = write(copies, tmp_path / "b")
    assert relative(again, tmp_path / "b").isdisjoint(relative(first, tmp_path / "a"))
    copied = write(copies, tmp_path / "c")
    assert relative(copied, tmp_path / "c") == relative(again, tmp_path / "b")


def test_tables_written_from_other_rows_or_layouts_are_cached_apart(copies, tmp_path):
    partitioned = write(copies, tmp_path / "a")
    flat = write(copies, tmp_path / "b", partition_by=())
    fewer = write(copies, tmp_path / "c", rows=ROWS.slice(0, ROWS.num_rows - 1))
    assert partitioned.metadata().partition_columns == list(SAMPLE_PARTITION_BY)
    assert flat.metadata().partition_columns == []
    assert fewer.to_pyarrow_table().num_rows == ROWS.num_rows - 1
    assert len({frozenset(relative(t, tmp_path / n)) for t, n in [(flat, "b"), (fewer, "c")]}) == 2
    assert relative(write(copies, tmp_path / "d", partition_by=()), tmp_path / "d") == relative(
        flat, tmp_path / "b"
    )


def test_writing_over_an_existing_table_is_still_refused(copies, tmp_path):
    write(copies, tmp_path / "a")
    write(copies, tmp_path / "b")
    with pytest.raises(PointlineStorageError, match="not empty"):
        write(copies, tmp_path / "b")
