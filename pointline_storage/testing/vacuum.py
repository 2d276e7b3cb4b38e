"""Conformance tests of ``vacuum_table`` (behaviour 7 of the contract)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pointline_storage import (
    Backend,
    InvalidOptionError,
    PointlineStorageError,
    RetentionTooShortError,
    TableNotFoundError,
)
from pointline_storage.testing.checks import key
from pointline_storage.testing.fixtures import SAMPLE_DATES, DataFiles, ReadRows, sorted_rows

DAY1 = {"exchange": "sse", "trading_date": SAMPLE_DATES[0]}
DAY2 = {"exchange": "szse", "trading_date": SAMPLE_DATES[1]}


class AbstractVacuumTests:
    """Mix into a test class together with a :class:`BackendFixtures` subclass."""

    supports_table_versions: bool
    vacuum_removes_superseded_files: bool

    def _superseded(self, rewritten: frozenset[str]) -> frozenset[str]:
        """What a vacuum past retention must delete after compaction rewrote ``rewritten``."""
        return rewritten if self.vacuum_removes_superseded_files else frozenset()

    def test_vacuum_defaults_are_safe(
        self, backend: Backend, sample_table: str, data_files: DataFiles
    ) -> None:
        backend.compact_partitions(sample_table, partitions=[DAY1], min_small_files=2)
        files = data_files(sample_table)
        report = backend.vacuum_table(sample_table)
        assert report.dry_run
        assert report.retention_hours == 168
        assert report.enforce_retention_duration
        assert not report.full
        assert report.deleted_count == 0, "files removed moments ago are within retention"
        assert data_files(sample_table) == files
        if not self.supports_table_versions:
            assert report.version is None

    def test_short_retention_is_refused_while_enforced(
        self, backend: Backend, sample_table: str, data_files: DataFiles, read_rows: ReadRows
    ) -> None:
        before = data_files(sample_table)
        backend.compact_partitions(sample_table, partitions=[DAY1], min_small_files=2)
        rows, files = sorted_rows(read_rows(sample_table)), data_files(sample_table)
        with pytest.raises(RetentionTooShortError, match="168") as raised:
            backend.vacuum_table(sample_table, retention_hours=1, dry_run=False)
        assert isinstance(raised.value, PointlineStorageError)
        assert isinstance(raised.value, ValueError)
        dry = backend.vacuum_table(
            sample_table, retention_hours=0, enforce_retention_duration=False
        )
        # The refused vacuum must not have deleted anything, superseded files included.
        assert set(dry.deleted_files) == self._superseded(before[key(DAY1)])
        assert data_files(sample_table) == files
        assert sorted_rows(read_rows(sample_table)).equals(rows)

    def test_vacuum_deletes_exactly_what_compaction_removed(
        self, backend: Backend, sample_table: str, data_files: DataFiles, read_rows: ReadRows
    ) -> None:
        before = data_files(sample_table)
        rows = sorted_rows(read_rows(sample_table))
        backend.compact_partitions(sample_table, partitions=[DAY1, DAY2], min_small_files=2)
        removed = self._superseded(before[key(DAY1)] | before[key(DAY2)])
        options: dict[str, Any] = {"retention_hours": 0, "enforce_retention_duration": False}
        dry = backend.vacuum_table(sample_table, **options)
        assert dry.dry_run
        assert set(dry.deleted_files) == removed
        assert dry.deleted_files == tuple(sorted(dry.deleted_files))
        real = backend.vacuum_table(sample_table, dry_run=False, **options)
        assert not real.dry_run
        assert real.deleted_files == dry.deleted_files
        assert real.deleted_count == len(removed)
        assert sorted_rows(read_rows(sample_table)).equals(rows)
        again = backend.vacuum_table(sample_table, dry_run=False, **options)
        assert again.deleted_count == 0

    def test_vacuum_reads_the_latest_state(
        self,
        backend: Backend,
        make_backend: Callable[[], Backend],
        sample_table: str,
        data_files: DataFiles,
        read_rows: ReadRows,
    ) -> None:
        # Look at the table first, so a backend caching its view would now hold a stale one.
        backend.inspect_partitions(sample_table)
        rows = sorted_rows(read_rows(sample_table))
        before = data_files(sample_table)
        other = make_backend()
        other.compact_partitions(sample_table, partitions=[DAY1], min_small_files=2)
        report = backend.vacuum_table(
            sample_table,
            retention_hours=0,
            enforce_retention_duration=False,
            dry_run=False,
            full=True,
        )
        assert set(report.deleted_files) == self._superseded(before[key(DAY1)])
        assert sorted_rows(read_rows(sample_table)).equals(rows)

    def test_vacuum_validates_input(self, backend: Backend, sample_table: str) -> None:
        with pytest.raises(InvalidOptionError):
            backend.vacuum_table(sample_table, retention_hours=-1)
        with pytest.raises(TableNotFoundError):
            backend.vacuum_table("no_such_table")
