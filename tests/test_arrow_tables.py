"""Reports as pyarrow tables: one row per partition, partition columns typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

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
