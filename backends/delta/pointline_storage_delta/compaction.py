"""Running a compaction plan against a Delta table: batches of partitions per commit, and
one commit per partition when a batch fails."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pointline_storage import (
    CompactionFailedError,
    CompactionReport,
    PartitionCompactionResult,
    PartitionKey,
    PartitionStats,
)
from pointline_storage.models import SKIP_NOTHING_TO_COMPACT, PartitionStatus, format_partition
from pointline_storage_delta.batches import Batch, Filter, make_batches
from pointline_storage_delta.engine_options import EngineOptions
from pointline_storage_delta.layout import with_layout
from pointline_storage_delta.planner import outcome, plan_compaction
from pointline_storage_delta.snapshot import (
    DeltaSnapshot,
    PartitionScan,
    file_changes,
    scan_partitions,
)

Progress = Callable[[PartitionCompactionResult], None] | None
Record = Callable[[PartitionCompactionResult], None]


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
    partitions_per_commit: int,
    engine: EngineOptions,
    sort_by: tuple[str, ...] | None = None,
) -> CompactionReport:
    """Plan from one snapshot scan, then compact up to ``partitions_per_commit`` planned
    partitions per commit.

    Partitions are isolated: a batch that fails is redone one partition per commit, a
    failing partition is recorded and, with ``continue_on_error``, the others still run.
    After-values are measured from the table once the work is done. With ``sort_by``,
    partitions are planned by their layout and rewritten by ``optimize.z_order``.

    Raises:
        CompactionFailedError: a partition failed and ``continue_on_error`` is false.
    """
    started = time.perf_counter()
    target = snapshot.target_file_size(target_file_size_bytes)
    scan = scan_partitions(snapshot, target)
    if sort_by is not None:
        laid_out = with_layout(snapshot, scan.stats, sort_by, table_name=table_name)
        scan = dataclasses.replace(scan, stats=laid_out)
    plan = plan_compaction(
        partitions, scan, min_small_files=min_small_files, sorting=sort_by is not None
    )
    results = {result.partition: result for result in plan.skipped}
    _notify(progress, plan.skipped)

    def record(result: PartitionCompactionResult) -> None:
        results[result.partition] = result
        _notify(progress, [result])

    planned = {stats.partition: stats for stats in plan.to_compact}
    runner = _Runner(snapshot, scan, target, engine, record, sort_by)
    failure: Exception | None = None
    batches = make_batches(
        list(planned),
        snapshot.partition_columns,
        partitions_per_commit,
        filters_of=snapshot.partition_filters,
    )
    for batch in batches:
        batch_stats = [planned[key] for key in batch.partitions]
        if dry_run or failure is not None:
            status: PartitionStatus = "would_compact" if dry_run else "not_attempted"
            for stats in batch_stats:
                record(outcome(stats, status))
        else:
            failure = runner.run(batch, batch_stats, stop_at_failure=not continue_on_error)
    if any(result.status == "compacted" for result in results.values()):
        results = _measured(runner.current_scan(), results)
    ordered = tuple(results[key] for key in sorted(results))
    statuses = [result.status for result in ordered]
    report = CompactionReport(
        table_name=table_name,
        partition_keys=snapshot.partition_columns,
        planned_partitions=len(plan.to_compact),
        attempted_partitions=len(runner.attempted),
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
        sort_by=sort_by,
    )
    if failure is not None:
        failed = next(result for result in ordered if result.status == "failed")
        raise CompactionFailedError(
            f"compaction of table {table_name!r} failed at partition "
            f"{format_partition(failed.partition)}: {failed.error}",
            report=report,
        ) from failure
    return report


class _Runner:
    """Runs batches against the table, recording each partition's result as it is known."""

    def __init__(
        self,
        snapshot: DeltaSnapshot,
        plan_scan: PartitionScan,
        target: int,
        engine: EngineOptions,
        record: Record,
        sort_by: tuple[str, ...] | None,
    ) -> None:
        self.snapshot = snapshot
        self.sort_by = sort_by
        self.plan_scan = plan_scan
        self.target = target
        self.arguments: dict[str, Any] = engine.compact_arguments()
        self.record = record
        self.attempted: set[PartitionKey] = set()
        # A scan of the table as it is now, when one is known; saves the final scan.
        self._latest: PartitionScan | None = plan_scan

    def current_scan(self) -> PartitionScan | None:
        """A scan of the table's current state (``None`` if that scan fails)."""
        if self._latest is None:
            with contextlib.suppress(Exception):
                self._latest = scan_partitions(self.snapshot, self.target)
        return self._latest

    def run(
        self, batch: Batch, stats: Sequence[PartitionStats], *, stop_at_failure: bool
    ) -> Exception | None:
        """Compact one batch in one commit; if that fails, each partition in its own.

        Returns the first partition failure, which with ``stop_at_failure`` ends the batch
        (its remaining partitions are recorded ``not_attempted``).
        """
        if len(stats) == 1:
            error = self._one(stats[0], batch.filters)
            return error if stop_at_failure else None
        self.attempted.update(batch.partitions)
        try:
            self._compact(batch.filters)
        except Exception:
            # Whatever failed (a conflict, one unreadable file), the other partitions of
            # the batch deserve their compaction: redo them one commit each.
            self._refresh()
            return self._one_by_one(stats, stop_at_failure=stop_at_failure)
        # The engine reports only totals: measure each partition's change from the table.
        after = scan_partitions(self.snapshot, self.target)
        self._latest = after
        changes = file_changes(self.plan_scan, after, self.snapshot.partition_columns)
        for partition_stats in stats:
            removed, added = changes.get(partition_stats.partition, (0, 0))
            self.record(_result(partition_stats, removed, added))
        return None

    def _one_by_one(
        self, stats: Sequence[PartitionStats], *, stop_at_failure: bool
    ) -> Exception | None:
        failure: Exception | None = None
        for partition_stats in stats:
            if failure is not None:
                self.record(outcome(partition_stats, "not_attempted"))
                continue
            filters = tuple(self.snapshot.partition_filters(partition_stats.partition))
            error = self._one(partition_stats, filters)
            if error is not None and stop_at_failure:
                failure = error
        return failure

    def _one(self, stats: PartitionStats, filters: tuple[Filter, ...]) -> Exception | None:
        self.attempted.add(stats.partition)
        try:
            metrics = self._compact(filters)
        except Exception as exc:  # isolate the partition, whatever the engine raised
            self._refresh()
            self.record(outcome(stats, "failed", error=f"{type(exc).__name__}: {exc}"))
            return exc
        # One partition: the engine's totals are this partition's numbers.
        self.record(_result(stats, int(metrics["numFilesRemoved"]), int(metrics["numFilesAdded"])))
        return None

    def _compact(self, filters: tuple[Filter, ...]) -> dict[str, Any]:
        self._latest = None
        optimize = self.snapshot.table.optimize
        if self.sort_by is not None:
            # One key: the engine's Z-order of a single column is that column's order.
            return optimize.z_order(
                list(self.sort_by),
                partition_filters=list(filters) or None,
                target_size=self.target,
                **self.arguments,
            )
        return optimize.compact(
            partition_filters=list(filters) or None, target_size=self.target, **self.arguments
        )

    def _refresh(self) -> None:
        # The engine refreshes its view only after a success; without this, every later
        # partition would plan from the stale view and fail the same way.
        with contextlib.suppress(Exception):
            self.snapshot.table.update_incremental()


def _result(stats: PartitionStats, removed: int, added: int) -> PartitionCompactionResult:
    if removed == 0:  # the engine found no adjacent small files to merge
        return outcome(
            stats,
            "skipped",
            after_file_count=stats.file_count,
            skipped_reason=SKIP_NOTHING_TO_COMPACT,
        )
    return outcome(stats, "compacted", files_removed=removed, files_added=added)


def _measured(
    after_scan: PartitionScan | None, results: dict[PartitionKey, PartitionCompactionResult]
) -> dict[PartitionKey, PartitionCompactionResult]:
    """Fill the after-values of compacted partitions from a scan of the final state.

    Without that scan (it failed), the commits stand and the after-values stay ``None``.
    """
    if after_scan is None:
        return results
    after = after_scan.stats
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
