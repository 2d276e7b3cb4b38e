"""Fixtures the conformance suite needs from a backend.

Subclass :class:`BackendFixtures` and override every fixture that raises
``NotImplementedError``; the others have working defaults.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pyarrow as pa
import pytest

from pointline_storage import Backend, PartitionKey
from pointline_storage.sample import order_events

#: Partition columns of the sample table, in order.
SAMPLE_PARTITION_BY = ("exchange", "trading_date")
SAMPLE_EXCHANGES = ("sse", "szse")
SAMPLE_DATES = (dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4))
#: Files written per partition by the default ``sample_table`` fixture.
SAMPLE_FILES_PER_PARTITION = 10
SAMPLE_ROWS_PER_FILE = 20


@dataclass(frozen=True)
class SampleTable:
    """A table the suite's fixtures create: its name and what is written into it.

    Equal values write equal rows the same way, so a backend's fixtures may write each one
    once per test session and give every test a copy (see ``BackendFixtures.create_table``).
    """

    name: str
    files_per_partition: int = SAMPLE_FILES_PER_PARTITION
    partition_by: tuple[str, ...] = SAMPLE_PARTITION_BY

    def write(self, backend: Backend) -> None:
        """Write the table through the backend's optional ``write_sample_table`` hook."""
        backend.write_sample_table(
            self.name,
            rows=sample_rows(self.files_per_partition),
            partition_by=self.partition_by,
            rows_per_file=SAMPLE_ROWS_PER_FILE,
        )


#: The table of the ``sample_table`` fixture: every exchange x date, many small files.
PARTITIONED_SAMPLE = SampleTable("orders")
#: The table of the ``unpartitioned_table`` fixture.
UNPARTITIONED_SAMPLE = SampleTable("flat", files_per_partition=1, partition_by=())

CreateTable = Callable[[SampleTable], str]
ReadRows = Callable[[str], pa.Table]
DataFiles = Callable[[str], Mapping[PartitionKey, frozenset[str]]]
TableVersion = Callable[[str], "int | None"]
CorruptPartition = Callable[[str, Mapping[str, object]], None]


def sample_rows(files_per_partition: int = SAMPLE_FILES_PER_PARTITION) -> pa.Table:
    """Deterministic order events: every exchange x date, ``SAMPLE_ROWS_PER_FILE`` rows
    per file."""
    return order_events(
        exchanges=SAMPLE_EXCHANGES,
        days=SAMPLE_DATES,
        rows_per_partition=files_per_partition * SAMPLE_ROWS_PER_FILE,
    )


def sorted_rows(table: pa.Table) -> pa.Table:
    """Rows in a canonical order and column order, for whole-content comparison."""
    table = table.select(sorted(table.column_names))
    return table.sort_by([(name, "ascending") for name in table.column_names])


class BackendFixtures:
    """Base class of a backend's fixture class; see the conformance suite's docs."""

    #: Whether the backend's tables have versions. ``False``: every report carries
    #: ``None`` versions, and the ``table_version`` fixture returns ``None``.
    supports_table_versions = True
    #: Whether compaction leaves the files it rewrote on storage for ``vacuum_table`` to
    #: delete later (as a log-based format does, for older versions to stay readable).
    #: ``False``: compaction deletes them itself, so vacuum never lists them.
    vacuum_removes_superseded_files = True

    @pytest.fixture
    def make_backend(self) -> Callable[[], Backend]:
        """Return a function loading a new backend instance bound to this test's fresh,
        empty root (every call gives a separate instance on the same root)."""
        raise NotImplementedError("override the 'make_backend' fixture")

    @pytest.fixture
    def backend(self, make_backend: Callable[[], Backend]) -> Backend:
        """A loaded backend bound to this test's root."""
        return make_backend()

    @pytest.fixture
    def read_rows(self, backend: Backend) -> ReadRows:
        """Return a function reading a table's current rows as a pyarrow table."""
        raise NotImplementedError("override the 'read_rows' fixture")

    @pytest.fixture
    def data_files(self, backend: Backend) -> DataFiles:
        """Return a function mapping each partition of a table to its live data files.

        Partitions are canonical (see ``PartitionKey``); files are named as the backend
        likes, as long as a rewritten file gets a new name.
        """
        raise NotImplementedError("override the 'data_files' fixture")

    @pytest.fixture
    def table_version(self, backend: Backend) -> TableVersion:
        """Return a function giving a table's current version (``None`` if unversioned)."""
        raise NotImplementedError("override the 'table_version' fixture")

    @pytest.fixture
    def corrupt_partition(self, backend: Backend) -> CorruptPartition:
        """Return a function making one data file of a partition unreadable."""
        raise NotImplementedError("override the 'corrupt_partition' fixture")

    @pytest.fixture
    def create_table(self, backend: Backend) -> CreateTable:
        """Return a function creating a :class:`SampleTable` in this test's root; it returns
        the table's name. ``sample_table`` and ``unpartitioned_table`` use it.

        The default writes the table through the backend's optional ``write_sample_table``
        hook, in every test. Override it to write each table once per session and give
        each test its own copy (a real copy: tests rewrite and corrupt their tables), as
        :class:`~pointline_storage.testing.table_copies.TableCopies` does on any fsspec
        filesystem.
        """

        def create(table: SampleTable) -> str:
            table.write(backend)
            return table.name

        return create

    @pytest.fixture
    def sample_table(self, create_table: CreateTable) -> str:
        """Create the partitioned sample table of many small files; return its name.

        The default makes :data:`PARTITIONED_SAMPLE` with ``create_table``. A backend
        without ``write_sample_table`` overrides this fixture (or ``create_table``).
        """
        return create_table(PARTITIONED_SAMPLE)

    @pytest.fixture
    def unpartitioned_table(self, create_table: CreateTable) -> str:
        """Create an unpartitioned table of small files; return its name.

        The default makes :data:`UNPARTITIONED_SAMPLE` with ``create_table``.
        """
        return create_table(UNPARTITIONED_SAMPLE)
