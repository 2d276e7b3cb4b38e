"""Compaction for formats without a transaction log: merge small files, partition by partition.

Such a backend lists its table and rewrites files itself; there is no commit to batch. What
is left is the same for every such format, and lives here: each partition's small files
packed, in listing order, into groups within the target size (one new file a group), every
partition given exactly one status, and the after-values measured from a new listing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, TypeVar

from pointline_storage.models import CompactionReport, PartitionCompactionResult, PartitionStats
from pointline_storage.partitions import PartitionKey, ValueKind
from pointline_storage.redaction import error_text

F = TypeVar("F")


class FileListing(Protocol[F]):
    """One listing of a table's data files, as :func:`compact_by_merging` reads it.

    ``F`` is how the backend names a data file (a path, a record of path and size, ...).
    Besides the methods below, it names the table as the report does: ``table_name``,
    ``partition_columns`` and ``partition_kinds`` (empty if the format does not say).
    :class:`HiveListing` is one, for ``col=value`` directories.
    """

    @property
    def table_name(self) -> str:
        """The table as the caller named it."""
        ...

    @property
    def partition_columns(self) -> tuple[str, ...]:
        """The table's partition columns, in order."""
        ...

    @property
    def partition_kinds(self) -> tuple[ValueKind, ...]:
        """Each partition column's kind, in order (empty if the format does not say)."""
        ...

    def sizes(self, partition: PartitionKey) -> Mapping[F, int]:
        """The partition's data files with their sizes in bytes, in the order to merge them
        (empty if the partition has no files)."""
        ...

    def stats(self, partition: PartitionKey, target_file_size_bytes: int) -> PartitionStats:
        """The partition's statistics in this listing."""
        ...

    def relist(self) -> FileListing[F]:
        """The table listed anew: once all work is done, the compacted partitions'
        after-values are measured from it, other writers' files included. If it raises,
        the merged files stand and those after-values stay unknown (``None``)."""
        ...


def compact_by_merging(
    listing: FileListing[F],
    partitions: Iterable[PartitionKey],
    *,
    merge: Callable[[PartitionKey, list[F]], object],
    target_file_size_bytes: int,
    min_small_files: int,
    dry_run: bool,
    continue_on_error: bool,
    progress: Callable[[PartitionCompactionResult], None] | None,
    started: float,
) -> CompactionReport:
    """Compact each partition by merging its small files, and report every partition.

    Args:
        listing: The listing ``partitions`` were checked against (``normalize_partitions``);
            the report's table name, partition columns and kinds are its own.
        partitions: The partitions to compact, each once, in the order to work on them.
        merge: Merges a group of a partition's files (two or more, from ``listing``) into
            one new file, then deletes the group.
        started: ``time.perf_counter()`` when the call began.
        progress: Called with each partition's result as soon as it is known, in order.

    The other arguments are the ``compact_partitions`` hook's options. A partition is
    ``skipped`` by ``PartitionStats.skip_reason``, ``would_compact`` in a dry run,
    ``compacted`` or ``failed`` (the error of the merge that raised), and
    ``not_attempted`` once one failed unless ``continue_on_error``.

    Raises:
        CompactionFailedError: a partition failed and ``continue_on_error`` is false; its
            ``report`` holds every partition, and it is raised from the merge's exception.
    """
    results = []
    failure: Exception | None = None
    for partition in partitions:
        stats = listing.stats(partition, target_file_size_bytes)
        groups = _merge_groups(listing.sizes(partition), target_file_size_bytes)
        reason = stats.skip_reason(min_small_files=min_small_files, can_merge=bool(groups))
        if reason is not None:
            result = PartitionCompactionResult.from_stats(stats, "skipped", skipped_reason=reason)
        elif dry_run:
            result = PartitionCompactionResult.from_stats(stats, "would_compact")
        elif failure is not None:
            result = PartitionCompactionResult.from_stats(stats, "not_attempted")
        else:
            result, error = _merge_all(merge, stats, groups)
            if error is not None and not continue_on_error:
                failure = error
        results.append(result)
        if progress is not None:
            progress(result)
    report = CompactionReport.from_results(
        _measured(results, listing, target_file_size_bytes),
        table_name=listing.table_name,
        partition_keys=listing.partition_columns,
        dry_run=dry_run,
        target_file_size_bytes=target_file_size_bytes,
        min_small_files=min_small_files,
        started=started,
        partition_kinds=listing.partition_kinds,
    )
    if failure is not None:
        raise report.failure() from failure
    return report


def _merge_groups(sizes: Mapping[F, int], target_file_size_bytes: int) -> list[list[F]]:
    # The files below the target, in order, each group filled while it stays within the
    # target; a group of one would be a rewrite that merges nothing.
    groups: list[list[F]] = [[]]
    size = 0
    for data_file, file_size in sizes.items():
        if file_size >= target_file_size_bytes:
            continue
        if groups[-1] and size + file_size > target_file_size_bytes:
            groups.append([])
            size = 0
        groups[-1].append(data_file)
        size += file_size
    return [group for group in groups if len(group) > 1]


def _merge_all(
    merge: Callable[[PartitionKey, list[F]], object],
    stats: PartitionStats,
    groups: list[list[F]],
) -> tuple[PartitionCompactionResult, Exception | None]:
    removed = added = 0
    try:
        for group in groups:
            merge(stats.partition, group)
            removed, added = removed + len(group), added + 1
    except Exception as exc:  # the partition fails alone, whatever the storage raised
        error = error_text(exc)
        if removed:  # those merges stand: the partition's files are not as they were
            error += f" (after merging {removed} of its files into {added})"
        return PartitionCompactionResult.from_stats(stats, "failed", error=error), exc
    result = PartitionCompactionResult.from_stats(
        stats, "compacted", files_removed=removed, files_added=added
    )
    return result, None


def _measured(
    results: list[PartitionCompactionResult],
    listing: FileListing[F],
    target_file_size_bytes: int,
) -> list[PartitionCompactionResult]:
    if not any(result.status == "compacted" for result in results):
        return results
    try:
        now = listing.relist()
    except Exception:  # the merges are done: a report without after-values beats none
        return results
    return [
        result.measured(now.stats(result.partition, target_file_size_bytes))
        if result.status == "compacted"
        else result
        for result in results
    ]
