"""``DeltaPartitionOptimizer``: the Delta engine behind every Delta backend, as pluggy hooks.

Backends differ only in how they resolve locations and credentials; the compaction,
inspection and vacuum logic lives here once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pyarrow as pa
from deltalake import write_deltalake

from pointline_storage import (
    CompactionReport,
    InvalidOptionError,
    PartitionCompactionResult,
    PartitionSpec,
    PartitionStats,
    PointlineStorageError,
    TableInspection,
    VacuumReport,
    hookimpl,
    normalize_partitions,
    resolve_table_location,
)
from pointline_storage.locations import TableLocation
from pointline_storage_delta import compaction, vacuum
from pointline_storage_delta.engine_options import EngineOptions
from pointline_storage_delta.snapshot import DeltaSnapshot, open_snapshot, scan_partitions


class DeltaPartitionOptimizer:
    """Compacts, inspects and vacuums Delta tables under one root.

    Its methods are pluggy hook implementations: call them through the facade returned by
    ``load_backend``, which validates options and supplies defaults.

    Args:
        silver_root: Where tables live (a path or URI); a table name is a path below it.
        table_paths: Explicit locations for some table names, used as given.
        storage_options: Passed to deltalake; never shown in a repr, report or error.
    """

    def __init__(
        self,
        *,
        silver_root: str,
        table_paths: Mapping[str, str] | None = None,
        storage_options: Mapping[str, str] | None = None,
    ) -> None:
        self.silver_root = silver_root
        self.table_paths = dict(table_paths or {})
        self._storage_options = dict(storage_options or {})

    def __repr__(self) -> str:
        # Storage options can hold secrets: never show them.
        return f"{type(self).__name__}(silver_root={self.silver_root!r})"

    def locate(self, table_name: str) -> TableLocation:
        """Resolve a table name to its location (validating the name)."""
        return resolve_table_location(self.silver_root, table_name, table_paths=self.table_paths)

    def snapshot(self, table_name: str) -> DeltaSnapshot:
        """Load the latest version of a table."""
        return open_snapshot(self.locate(table_name), table_name, self._storage_options)

    @hookimpl
    def compact_partitions(
        self,
        table_name: str,
        partitions: tuple[PartitionSpec, ...],
        target_file_size_bytes: int | None,
        min_small_files: int,
        dry_run: bool,
        continue_on_error: bool,
        progress: Callable[[PartitionCompactionResult], None] | None,
        partitions_per_commit: int,
        max_concurrent_tasks: int | None,
        max_spill_size: int | None,
        compression: str | None,
    ) -> CompactionReport:
        """Compact the named partitions; see ``pointline_storage.Backend``."""
        snapshot = self.snapshot(table_name)
        keys = normalize_partitions(
            table_name, partitions, snapshot.partition_columns, snapshot.render
        )
        return compaction.compact_partitions(
            snapshot,
            table_name=table_name,
            partitions=keys,
            target_file_size_bytes=target_file_size_bytes,
            min_small_files=min_small_files,
            dry_run=dry_run,
            continue_on_error=continue_on_error,
            progress=progress,
            partitions_per_commit=partitions_per_commit,
            engine=EngineOptions(
                max_concurrent_tasks=max_concurrent_tasks,
                max_spill_size=max_spill_size,
                compression=compression,
            ),
        )

    @hookimpl
    def inspect_partitions(
        self, table_name: str, partitions: tuple[PartitionSpec, ...] | None
    ) -> TableInspection:
        """Per-partition statistics from one snapshot scan; see ``pointline_storage.Backend``."""
        snapshot = self.snapshot(table_name)
        target = snapshot.target_file_size(None)
        stats = scan_partitions(snapshot, target).stats
        if partitions is not None:
            keys = normalize_partitions(
                table_name, partitions, snapshot.partition_columns, snapshot.render
            )
            stats = {key: stats.get(key) or PartitionStats(key, 0, 0, 0, 0) for key in keys}
        return TableInspection(
            table_name=table_name,
            partition_keys=snapshot.partition_columns,
            target_file_size_bytes=target,
            version=snapshot.version,
            partitions=tuple(stats[key] for key in sorted(stats)),
        )

    @hookimpl
    def vacuum_table(
        self,
        table_name: str,
        retention_hours: int,
        dry_run: bool,
        enforce_retention_duration: bool,
        full: bool,
    ) -> VacuumReport:
        """Vacuum after loading the latest version; see ``pointline_storage.Backend``."""
        location = self.locate(table_name)
        return vacuum.vacuum_table(
            open_snapshot(location, table_name, self._storage_options),
            location,
            table_name=table_name,
            retention_hours=retention_hours,
            dry_run=dry_run,
            enforce_retention_duration=enforce_retention_duration,
            full=full,
        )

    @hookimpl
    def write_sample_table(
        self,
        table_name: str,
        rows: pa.Table,
        partition_by: tuple[str, ...],
        rows_per_file: int,
    ) -> None:
        """Create a new table from ``rows``, one file per ``rows_per_file`` rows per partition.

        Each append commits one file per partition, the way per-source-file ingestion does.
        """
        missing = [column for column in partition_by if column not in rows.column_names]
        if missing or not rows.num_rows:
            raise InvalidOptionError(
                f"cannot write sample table {table_name!r}: "
                + (f"partition_by names columns not in rows: {missing}" if missing else "no rows")
            )
        location = self.locate(table_name)
        if location.fs.exists(location.path) and location.fs.ls(location.path):
            raise PointlineStorageError(
                f"cannot write sample table {table_name!r}: {location.uri} is not empty"
            )
        chunks = _chunks_per_partition(rows, partition_by, rows_per_file)
        for batch_number, batch in enumerate(chunks):
            write_deltalake(
                location.uri,
                batch,
                mode="error" if batch_number == 0 else "append",
                partition_by=list(partition_by) or None,
                storage_options=self._storage_options or None,
            )


def _chunks_per_partition(
    rows: pa.Table, partition_by: tuple[str, ...], rows_per_file: int
) -> list[pa.Table]:
    """Split rows so the k-th table holds the k-th chunk of every partition."""
    if partition_by:
        indexed = rows.select(list(partition_by)).append_column(
            "__row", pa.array(range(rows.num_rows), pa.int64())
        )
        groups = indexed.group_by(list(partition_by), use_threads=False).aggregate(
            [("__row", "list")]
        )
        members = groups["__row_list"].to_pylist()
    else:
        members = [list(range(rows.num_rows))]
    rounds: list[list[int]] = []
    for indices in members:
        for number, offset in enumerate(range(0, len(indices), rows_per_file)):
            if len(rounds) <= number:
                rounds.append([])
            rounds[number].extend(indices[offset : offset + rows_per_file])
    return [rows.take(indices) for indices in rounds]
