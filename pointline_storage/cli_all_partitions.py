"""``compact --all-partitions``: compact every partition that needs it, and only those.

The partitions are those :meth:`~pointline_storage.TableInspection.needing_compaction`
lists, from one inspection made just before the compaction.
"""

from __future__ import annotations

import click

from pointline_storage.models import CompactionReport, TableInspection
from pointline_storage.partitions import PartitionSpec


def check_all_partitions(
    ctx: click.Context, *, partitions: tuple[PartitionSpec, ...], target_file_size: int | None
) -> None:
    """Refuse the options ``--all-partitions`` cannot be combined with.

    Raises:
        click.UsageError: ``--partition`` or ``--target-file-size`` was given too.
    """
    if partitions:
        raise click.UsageError(
            "--all-partitions and --partition are mutually exclusive: --all-partitions picks "
            "the partitions itself; drop one of them",
            ctx=ctx,
        )
    if target_file_size is not None:
        # The inspection that picks the partitions tells small files by the table's target.
        raise click.UsageError(
            "--all-partitions picks partitions by the table's own target file size; drop "
            "--target-file-size, or name the partitions with --partition",
            ctx=ctx,
        )


def nothing_needs_compaction(
    inspection: TableInspection, min_small_files: int, dry_run: bool, *, started: float
) -> CompactionReport:
    """The report of a compaction that found no partition needing it: nothing was named."""
    return CompactionReport.from_results(
        (),
        table_name=inspection.table_name,
        partition_keys=inspection.partition_keys,
        dry_run=dry_run,
        target_file_size_bytes=inspection.target_file_size_bytes,
        min_small_files=min_small_files,
        started=started,
        version_before=inspection.version,
        version_after=inspection.version,
        partition_kinds=inspection.partition_kinds,
    )
