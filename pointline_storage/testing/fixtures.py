"""Fixtures the conformance suite needs from a backend.

Subclass :class:`BackendFixtures` and override every fixture that raises
``NotImplementedError``; the others have working defaults.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import pyarrow as pa
import pyarrow.compute as pc
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

ReadRows = Callable[[str], pa.Table]
DataFiles = Callable[[str], Mapping[PartitionKey, frozenset[str]]]
TableVersion = Callable[[str], "int | None"]
CorruptPartition = Callable[[str, Mapping[str, object]], None]
#: ``write(name, rows, partition_by, rows_per_file)``: see :meth:`BackendFixtures.write_table`.
WriteTable = Callable[[str, pa.Table, tuple[str, ...], int], None]


def sample_rows(files_per_partition: int = SAMPLE_FILES_PER_PARTITION) -> pa.Table:
    """Deterministic order events: every exchange x date, ``SAMPLE_ROWS_PER_FILE`` rows
    per file."""
    return order_events(
        exchanges=SAMPLE_EXCHANGES,
        days=SAMPLE_DATES,
        rows_per_partition=files_per_partition * SAMPLE_ROWS_PER_FILE,
    )


def interleaved_rows(files_per_partition: int = SAMPLE_FILES_PER_PARTITION) -> pa.Table:
    """:func:`sample_rows` reordered so that, written ``SAMPLE_ROWS_PER_FILE`` rows per
    file, every file of a partition spans the partition's whole ``ts`` range (as files
    per source do), instead of each covering the next stretch of time."""
    rows = sample_rows(files_per_partition)
    number = pc.subtract(
        rows["order_id"], pc.multiply(pc.divide(rows["order_id"], 1_000_000), 1_000_000)
    )
    source = pc.subtract(
        number, pc.multiply(pc.divide(number, files_per_partition), files_per_partition)
    )
    rows = rows.append_column("__source", source)
    order = [(column, "ascending") for column in (*SAMPLE_PARTITION_BY, "__source", "ts")]
    return rows.sort_by(order).drop_columns(["__source"])


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
    #: Whether partitions of ``timestamp`` and ``timestamp_ntz`` columns can be named
    #: (by a ``datetime`` or by the value ``inspect_partitions`` shows). ``False``: naming
    #: one raises ``InvalidPartitionError``.
    supports_timestamp_partitions = True
    #: Whether partitions of ``decimal(P,S)`` columns can be named. ``False``: naming one
    #: raises ``InvalidPartitionError``.
    supports_decimal_partitions = True
    #: Whether ``compact_partitions`` takes ``partitions_per_commit`` (a format that
    #: commits at all). ``False``: the facade must refuse a value for it.
    supports_partitions_per_commit = True
    #: Whether ``compact_partitions`` and ``inspect_partitions`` take ``sort_by``.
    #: ``False``: the facade refuses it (``UnsupportedOptionError``), and the suite checks
    #: that it does.
    supports_sort_by = False

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
    def write_table(self, backend: Backend) -> WriteTable:
        """Return a function creating a new table of small files from rows:
        ``write(name, rows, partition_by, rows_per_file)``, one file per ``rows_per_file``
        rows of each partition.

        The default uses the backend's optional ``write_sample_table`` hook; every table
        of the suite is made through this fixture. To write each distinct table once per
        session and give every test its own copy, wrap the write with a session-scoped
        :class:`~pointline_storage.testing.table_copies.TableCopies`.
        """

        def write(name: str, rows: pa.Table, partition_by: tuple[str, ...], per_file: int) -> None:
            backend.write_sample_table(
                name, rows=rows, partition_by=partition_by, rows_per_file=per_file
            )

        return write

    @pytest.fixture
    def sample_table(self, write_table: WriteTable) -> str:
        """Create the partitioned sample table of many small files; return its name."""
        write_table("orders", sample_rows(), SAMPLE_PARTITION_BY, SAMPLE_ROWS_PER_FILE)
        return "orders"

    @pytest.fixture
    def unsorted_table(self, write_table: WriteTable) -> str:
        """Create the sample table with every file spanning its partition's ``ts`` range
        (:func:`interleaved_rows`); return its name."""
        write_table("sources", interleaved_rows(), SAMPLE_PARTITION_BY, SAMPLE_ROWS_PER_FILE)
        return "sources"

    @pytest.fixture
    def unpartitioned_table(self, write_table: WriteTable) -> str:
        """Create an unpartitioned table of small files; return its name."""
        write_table("flat", sample_rows(files_per_partition=1), (), SAMPLE_ROWS_PER_FILE)
        return "flat"
