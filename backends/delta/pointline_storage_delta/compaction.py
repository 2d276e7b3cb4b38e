"""The one compaction pipeline of the Delta backends: plan every named partition from one
snapshot scan, compact the planned ones in batches (one commit per batch, a failed batch
redone one partition per commit), and report every partition once.

Sorted compaction (``sort_by``) is the same pipeline: the plan also reads each partition's
layout (:mod:`~pointline_storage_delta.layout`) and the engine call is ``optimize.z_order``
for one key, :mod:`~pointline_storage_delta.sorted_rewrite` for several.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pointline_storage import (
    SKIP_NOTHING_TO_COMPACT,
    CompactionReport,
    PartitionCompactionResult,
    PartitionKey,
    PartitionStats,
    PartitionStatus,
    StopRequest,
)
from pointline_storage_delta.batches import Batch, Filter, make_batches
from pointline_storage_delta.engine_options import EngineOptions
from pointline_storage_delta.layout import with_layout
from pointline_storage_delta.planner import plan_partitions
from pointline_storage_delta.snapshot import (
    DeltaSnapshot,
    PartitionScan,
    file_changes,
    scan_partitions,
)
from pointline_storage_delta.sorted_rewrite import SortedRewriter

Progress = Callable[[PartitionCompactionResult], None] | None
Record = Callable[[PartitionCompactionResult], None]


@dataclass(frozen=True)
class CompactionOptions:
    """The caller's options of one compaction, validated by the core's facade."""

    target_file_size_bytes: int | None
    min_small_files: int
    dry_run: bool
    continue_on_error: bool
    partitions_per_commit: int
    engine: EngineOptions
    sort_by: tuple[str, ...] | None = None
    #: Rewrites partitions sorted by several keys (required when ``sort_by`` has several).
    rewriter: SortedRewriter | None = None


def compact_partitions(
    snapshot: DeltaSnapshot,
    *,
    table_name: str,
    partitions: tuple[PartitionKey, ...],
    options: CompactionOptions,
    refused: Mapping[PartitionKey, str],
    progress: Progress,
    started: float,
    stop: StopRequest | None = None,
    planned_files: Mapping[PartitionKey, Sequence[str]] | None = None,
    settled: Sequence[PartitionCompactionResult] = (),
) -> CompactionReport:
    """Plan from one scan of ``snapshot``, then compact up to ``partitions_per_commit``
    planned partitions per commit.

    Executing a plan, ``planned_files`` maps each of ``partitions`` to the files it was
    planned on (see :func:`~pointline_storage_delta.planner.plan_partitions`), and
    ``settled`` holds the plan's skipped results, reported as they are.

    ``refused`` names the partitions another compaction holds (partition -> holder): they
    are reported ``failed``. Partitions are isolated: a failing one is recorded and, with
    ``continue_on_error``, the others still run; without it, every partition not yet
    compacted is reported ``not_attempted``. After-values are measured from the table once
    the work is done. ``started`` is when the whole call began. Once ``stop`` is
    requested, the engine call in flight finishes and the partitions after it are
    reported ``not_attempted``, as after a failure with ``continue_on_error=False``.

    Raises:
        CompactionInterruptedError: ``stop`` was requested during the call.
        CompactionFailedError: a partition failed and ``continue_on_error`` is false.
    """
    stop = stop or StopRequest()
    target = snapshot.target_file_size(options.target_file_size_bytes)
    scan = scan_partitions(snapshot, target)
    sorting = options.sort_by is not None
    if options.sort_by is not None:
        laid_out = with_layout(snapshot, scan.stats, options.sort_by, table_name=table_name)
        scan = dataclasses.replace(scan, stats=laid_out)
    plan = plan_partitions(
        partitions,
        scan,
        min_small_files=options.min_small_files,
        refused=refused,
        planned_files=planned_files,
        sorting=sorting,
    )
    results: dict[PartitionKey, PartitionCompactionResult] = {}

    def record(result: PartitionCompactionResult) -> None:
        results[result.partition] = result
        if progress is not None:
            progress(result)

    for result in (*settled, *plan.settled):
        record(result)
    failure: Exception | None = None if options.continue_on_error else plan.refusal
    runner = _Runner(snapshot, scan, target, options, record, stop)
    planned = {stats.partition: stats for stats in plan.to_compact}
    batches = make_batches(
        list(planned),
        snapshot.partition_columns,
        options.partitions_per_commit,
        filters_of=snapshot.partition_filters,
    )
    for batch in batches:
        batch_stats = [planned[key] for key in batch.partitions]
        if options.dry_run or failure is not None or stop.requested:
            status: PartitionStatus = "would_compact" if options.dry_run else "not_attempted"
            for stats in batch_stats:
                record(PartitionCompactionResult.from_stats(stats, status))
        else:
            failure = runner.run(batch, batch_stats, stop_at_failure=not options.continue_on_error)
    if any(result.status == "compacted" for result in results.values()):
        results = _measured(runner.current_scan(), results)
    report = CompactionReport.from_results(
        results.values(),
        table_name=table_name,
        partition_keys=snapshot.partition_columns,
        dry_run=options.dry_run,
        target_file_size_bytes=target,
        min_small_files=options.min_small_files,
        started=started,
        engine_skipped=runner.engine_skipped,
        version_before=snapshot.version,
        version_after=snapshot.table.version(),
        partition_kinds=snapshot.partition_kinds,
        sort_by=options.sort_by,
    )
    if stop.requested and not options.dry_run:
        raise stop.error(report) from failure
    if failure is not None:
        raise report.failure() from failure
    return report


class _Runner:
    """Runs batches against the table, recording each partition's result as it is known."""

    def __init__(
        self,
        snapshot: DeltaSnapshot,
        plan_scan: PartitionScan,
        target: int,
        options: CompactionOptions,
        record: Record,
        stop: StopRequest,
    ) -> None:
        self.snapshot = snapshot
        self.options = options
        self.plan_scan = plan_scan
        self.target = target
        self.arguments: dict[str, Any] = options.engine.compact_arguments()
        self.record = record
        self.stop = stop
        #: Planned partitions the engine ran on and rewrote nothing in.
        self.engine_skipped: set[PartitionKey] = set()
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
            error = self._one(stats[0], batch.filters)  # batch.partitions is that one
            return error if stop_at_failure else None
        try:
            self._compact(batch.partitions, batch.filters)
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
            self._record_rewrite(partition_stats, removed, added)
        return None

    def _one_by_one(
        self, stats: Sequence[PartitionStats], *, stop_at_failure: bool
    ) -> Exception | None:
        failure: Exception | None = None
        for partition_stats in stats:
            if failure is not None or self.stop.requested:
                self.record(PartitionCompactionResult.from_stats(partition_stats, "not_attempted"))
                continue
            filters = tuple(self.snapshot.partition_filters(partition_stats.partition))
            error = self._one(partition_stats, filters)
            if error is not None and stop_at_failure:
                failure = error
        return failure

    def _one(self, stats: PartitionStats, filters: tuple[Filter, ...]) -> Exception | None:
        try:
            metrics = self._compact((stats.partition,), filters)
        except Exception as exc:  # isolate the partition, whatever the engine raised
            self._refresh()
            self.record(PartitionCompactionResult.from_stats(stats, "failed", error=exc))
            return exc
        # One partition: the engine's totals are this partition's numbers.
        self._record_rewrite(stats, int(metrics["numFilesRemoved"]), int(metrics["numFilesAdded"]))
        return None

    def _record_rewrite(self, stats: PartitionStats, removed: int, added: int) -> None:
        if removed == 0:  # the engine found no adjacent small files to merge
            self.engine_skipped.add(stats.partition)
            self.record(
                PartitionCompactionResult.from_stats(
                    stats, "skipped", skipped_reason=SKIP_NOTHING_TO_COMPACT
                )
            )
        else:
            self.record(
                PartitionCompactionResult.from_stats(
                    stats, "compacted", files_removed=removed, files_added=added
                )
            )

    def _compact(
        self, partitions: tuple[PartitionKey, ...], filters: tuple[Filter, ...]
    ) -> dict[str, Any]:
        self._latest = None
        optimize = self.snapshot.table.optimize
        sort_by = self.options.sort_by
        if sort_by is not None and len(sort_by) > 1:
            if self.options.rewriter is None:
                raise AssertionError("sort_by names several keys but no rewriter was given")
            return self.options.rewriter.rewrite(
                self.snapshot,
                partitions,
                sort_by=sort_by,
                target=self.target,
                writer_properties=self.options.engine.writer_properties(),
            )
        if sort_by is not None:
            # The engine's Z-order of a single column is that column's order.
            return optimize.z_order(
                list(sort_by),
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


def _measured(
    after_scan: PartitionScan | None, results: dict[PartitionKey, PartitionCompactionResult]
) -> dict[PartitionKey, PartitionCompactionResult]:
    """Fill the after-values of compacted partitions from a scan of the final state.

    Without that scan (it failed), the commits stand and the after-values stay ``None``.
    """
    if after_scan is None:
        return results
    return {
        key: result.measured(after_scan.stats.get(key) or PartitionStats.empty(key))
        if result.status == "compacted"
        else result
        for key, result in results.items()
    }
