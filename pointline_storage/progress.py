"""A progress bar on stderr for multi-partition compactions, fed by the progress hook."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from pointline_storage.backend import Backend
from pointline_storage.models import CompactionReport, PartitionCompactionResult
from pointline_storage.partitions import PartitionSpec, format_partition


def compact_with_progress(
    backend: Backend,
    table_name: str,
    partitions: Sequence[PartitionSpec],
    **options: Any,
) -> CompactionReport:
    """Compact, showing a progress bar on stderr when more than one partition is named."""
    count = len({tuple(sorted(spec.items(), key=str)) for spec in partitions})
    if count <= 1:
        return backend.compact_partitions(table_name, partitions=partitions, **options)
    verb = "planning" if options.get("dry_run") else "compacting"
    with click.progressbar(
        length=count,
        label=f"{verb} {count} partitions",
        item_show_func=_progress_item,
        file=sys.stderr,
    ) as bar:

        def progress(result: PartitionCompactionResult) -> None:
            bar.update(1, result)

        report = backend.compact_partitions(
            table_name, partitions=partitions, progress=progress, **options
        )
        bar.update(max(0, count - bar.pos))
    return report


def _progress_item(result: PartitionCompactionResult | None) -> str | None:
    return None if result is None else format_partition(result.partition)
