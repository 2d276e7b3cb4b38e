"""Running a compaction plan against a Delta table, one partition per commit."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable

from pointline_storage import (
    CompactionFailedError,
    CompactionReport,
    PartitionCompactionResult,
    PartitionKey,
    PartitionStats,
)
from pointline_storage.models import SKIP_NOTHING_TO_COMPACT, PartitionStatus, format_partition
from pointline_storage_delta.planner import plan_compaction
from pointline_storage_delta.snapshot import DeltaSnapshot, scan_partitions

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
    the others still run. After-values are measured from the table once the work is done.

    Raises:
        CompactionFailedError: a partition failed and ``continue_on_error`` is false.
    """
    started = time.perf_counter()
    target = snapshot.target_file_size(target_file_size_bytes)
    plan = plan_compaction(
        partitions, scan_partitions(snapshot, target), min_small_files=min_small_files
    )
    results = {result.partition: result for result in plan.skipped}
    _notify(progress, plan.skipped)
    failure: Exception | None = None
    attempted = 0
    for stats in plan.to_compact:
        if dry_run:
            result = _outcome(stats, "would_compact")
        elif failure is not None:
            result = _outcome(stats, "not_attempted")
        else:
            attempted += 1
            result, error = _compact_one(snapshot, stats, target)
            if error is not None and not continue_on_error:
                failure = error
        results[stats.partition] = result
        _notify(progress, [result])
    if any(result.status == "compacted" for result in results.values()):
        results = _measured(snapshot, target, results)
    ordered = tuple(results[key] for key in sorted(results))
    statuses = [result.status for result in ordered]
    report = CompactionReport(
        table_name=table_name,
        partition_keys=snapshot.partition_columns,
        planned_partitions=len(plan.to_compact),
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
        duration_seconds=time.perf_counter() - started,
    )
    if failure is not None:
        failed = next(result for result in ordered if result.status == "failed")
        raise CompactionFailedError(
            f"compaction of table {table_name!r} failed at partition "
            f"{format_partition(failed.partition)}: {failed.error}",
            report=report,
        ) from failure
    return report


def _compact_one(
    snapshot: DeltaSnapshot, stats: PartitionStats, target: int
) -> tuple[PartitionCompactionResult, Exception | None]:
    filters = snapshot.partition_filters(stats.partition)
    try:
        metrics = snapshot.table.optimize.compact(
            partition_filters=filters or None, target_size=target
        )
    except Exception as exc:  # isolate the partition, whatever the engine raised
        # The engine refreshes its view only after a success; without this, every later
        # partition would plan from the stale view and fail the same way.
        with contextlib.suppress(Exception):
            snapshot.table.update_incremental()
        failed = _outcome(stats, "failed")
        return dataclasses.replace(failed, error=f"{type(exc).__name__}: {exc}"), exc
    removed, added = int(metrics["numFilesRemoved"]), int(metrics["numFilesAdded"])
    if removed == 0:  # the engine found no adjacent small files to merge
        skipped = _outcome(stats, "skipped", after_file_count=stats.file_count)
        return dataclasses.replace(skipped, skipped_reason=SKIP_NOTHING_TO_COMPACT), None
    compacted = _outcome(stats, "compacted")
    return dataclasses.replace(compacted, files_removed=removed, files_added=added), None


def _outcome(
    stats: PartitionStats, status: PartitionStatus, *, after_file_count: int | None = None
) -> PartitionCompactionResult:
    return PartitionCompactionResult(
        partition=stats.partition,
        before_file_count=stats.file_count,
        after_file_count=after_file_count,
        status=status,
        small_file_count=stats.small_file_count,
        bytes_before=stats.total_bytes,
        rows_before=stats.total_rows,
    )


def _measured(
    snapshot: DeltaSnapshot, target: int, results: dict[PartitionKey, PartitionCompactionResult]
) -> dict[PartitionKey, PartitionCompactionResult]:
    """Fill the after-values of compacted partitions from one scan of the final state.

    If that scan fails, the commits stand and the after-values stay unknown (``None``).
    """
    try:
        after = scan_partitions(snapshot, target).stats
    except Exception:
        return results
    measured = dict(results)
    for key, result in results.items():
        if result.status == "compacted":
            now = after.get(key)
            measured[key] = dataclasses.replace(
                result,
                after_file_count=now.file_count if now else 0,
                bytes_after=now.total_bytes if now else 0,
                rows_after=now.total_rows if now else 0,
            )
    return measured


def _notify(progress: Progress, results: Iterable[PartitionCompactionResult]) -> None:
    if progress is not None:
        for result in results:
            progress(result)
