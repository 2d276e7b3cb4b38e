"""What a Hive-partitioned Parquet table holds, read from its directory layout alone.

There is no log: ``col=value`` directory names give the partition columns (in depth order)
and their values, percent-decoded as pyarrow and Spark write them. Names starting with
``.`` or ``_`` are not data (the rule pyarrow and Spark readers follow), which keeps this
backend's temporary files invisible to readers.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pointline_storage import (
    PartitionKey,
    PartitionStats,
    StorageError,
    TableLocation,
    TableNotFoundError,
    ValueKind,
    canonical_value,
    count_small_files,
    infer_kind,
    render_stored_value,
)

#: Prefix of the files a compaction writes before giving them their final name.
TEMP_PREFIX = ".pointline-tmp-"
#: The directory value Hive, Spark and pyarrow write for a null partition value.
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
#: Without a table setting to read, files below 100 MiB are small (Delta's default too).
DEFAULT_TARGET_FILE_SIZE_BYTES = 100 * 1024 * 1024
_HIDDEN = (".", "_")


@dataclass(frozen=True)
class DataFile:
    """One file of the table.

    Attributes:
        path: Its path on the table's filesystem.
        size: Its size in bytes.
    """

    path: str
    size: int


@dataclass(frozen=True)
class HiveTable:
    """One listing of a table: its data files by partition, and leftover temporary files.

    Attributes:
        name: The table as the caller named it.
        location: Where it lives.
        partition_columns: Partition columns, outermost directory first.
        kinds: How each column's values are parsed, inferred from the values on disk.
        files: Data files per partition, sorted by path.
        directories: Each partition's directory.
        leftovers: Temporary files of compactions, running or interrupted.
    """

    name: str
    location: TableLocation
    partition_columns: tuple[str, ...]
    kinds: Mapping[str, ValueKind]
    files: Mapping[PartitionKey, tuple[DataFile, ...]]
    directories: Mapping[PartitionKey, str]
    leftovers: tuple[DataFile, ...] = field(default=())

    @property
    def fs(self) -> Any:
        """The fsspec filesystem holding the table."""
        return self.location.fs

    @property
    def partition_kinds(self) -> tuple[ValueKind, ...]:
        """The kind of each partition column, in order (for reports)."""
        return tuple(self.kinds[column] for column in self.partition_columns)

    def render(self, column: str, value: object) -> str:
        """Render a caller's value canonically for ``column`` (for ``normalize_partitions``)."""
        return canonical_value(value, self.kinds[column])

    def relative(self, path: str) -> str:
        """A file's path relative to the table root."""
        return path[len(self.location.path.rstrip("/")) + 1 :]

    def sizes(self, partition: PartitionKey) -> dict[DataFile, int]:
        """The partition's data files, in path order, each with its size."""
        return {data_file: data_file.size for data_file in self.files.get(partition, ())}

    def stats(self, partition: PartitionKey, target_file_size_bytes: int) -> PartitionStats:
        """Statistics of one partition; row counts come from the Parquet footers.

        A file whose footer cannot be read makes the partition's row count unknown
        (``None``) rather than failing the call: compacting it is what reports the error.
        """
        files = self.files.get(partition, ())
        rows: int | None = 0
        for data_file in files:
            count = footer_rows(self.fs, data_file.path)
            rows = None if rows is None or count is None else rows + count
        return PartitionStats(
            partition=partition,
            file_count=len(files),
            small_file_count=count_small_files([f.size for f in files], target_file_size_bytes),
            total_bytes=sum(f.size for f in files),
            total_rows=rows,
        )


def footer_rows(fs: Any, path: str) -> int | None:
    """The row count in a Parquet file's footer, ``None`` if the file is unreadable."""
    try:
        with fs.open(path, "rb") as handle:
            return int(pq.ParquetFile(handle).metadata.num_rows)
    except (pa.ArrowException, OSError):
        return None


def open_table(location: TableLocation, table_name: str) -> HiveTable:
    """List a table once and group its files by partition.

    Raises:
        TableNotFoundError: no directory at the table's location.
        StorageError: the listing failed, or a directory is not ``col=value`` or the
            files sit at different partition depths.
    """
    fs, root = location.fs, location.path.rstrip("/")
    try:
        # Object-store filesystems cache listings; another writer may have changed them.
        fs.invalidate_cache(root)
        if not fs.isdir(root):
            raise TableNotFoundError(
                f"table {table_name!r} not found: no directory at {location.uri}"
            )
        listing = fs.find(root, detail=True)
    except OSError as exc:
        raise StorageError(
            f"cannot list table {table_name!r} at {location.uri}: {type(exc).__name__}: {exc}"
        ) from exc
    columns: tuple[str, ...] | None = None
    raw: dict[tuple[str | None, ...], list[DataFile]] = {}
    raw_dirs: dict[tuple[str | None, ...], str] = {}
    leftovers = []
    for path, info in sorted(listing.items()):
        parts = path[len(root) + 1 :].split("/")
        data_file = DataFile(path=path, size=int(info.get("size") or 0))
        if parts[-1].startswith(TEMP_PREFIX):
            leftovers.append(data_file)
        if any(part.startswith(_HIDDEN) for part in parts):
            continue
        names, values = _parse_directories(table_name, parts[:-1])
        if columns is None:
            columns = names
        elif names != columns:
            raise StorageError(
                f"table {table_name!r} is not a Hive layout: {path} is partitioned by "
                f"{list(names)}, other files by {list(columns)}"
            )
        raw.setdefault(values, []).append(data_file)
        raw_dirs[values] = path.rsplit("/", 1)[0]
    columns = columns or ()
    kinds = {column: infer_kind(values[i] for values in raw) for i, column in enumerate(columns)}
    files: dict[PartitionKey, tuple[DataFile, ...]] = {}
    directories: dict[PartitionKey, str] = {}
    for values, group in raw.items():
        key = tuple(zip(columns, (render_stored_value(value) for value in values), strict=True))
        files[key] = (*files.get(key, ()), *group)
        directories[key] = raw_dirs[values]
    return HiveTable(
        name=table_name,
        location=location,
        partition_columns=columns,
        kinds=kinds,
        files=files,
        directories=directories,
        leftovers=tuple(leftovers),
    )


def _parse_directories(
    table_name: str, segments: list[str]
) -> tuple[tuple[str, ...], tuple[str | None, ...]]:
    # pyarrow's HivePartitioning.parse needs the columns up front and drops nulls; the
    # layout is simple enough to decode here exactly as pyarrow writes it (segment_encoding
    # "uri", null as __HIVE_DEFAULT_PARTITION__).
    names, values = [], []
    for segment in segments:
        name, sep, value = segment.partition("=")
        if not sep or not name:
            raise StorageError(
                f"table {table_name!r} is not a Hive layout: directory {segment!r} is not col=value"
            )
        names.append(urllib.parse.unquote(name))
        values.append(None if value == HIVE_NULL else urllib.parse.unquote(value))
    return tuple(names), tuple(values)
