"""The compaction planner: one outcome for every named partition.

Each partition is either to be compacted (with the statistics it was planned on) or
settled at planning: skipped with a reason (one is a change since the plan being
executed), or failed because another compaction holds its lease. Planning reads only the
per-partition statistics of one snapshot scan, so a dry run costs a single scan and shows
the plan a real run starts from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pointline_storage import (
    SKIP_CHANGED_SINCE_PLAN,
    PartitionCompactionResult,
    PartitionKey,
    PartitionStats,
    format_partition,
)
from pointline_storage_delta.leases import PartitionLeasedError
from pointline_storage_delta.snapshot import PartitionScan


@dataclass(frozen=True)
class PartitionPlan:
    """What to do with each named partition.

    Attributes:
        to_compact: Statistics of the partitions to compact, sorted.
        settled: Results of the others: skipped, or failed (leased by another run).
        refusal: The error of the first partition that failed at planning, if any.
    """

    to_compact: tuple[PartitionStats, ...]
    settled: tuple[PartitionCompactionResult, ...]
    refusal: PartitionLeasedError | None = None


def plan_partitions(
    partitions: tuple[PartitionKey, ...],
    scan: PartitionScan,
    *,
    min_small_files: int,
    refused: Mapping[PartitionKey, str],
    planned_files: Mapping[PartitionKey, Sequence[str]] | None = None,
    sorting: bool = False,
) -> PartitionPlan:
    """Decide, for each named partition, whether it is worth compacting.

    A partition leased by another compaction (``refused``: partition -> its holder) fails.
    One without files is skipped as ``no_files``; one with fewer than ``min_small_files``
    small files as ``below_min_small_files``; one where no two small files fit together
    within the target as ``nothing_to_compact`` (the engine would rewrite nothing).
    Executing a plan (``planned_files``: partition -> the files it was planned on), one
    whose planned files are not all live any more is skipped as ``changed_since_plan``.

    When ``sorting``, the statistics carry ``unsorted_files`` and decide instead: a
    partition with fewer than ``min_small_files`` files out of the key's order is skipped
    as ``already_sorted``; any other is rewritten whole, however large its files.
    """
    to_compact = []
    settled = []
    refusal = None
    live = frozenset(scan.files["path"].to_pylist()) if planned_files is not None else None
    for partition in sorted(partitions):
        stats = scan.stats.get(partition) or PartitionStats.empty(partition)
        if partition in refused:
            error = PartitionLeasedError(
                f"another compaction holds partition {format_partition(partition)}: "
                f"{refused[partition]}; rerun it once that compaction has finished (if it "
                "was killed on another host, once its lease lapses; 'pointline-storage "
                "leases' lists the leases)"
            )
            refusal = refusal or error
            settled.append(PartitionCompactionResult.from_stats(stats, "failed", error=error))
        elif (reason := _changed(partition, planned_files, live)) or (
            reason := stats.skip_reason(
                min_small_files=min_small_files,
                # A small file is one that fits with another within the target.
                can_merge=stats.small_file_count > 0,
                sorting=sorting,
            )
        ):
            settled.append(
                PartitionCompactionResult.from_stats(stats, "skipped", skipped_reason=reason)
            )
        else:
            to_compact.append(stats)
    return PartitionPlan(to_compact=tuple(to_compact), settled=tuple(settled), refusal=refusal)


def _changed(
    partition: PartitionKey,
    planned_files: Mapping[PartitionKey, Sequence[str]] | None,
    live: frozenset[str] | None,
) -> str | None:
    if planned_files is None or live is None:
        return None
    if not live.issuperset(planned_files.get(partition, ())):
        return SKIP_CHANGED_SINCE_PLAN
    return None
