"""Merging without a transaction log: write the merged file, verify it, then delete.

``pointline_storage.compact_by_merging`` packs each partition's small files, in path order,
into groups that fit the target size, and hands each group of two or more files to
:func:`merge_files`, which makes it one new file:

1. the merged rows are written to a temporary file (``.pointline-tmp-*``, invisible to
   readers), whose footer must then hold exactly the rows of the inputs;
2. the temporary file is renamed to its final name (``part-<uuid>.parquet``);
3. only then are the input files deleted.

A failure before step 3 loses nothing: the inputs are untouched and an orphaned temporary
file is removed by ``vacuum_table`` once older than the retention. Without a log, steps 2
and 3 cannot be one atomic change: a reader listing the partition between them sees the
group's rows twice, and a crash between them leaves both until the inputs are deleted by
hand. Run one compaction of a table at a time.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pointline_storage import PartitionKey, StorageError
from pointline_storage_hive_parquet.layout import TEMP_PREFIX, DataFile, HiveTable, footer_rows


def merge_files(table: HiveTable, partition: PartitionKey, inputs: list[DataFile]) -> str:
    """Merge ``inputs``, files of ``partition``, into one new file beside them; return its path.

    Raises:
        StorageError: the inputs' schemas differ, or the written file does not hold
            exactly their rows (then the inputs are left as they were).
    """
    fs, directory = table.fs, table.directories[partition]
    contents = [_read(fs, data_file.path) for data_file in inputs]
    schema = contents[0].schema
    for data_file, rows in zip(inputs, contents, strict=True):
        if not rows.schema.equals(schema, check_metadata=False):
            raise StorageError(
                f"{data_file.path} has another schema than {inputs[0].path}; "
                "merging them would change rows, so they are left alone"
            )
    merged = pa.concat_tables([rows.cast(schema) for rows in contents])
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
