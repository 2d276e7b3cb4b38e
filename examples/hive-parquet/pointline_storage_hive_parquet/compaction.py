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

#: Prefix of the files a compaction writes before giving them their final name (a name
#: starting with "." is not data, so readers and listings skip it).
TEMP_PREFIX = ".pointline-tmp-"


def merge_files(fs: Any, partition: PartitionKey, inputs: list[str]) -> str:
    """Merge ``inputs``, files of ``partition`` on ``fs``, into one new file beside them;
    return its path.

    Raises:
        StorageError: the inputs' schemas differ, or the written file does not hold
            exactly their rows (then the inputs are left as they were).
    """
    directory = inputs[0].rsplit("/", 1)[0]  # beside the first input, whatever its spelling
    contents = [_read(fs, path) for path in inputs]
    schema = contents[0].schema
    for path, rows in zip(inputs, contents, strict=True):
        if not rows.schema.equals(schema, check_metadata=False):
            raise StorageError(
                f"{path} has another schema than {inputs[0]}; "
                "merging them would change rows, so they are left alone"
            )
    merged = pa.concat_tables([rows.cast(schema) for rows in contents])
    name = uuid.uuid4().hex
    temporary = f"{directory}/{TEMP_PREFIX}{name}.parquet"
    final = f"{directory}/part-{name}.parquet"
    try:
        with fs.open(temporary, "wb") as handle:
            pq.write_table(merged, handle)
        with fs.open(temporary, "rb") as handle:
            written = pq.ParquetFile(handle).metadata.num_rows
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
    fs.rm(inputs)
    return final


def _read(fs: Any, path: str) -> pa.Table:
    # Opened as a file, not a path: pyarrow would otherwise add the partition columns.
    with fs.open(path, "rb") as handle:
        return pq.ParquetFile(handle).read()
