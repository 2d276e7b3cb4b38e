"""Results and reports for partitions another compaction holds the lease of.

Such a partition is reported ``failed``, so a caller rerunning its failures retries it,
with an error naming who holds it and until when. It counts as planned and attempted,
like any partition whose compaction failed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from pointline_storage import (
    CompactionFailedError,
    CompactionReport,
    PartitionCompactionResult,
    PartitionKey,
)
from pointline_storage.models import format_partition
from pointline_storage_delta.leases import PartitionLeasedError
from pointline_storage_delta.planner import no_files, outcome, plan_compaction
from pointline_storage_delta.snapshot import DeltaSnapshot, PartitionScan

Progress = Callable[[PartitionCompactionResult], None] | None


def leased_out_results(
    scan: PartitionScan, refused: Mapping[PartitionKey, str]
) -> list[PartitionCompactionResult]:
    """A ``failed`` result for each partition in ``refused`` (partition -> its holder)."""
    results = []
    for partition, holder in sorted(refused.items()):
        stats = scan.stats.get(partition) or no_files(partition)
        error = PartitionLeasedError(
            f"another compaction holds partition {format_partition(partition)}: {holder}; "
            "rerun it once that compaction has finished (a killed one's lease lapses then)"
        )
        results.append(outcome(stats, "failed", error=f"{type(error).__name__}: {error}"))
    return results


def with_leased_out(
    report: CompactionReport, leased_out: list[PartitionCompactionResult]
) -> CompactionReport:
    """The engine's report of the partitions we held, plus the leased-out ones."""
    results = sorted((*report.partitions, *leased_out), key=lambda result: result.partition)
    return dataclasses.replace(
        report,
        planned_partitions=report.planned_partitions + len(leased_out),
        attempted_partitions=report.attempted_partitions + len(leased_out),
        failed_partitions=report.failed_partitions + len(leased_out),
        partitions=tuple(results),
    )


def report_without_engine(
    snapshot: DeltaSnapshot,
    scan: PartitionScan,
    *,
    table_name: str,
    held: tuple[PartitionKey, ...],
    leased_out: list[PartitionCompactionResult],
    target_file_size_bytes: int,
    min_small_files: int,
    progress: Progress,
    duration_seconds: float,
) -> CompactionReport:
    """The report of a call that compacts nothing because of leased-out partitions.

    The partitions we held are planned but not attempted; ``progress`` is called for them
    (the caller already reported the leased-out ones).
    """
    plan = plan_compaction(held, scan, min_small_files=min_small_files)
    not_attempted = [outcome(stats, "not_attempted") for stats in plan.to_compact]
    for result in (*plan.skipped, *not_attempted):
        if progress is not None:
            progress(result)
    results = sorted(
        (*plan.skipped, *not_attempted, *leased_out), key=lambda result: result.partition
    )
    return CompactionReport(
        table_name=table_name,
        partition_keys=snapshot.partition_columns,
        planned_partitions=len(plan.to_compact) + len(leased_out),
        attempted_partitions=len(leased_out),
        succeeded_partitions=0,
        skipped_partitions=len(plan.skipped),
        failed_partitions=len(leased_out),
        partitions=tuple(results),
        dry_run=False,
        target_file_size_bytes=target_file_size_bytes,
        min_small_files=min_small_files,
        version_before=snapshot.version,
        version_after=snapshot.version,
        duration_seconds=duration_seconds,
    )


def leased_out_failure(report: CompactionReport) -> CompactionFailedError:
    """The error of a call with ``continue_on_error=False`` that met a leased-out partition."""
    failed = next(result for result in report.partitions if result.status == "failed")
    return CompactionFailedError(
        f"compaction of table {report.table_name!r} failed at partition "
        f"{format_partition(failed.partition)}: {failed.error}",
        report=report,
    )
