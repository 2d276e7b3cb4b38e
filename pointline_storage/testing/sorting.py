"""Conformance tests of sorted compaction (``sort_by``), behind ``supports_sort_by``."""

from __future__ import annotations

import pytest

from pointline_storage import (
    SKIP_ALREADY_SORTED,
    Backend,
    InvalidOptionError,
    PointlineStorageError,
    UnsupportedOptionError,
)
from pointline_storage.testing.checks import assert_report_consistent, key
from pointline_storage.testing.fixtures import (
    SAMPLE_DATES,
    SAMPLE_FILES_PER_PARTITION,
    DataFiles,
    ReadRows,
    TableVersion,
    sorted_rows,
)

SSE_DAY1 = {"exchange": "sse", "trading_date": SAMPLE_DATES[0]}
SZSE_DAY2 = {"exchange": "szse", "trading_date": SAMPLE_DATES[1]}


class AbstractSortingTests:
    """Mix into a test class together with a :class:`BackendFixtures` subclass."""

    supports_table_versions: bool
    supports_sort_by: bool

    @pytest.mark.parametrize("keys", [("ts",), ("side", "ts")], ids=["one-key", "two-keys"])
    def test_sort_by_lays_partitions_out_and_a_rerun_rewrites_nothing(
        self,
        backend: Backend,
        unsorted_table: str,
        read_rows: ReadRows,
        data_files: DataFiles,
        table_version: TableVersion,
        keys: tuple[str, ...],
    ) -> None:
        """Files end up covering disjoint ranges of the first key (several keys: in
        lexicographic order, ties on the first may touch), recognised from the statistics."""
        if not self.supports_sort_by:
            self._assert_refused(backend, unsorted_table, data_files, table_version, keys)
            return
        before_rows = sorted_rows(read_rows(unsorted_table))
        before_files = data_files(unsorted_table)
        named = [SSE_DAY1, SZSE_DAY2]
        inspected = backend.inspect_partitions(unsorted_table, named, sort_by=keys)
        # Every file spans the whole range: all but one stand out of order.
        unsorted = {stats.unsorted_files for stats in inspected.partitions}
        assert unsorted == {SAMPLE_FILES_PER_PARTITION - 1}
        report = backend.compact_partitions(
            unsorted_table, partitions=named, min_small_files=2, sort_by=keys
        )
        assert_report_consistent(report)
        assert report.sort_by == keys
        assert report.succeeded_partitions == 2
        after_files = data_files(unsorted_table)
        for partition in set(before_files) - {key(spec) for spec in named}:
            assert after_files[partition] == before_files[partition], f"{partition} touched"
        assert sorted_rows(read_rows(unsorted_table)).equals(before_rows)
        laid_out = backend.inspect_partitions(unsorted_table, sort_by=keys)
        for stats in laid_out.partitions:
            named_one = stats.partition in {key(spec) for spec in named}
            expected = 0 if named_one else SAMPLE_FILES_PER_PARTITION - 1
            assert stats.unsorted_files == expected, stats
        version = table_version(unsorted_table)
        again = backend.compact_partitions(
            unsorted_table, partitions=named, min_small_files=2, sort_by=keys
        )
        assert_report_consistent(again)
        assert {r.skipped_reason for r in again.partitions} == {SKIP_ALREADY_SORTED}
        assert data_files(unsorted_table) == after_files
        assert table_version(unsorted_table) == version

    def test_unsortable_keys_are_refused_before_writing(
        self,
        backend: Backend,
        unsorted_table: str,
        data_files: DataFiles,
        table_version: TableVersion,
    ) -> None:
        files, version = data_files(unsorted_table), table_version(unsorted_table)
        # Without support, the facade refuses any sort_by: never silently dropped.
        for sort_by in (("no_such_column",), ("exchange",), ("ts",)):
            if self.supports_sort_by and sort_by == ("ts",):
                continue
            with pytest.raises(InvalidOptionError) as caught:
                backend.compact_partitions(
                    unsorted_table, partitions=[SSE_DAY1], min_small_files=0, sort_by=sort_by
                )
            assert isinstance(caught.value, PointlineStorageError)
            assert isinstance(caught.value, ValueError)
            with pytest.raises(InvalidOptionError):
                backend.inspect_partitions(unsorted_table, sort_by=sort_by)
        assert data_files(unsorted_table) == files
        assert table_version(unsorted_table) == version

    @staticmethod
    def _assert_refused(
        backend: Backend,
        table: str,
        data_files: DataFiles,
        table_version: TableVersion,
        keys: tuple[str, ...] = ("ts",),
    ) -> None:
        """A backend without sort_by refuses it, in a dry run too, and writes nothing."""
        files, version = data_files(table), table_version(table)
        for dry_run in (True, False):
            with pytest.raises(UnsupportedOptionError, match="sort_by"):
                backend.compact_partitions(
                    table, partitions=[SSE_DAY1], dry_run=dry_run, sort_by=keys
                )
        with pytest.raises(UnsupportedOptionError, match="sort_by"):
            backend.inspect_partitions(table, sort_by=keys)
        assert data_files(table) == files
        assert table_version(table) == version
