"""Reports as pyarrow tables, one row per partition, ready for pandas or polars.

Partition columns come first, typed from their canonical values the way Hive readers infer
partition types: a column whose every value is a ``YYYY-MM-DD`` date becomes ``date32``,
decimal integers ``int64``, ``true``/``false`` ``bool``, anything else ``string``;
``null`` values are nulls in the first three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from pointline_storage.partitions import NULL_VALUE, canonical_value

if TYPE_CHECKING:
    from pointline_storage.models import (
        CompactionReport,
        PartitionCompactionResult,
        PartitionStats,
        TableInspection,
    )

#: Statistics columns of :meth:`TableInspection.to_arrow`, after the partition columns.
INSPECTION_SCHEMA = pa.schema(
    [
        ("file_count", pa.int64()),
        ("small_file_count", pa.int64()),
        ("total_bytes", pa.int64()),
        ("total_rows", pa.int64()),
        ("unsorted_files", pa.int64()),
    ]
)

#: Result columns of :meth:`CompactionReport.to_arrow`, after the partition columns.
COMPACTION_SCHEMA = pa.schema(
    [
        ("status", pa.string()),
        ("skipped_reason", pa.string()),
        ("error", pa.string()),
        ("before_file_count", pa.int64()),
        ("after_file_count", pa.int64()),
        ("small_file_count", pa.int64()),
        ("bytes_before", pa.int64()),
        ("bytes_after", pa.int64()),
        ("rows_before", pa.int64()),
        ("rows_after", pa.int64()),
        ("files_removed", pa.int64()),
        ("files_added", pa.int64()),
        ("unsorted_files", pa.int64()),
    ]
)


def inspection_table(inspection: TableInspection) -> pa.Table:
    """One row per partition of ``inspection``: partition columns, then its statistics."""
    return _with_partitions(inspection.partition_keys, inspection.partitions, INSPECTION_SCHEMA)


def compaction_table(report: CompactionReport) -> pa.Table:
    """One row per named partition of ``report``: partition columns, then its result."""
    return _with_partitions(report.partition_keys, report.partitions, COMPACTION_SCHEMA)


def _with_partitions(
    columns: Sequence[str],
    rows: Sequence[PartitionStats | PartitionCompactionResult],
    schema: pa.Schema,
) -> pa.Table:
    arrays = [_typed([dict(row.partition)[column] for row in rows]) for column in columns]
    arrays += [pa.array([getattr(row, f.name) for row in rows], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, names=[*columns, *schema.names])


def _typed(values: list[str]) -> pa.Array:
    present = [value for value in values if value != NULL_VALUE]
    for kind, arrow_type, parse in (
        ("date", pa.date32(), dt.date.fromisoformat),
        ("integer", pa.int64(), int),
        ("boolean", pa.bool_(), lambda value: value == "true"),
    ):
        if present and all(_is_canonical(value, kind) for value in present):
            parsed = [None if value == NULL_VALUE else parse(value) for value in values]
            return pa.array(parsed, type=arrow_type)
    return pa.array(values, type=pa.string())


def _is_canonical(value: str, kind: str) -> bool:
    try:
        return canonical_value(value, kind) == value  # type: ignore[arg-type]
    except ValueError:
        return False
