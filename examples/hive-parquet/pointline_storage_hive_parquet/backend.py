"""The ``hive-parquet`` backend: its factory and its hook implementations."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping

import pyarrow as pa
import pyarrow.dataset as ds

from pointline_storage import (
    CompactionReport,
    HiveListing,
    PartitionCompactionResult,
    PartitionSpec,
    PointlineStorageError,
    TableInspection,
    TableLocation,
    VacuumReport,
    compact_by_merging,
    hookimpl,
    resolve_table_location,
)
from pointline_storage_hive_parquet import vacuum
from pointline_storage_hive_parquet.compaction import merge_files

#: Without a table setting to read, files below 100 MiB are small (Delta's default too).
DEFAULT_TARGET_FILE_SIZE_BYTES = 100 * 1024 * 1024


def create_backend(
    *, root: str, table_paths: Mapping[str, str], storage_options: Mapping[str, str]
) -> HiveParquetBackend:
    """Entry point of ``hive-parquet``: tables are directories below ``root``.

    ``root`` is any fsspec path or URL (a local path, ``s3://bucket/prefix``, ...);
    ``storage_options`` are that filesystem's options (for S3: ``key``, ``secret``,
    ``endpoint_url``, ...).
    """
    return HiveParquetBackend(root=root, table_paths=table_paths, storage_options=storage_options)


class HiveParquetBackend:
    """Compacts, inspects and vacuums Hive-partitioned Parquet tables under one root.

    Args:
        root: Where tables live; a table name is a directory below it.
        table_paths: Explicit locations for some table names, used as given.
        storage_options: fsspec filesystem options; never shown in a repr or an error.
    """

    def __init__(
        self, *, root: str, table_paths: Mapping[str, str], storage_options: Mapping[str, str]
    ) -> None:
        self.root = root
        self.table_paths = dict(table_paths)
        self._storage_options = dict(storage_options)

    def __repr__(self) -> str:
        # Storage options can hold secrets: never show them.
        return f"{type(self).__name__}(root={self.root!r})"

    def open(self, table_name: str) -> HiveListing:
        """List a table (validating its name)."""
        return HiveListing.of(self._locate(table_name), table_name)

    def _locate(self, table_name: str) -> TableLocation:
        return resolve_table_location(
            self.root, table_name, table_paths=self.table_paths, fs_options=self._storage_options
        )

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
    ) -> CompactionReport:
        """Compact the named partitions; see ``pointline_storage.Backend``."""
        started = time.perf_counter()
        table = self.open(table_name)
        return compact_by_merging(
            table,
            table.keys(partitions),
            merge=functools.partial(merge_files, table.fs),
            target_file_size_bytes=target_file_size_bytes or DEFAULT_TARGET_FILE_SIZE_BYTES,
            min_small_files=min_small_files,
            dry_run=dry_run,
            continue_on_error=continue_on_error,
            progress=progress,
            started=started,
        )

    @hookimpl
    def inspect_partitions(
        self, table_name: str, partitions: tuple[PartitionSpec, ...] | None
    ) -> TableInspection:
        """Per-partition statistics from one listing; see ``pointline_storage.Backend``."""
        return self.open(table_name).inspection(
            partitions, target_file_size_bytes=DEFAULT_TARGET_FILE_SIZE_BYTES
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
        """Delete leftover temporary files; see :mod:`pointline_storage_hive_parquet.vacuum`."""
        return vacuum.vacuum_table(
            self.open(table_name),
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
        """Create a new table from ``rows``: one file per ``rows_per_file`` rows per partition."""
        location = self._locate(table_name)
        location.fs.invalidate_cache(location.path)  # listings cached before may be stale
        if location.fs.exists(location.path) and location.fs.ls(location.path):
            raise PointlineStorageError(
                f"cannot write sample table {table_name!r}: {location.uri} is not empty"
            )
        ds.write_dataset(
            rows,
            location.path,
            filesystem=location.fs,
            format="parquet",
            partitioning=list(partition_by) or None,
            partitioning_flavor="hive",
            max_rows_per_file=rows_per_file,
            max_rows_per_group=rows_per_file,
            basename_template="part-{i}.parquet",
            existing_data_behavior="error",
        )
