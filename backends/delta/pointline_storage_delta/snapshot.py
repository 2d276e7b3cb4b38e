"""Opening a Delta table and reading its file statistics in one scan of the log snapshot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError as DeltaTableNotFound

from pointline_storage import (
    PartitionKey,
    PartitionStats,
    TableLocation,
    TableNotFoundError,
    canonical_value,
)
from pointline_storage.partitions import ValueKind

#: delta-rs uses this when a table sets no ``delta.targetFileSize``.
ENGINE_DEFAULT_TARGET_FILE_SIZE = 104_857_600

#: How a null partition value is rendered in reports.
NULL_VALUE = "null"

_INTEGER_TYPES = {"byte", "short", "integer", "long"}


@dataclass(frozen=True)
class DeltaSnapshot:
    """A loaded table and what the core needs to know about its partitioning."""

    table: DeltaTable
    version: int
    partition_columns: tuple[str, ...]
    kinds: Mapping[str, ValueKind]
    configuration: Mapping[str, str]

    def render(self, column: str, value: object) -> str:
        """Render a value of a partition column canonically (see ``canonical_value``)."""
        return canonical_value(value, self.kinds[column])

    def target_file_size(self, requested: int | None) -> int:
        """The target size: the caller's, else the table's ``delta.targetFileSize``, else
        the engine default."""
        if requested is not None:
            return requested
        configured = self.configuration.get("delta.targetFileSize")
        if configured is not None and configured.strip().isdigit() and int(configured) > 0:
            return int(configured)
        return ENGINE_DEFAULT_TARGET_FILE_SIZE


def open_snapshot(
    location: TableLocation, table_name: str, storage_options: Mapping[str, str]
) -> DeltaSnapshot:
    """Load the latest version of the table at ``location``.

    Raises:
        TableNotFoundError: nothing exists there, or what exists holds no Delta log.
    """
    if not location.fs.exists(location.path):
        raise TableNotFoundError(f"table {table_name!r} not found: {location.uri} does not exist")
    try:
        table = DeltaTable(location.uri, storage_options=dict(storage_options) or None)
    except DeltaTableNotFound as exc:
        raise TableNotFoundError(
            f"table {table_name!r} not found: {location.uri} exists but holds no Delta table "
            f"(no readable _delta_log)"
        ) from exc
    metadata = table.metadata()
    columns = tuple(metadata.partition_columns)
    types = {field.name: getattr(field.type, "type", "") for field in table.schema().fields}
    return DeltaSnapshot(
        table=table,
        version=table.version(),
        partition_columns=columns,
        kinds={column: _kind(types.get(column, "")) for column in columns},
        configuration=dict(metadata.configuration),
    )


def _kind(delta_type: str) -> ValueKind:
    if delta_type == "string":
        return "string"
    if delta_type == "date":
        return "date"
    if delta_type in _INTEGER_TYPES:
        return "integer"
    if delta_type == "boolean":
        return "boolean"
    return "other"


def partition_stats(
    snapshot: DeltaSnapshot, target_size: int
) -> dict[PartitionKey, PartitionStats]:
    """Aggregate the snapshot's add actions per partition, from a single scan.

    The cost is one read of the in-memory snapshot, whatever the number of partitions.
    """
    files = pa.table(snapshot.table.get_add_actions(flatten=True))
    keys = [f"partition.{column}" for column in snapshot.partition_columns]
    files = files.select([*keys, "size_bytes", "num_records"]).append_column(
        "small", pc.cast(pc.less(files["size_bytes"], target_size), pa.int64())
    )
    aggregates = [
        ("size_bytes", "count"),
        ("size_bytes", "sum"),
        ("small", "sum"),
        ("num_records", "sum"),
        ("num_records", "count"),
    ]
    if keys:
        grouped = files.group_by(keys, use_threads=False).aggregate(aggregates).to_pylist()
    elif files.num_rows:
        grouped = [
            {
                "size_bytes_count": files.num_rows,
                "size_bytes_sum": pc.sum(files["size_bytes"]).as_py(),
                "small_sum": pc.sum(files["small"]).as_py(),
                "num_records_sum": pc.sum(files["num_records"]).as_py() or 0,
                "num_records_count": pc.count(files["num_records"]).as_py(),
            }
        ]
    else:
        grouped = []
    stats = {}
    for row in grouped:
        partition = tuple(
            (column, NULL_VALUE if row[key] is None else snapshot.render(column, row[key]))
            for column, key in zip(snapshot.partition_columns, keys, strict=True)
        )
        complete_rows = row["num_records_count"] == row["size_bytes_count"]
        stats[partition] = PartitionStats(
            partition=partition,
            file_count=row["size_bytes_count"],
            small_file_count=row["small_sum"] or 0,
            total_bytes=row["size_bytes_sum"] or 0,
            total_rows=(row["num_records_sum"] or 0) if complete_rows else None,
        )
    return stats
