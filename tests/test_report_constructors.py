"""The core's result vocabulary: results from statistics, reports from results, counters
that cannot disagree with the results, and the failure error."""

from __future__ import annotations

import dataclasses
import time

import pytest

from pointline_storage import (
    SKIP_BELOW_MIN_SMALL_FILES,
    SKIP_NOTHING_TO_COMPACT,
    CompactionFailedError,
    CompactionReport,
    PartitionCompactionResult,
    PartitionKey,
    PartitionStats,
    TableInspection,
    VacuumReport,
)
from pointline_storage.redaction import secrets_masked

COLUMNS = ("exchange",)


def part(name: str) -> PartitionKey:
    return (("exchange", name),)


def stats(name: str, files: int = 10) -> PartitionStats:
    return PartitionStats(part(name), files, files, files * 100, files * 20)


def report(*results: PartitionCompactionResult, **options: object) -> CompactionReport:
    arguments: dict[str, object] = {
        "table_name": "t",
        "partition_keys": COLUMNS,
        "dry_run": False,
        "target_file_size_bytes": 1000,
        "min_small_files": 2,
        "started": time.perf_counter(),
    }
    arguments.update(options)
    return CompactionReport.from_results(results, **arguments)  # type: ignore[arg-type]


def test_empty_statistics() -> None:
    assert PartitionStats.empty(part("a")) == PartitionStats(part("a"), 0, 0, 0, 0)


def test_a_skipped_result_keeps_its_before_values_as_after_values() -> None:
    result = PartitionCompactionResult.from_stats(
        stats("a", 3), "skipped", skipped_reason=SKIP_BELOW_MIN_SMALL_FILES
    )
    assert (result.before_file_count, result.after_file_count) == (3, 3)
    assert (result.bytes_before, result.bytes_after) == (300, 300)
    assert (result.rows_before, result.rows_after) == (60, 60)


def test_a_compacted_result_is_unknown_after_until_measured() -> None:
    result = PartitionCompactionResult.from_stats(
        stats("a"), "compacted", files_removed=10, files_added=1
    )
    assert (result.after_file_count, result.bytes_after, result.rows_after) == (None,) * 3
    measured = result.measured(PartitionStats(part("a"), 1, 0, 900, 200))
    assert (measured.after_file_count, measured.bytes_after, measured.rows_after) == (1, 900, 200)
    assert (measured.files_removed, measured.files_added) == (10, 1)


def test_an_exception_becomes_error_text_with_secrets_masked() -> None:
    with secrets_masked(["s3cr3t-value"]):
        result = PartitionCompactionResult.from_stats(
            stats("a"), "failed", error=OSError("PUT failed, key s3cr3t-value")
        )
    assert result.error == "OSError: PUT failed, key ***"
    outside = PartitionCompactionResult.from_stats(
        stats("a"), "failed", error=OSError("x s3cr3t-value")
    )
    assert outside.error == "OSError: x s3cr3t-value"


@pytest.mark.parametrize(
    ("status", "fields"),
    [
        ("skipped", {}),
        ("compacted", {"skipped_reason": SKIP_NOTHING_TO_COMPACT}),
        ("failed", {}),
        ("compacted", {"error": "boom"}),
    ],
)
def test_a_result_whose_reason_or_error_disagrees_with_its_status_raises(
    status: str, fields: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match="exactly when its status"):
        PartitionCompactionResult(
            partition=part("a"),
            before_file_count=1,
            after_file_count=None,
            status=status,  # type: ignore[arg-type]
            **fields,  # type: ignore[arg-type]
        )


def test_counters_are_derived_from_the_results() -> None:
    made = report(
        PartitionCompactionResult.from_stats(stats("e"), "failed", error="E: x"),
        PartitionCompactionResult.from_stats(stats("a"), "compacted", files_removed=10),
        PartitionCompactionResult.from_stats(
            stats("b"), "skipped", skipped_reason=SKIP_BELOW_MIN_SMALL_FILES
        ),
        PartitionCompactionResult.from_stats(
            stats("c"), "skipped", skipped_reason=SKIP_NOTHING_TO_COMPACT
        ),
        PartitionCompactionResult.from_stats(stats("d"), "not_attempted"),
        engine_skipped=[part("c")],
        version_before=3,
        version_after=4,
    )
    assert [r.partition for r in made.partitions] == [part(n) for n in "abcde"]
    assert made.succeeded_partitions == 1
    assert made.skipped_partitions == 2
    assert made.failed_partitions == 1
    assert made.attempted_partitions == 3  # compacted, failed, and the engine's no-op
    assert made.planned_partitions == 4  # those, plus the one not attempted
    assert (made.version_before, made.version_after) == (3, 4)


