"""``DeltaPartitionOptimizer``: the Delta engine behind every Delta backend, as pluggy hooks.

Backends differ only in how they resolve locations and credentials; the compaction,
inspection and vacuum logic lives here once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from pointline_storage import (
    CompactionPlan,
    CompactionReport,
    InvalidPlanError,
    PartitionCompactionResult,
    PartitionSpec,
    PartitionStats,
    PlannedPartition,
    PointlineStorageError,
    TableInspection,
    TableLeases,
    VacuumReport,
    hookimpl,
    normalize_partitions,
    resolve_table_location,
    secret_values,
    stop_on_signals,
)
from pointline_storage.locations import TableLocation
from pointline_storage.redaction import secrets_masked
from pointline_storage_delta import compaction, lease_listing, leases, vacuum
from pointline_storage_delta.engine_errors import engine_errors, picklable_chain
from pointline_storage_delta.engine_options import EngineOptions
from pointline_storage_delta.layout import statistics, with_layout
from pointline_storage_delta.planner import plan_partitions
from pointline_storage_delta.snapshot import (
    DeltaSnapshot,
    open_snapshot,
    partition_files,
    scan_partitions,
)
from pointline_storage_delta.sort_keys import check_engine_options, check_sort_keys
from pointline_storage_delta.sorted_rewrite import SortedRewriter


class DeltaPartitionOptimizer:
    """Compacts, inspects and vacuums Delta tables under one root.

    Its methods are pluggy hook implementations: call them through the facade returned by
    ``load_backend``, which validates options and supplies defaults.

    Args:
        silver_root: Where tables live (a path or URI); a table name is a path below it.
        table_paths: Explicit locations for some table names, used as given.
        storage_options: Passed to deltalake; never shown in a repr, report or error.
        filesystem_options: Keyword arguments of the fsspec filesystem holding the tables.
    """

    def __init__(
        self,
        *,
        silver_root: str,
        table_paths: Mapping[str, str] | None = None,
        storage_options: Mapping[str, str] | None = None,
        filesystem_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.silver_root = silver_root
        self.table_paths = dict(table_paths or {})
        self._storage_options = dict(storage_options or {})
        self._filesystem_options = dict(filesystem_options or {})
        self._secrets = secret_values(self._storage_options)

    def __repr__(self) -> str:
        # Storage options can hold secrets: never show them.
        return f"{type(self).__name__}(silver_root={self.silver_root!r})"

    def locate(self, table_name: str) -> TableLocation:
        """Resolve a table name to its location (validating the name)."""
        return resolve_table_location(
            self.silver_root,
            table_name,
            table_paths=self.table_paths,
            fs_options=self._filesystem_options,
        )

    def open(self, table_name: str) -> tuple[TableLocation, DeltaSnapshot]:
        """Resolve a table and load its latest version.

        Backends on remote storage override this to turn their storage's failures
        (missing bucket, refused credentials, silent endpoint) into clear errors.
        """
        location = self.locate(table_name)
        return location, open_snapshot(location, table_name, self._storage_options)

    def _rewriter(self, location: TableLocation) -> SortedRewriter:
        return SortedRewriter(location, self._storage_options)

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        # Engines and SDKs may echo a failed request: keep secrets out of every message,
        # and out of the error texts reports are built with.
        with secrets_masked(self._secrets), engine_errors():
            yield

    @hookimpl
    @picklable_chain
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
        lease_seconds: float | None,
        sort_by: tuple[str, ...] | None,
    ) -> CompactionReport:
        """Compact the named partitions; see ``pointline_storage.Backend``.

        A real run first leases every named partition (:mod:`~pointline_storage_delta.leases`)
        and plans from the version loaded once the leases are held; partitions another
        compaction holds are reported ``failed``. With ``sort_by`` (see
        :mod:`~pointline_storage_delta.sort_keys`), each compacted partition is rewritten
        whole, in that order.
        """
        started = time.perf_counter()
        options = compaction.CompactionOptions(
            target_file_size_bytes=target_file_size_bytes,
            min_small_files=min_small_files,
            dry_run=dry_run,
            continue_on_error=continue_on_error,
            partitions_per_commit=partitions_per_commit,
            engine=EngineOptions(
                max_concurrent_tasks=max_concurrent_tasks,
                max_spill_size=max_spill_size,
                compression=compression,
            ),
            sort_by=sort_by,
        )
        with self._guarded():
            location, snapshot = self.open(table_name)
            keys = normalize_partitions(
                table_name, partitions, snapshot.partition_columns, snapshot.render
            )
            snapshot.target_file_size(target_file_size_bytes)  # refuse a bad one before leasing
            if sort_by is not None:  # before the leases: they are the first write
                check_sort_keys(
                    snapshot, sort_by, table_name=table_name, statistics=statistics(snapshot)
                )
                check_engine_options(sort_by, options.engine, table_name=table_name)
            options = dataclasses.replace(options, rewriter=self._rewriter(location))
            taking = (
                nullcontext(leases.PartitionLeases())
                if dry_run
                else leases.leased(location.fs, location.path, keys, seconds=lease_seconds)
            )
            # Signals are caught before the leases are taken and restored after they are
            # released: a SIGTERM never ends the process between the two.
            stopping = nullcontext(None) if dry_run else stop_on_signals()
            with stopping as stop, taking as taken:
                if not dry_run:
                    # A version read before the leases could predate the commit of a
                    # compaction that has just released them.
                    snapshot = snapshot.refreshed(table_name)
                return compaction.compact_partitions(
                    snapshot,
                    table_name=table_name,
                    partitions=keys,
                    options=options,
                    refused=taken.refused,
                    progress=progress,
                    started=started,
                    stop=stop,
                )

    @hookimpl
    @picklable_chain
    def plan_compaction(
        self,
        table_name: str,
        partitions: tuple[PartitionSpec, ...],
        target_file_size_bytes: int | None,
        min_small_files: int,
        sort_by: tuple[str, ...] | None,
    ) -> CompactionPlan:
        """Plan from one scan of the latest version; see ``pointline_storage.Backend``.

        The planner is the one a compaction runs, without leases: a partition another
        compaction holds now is planned like any other (its execution will meet the lease).
        """
        with self._guarded():
            _, snapshot = self.open(table_name)
            keys = normalize_partitions(
                table_name, partitions, snapshot.partition_columns, snapshot.render
            )
            if sort_by is not None:
                check_sort_keys(
                    snapshot, sort_by, table_name=table_name, statistics=statistics(snapshot)
                )
            target = snapshot.target_file_size(target_file_size_bytes)
            scan = scan_partitions(snapshot, target)
            if sort_by is not None:
                laid_out = with_layout(snapshot, scan.stats, sort_by, table_name=table_name)
                scan = dataclasses.replace(scan, stats=laid_out)
            plan = plan_partitions(
                keys,
                scan,
                min_small_files=min_small_files,
                refused={},
                sorting=sort_by is not None,
            )
            files = partition_files(scan, snapshot.partition_columns)
            return CompactionPlan(
                table_name=table_name,
                partition_keys=snapshot.partition_columns,
                version=snapshot.version,
                target_file_size_bytes=target,
                min_small_files=min_small_files,
                partitions=tuple(
                    PlannedPartition(stats=stats, files=files.get(stats.partition, ()))
                    for stats in plan.to_compact
                ),
                skipped=plan.settled,
                partition_kinds=snapshot.partition_kinds,
                sort_by=sort_by,
            )

    @hookimpl
    @picklable_chain
    def execute_plan(
        self,
        plan: CompactionPlan,
        continue_on_error: bool,
        progress: Callable[[PartitionCompactionResult], None] | None,
        partitions_per_commit: int,
        max_concurrent_tasks: int | None,
        max_spill_size: int | None,
        compression: str | None,
        lease_seconds: float | None,
    ) -> CompactionReport:
        """Compact what ``plan`` names, on the compaction pipeline; see
        ``pointline_storage.Backend``."""
        started = time.perf_counter()
        options = compaction.CompactionOptions(
            target_file_size_bytes=plan.target_file_size_bytes,
            min_small_files=plan.min_small_files,
            dry_run=False,
            continue_on_error=continue_on_error,
            partitions_per_commit=partitions_per_commit,
            engine=EngineOptions(
                max_concurrent_tasks=max_concurrent_tasks,
                max_spill_size=max_spill_size,
                compression=compression,
            ),
            sort_by=plan.sort_by,
        )
        keys = tuple(planned.partition for planned in plan.partitions)
        with self._guarded():
            location, snapshot = self.open(plan.table_name)
            if snapshot.partition_columns != plan.partition_keys:
                raise InvalidPlanError(
                    f"the plan of table {plan.table_name!r} is partitioned by "
                    f"{list(plan.partition_keys)}, but the table is partitioned by "
                    f"{list(snapshot.partition_columns)}; plan it again"
                )
            check_engine_options(plan.sort_by, options.engine, table_name=plan.table_name)
            options = dataclasses.replace(options, rewriter=self._rewriter(location))
            taking = leases.leased(location.fs, location.path, keys, seconds=lease_seconds)
            # As in compact_partitions: signals caught before the leases, restored after.
            with stop_on_signals() as stop, taking as taken:
                snapshot = snapshot.refreshed(plan.table_name)
                return compaction.compact_partitions(
                    snapshot,
                    table_name=plan.table_name,
                    partitions=keys,
                    options=options,
                    refused=taken.refused,
                    progress=progress,
                    started=started,
                    stop=stop,
                    planned_files={planned.partition: planned.files for planned in plan.partitions},
                    settled=plan.skipped,
                )

    @hookimpl
    @picklable_chain
    def inspect_partitions(
        self,
        table_name: str,
        partitions: tuple[PartitionSpec, ...] | None,
        sort_by: tuple[str, ...] | None,
    ) -> TableInspection:
        """Per-partition statistics from one snapshot scan; see ``pointline_storage.Backend``."""
        with self._guarded():
            return self._inspect(table_name, partitions, sort_by)

    def _inspect(
        self,
        table_name: str,
        partitions: tuple[PartitionSpec, ...] | None,
        sort_by: tuple[str, ...] | None,
    ) -> TableInspection:
        _, snapshot = self.open(table_name)
        target = snapshot.target_file_size(None)
        stats = scan_partitions(snapshot, target).stats
        if partitions is not None:
            keys = normalize_partitions(
                table_name, partitions, snapshot.partition_columns, snapshot.render
            )
            stats = {key: stats.get(key) or PartitionStats.empty(key) for key in keys}
        if sort_by is not None:
            stats = with_layout(snapshot, stats, sort_by, table_name=table_name)
        return TableInspection(
            table_name=table_name,
            partition_keys=snapshot.partition_columns,
            target_file_size_bytes=target,
            version=snapshot.version,
            partitions=tuple(stats[key] for key in sorted(stats)),
            partition_kinds=snapshot.partition_kinds,
            sort_by=sort_by,
        )

    @hookimpl
    @picklable_chain
    def vacuum_table(
        self,
        table_name: str,
        retention_hours: int,
        dry_run: bool,
        enforce_retention_duration: bool,
        full: bool,
    ) -> VacuumReport:
        """Vacuum after loading the latest version; see ``pointline_storage.Backend``."""
        started = time.perf_counter()
        with self._guarded():
            return vacuum.vacuum_table(
                self.locate(table_name),
                lambda: self.open(table_name)[1],
                table_name=table_name,
                retention_hours=retention_hours,
                dry_run=dry_run,
                enforce_retention_duration=enforce_retention_duration,
                full=full,
                started=started,
            )

    @hookimpl
    @picklable_chain
    def list_leases(self, table_name: str, release_stale: bool) -> TableLeases:
        """The table's partition leases; see ``pointline_storage.Backend``."""
        with self._guarded():
            location, _ = self.open(table_name)
            return lease_listing.list_leases(
                location, table_name=table_name, release_stale=release_stale
            )

    @hookimpl
    @picklable_chain
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
        with self._guarded():
            location = self.locate(table_name)
            if location.fs.exists(location.path) and location.fs.ls(location.path):
                raise PointlineStorageError(
                    f"cannot write sample table {table_name!r}: {location.uri} is not empty"
                )
            chunks = _chunks_per_partition(rows, partition_by, rows_per_file)
            first, *rest = chunks
            write_deltalake(
                location.uri,
                first,
                mode="error",
                partition_by=list(partition_by) or None,
                storage_options=self._storage_options or None,
            )
            # Appending through one loaded table reads only each new commit, not the whole log.
            table = DeltaTable(location.uri, storage_options=self._storage_options or None)
            for batch in rest:
                write_deltalake(table, batch, mode="append")


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
