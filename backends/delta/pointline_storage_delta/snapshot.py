"""Opening a Delta table and reading its file statistics in one scan of the log snapshot."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError
from deltalake.exceptions import TableNotFoundError as DeltaTableNotFound

from pointline_storage import (
    InvalidOptionError,
    PartitionKey,
    PartitionStats,
    StorageError,
    TableLocation,
    TableNotFoundError,
    canonical_value,
    count_small_files,
    render_stored_value,
)
from pointline_storage.partitions import NULL_VALUE, ValueKind
from pointline_storage_delta.spark_sizes import parse_spark_size

#: delta-rs uses this when a table sets no ``delta.targetFileSize``.
ENGINE_DEFAULT_TARGET_FILE_SIZE = 104_857_600
TARGET_FILE_SIZE_PROPERTY = "delta.targetFileSize"

_KINDS: dict[str, ValueKind] = {
    "string": "string",
    "date": "date",
    "byte": "integer",
    "short": "integer",
    "integer": "integer",
    "long": "integer",
    "boolean": "boolean",
    # The engine reads a partition filter's timestamp in UTC, and one without offset as
    # UTC too; a timestamp_ntz filter must carry no offset. The canonical forms are both.
    "timestamp": "timestamp",
    "timestamp_ntz": "timestamp_ntz",
}
#: ``decimal(P,S)`` is its own kind: the engine's filter needs exactly S decimal places.
_DECIMAL = re.compile(r"decimal\(\d+,\d+\)")


@dataclass(frozen=True)
class DeltaSnapshot:
    """A loaded table and what the core needs to know about its partitioning."""

    table: DeltaTable
    version: int
    partition_columns: tuple[str, ...]
    column_types: Mapping[str, str]
    configuration: Mapping[str, str]
    _actions: dict[int, pa.Table] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def add_actions(self) -> pa.Table:
        """The flattened add actions of the live files at the loaded table's current
        version, read once per version: planning, sort-key checks, layouts and null
        filters share one scan."""
        version = self.table.version()
        if version not in self._actions:
            self._actions.clear()
            self._actions[version] = pa.table(self.table.get_add_actions(flatten=True))
        return self._actions[version]

    @property
    def partition_kinds(self) -> tuple[ValueKind, ...]:
        """The kind of each partition column, in order (``string`` for a type that cannot
        be named, whose values are shown as text)."""
        return tuple(
            _kind(self.column_types[column]) or "string" for column in self.partition_columns
        )

    def render(self, column: str, value: object) -> str:
        """Render a caller's value of a partition column canonically.

        Raises:
            ValueError: the value does not fit the column, or partitions of the column's
                type cannot be named yet.
        """
        delta_type = self.column_types[column]
        kind = _kind(delta_type)
        if kind is None:
            raise ValueError(
                f"partition columns of type {delta_type} cannot be named yet "
                f"(supported: {', '.join(sorted(set(_KINDS)))}, decimal)"
            )
        return canonical_value(value, kind)

    def partition_filters(self, partition: PartitionKey) -> list[tuple[str, str, str]]:
        """The engine's filters selecting exactly ``partition`` (one ``=`` per column).

        The engine matches a null partition value with ``""`` (not with ``"null"``, nor with
        ``"__HIVE_DEFAULT_PARTITION__"``, its name on disk). In a string column ``"null"``
        names the null partition, unless the table's files hold the literal string there
        (:func:`scan_partitions` refuses tables holding both under one key).
        """
        literal: set[str] = set()
        if any(v == NULL_VALUE and self.column_types[c] == "string" for c, v in partition):
            files = self.add_actions()
            mine = pa.array([True] * files.num_rows, pa.bool_())
            for column, value in partition:
                stored = pc.cast(files[f"partition.{column}"], pa.string())
                match = pc.fill_null(pc.equal(stored, value), False)
                if value == NULL_VALUE:
                    match = pc.or_(match, pc.is_null(stored))
                mine = pc.and_(mine, match)
            for column, value in partition:
                if value == NULL_VALUE and self.column_types[column] == "string":
                    in_mine = pc.filter(files[f"partition.{column}"], mine)
                    if pc.any(pc.equal(in_mine, NULL_VALUE)).as_py():
                        literal.add(column)
        return [
            (column, "=", "" if value == NULL_VALUE and column not in literal else value)
            for column, value in partition
        ]

    def refreshed(self, table_name: str) -> DeltaSnapshot:
        """The table at its latest version, read by the loaded table object catching up on
        the log (a fraction of a second opening it again costs on a long log).

        Raises:
            StorageError: the log cannot be read, or the table's partitioning changed.
        """
        try:
            self.table.update_incremental()
            latest = _described(self.table)
        except DeltaError as exc:
            raise StorageError(f"cannot read table {table_name!r}: {exc}") from exc
        if latest.partition_columns != self.partition_columns:
            raise StorageError(
                f"table {table_name!r} changed its partition columns from "
                f"{list(self.partition_columns)} to {list(latest.partition_columns)} "
                "during the call; nothing was compacted, rerun it"
            )
        return latest

    def target_file_size(self, requested: int | None) -> int:
        """The target size: the caller's, else the table's ``delta.targetFileSize``, else
        the engine default.

        The property is read as Spark reads it (``1mb`` is 1,048,576 bytes).

        Raises:
            InvalidOptionError: no size was requested and the table's property is not a
                positive size; it is never replaced by the default silently.
        """
        if requested is not None:
            return requested
        configured = self.configuration.get(TARGET_FILE_SIZE_PROPERTY)
        if configured is None:
            return ENGINE_DEFAULT_TARGET_FILE_SIZE
        try:
            size = parse_spark_size(configured)
        except ValueError as exc:
            problem = str(exc)
        else:
            if size > 0:
                return size
            problem = "a size must be at least 1 byte"
        raise InvalidOptionError(
            f"table property {TARGET_FILE_SIZE_PROPERTY}={configured!r} cannot be used: "
            f"{problem}; fix the property, or pass a target size "
            "to compact_partitions (target_file_size_bytes=..., CLI --target-file-size)"
        )


def _kind(delta_type: str) -> ValueKind | None:
    return delta_type if _DECIMAL.fullmatch(delta_type) else _KINDS.get(delta_type)


@dataclass(frozen=True)
class PartitionScan:
    """Per-partition statistics from one snapshot scan.

    Attributes:
        stats: Statistics of every partition holding files.
        files: One row per live file: its ``path`` and ``partition.<column>`` values.
    """

    stats: dict[PartitionKey, PartitionStats]
    files: pa.Table


def open_snapshot(
    location: TableLocation, table_name: str, storage_options: Mapping[str, str]
) -> DeltaSnapshot:
    """Load the latest version of the table at ``location``.

    Raises:
        TableNotFoundError: nothing exists there, or what exists holds no Delta log.
        StorageError: the log exists but cannot be read.
    """
    if not location.fs.isdir(location.path):  # one call on the path every table takes
        problem = "is a file" if location.fs.exists(location.path) else "does not exist"
        raise TableNotFoundError(f"table {table_name!r} not found: {location.uri} {problem}")
    try:
        table = DeltaTable(location.uri, storage_options=dict(storage_options) or None)
        return _described(table)
    except DeltaTableNotFound as exc:
        raise TableNotFoundError(
            f"table {table_name!r} not found: {location.uri} exists but holds no Delta table "
            f"(no readable _delta_log)"
        ) from exc
    except DeltaError as exc:
        raise StorageError(f"cannot read table {table_name!r} at {location.uri}: {exc}") from exc


def _described(table: DeltaTable) -> DeltaSnapshot:
    """What the core needs to know of the version ``table`` has loaded."""
    metadata = table.metadata()
    columns = tuple(metadata.partition_columns)
    types = {
        field.name: str(getattr(field.type, "type", field.type)) for field in table.schema().fields
    }
    return DeltaSnapshot(
        table=table,
        version=table.version(),
        partition_columns=columns,
        column_types={column: types.get(column, "") for column in columns},
        configuration=dict(metadata.configuration),
    )


def scan_partitions(snapshot: DeltaSnapshot, target_size: int) -> PartitionScan:
    """Aggregate the snapshot's add actions per partition, from a single scan.

    The cost is one read of the in-memory snapshot, whatever the number of partitions.
    """
    files = live_rows(snapshot.table, snapshot.add_actions())
    keys = [f"partition.{column}" for column in snapshot.partition_columns]
    paths = files.select(["path", *keys])
    small = pc.less(files["size_bytes"], target_size)
    files = files.select([*keys, "size_bytes", "num_records"])
    files = files.append_column("small_size", pc.if_else(small, files["size_bytes"], None))
    aggregates = [
        ("size_bytes", "count"),
        ("size_bytes", "sum"),
        ("num_records", "sum"),
        ("num_records", "count"),
        ("small_size", "list"),
    ]
    if not files.num_rows:
        return PartitionScan(stats={}, files=paths)
    if not keys:  # an unpartitioned table is one group
        keys_or_constant = ["__whole_table"]
        files = files.append_column("__whole_table", pa.repeat(0, files.num_rows))
    else:
        keys_or_constant = keys
    grouped = files.group_by(keys_or_constant, use_threads=False).aggregate(aggregates).to_pylist()
    stats = {}
    for row in grouped:
        partition = _key(row, snapshot.partition_columns)
        if partition in stats:
            raise StorageError(
                f"table has two partitions that both render as {partition}: a null value "
                f"and the string {NULL_VALUE!r}; such tables are not supported yet"
            )
        complete_rows = row["num_records_count"] == row["size_bytes_count"]
        sizes = [size for size in row["small_size_list"] if size is not None]
        stats[partition] = PartitionStats(
            partition=partition,
            file_count=row["size_bytes_count"],
            small_file_count=count_small_files(sizes, target_size),
            total_bytes=row["size_bytes_sum"] or 0,
            total_rows=(row["num_records_sum"] or 0) if complete_rows else None,
        )
    return PartitionScan(stats=stats, files=paths)


def live_rows(table: DeltaTable, files: pa.Table) -> pa.Table:
    """``files`` (add actions) with ``num_records`` counting live rows: a file's physical
    rows minus those its deletion vector marks deleted.

    deltalake 1.6 leaves ``deletionVector.cardinality`` out of the add actions, so the
    vectors are read (only on tables whose protocol enables them).
    """
    if "deletionVector.cardinality" in files.column_names:
        deleted = pc.fill_null(files["deletionVector.cardinality"], 0)
    elif "deletionVectors" in (table.protocol().reader_features or []):
        deleted = _deleted_per_file(table, files["path"])
    else:
        return files
    live = pc.subtract(files["num_records"], pc.cast(deleted, pa.int64()))
    return files.set_column(files.schema.get_field_index("num_records"), "num_records", live)


def _deleted_per_file(table: DeltaTable, paths: pa.ChunkedArray) -> pa.Array:
    """Rows each file's deletion vector deletes, aligned with ``paths`` (0 without one)."""
    vectors = pa.table(table.deletion_vectors())
    if not vectors.num_rows:
        return pa.repeat(pa.scalar(0, pa.int64()), len(paths))
    selection = vectors["selection_vector"].combine_chunks()
    # A selection vector keeps a row where True; count the Falses of each file.
    dropped = pc.cast(pc.invert(pc.list_flatten(selection)), pa.int64())
    owners = pc.list_parent_indices(selection)
    counts = (
        pa.table({"owner": owners, "dropped": dropped})
        .group_by("owner", use_threads=False)
        .aggregate([("dropped", "sum")])
    )
    per_vector = dict(
        zip(counts["owner"].to_pylist(), counts["dropped_sum"].to_pylist(), strict=True)
    )
    # The vectors name files by absolute URI; the add actions by relative, encoded path.
    root = table.table_uri.rstrip("/") + "/"
    by_file = {
        urllib.parse.unquote(uri.removeprefix(root)): per_vector.get(index, 0)
        for index, uri in enumerate(vectors["filepath"].to_pylist())
    }
    return pa.array(
        [by_file.get(urllib.parse.unquote(path), 0) for path in paths.to_pylist()], pa.int64()
    )