def test_the_duration_runs_from_the_start_of_the_call() -> None:
    made = report(started=time.perf_counter() - 5)
    assert made.duration_seconds >= 5


@pytest.mark.parametrize(
    "counter",
    [
        "planned_partitions",
        "attempted_partitions",
        "succeeded_partitions",
        "skipped_partitions",
        "failed_partitions",
    ],
)
def test_a_hand_built_report_with_a_wrong_counter_raises(counter: str) -> None:
    made = report(
        PartitionCompactionResult.from_stats(stats("a"), "compacted", files_removed=10),
        PartitionCompactionResult.from_stats(
            stats("b"), "skipped", skipped_reason=SKIP_BELOW_MIN_SMALL_FILES
        ),
    )
    fields = {f.name: getattr(made, f.name) for f in dataclasses.fields(made)}
    fields[counter] += 1
    with pytest.raises(ValueError, match="inconsistent compaction report"):
        CompactionReport(**fields)


def test_unsorted_duplicate_or_foreign_partitions_raise() -> None:
    a = PartitionCompactionResult.from_stats(stats("a"), "would_compact")
    b = PartitionCompactionResult.from_stats(stats("b"), "would_compact")
    good = report(a, b, dry_run=True)
    for partitions in [(b, a), (a, a)]:
        with pytest.raises(ValueError, match="sorted and each listed once"):
            dataclasses.replace(good, partitions=partitions, planned_partitions=2)
    with pytest.raises(ValueError, match="does not name the columns"):
        dataclasses.replace(good, partition_keys=("venue",))


def test_a_dry_run_attempts_nothing() -> None:
    compacted = PartitionCompactionResult.from_stats(stats("a"), "compacted", files_removed=2)
    with pytest.raises(ValueError, match="a dry run attempts nothing"):
        report(compacted, dry_run=True)


def test_the_failure_error_names_the_first_failed_partition() -> None:
    made = report(
        PartitionCompactionResult.from_stats(stats("a"), "failed", error="OSError: disk"),
        PartitionCompactionResult.from_stats(stats("b"), "not_attempted"),
    )
    error = made.failure()
    assert isinstance(error, CompactionFailedError)
    assert error.report is made
    assert str(error) == "compaction of table 't' failed at partition exchange=a: OSError: disk"
    with pytest.raises(ValueError, match="no partition"):
        report().failure()


def test_vacuum_and_inspection_reports_check_their_lists() -> None:
    with pytest.raises(ValueError, match="deleted_count"):
        VacuumReport("t", True, 168, True, False, deleted_count=1, deleted_files=())
    with pytest.raises(ValueError, match="each file once"):
        VacuumReport("t", True, 168, True, False, deleted_count=2, deleted_files=("b", "a"))
    with pytest.raises(ValueError, match="sorted and each listed once"):
        TableInspection("t", COLUMNS, 1000, 1, (stats("b"), stats("a")))


def test_a_vacuum_report_from_its_deleted_files() -> None:
    made = VacuumReport.from_deleted(
        {"p=b/x.parquet": 10, "p=a/y.parquet": 5},
        table_name="t",
        dry_run=True,
        retention_hours=168,
        enforce_retention_duration=True,
        full=False,
        started=time.perf_counter() - 1,
        version=7,
    )
    assert made.deleted_files == ("p=a/y.parquet", "p=b/x.parquet")
    assert (made.deleted_count, made.deleted_bytes, made.version) == (2, 15, 7)
    assert made.duration_seconds >= 1


@pytest.mark.parametrize(
    ("files", "small", "can_merge", "reason"),
    [
        (0, 0, False, "no_files"),
        (5, 1, True, SKIP_BELOW_MIN_SMALL_FILES),
        (5, 2, False, SKIP_NOTHING_TO_COMPACT),
        (5, 2, True, None),
    ],
)
def test_the_skip_reasons_of_the_planner(
    files: int, small: int, can_merge: bool, reason: str | None
) -> None:
    partition_stats = PartitionStats(part("a"), files, small, files * 10, files)
    assert partition_stats.skip_reason(min_small_files=2, can_merge=can_merge) == reason
