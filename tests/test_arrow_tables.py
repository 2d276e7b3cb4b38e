"""Reports as pyarrow tables: one row per partition, partition columns typed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from pathlib import Path

import pyarrow as pa
import pytest

from pointline_storage import (
    CompactionReport,
    PartitionCompactionResult,
    PartitionStats,
    TableInspection,
    load_backend,
)
from pointline_storage.sample import order_events

DAYS = (dt.date(2024, 1, 2), dt.date(2024, 1, 3))
INSPECTION_COLUMNS = [
    "file_count",
    "small_file_count",
    "total_bytes",
    "total_rows",
    "unsorted_files",
]


def inspection(partition_keys: tuple[str, ...], *partitions: PartitionStats) -> TableInspection:
    return TableInspection(
        table_name="t",
        partition_keys=partition_keys,
        target_file_size_bytes=100,
        version=None,
        partitions=partitions,
    )


def test_a_real_inspection_converts_with_typed_partition_columns(tmp_path: Path) -> None:
    backend = load_backend("delta-local", root=tmp_path)
    rows = order_events(exchanges=("sse", "szse"), days=DAYS, rows_per_partition=6)
    backend.write_sample_table(
        "t", rows=rows, partition_by=["exchange", "trading_date"], rows_per_file=3
    )
    report = backend.inspect_partitions("t")
    table = report.to_arrow()
    assert table.schema == pa.schema(
        [
            ("exchange", pa.string()),
            ("trading_date", pa.date32()),
            ("file_count", pa.int64()),
            ("small_file_count", pa.int64()),
            ("total_bytes", pa.int64()),
            ("total_rows", pa.int64()),
            ("unsorted_files", pa.int64()),
        ]
    )
    assert table.to_pylist() == [
        {
            "exchange": dict(stats.partition)["exchange"],
            "trading_date": dt.date.fromisoformat(dict(stats.partition)["trading_date"]),
            "file_count": 2,
            "small_file_count": 2,
            "total_bytes": stats.total_bytes,
            "total_rows": 6,
            "unsorted_files": None,
        }
        for stats in report.partitions
    ]
    assert [row["exchange"] for row in table.to_pylist()] == ["sse", "sse", "szse", "szse"]


def test_partition_types_follow_the_canonical_values() -> None:
    keys = ("day", "hour", "flag", "code", "name")
    first = (("day", "2024-01-02"), ("hour", "7"), ("flag", "true"), ("code", "01"), ("name", "a"))
    second = (("day", "null"), ("hour", "-3"), ("flag", "false"), ("code", "2"), ("name", "null"))
    table = inspection(
        keys, PartitionStats(first, 1, 1, 10, None), PartitionStats(second, 2, 0, 20, 5)
    ).to_arrow()
    assert [field.type for field in table.schema][:5] == [
        pa.date32(),
        pa.int64(),
        pa.bool_(),
        pa.string(),
        pa.string(),
    ]
    assert table.to_pydict() == {
        "day": [dt.date(2024, 1, 2), None],
        "hour": [7, -3],
        "flag": [True, False],
        "code": ["01", "2"],
        "name": ["a", "null"],
        "file_count": [1, 2],
        "small_file_count": [1, 0],
        "total_bytes": [10, 20],
        "total_rows": [None, 5],
        "unsorted_files": [None, None],
    }


def test_an_empty_or_unpartitioned_inspection_keeps_its_columns() -> None:
    empty = inspection(("day",)).to_arrow()
    assert empty.num_rows == 0
    assert empty.schema.names == ["day", *INSPECTION_COLUMNS]
    flat = inspection((), PartitionStats((), 3, 3, 30, 9)).to_arrow()
    assert flat.to_pylist() == [
        {
            "file_count": 3,
            "small_file_count": 3,
            "total_bytes": 30,
            "total_rows": 9,
            "unsorted_files": None,
        }
    ]


def test_a_compaction_report_converts_one_row_per_result() -> None:
    results = (
        PartitionCompactionResult(
            (("day", "2024-01-02"),), 4, 1, status="compacted", files_removed=4, files_added=1
        ),
        PartitionCompactionResult(
            (("day", "2024-01-03"),), 1, 1, "below_min_small_files", status="skipped"
        ),
    )
    report = CompactionReport(
        table_name="t",
        partition_keys=("day",),
        planned_partitions=1,
        attempted_partitions=1,
        succeeded_partitions=1,
        skipped_partitions=1,
        failed_partitions=0,
        partitions=results,
    )
    table = report.to_arrow()
    assert table.column("day").type == pa.date32()
    expected = []
    for result in results:
        row = result.to_dict()
        row["day"] = dt.date.fromisoformat(row.pop("partition")["day"])
        expected.append(row)
    assert table.to_pylist() == expected
    assert table.schema.names[0] == "day"


def test_partition_kinds_type_the_columns_as_the_table_does() -> None:
    keys = ("code", "hour", "wall", "price", "day")
    first = (
        ("code", "7"),
        ("hour", "2024-01-02 13:00:00+00:00"),
        ("wall", "2024-01-02 13:00:00.500000"),
        ("price", "1.50"),
        ("day", "2024-01-02"),
    )
    second = (
        ("code", "null"),
        ("hour", "null"),
        ("wall", "null"),
        ("price", "null"),
        ("day", "null"),
    )
    report = dataclasses.replace(
        inspection(keys, PartitionStats(first, 1, 1, 10, 1), PartitionStats(second, 1, 1, 10, 1)),
        partition_kinds=("string", "timestamp", "timestamp_ntz", "decimal(10,2)", "date"),
    )
    table = report.to_arrow()
    assert [field.type for field in table.schema][:5] == [
        pa.string(),  # a string column of digits stays a string column
        pa.timestamp("us", tz="UTC"),
        pa.timestamp("us"),
        pa.decimal128(10, 2),
        pa.date32(),
    ]
    assert table.slice(0, 1).to_pylist()[0] | {"file_count": None} == {
        "code": "7",
        "hour": dt.datetime(2024, 1, 2, 13, tzinfo=dt.timezone.utc),
        "wall": dt.datetime(2024, 1, 2, 13, 0, 0, 500000),
        "price": decimal.Decimal("1.50"),
        "day": dt.date(2024, 1, 2),
        "file_count": None,
        "small_file_count": 1,
        "total_bytes": 10,
        "total_rows": 1,
        "unsorted_files": None,
    }
    assert table.slice(1).to_pylist()[0]["code"] == "null"
    assert [table[column][1].as_py() for column in keys[1:]] == [None] * 4
    with pytest.raises(ValueError, match="do not match"):
        dataclasses.replace(report, partition_kinds=("string",)).to_arrow()


def test_without_kinds_timestamps_are_inferred_from_canonical_values() -> None:
    row = (("hour", "2024-01-02 13:00:00+00:00"), ("wall", "2024-01-02 13:00:00"))
    table = inspection(("hour", "wall"), PartitionStats(row, 1, 1, 10, 1)).to_arrow()
    assert [field.type for field in table.schema][:2] == [
        pa.timestamp("us", tz="UTC"),
        pa.timestamp("us"),
    ]


def test_delta_reports_carry_the_tables_column_types(tmp_path: Path) -> None:
    rows = pa.table(
        {
            "hour": pa.array([dt.datetime(2024, 1, 2, 13)] * 2, pa.timestamp("us", tz="UTC")),
            "code": pa.array(["1", "2"]),
            "x": pa.array([1, 2]),
        }
    )
    backend = load_backend("delta-local", root=str(tmp_path))
    backend.write_sample_table("t", rows=rows, partition_by=("hour", "code"), rows_per_file=1)
    inspected = backend.inspect_partitions("t")
    assert inspected.partition_kinds == ("timestamp", "string")
    report = backend.compact_partitions(
        "t", partitions=inspected.to_arrow().select(["hour", "code"]).to_pylist()
    )
    assert report.partition_kinds == ("timestamp", "string")
    assert report.to_arrow().schema.field("code").type == pa.string()
    assert [result.status for result in report.partitions] == ["skipped", "skipped"]