def file_changes(
    before: PartitionScan, after: PartitionScan, columns: tuple[str, ...]
) -> dict[PartitionKey, tuple[int, int]]:
    """Files removed and added per partition between two scans, by path.

    Only partitions with a change appear. Paths are unique in a snapshot and a rewrite
    always gets a new name, so this is exact for the writes made between the two scans.
    """
    old, new = before.files, after.files
    removed = _count(old.filter(pc.invert(pc.is_in(old["path"], value_set=new["path"]))), columns)
    added = _count(new.filter(pc.invert(pc.is_in(new["path"], value_set=old["path"]))), columns)
    return {key: (removed.get(key, 0), added.get(key, 0)) for key in removed.keys() | added.keys()}


def partition_files(
    scan: PartitionScan, columns: tuple[str, ...]
) -> dict[PartitionKey, tuple[str, ...]]:
    """The live files of each partition holding any, as the log names them, sorted."""
    files = scan.files
    if not files.num_rows:
        return {}
    if not columns:
        return {(): tuple(sorted(files["path"].to_pylist()))}
    keys = [f"partition.{column}" for column in columns]
    grouped = files.group_by(keys, use_threads=False).aggregate([("path", "list")])
    return {_key(row, columns): tuple(sorted(row["path_list"])) for row in grouped.to_pylist()}


def _count(files: pa.Table, columns: tuple[str, ...]) -> dict[PartitionKey, int]:
    if not columns:
        return {(): files.num_rows} if files.num_rows else {}
    keys = [f"partition.{column}" for column in columns]
    grouped = files.group_by(keys, use_threads=False).aggregate([("path", "count")])
    return {_key(row, columns): row["path_count"] for row in grouped.to_pylist()}


def _key(row: Mapping[str, object], columns: tuple[str, ...]) -> PartitionKey:
    return tuple((column, render_stored_value(row[f"partition.{column}"])) for column in columns)
