"""The frozen report dataclasses and their plain-data form."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import pickle

import pytest

from pointline_storage import (
    Backend,
    BackendInfo,
    CompactionFailedError,
    CompactionReport,
    InvalidOptionError,
    PartitionCompactionResult,
    PartitionStats,
    TableInspection,
    VacuumReport,
)
from pointline_storage.models import (
    KEEP_NESTED_TABLE,
    SKIP_BELOW_MIN_SMALL_FILES,
    SKIP_NO_FILES,
    SKIP_NOTHING_TO_COMPACT,
    KeptPath,
)
from pointline_storage.partitions import format_partition

PARTITION = (("exchange", "sse"), ("trading_date", "2024-01-02"))


def _result(**overrides: object) -> PartitionCompactionResult:
    fields: dict[str, object] = {
        "partition": PARTITION,
        "before_file_count": 12,
        "after_file_count": 1,
        "status": "compacted",
        "small_file_count": 12,
        "bytes_before": 12_000,
        "bytes_after": 9_000,
        "rows_before": 100,
        "rows_after": 100,
        "files_removed": 12,
        "files_added": 1,
    }
    fields.update(overrides)
    return PartitionCompactionResult(**fields)  # type: ignore[arg-type]


def _compaction_report() -> CompactionReport:
    return CompactionReport(
        table_name="cn_order_events",
        partition_keys=("exchange", "trading_date"),
        planned_partitions=1,
        attempted_partitions=1,
        succeeded_partitions=1,
        skipped_partitions=1,
        failed_partitions=0,
        partitions=(
            _result(),
            _result(
                partition=(("exchange", "szse"), ("trading_date", "2024-01-02")),
                after_file_count=2,
                status="skipped",
                skipped_reason=SKIP_BELOW_MIN_SMALL_FILES,
            ),
        ),
        target_file_size_bytes=128 * 1024 * 1024,
        min_small_files=8,
        version_before=3,
        version_after=4,
        duration_seconds=0.25,
    )


def _vacuum_report() -> VacuumReport:
    return VacuumReport(
        table_name="cn_order_events",
        dry_run=True,
        retention_hours=168,
        enforce_retention_duration=True,
        full=False,
        deleted_count=2,
        deleted_files=("a.parquet", "b/c.parquet"),
        deleted_bytes=300,
        version=4,
        kept=(KeptPath("inner/", KEEP_NESTED_TABLE, 3),),
    )


def _inspection() -> TableInspection:
    return TableInspection(
        table_name="cn_order_events",
        partition_keys=("exchange", "trading_date"),
        target_file_size_bytes=1024,
        version=4,
        partitions=(PartitionStats(PARTITION, 3, 2, 3000, None),),
    )


ALL_REPORTS = [
    _result(),
    _compaction_report(),
    _vacuum_report(),
    _inspection(),
    PartitionStats(PARTITION, 1, 1, 10, 5),
    BackendInfo(name="delta-local", distribution="d", version="1", target="m:f"),
]


@pytest.mark.parametrize("report", ALL_REPORTS, ids=lambda report: type(report).__name__)
def test_reports_are_frozen(report: object) -> None:
    field = dataclasses.fields(report)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(report, field, "changed")


@pytest.mark.parametrize("report", ALL_REPORTS, ids=lambda report: type(report).__name__)
def test_to_dict_round_trips_through_json(report: object) -> None:
    data = report.to_dict()  # type: ignore[attr-defined]

    assert json.loads(json.dumps(data)) == data
    assert set(data) == {field.name for field in dataclasses.fields(report)}  # type: ignore[arg-type]


@pytest.mark.parametrize("report", ALL_REPORTS, ids=lambda report: type(report).__name__)
def test_equal_reports_compare_and_hash_equal(report: object) -> None:
    copy = dataclasses.replace(report)  # type: ignore[type-var]
    assert copy == report
    assert hash(copy) == hash(report)


def test_compaction_report_to_dict_uses_lists() -> None:
    data = _compaction_report().to_dict()

    assert data["partition_keys"] == ["exchange", "trading_date"]
    first, second = data["partitions"]
    assert first == {
        "partition": {"exchange": "sse", "trading_date": "2024-01-02"},
        "before_file_count": 12,
        "after_file_count": 1,
        "skipped_reason": None,
        "error": None,
        "status": "compacted",
        "small_file_count": 12,
        "bytes_before": 12_000,
        "bytes_after": 9_000,
        "rows_before": 100,
        "rows_after": 100,
        "files_removed": 12,
        "files_added": 1,
        "unsorted_files": None,
    }
    assert second["partition"] == {"exchange": "szse", "trading_date": "2024-01-02"}
    assert second["skipped_reason"] == "below_min_small_files"
    assert data["version_before"] == 3
    assert data["duration_seconds"] == 0.25


def test_result_to_dict_partition_is_an_ordered_object() -> None:
    data = _result().to_dict()
    assert type(data["partition"]) is dict
    assert list(data["partition"]) == ["exchange", "trading_date"]


def test_unpartitioned_result_to_dict() -> None:
    data = _result(partition=()).to_dict()
    assert data["partition"] == {}


def test_vacuum_report_to_dict() -> None:
    assert _vacuum_report().to_dict() == {
        "table_name": "cn_order_events",
        "dry_run": True,
        "retention_hours": 168,
        "enforce_retention_duration": True,
        "full": False,
        "deleted_count": 2,
        "deleted_files": ["a.parquet", "b/c.parquet"],
        "deleted_bytes": 300,
        "version": 4,
        "duration_seconds": 0.0,
        "kept": [{"path": "inner/", "reason": "nested_table", "file_count": 3}],
    }


def test_inspection_to_dict_nests_partition_stats() -> None:
    assert _inspection().to_dict()["partitions"] == [
        {
            "partition": {"exchange": "sse", "trading_date": "2024-01-02"},
            "file_count": 3,
            "small_file_count": 2,
            "total_bytes": 3000,
            "total_rows": None,
            "unsorted_files": None,
        }
    ]


def test_partition_compaction_result_needs_a_status() -> None:
    with pytest.raises(TypeError, match="status"):
        PartitionCompactionResult(partition=(), before_file_count=0, after_file_count=0)  # type: ignore[call-arg]


def test_partition_compaction_result_defaults() -> None:
    result = PartitionCompactionResult(
        partition=(), before_file_count=0, after_file_count=0, status="compacted"
    )
    assert result.skipped_reason is None
    assert result.error is None
    assert (result.files_removed, result.files_added) == (0, 0)


def test_skip_reasons_are_distinct_strings() -> None:
    reasons = {SKIP_BELOW_MIN_SMALL_FILES, SKIP_NO_FILES, SKIP_NOTHING_TO_COMPACT}
    assert reasons == {"below_min_small_files", "no_files", "nothing_to_compact"}


@pytest.mark.parametrize(
    ("partition", "expected"),
    [
        (PARTITION, "exchange=sse/trading_date=2024-01-02"),
        ((("bucket", "7"),), "bucket=7"),
        ((), "<unpartitioned>"),
    ],
)
def test_format_partition(partition: tuple[tuple[str, str], ...], expected: str) -> None:
    assert format_partition(partition) == expected


@pytest.mark.parametrize("report", ALL_REPORTS, ids=lambda report: type(report).__name__)
def test_reports_pickle(report: object) -> None:
    assert pickle.loads(pickle.dumps(report)) == report


def test_compaction_failed_error_keeps_its_report_through_pickle_and_copy() -> None:
    report = _compaction_report()
    error = CompactionFailedError("partition exchange=sse failed", report=report)

    for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert type(clone) is CompactionFailedError
        assert str(clone) == "partition exchange=sse failed"
        assert clone.report == report


def test_needing_compaction_lists_what_the_planner_would_compact() -> None:
    def stats(day: str, small: int) -> PartitionStats:
        return PartitionStats((("exchange", "sse"), ("day", day)), small + 1, small, 1, 1)

    inspection = dataclasses.replace(
        _inspection(),
        partition_keys=("exchange", "day"),
        partitions=(
            stats("2024-01-01", 8),
            stats("2024-01-02", 0),  # files below the target, but no two fit together
            stats("2024-01-03", 7),
            stats("null", 8),
        ),
    )
    assert inspection.needing_compaction() == (
        {"exchange": "sse", "day": "2024-01-01"},
        {"exchange": "sse", "day": None},
    )
    assert len(inspection.needing_compaction(min_small_files=7)) == 3
    assert len(inspection.needing_compaction(min_small_files=0)) == 3
    assert inspection.needing_compaction(min_small_files=10) == ()
    # The default is compact_partitions's.
    assert (
        inspect.signature(TableInspection.needing_compaction).parameters["min_small_files"].default
        == inspect.signature(Backend.compact_partitions).parameters["min_small_files"].default
    )


@pytest.mark.parametrize("bad", [-1, "8", True, 2.0])
def test_needing_compaction_refuses_a_bad_threshold(bad: object) -> None:
    with pytest.raises(InvalidOptionError, match="min_small_files"):
        _inspection().needing_compaction(min_small_files=bad)  # type: ignore[arg-type]
