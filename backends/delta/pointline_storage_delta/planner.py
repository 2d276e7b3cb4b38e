"""The compaction planner: which named partitions to compact, and why the others are skipped.

Planning reads only the per-partition statistics of one snapshot scan, so a dry run costs a
single scan and shows the plan a real run starts from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pointline_storage import PartitionCompactionResult, PartitionKey, PartitionStats
from pointline_storage.models import (
    SKIP_ALREADY_SORTED,
    SKIP_BELOW_MIN_SMALL_FILES,
    SKIP_NO_FILES,
    SKIP_NOTHING_TO_COMPACT,
    PartitionStatus,
)
from pointline_storage_delta.snapshot import PartitionScan


@dataclass(frozen=True)
class CompactionPlan:
    """Partitions to compact (with their statistics) and results for those skipped."""

    to_compact: tuple[PartitionStats, ...]
    skipped: tuple[PartitionCompactionResult, ...]


def plan_compaction(
    partitions: tuple[PartitionKey, ...],
    scan: PartitionScan,
    *,
    min_small_files: int,
    sorting: bool = False,
) -> CompactionPlan:
    """Decide, for each named partition, whether it is worth compacting.

    A partition is compacted when it has at least ``min_small_files`` small files and
    two of them fit together within the target size; otherwise the engine would rewrite
    nothing, so it is skipped as ``nothing_to_compact``. When ``sorting``, the statistics
    carry ``unsorted_files`` instead, and a partition is sorted (rewritten whole) when at
    least ``min_small_files`` of its files are out of order, else skipped as
    ``already_sorted``.
    """
    to_compact = []
    skipped = []
    for partition in partitions:
        current = scan.stats.get(partition)
        if current is None:
            skipped.append(_skip(no_files(partition), SKIP_NO_FILES))
        elif sorting:
            if (current.unsorted_files or 0) < min_small_files:
                skipped.append(_skip(current, SKIP_ALREADY_SORTED))
            else:
                to_compact.append(current)
        elif current.small_file_count < min_small_files:
            skipped.append(_skip(current, SKIP_BELOW_MIN_SMALL_FILES))
        elif partition not in scan.mergeable:
            skipped.append(_skip(current, SKIP_NOTHING_TO_COMPACT))
        else:
            to_compact.append(current)
    return CompactionPlan(to_compact=tuple(to_compact), skipped=tuple(skipped))


def no_files(partition: PartitionKey) -> PartitionStats:
    """The statistics of a partition that holds no file."""
    return PartitionStats(partition, 0, 0, 0, 0)


def outcome(
    stats: PartitionStats,
    status: PartitionStatus,
    *,
    after_file_count: int | None = None,
    **after: Any,
) -> PartitionCompactionResult:
    """A partition's result: its before-values from ``stats``, the rest as given."""
    return PartitionCompactionResult(
        partition=stats.partition,
        before_file_count=stats.file_count,
        after_file_count=after_file_count,
        status=status,
        small_file_count=stats.small_file_count,
        bytes_before=stats.total_bytes,
        rows_before=stats.total_rows,
        unsorted_files=stats.unsorted_files,
        **after,
    )


def _skip(stats: PartitionStats, reason: str) -> PartitionCompactionResult:
    return outcome(
        stats,
        "skipped",
        after_file_count=stats.file_count,
        skipped_reason=reason,
        bytes_after=stats.total_bytes,
        rows_after=stats.total_rows,
    )
