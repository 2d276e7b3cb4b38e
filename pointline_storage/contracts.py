"""Runtime-checkable Protocols: what a caller may rely on a loaded backend to offer.

:class:`~pointline_storage.backend.Backend` satisfies both; ``tests/test_contracts.py``
compares these signatures with the facade's, so the two cannot drift apart.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from pointline_storage.models import (
    CompactionReport,
    PartitionCompactionResult,
    TableInspection,
    VacuumReport,
)
from pointline_storage.partitions import PartitionKey, PartitionSpec


@runtime_checkable
class PartitionOptimizer(Protocol):
    """Compacts named partitions and inspects them."""

    def compact_partitions(
        self,
        table_name: str,
        *,
        partitions: Iterable[PartitionSpec | PartitionKey],
        target_file_size_bytes: int | None = None,
        min_small_files: int = 8,
        dry_run: bool = False,
        continue_on_error: bool = True,
        progress: Callable[[PartitionCompactionResult], None] | None = None,
        partitions_per_commit: int = 100,
        max_concurrent_tasks: int | None = None,
        max_spill_size: int | None = None,
        compression: str | None = None,
        lease_seconds: float | None = None,
        executor: concurrent.futures.Executor | None = None,
        shards: int | None = None,
        sort_by: Iterable[str] | None = None,
    ) -> CompactionReport:
        """Rewrite the small files of the named partitions; see ``Backend``."""
        ...

    def inspect_partitions(
        self,
        table_name: str,
        partitions: Iterable[PartitionSpec | PartitionKey] | None = None,
        *,
        sort_by: Iterable[str] | None = None,
    ) -> TableInspection:
        """Return per-partition file statistics without writing anything."""
        ...


@runtime_checkable
class TableVacuum(Protocol):
    """Reclaims storage from files no longer referenced by a table."""

    def vacuum_table(
        self,
        table_name: str,
        *,
        retention_hours: int = 168,
        dry_run: bool = True,
        enforce_retention_duration: bool = True,
        full: bool = False,
    ) -> VacuumReport:
        """Delete (or list) unreferenced files older than the retention; see ``Backend``."""
        ...
