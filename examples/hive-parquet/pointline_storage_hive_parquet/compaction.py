"""Compaction without a transaction log: write the merged file, verify it, then delete.

Each partition's small files are packed, in path order, into bins that fit the target size;
each bin of two or more files becomes one new file:

1. the merged rows are written to a temporary file (``.pointline-tmp-*``, invisible to
   readers), whose footer must then hold exactly the rows of the inputs;
2. the temporary file is renamed to its final name (``part-<uuid>.parquet``);
3. only then are the input files deleted.

A failure before step 3 loses nothing: the inputs are untouched and an orphaned temporary
file is removed by ``vacuum_table`` once older than the retention. Without a log, steps 2
and 3 cannot be one atomic change: a reader listing the partition between them sees the
bin's rows twice, and a crash between them leaves both until the inputs are deleted by
hand. Run one compaction of a table at a time.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pointline_storage import (
    CompactionReport,
    PartitionCompactionResult,
    PartitionKey,
    PartitionStats,
    StorageError,
)
from pointline_storage_hive_parquet.layout import (
    TEMP_PREFIX,
    DataFile,
    HiveTable,
    footer_rows,
    open_table,
)

Progress = Callable[[PartitionCompactionResult], None] | None


def compact_partitions(
    table: HiveTable,
    *,
    partitions: tuple[PartitionKey, ...],
    target_file_size_bytes: int,
    min_small_files: int,
    dry_run: bool,
    continue_on_error: bool,
    progress: Progress,
    started: float,
) -> CompactionReport:
    """Plan every named partition from one listing, then compact them one by one.

    ``started`` is when the whole call began (``time.perf_counter()``).

    Raises:
        CompactionFailedError: a partition failed and ``continue_on_error`` is false.
    """
    results = []
    failure: Exception | None = None
    for partition in partitions:
        stats = table.stats(partition, target_file_size_bytes)
        bins = merge_bins(table.files.get(partition, ()), target_file_size_bytes)
        reason = stats.skip_reason(min_small_files=min_small_files, can_merge=bool(bins))
        if reason is not None:
            result = PartitionCompactionResult.from_stats(stats, "skipped", skipped_reason=reason)
        elif dry_run:
            result = PartitionCompactionResult.from_stats(stats, "would_compact")
        elif failure is not None:
            result = PartitionCompactionResult.from_stats(stats, "not_attempted")
        else:
            result, error = _compact_one(table, partition, stats, bins)
            if error is not None and not continue_on_error:
                failure = error
        results.append(result)
        if progress is not None:
            progress(result)
    if any(result.status == "compacted" for result in results):
        results = _measured(table, target_file_size_bytes, results)
    report = CompactionReport.from_results(
        results,
        table_name=table.name,
        partition_keys=table.partition_columns,
        dry_run=dry_run,
        target_file_size_bytes=target_file_size_bytes,
        min_small_files=min_small_files,
        started=started,
        partition_kinds=table.partition_kinds,
    )
    if failure is not None:
        raise report.failure() from failure
    return report


def merge_bins(files: tuple[DataFile, ...], target_file_size_bytes: int) -> list[list[DataFile]]:
    """Pack the small files, in path order, into bins within the target; keep bins of 2+."""
    bins: list[list[DataFile]] = [[]]
    for data_file in files:
        if data_file.size >= target_file_size_bytes:
            continue
        if bins[-1] and sum(f.size for f in bins[-1]) + data_file.size > target_file_size_bytes:
            bins.append([])
        bins[-1].append(data_file)
    return [group for group in bins if len(group) > 1]


def _compact_one(
    table: HiveTable, partition: PartitionKey, stats: PartitionStats, bins: list[list[DataFile]]
) -> tuple[PartitionCompactionResult, Exception | None]:
    removed = added = 0
    try:
        for group in bins:
            merge_files(table.fs, table.directories[partition], group)
            removed, added = removed + len(group), added + 1
    except Exception as exc:  # isolate the partition, whatever the filesystem raised
        error = f"{type(exc).__name__}: {exc}"
        if removed:
            error += f" (after merging {removed} of its files into {added})"
        return PartitionCompactionResult.from_stats(stats, "failed", error=error), exc
    compacted = PartitionCompactionResult.from_stats(
        stats, "compacted", files_removed=removed, files_added=added
    )
    return compacted, None


def merge_files(fs: Any, directory: str, inputs: list[DataFile]) -> str:
    """Merge ``inputs`` into one new file in ``directory``; return its path.

    Raises:
        StorageError: the inputs' schemas differ, or the written file does not hold
            exactly their rows (then the inputs are left as they were).
    """
    tables = [_read(fs, data_file.path) for data_file in inputs]
    schema = tables[0].schema
    for data_file, table in zip(inputs, tables, strict=True):
        if not table.schema.equals(schema, check_metadata=False):
            raise StorageError(
                f"{data_file.path} has another schema than {inputs[0].path}; "
                "merging them would change rows, so they are left alone"
            )
    merged = pa.concat_tables([table.cast(schema) for table in tables])
    name = uuid.uuid4().hex
    temporary = f"{directory}/{TEMP_PREFIX}{name}.parquet"
    final = f"{directory}/part-{name}.parquet"
    try:
        with fs.open(temporary, "wb") as handle:
            pq.write_table(merged, handle)
        written = footer_rows(fs, temporary)
        if written != merged.num_rows:
            raise StorageError(
                f"merged file {temporary} holds {written} rows, expected {merged.num_rows}; "
                "the inputs were left as they were"
            )
        fs.mv(temporary, final)
    except BaseException:
        # Best effort: an orphan left here is vacuum's to delete.
        with contextlib.suppress(Exception):
            fs.rm(temporary)
        raise
    fs.rm([data_file.path for data_file in inputs])
    return final


def _read(fs: Any, path: str) -> pa.Table:
    # Opened as a file, not a path: pyarrow would otherwise add the partition columns.
    with fs.open(path, "rb") as handle:
        return pq.ParquetFile(handle).read()


def _measured(
    table: HiveTable, target: int, results: list[PartitionCompactionResult]
) -> list[PartitionCompactionResult]:
    """Fill the after-values of compacted partitions from a new listing.

    If that listing fails, the merged files stand and the after-values stay unknown.
    """
    try:
        after = open_table(table.location, table.name)
    except Exception:
        return results
    return [
        result.measured(after.stats(result.partition, target))
        if result.status == "compacted"
        else result
        for result in results
    ]
