"""Reports as pyarrow tables, one row per partition, ready for pandas or polars.

Partition columns come first, typed by the report's ``partition_kinds``, the table's own
column types: ``date`` becomes ``date32``, ``integer`` ``int64``, ``boolean`` ``bool``,
``timestamp`` ``timestamp[us, tz=UTC]``, ``timestamp_ntz`` ``timestamp[us]``,
``decimal(P,S)`` ``decimal128(P, S)``, ``string`` ``string``; ``null`` values are nulls,
except in string columns. A report without kinds (a backend that does not say) is typed from
its canonical values the way Hive readers infer partition types: a column whose every
value is canonical for one of ``date``, ``integer``, ``boolean``, ``timestamp``,
``timestamp_ntz`` (tried in that order) gets that type, anything else ``string``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from pointline_storage.partitions import NULL_VALUE, ValueKind, infer_kind

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

_DECIMAL = re.compile(r"decimal\((\d+), ?(\d+)\)")
_INFERRED: tuple[ValueKind, ...] = ("date", "integer", "boolean", "timestamp", "timestamp_ntz")


def inspection_table(inspection: TableInspection) -> pa.Table:
    """One row per partition of ``inspection``: partition columns, then its statistics."""
    return _with_partitions(
        inspection.partition_keys,
        inspection.partition_kinds,
        inspection.partitions,
        INSPECTION_SCHEMA,
    )


def compaction_table(report: CompactionReport) -> pa.Table:
    """One row per named partition of ``report``: partition columns, then its result."""
    return _with_partitions(
        report.partition_keys, report.partition_kinds, report.partitions, COMPACTION_SCHEMA
    )


def arrow_type(kind: ValueKind) -> pa.DataType:
    """The pyarrow type of a partition column of ``kind``.

    Raises:
        ValueError: ``kind`` is not a :data:`~pointline_storage.ValueKind`.
    """
    decimal_kind = _DECIMAL.fullmatch(kind)
    if decimal_kind:
        return pa.decimal128(*(int(group) for group in decimal_kind.groups()))
    types = {
        "string": pa.string(),
        "date": pa.date32(),
        "integer": pa.int64(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "timestamp_ntz": pa.timestamp("us"),
    }
    if kind not in types:
        raise ValueError(f"unknown partition value kind {kind!r}")
    return types[kind]


def _with_partitions(
    columns: Sequence[str],
    kinds: Sequence[ValueKind],
    rows: Sequence[PartitionStats | PartitionCompactionResult],
    schema: pa.Schema,
) -> pa.Table:
    if kinds and len(kinds) != len(columns):
        raise ValueError(f"partition_kinds {list(kinds)} do not match columns {list(columns)}")
    arrays = []
    for index, column in enumerate(columns):
        values = [dict(row.partition)[column] for row in rows]
        kind = kinds[index] if kinds else infer_kind(values, _INFERRED)
        arrays.append(_typed(values, kind))
    arrays += [pa.array([getattr(row, f.name) for row in rows], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, names=[*columns, *schema.names])


def _typed(values: list[str], kind: ValueKind) -> pa.Array:
    if kind == "string":
        return pa.array(values, type=pa.string())
    parse = _parser(kind)
    return pa.array(
        [None if value == NULL_VALUE else parse(value) for value in values], type=arrow_type(kind)
    )


def _parser(kind: ValueKind) -> Callable[[str], object]:
    if kind == "date":
        return dt.date.fromisoformat
    if kind == "integer":
        return int
    if kind == "boolean":
        return lambda value: value == "true"
    if kind in {"timestamp", "timestamp_ntz"}:
        # Canonical values are YYYY-MM-DD HH:MM:SS[.ffffff][+00:00], which 3.10 parses.
        return dt.datetime.fromisoformat
    return decimal.Decimal
