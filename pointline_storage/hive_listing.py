"""One listing of a Hive-style directory table: ``col=value/.../file``, without a log.

Directory names give the partition columns (outermost first) and their values,
percent-decoded as pyarrow and Spark write them, ``__HIVE_DEFAULT_PARTITION__`` standing for
null. A file is not data when a name on its path starts with ``.`` or ``_`` (the rule
pyarrow and Spark readers follow), so a backend can hide its temporary files that way.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pointline_storage.errors import StorageError, TableNotFoundError
from pointline_storage.locations import TableLocation
from pointline_storage.models import PartitionStats, TableInspection
from pointline_storage.partitions import (
    NULL_VALUE,
    PartitionKey,
    PartitionSpec,
    ValueKind,
    canonical_value,
    infer_kind,
    normalize_partitions,
)
from pointline_storage.small_files import count_small_files

#: The directory value Hive, Spark and pyarrow write for a null partition value.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


@dataclass(frozen=True)
class HiveListing:
    """One listing of a Hive-partitioned table's files (a ``FileListing`` of paths).

    ``HiveListing.of(location, table_name)`` lists a table once: it raises
    ``TableNotFoundError`` if there is no directory, ``StorageError`` if the listing fails
    or a data directory is not ``col=value``. Partition values are strings on disk; each
    column's ``ValueKind`` is inferred from them (``infer_kind``: dates, integers, else
    strings). ``fs`` is the table's fsspec filesystem.

    Attributes:
        table_name: The table as the caller named it.
        location: Where it lives.
        partition_columns: Partition columns, outermost directory first.
        partition_kinds: Each column's inferred kind, in order.
        files: Each partition's data files (paths of ``location.fs``) in path order, with
            their sizes in bytes.
        hidden_files: Every file that is not data (a ``.`` or ``_`` name on its path),
            with its size.
    """

    table_name: str
    location: TableLocation
    partition_columns: tuple[str, ...]
    partition_kinds: tuple[ValueKind, ...]
    files: Mapping[PartitionKey, Mapping[str, int]] = field(repr=False)
    hidden_files: Mapping[str, int] = field(repr=False)

    @classmethod
    def of(cls, location: TableLocation, table_name: str) -> HiveListing:
        """List the table at ``location`` once, anew (cached listings are dropped first).

        Raises:
            TableNotFoundError: there is no directory at ``location``.
            StorageError: the listing failed, a directory of data is not ``col=value``, or
                data files sit below different partition columns.
        """
        fs, root = location.fs, location.path.rstrip("/")
        try:
            fs.invalidate_cache(root)  # object stores' listings may predate other writers
            if not fs.isdir(root):
                raise TableNotFoundError(
                    f"table {table_name!r} not found: no directory at {location.uri}"
                )
            found = fs.find(root, detail=True)
        except OSError as exc:
            raise StorageError(
                f"cannot list table {table_name!r} at {location.uri}: {type(exc).__name__}: {exc}"
            ) from exc
        columns: tuple[str, ...] | None = None
        files: dict[PartitionKey, dict[str, int]] = {}
        hidden: dict[str, int] = {}
        for path, info in sorted(found.items()):
            size = int(info.get("size") or 0)
            *directories, name = path[len(root) + 1 :].split("/")
            if any(part.startswith((".", "_")) for part in (*directories, name)):
                hidden[path] = size
                continue
            key = tuple(_column_value(table_name, directory) for directory in directories)
            names = tuple(column for column, _ in key)
            if columns is None:
                columns = names
            elif names != columns:
                raise StorageError(
                    f"table {table_name!r} is not a Hive layout: {path} is partitioned by "
                    f"{list(names)}, other files by {list(columns)}"
                )
            files.setdefault(key, {})[path] = size
        columns = columns or ()
        kinds = tuple(infer_kind(key[i][1] for key in files) for i in range(len(columns)))
        return cls(table_name, location, columns, kinds, files, hidden)

    @property
    def fs(self) -> Any:
        """The fsspec filesystem holding the table."""
        return self.location.fs

    def relist(self) -> HiveListing:
        """List the table anew."""
        return HiveListing.of(self.location, self.table_name)

    def render(self, column: str, value: object) -> str:
        """Render a caller's value canonically for ``column`` (for ``normalize_partitions``)."""
        return canonical_value(value, self.partition_kinds[self.partition_columns.index(column)])

    def keys(self, partitions: Iterable[PartitionSpec] | None) -> tuple[PartitionKey, ...]:
        """The named partitions checked against the table, canonical, merged and sorted;
        ``None`` names every partition that has files.

        Raises:
            InvalidPartitionError: as ``normalize_partitions`` does.
        """
        if partitions is None:
            return tuple(sorted(self.files))
        return normalize_partitions(
            self.table_name, partitions, self.partition_columns, self.render
        )

    def sizes(self, partition: PartitionKey) -> Mapping[str, int]:
        """The partition's data files in path order, with their sizes (empty if none)."""
        return self.files.get(partition, {})

    def stats(self, partition: PartitionKey, target_file_size_bytes: int) -> PartitionStats:
        """The partition's statistics; its row count is read from the Parquet footers.

        A file whose footer cannot be read makes the row count unknown (``None``) rather
        than failing the call: compacting the partition is what reports the error.
        """
        sizes = self.sizes(partition)
        rows: int | None = 0
        for path in sizes:
            count = _footer_rows(self.fs, path)
            rows = None if rows is None or count is None else rows + count
        return PartitionStats(
            partition=partition,
            file_count=len(sizes),
            small_file_count=count_small_files(sizes.values(), target_file_size_bytes),
            total_bytes=sum(sizes.values()),
            total_rows=rows,
        )

    def inspection(
        self, partitions: Iterable[PartitionSpec] | None, *, target_file_size_bytes: int
    ) -> TableInspection:
        """The ``inspect_partitions`` report of the named partitions (``None``: all) in this
        listing, unversioned."""
        return TableInspection(
            table_name=self.table_name,
            partition_keys=self.partition_columns,
            target_file_size_bytes=target_file_size_bytes,
            version=None,
            partitions=tuple(
                self.stats(key, target_file_size_bytes) for key in self.keys(partitions)
            ),
            partition_kinds=self.partition_kinds,
        )

    def relative(self, path: str) -> str:
        """A file's path relative to the table root (as vacuum reports name files)."""
        return path[len(self.location.path.rstrip("/")) + 1 :]


def _column_value(table_name: str, directory: str) -> tuple[str, str]:
    # pyarrow's HivePartitioning.parse needs the columns up front and drops nulls; decode
    # exactly as pyarrow writes (segment_encoding "uri", null as __HIVE_DEFAULT_PARTITION__).
    column, sep, value = directory.partition("=")
    if not sep or not column:
        raise StorageError(
            f"table {table_name!r} is not a Hive layout: directory {directory!r} is not "
            "col=value; move other files out of the table, or name them with a leading '_'"
        )
    decoded = NULL_VALUE if value == HIVE_NULL else urllib.parse.unquote(value)
    return urllib.parse.unquote(column), decoded


def _footer_rows(fs: Any, path: str) -> int | None:
    import pyarrow as pa  # here, not at the top: importing the core must not load pyarrow
    import pyarrow.parquet as pq

    try:
        with fs.open(path, "rb") as handle:
            return int(pq.ParquetFile(handle).metadata.num_rows)
    except (pa.ArrowException, OSError):
        return None
