"""Running a compaction plan against a Delta table, one partition per commit."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

from pointline_storage import (
    CompactionFailedError,
    CompactionReport,
    PartitionCompactionResult,
    PartitionKey,
    PartitionStats,
)
from pointline_storage.models import SKIP_NOTHING_TO_COMPACT, format_partition
from pointline_storage_delta.planner import plan_compaction
from pointline_storage_delta.snapshot import DeltaSnapshot, partition_stats

Progress = Callable[[PartitionCompactionResult], None] | None


def compact_partitions(
    snapshot: DeltaSnapshot,
    *,
    table_name: str,
    partitions: tuple[PartitionKey, ...],
    target_file_size_bytes: int | None,
    min_small_files: int,
    dry_run: bool,
    continue_on_error: bool,
    progress: Progress,
) -> CompactionReport:
    """Plan from one snapshot scan, then compact each planned partition in its own commit.

    Partitions are isolated: a failing partition is recorded and, with ``continue_on_error``,
    the others still run. The report's after-counts are measured from the table state after
    the call, not taken from the engine's metrics.

    Raises:
        CompactionFailedError: a partition failed and ``continue_on_error`` is false.
    """
    started = time.perf_counter()
    target = snapshot.target_file_size(target_file_size_bytes)
    plan = plan_compaction(
        partitions, partition_stats(snapshot, target), min_small_files=min_small_files
    )
    results = {result.partition: result for result in plan.skipped}
    _notify(progress, plan.skipped)
    failure: BaseException | None = None
    attempted = 0
    for stats in plan.to_compact:
        if dry_run:
            result = _outcome(stats, status="would_compact", after_file_count=None)
        elif failure is not None:
            result = _outcome(stats, status="not_attempted", after_file_count=None)
        else:
            attempted += 1
            result, error = _compact_one(snapshot, stats, target)
            if error is not None and not continue_on_error:
                failure = error
        results[stats.partition] = result
        _notify(progress, [result])
    compacted = [r.partition for r in results.values() if r.status == "compacted"]
    if compacted:
        results.update(_measured(snapshot, target, [results[p] for p in compacted]))
    report = _report(
        snapshot,
        table_name=table_name,
        results=results,
        planned=len(plan.to_compact),
        attempted=attempted,
        dry_run=dry_run,
        target=target,
        min_small_files=min_small_files,
        duration=time.perf_counter() - started,
    )
    if failure is not None:
        failed = next(r for r in report.partitions if r.status == "failed")
        raise CompactionFailedError(
            f"compaction of table {table_name!r} failed at partition "
            f"{format_partition(failed.partition)}: {failed.error}",
            report=report,
        ) from failure
    return report


def _compact_one(
    snapshot: DeltaSnapshot, stats: PartitionStats, target: int
) -> tuple[PartitionCompactionResult, BaseException | None]:
    filters = [(column, "=", value) for column, value in stats.partition]
    try:
        metrics = snapshot.table.optimize.compact(
            partition_filters=filters or None, target_size=target
        )
    except Exception as exc:  # isolate the partition, whatever the engine raised
        failed = _outcome(stats, status="failed", after_file_count=None)
        return dataclasses.replace(failed, error=f"{type(exc).__name__}: {exc}"), exc
    removed, added = int(metrics["numFilesRemoved"]), int(metrics["numFilesAdded"])
    if removed == 0:
        skipped = _outcome(stats, status="skipped", after_file_count=stats.file_count)
        return dataclasses.replace(skipped, skipped_reason=SKIP_NOTHING_TO_COMPACT), None
    result = _outcome(
        stats, status="compacted", after_file_count=stats.file_count - removed + added
    )
    return dataclasses.replace(
        result,
        files_removed=removed,
        files_added=added,
        bytes_after=stats.total_bytes
        - _total_size(metrics["filesRemoved"])
        + _total_size(metrics["filesAdded"]),
    ), None


def _total_size(summary: Any) -> int:
    parsed = json.loads(summary) if isinstance(summary, str) else summary
    return int(parsed.get("totalSize", 0))


def _outcome(
    stats: PartitionStats, *, status: str, after_file_count: int | None
) -> PartitionCompactionResult:
    return PartitionCompactionResult(
        partition=stats.partition,
        before_file_count=stats.file_count,
        after_file_count=after_file_count,
        status=status,  # type: ignore[arg-type]
        small_file_count=stats.small_file_count,
        bytes_before=stats.total_bytes,
        rows_before=stats.total_rows,
    )


def _measured(
    snapshot: DeltaSnapshot, target: int, compacted: list[PartitionCompactionResult]
) -> dict[PartitionKey, PartitionCompactionResult]:
    """Replace engine-reported after-values with the table's state after the call."""
    after = partition_stats(snapshot, target)
    measured = {}
    for result in compacted:
        now = after.get(result.partition)
        measured[result.partition] = dataclasses.replace(
            result,
            after_file_count=now.file_count if now else 0,
            bytes_after=now.total_bytes if now else 0,
            rows_after=now.total_rows if now else 0,
        )
    return measured


def _notify(progress: Progress, results: Any) -> None:
    if progress is not None:
        for result in results:
            progress(result)


def _report(
    snapshot: DeltaSnapshot,
    *,
    table_name: str,
    results: dict[PartitionKey, PartitionCompactionResult],
    planned: int,
    attempted: int,
    dry_run: bool,
    target: int,
    min_small_files: int,
    duration: float,
) -> CompactionReport:
    ordered = tuple(results[key] for key in sorted(results))
    statuses = [result.status for result in ordered]
    return CompactionReport(
        table_name=table_name,
        partition_keys=snapshot.partition_columns,
        planned_partitions=planned,
        attempted_partitions=attempted,
        succeeded_partitions=statuses.count("compacted"),
        skipped_partitions=statuses.count("skipped"),
        failed_partitions=statuses.count("failed"),
        partitions=ordered,
        dry_run=dry_run,
        target_file_size_bytes=target,
        min_small_files=min_small_files,
        version_before=snapshot.version,
        version_after=snapshot.table.version(),
        duration_seconds=duration,
    )
