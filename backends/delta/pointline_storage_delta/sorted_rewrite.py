"""Rewriting partitions in lexicographic order of several sort keys, which the engine lacks:
its ``optimize.z_order`` orders several columns only on a Z-order curve.

Each partition's live files at the loaded version are read (exactly those files) and their
rows sorted by the keys, nulls first, in memory. The engine writes them at the target size,
with its own file statistics, as a table of its own in a hidden staging directory at the
table's root; the files move into the partition directory and the staging directory goes
(a full vacuum reclaims one a killed rewrite left: debris.is_sort_staging). Then one
commit per batch removes the old files and adds the new, all with ``dataChange: false``
as an OPTIMIZE commits them, so readers of changes see no change.

The engine rebases a commit over concurrent ones without checking that the files it
removes are still there, which here would bring back rows another writer deleted. So the
commit is made without retries, on the latest version, after checking that every file to
remove is still live there and carries no deletion vector. Before anything is committed,
the rows read must be the rows the log counts, and the rows staged the rows read. Files
with deletion vectors are refused (a remove action here cannot name a file's vector), and
so are tables with column mapping (staged files would get physical names of their own).
"""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from deltalake import CommitProperties, WriterProperties, write_deltalake
from deltalake.transaction import AddAction, RemoveAction

from pointline_storage import PartitionKey, StorageError, TableLocation
from pointline_storage.hive_listing import HIVE_NULL
from pointline_storage.partitions import NULL_VALUE
from pointline_storage_delta.snapshot import DeltaSnapshot, PartitionScan, partition_files

#: Prefix of the hidden directory a partition's sorted files are staged in.
STAGING_PREFIX = ".pointline-sort-"
#: The engine's writer properties for compaction, so sorted and plain rewrites match.
ENGINE_WRITER_PROPERTIES = WriterProperties(compression="ZSTD", compression_level=4)
#: Table properties that decide which columns get file statistics.
_STATISTICS_PROPERTIES = ("delta.dataSkippingNumIndexedCols", "delta.dataSkippingStatsColumns")


@dataclass(frozen=True)
class SortedRewriter:
    """Rewrites batches of partitions of one table sorted by several keys.

    Attributes:
        location: Where the table lives.
        storage_options: The engine's storage options for that location.
    """

    location: TableLocation
    storage_options: Mapping[str, str]

    def rewrite(
        self,
        snapshot: DeltaSnapshot,
        partitions: Sequence[PartitionKey],
        *,
        sort_by: tuple[str, ...],
        target: int,
        writer_properties: WriterProperties | None,
    ) -> dict[str, int]:
        """Rewrite ``partitions`` sorted by ``sort_by`` (checked by
        :func:`~pointline_storage_delta.sort_keys.check_sort_keys`) in files of about
        ``target`` bytes, in one commit; return the engine-style metrics
        ``numFilesRemoved`` and ``numFilesAdded``.

        Raises:
            StorageError: a partition cannot be rewritten (deletion vectors, files outside
                its directory, rows that do not add up); nothing was committed, and files
                staged for the batch are deleted.
        """
        actions = snapshot.add_actions()
        columns = snapshot.partition_columns
        keys = [f"partition.{column}" for column in columns]
        files = partition_files(PartitionScan({}, actions.select(["path", *keys])), columns)
        removing = [path for partition in partitions for path in files.get(partition, ())]
        # Only the batch's files go through Python: the table may hold millions.
        mine = actions.filter(pc.is_in(actions["path"], value_set=pa.array(removing, pa.string())))
        sizes = dict(zip(mine["path"].to_pylist(), mine["size_bytes"].to_pylist(), strict=True))
        records = dict(zip(mine["path"].to_pylist(), mine["num_records"].to_pylist(), strict=True))
        vectors = _with_deletion_vectors(snapshot, removing)
        staged: list[str] = []
        removes: list[RemoveAction] = []
        adds: list[AddAction] = []
        now = int(time.time() * 1000)
        committing = False
        try:
            for partition in partitions:
                paths = files.get(partition, ())
                if vectors.intersection(paths):
                    raise StorageError(
                        f"partition {partition} has files with deletion vectors, which a sort "
                        "by several keys cannot rewrite yet; sort it by one key, or compact "
                        "it without sort_by first"
                    )
                directory, values = _directory(snapshot, partition, paths)
                expected = sum(records[path] or 0 for path in paths)
                adds += self._stage(
                    snapshot,
                    _Job(partition, paths, directory, values, expected, sort_by, target),
                    writer_properties or ENGINE_WRITER_PROPERTIES,
                    staged,
                )
                removes += [
                    RemoveAction(
                        path=urllib.parse.unquote(path),  # the engine encodes it
                        data_change=False,
                        deletion_timestamp=now,
                        size=sizes[path],
                        partition_values=dict(values),
                    )
                    for path in paths
                ]
            _check_unchanged(snapshot, removing)
            committing = True
            snapshot.table.create_write_transaction(
                [*removes, *adds],
                mode="append",
                schema=snapshot.table.schema(),
                partition_by=list(columns),
                # No retry: the engine would rebase this commit over one that removed or
                # changed the same files (it does not check), and bring their rows back.
                commit_properties=CommitProperties(
                    max_commit_retries=0,
                    custom_metadata={
                        "pointlineStorage": {"operation": "SORT", "sortBy": list(sort_by)}
                    },
                ),
            )
        except BaseException as exc:
            # A commit whose answer was lost (a dropped connection) may have landed: its
            # files are then the table's. Delete them only when it surely did not.
            landed = committing and _landed(snapshot, adds)
            if landed is False:
                _delete_quietly(self.location, staged)
            if not landed or not isinstance(exc, Exception):
                raise
        snapshot.table.update_incremental()
        return {"numFilesRemoved": len(removes), "numFilesAdded": len(adds)}

    def _stage(
        self,
        snapshot: DeltaSnapshot,
        job: _Job,
        writer_properties: WriterProperties,
        staged: list[str],
    ) -> list[AddAction]:
        """Write a partition's rows sorted into its directory; return their add actions.

        Every path written is appended to ``staged`` at once, for cleanup on failure.
        """
        fs, root = self.location.fs, self.location.path.rstrip("/") + "/"
        table_schema = pa.schema(snapshot.table.schema().to_arrow())
        data_schema = pa.schema(
            [field for field in table_schema if field.name not in snapshot.partition_columns]
        )
        on_disk = [root + urllib.parse.unquote(path) for path in job.paths]
        dataset = ds.dataset(on_disk, schema=data_schema, format="parquet", filesystem=fs)
        rows = _sorted(dataset.to_table(), job.sort_by)
        if rows.num_rows != job.expected:
            raise StorageError(
                f"partition {job.partition}: read {rows.num_rows} rows from "
                f"{len(job.paths)} files, but the log counts {job.expected}; nothing was written"
            )
        folder = urllib.parse.unquote(job.directory)
        # At the root, not in the partition directory: the engine writes a table whose URI
        # holds a percent escape (as partition directories may) but reads its log from the
        # decoded path. Locally the move is a rename either way; on S3 a copy either way.
        stage = f"{STAGING_PREFIX}{uuid.uuid4().hex}"
        stage_uri = self.location.uri.rstrip("/") + "/" + stage
        staged.append(root + stage)
        write_deltalake(
            stage_uri,
            rows,
            mode="error",
            target_file_size=job.target,
            configuration={
                name: snapshot.configuration[name]
                for name in _STATISTICS_PROPERTIES
                if name in snapshot.configuration
            }
            or None,
            writer_properties=writer_properties,
            storage_options=dict(self.storage_options) or None,
        )
        del rows
        log = fs.cat_file(f"{root}{stage}/_delta_log/{0:020d}.json").decode()
        written = [json.loads(line)["add"] for line in log.splitlines() if '"add"' in line]
        counted = sum(json.loads(add["stats"])["numRecords"] for add in written)
        if counted != job.expected:
            raise StorageError(
                f"partition {job.partition}: staged {counted} rows, expected {job.expected}; "
                "nothing was committed"
            )
        adds = []
        into = f"{folder}/" if folder else ""
        for add in written:
            name = urllib.parse.unquote(add["path"])
            fs.mv(f"{root}{stage}/{name}", root + into + name)
            staged.append(root + into + name)
            adds.append(
                AddAction(
                    path=into + name,  # as on disk: the engine encodes it
                    size=int(add["size"]),
                    partition_values=dict(job.values),
                    modification_time=int(add["modificationTime"]),
                    data_change=False,
                    stats=add["stats"],
                )
            )
        fs.rm(root + stage, recursive=True)
        return adds


@dataclass(frozen=True)
class _Job:
    """One partition to rewrite: its files and directory as the log spells them, its
    values as the log stores them, and the rows the log counts."""

    partition: PartitionKey
    paths: Sequence[str]
    directory: str
    values: Mapping[str, str | None]
    expected: int
    sort_by: tuple[str, ...]
    target: int


def _lexicographic_order(rows: pa.Table, sort_by: tuple[str, ...]) -> pa.Array:
    """Row indices in ``sort_by`` order, nulls first in each key (as the engine sorts, and
    as :mod:`~pointline_storage_delta.layout` reads ranges)."""
    keys: dict[str, pa.ChunkedArray] = {}
    order = []
    for index, key in enumerate(sort_by):
        # A key's validity first (false before true): nulls first on every pyarrow version.
        keys[f"valid{index}"] = pc.is_valid(rows[key])
        keys[f"key{index}"] = rows[key]
        order += [(f"valid{index}", "ascending"), (f"key{index}", "ascending")]
    return pc.sort_indices(pa.table(keys), sort_keys=order)


def _sorted(rows: pa.Table, sort_by: tuple[str, ...]) -> pa.Table:
    """``rows`` (the caller's only reference) in ``sort_by`` order, built one column at a
    time: each unsorted column is freed as its sorted copy is made, so the peak is the
    table plus one column, not two tables."""
    order = _lexicographic_order(rows, sort_by)
    schema, columns = rows.schema, list(rows.columns)
    del rows
    for index in range(len(columns)):
        columns[index] = pc.take(columns[index], order)
    return pa.Table.from_arrays(columns, schema=schema)


def _directory(
    snapshot: DeltaSnapshot, partition: PartitionKey, paths: Sequence[str]
) -> tuple[str, dict[str, str | None]]:
    """The one directory holding the partition's files, as the log spells it, and the
    partition values as the log stores them, read from that directory's ``col=value`` names.

    Raises:
        StorageError: the files are not all in one directory named for the partition.
    """
    directories = {path.rpartition("/")[0] for path in paths}
    if len(directories) != 1:
        raise StorageError(
            f"partition {partition}: its files lie in {len(directories)} directories; a sort "
            "by several keys rewrites only partitions whose files share one"
        )
    (directory,) = directories
    parts = urllib.parse.unquote(directory).split("/") if directory else []
    values: dict[str, str | None] = {}
    for part, (column, value) in zip(parts, partition, strict=False):
        name, equals, raw = part.partition("=")
        stored = None if raw == HIVE_NULL else urllib.parse.unquote(raw)
        if (
            not equals
            or urllib.parse.unquote(name) != column
            or not _same(snapshot, column, stored, value)
        ):
            break
        values[column] = stored
    if len(parts) != len(partition) or len(values) != len(partition):
        raise StorageError(
            f"partition {partition}: its files lie in {directory or 'the table root'!r}, not "
            "in the partition's col=value directory; a sort by several keys needs that layout"
        )
    return directory, values


def _same(snapshot: DeltaSnapshot, column: str, stored: str | None, value: str) -> bool:
    if stored is None or stored == "":
        return value == NULL_VALUE
    try:
        return snapshot.render(column, stored) == value
    except ValueError:
        return False


def _landed(snapshot: DeltaSnapshot, adds: Sequence[AddAction]) -> bool | None:
    """Whether the table's latest version holds the files ``adds`` names (``None``: the
    table could not be read to tell)."""
    try:
        snapshot.table.update_incremental()
        live = {urllib.parse.unquote(path) for path in snapshot.add_actions()["path"].to_pylist()}
    except Exception:  # the storage that just failed may still be failing
        return None
    return bool(adds) and adds[0].path in live


def _check_unchanged(snapshot: DeltaSnapshot, removing: Sequence[str]) -> None:
    """Refuse to commit unless every file to remove is still live, without a deletion
    vector, at the table's latest version, which the commit then builds on.

    Raises:
        StorageError: a concurrent writer removed one of the files or deleted rows in it.
    """
    snapshot.table.update_incremental()
    wanted = pa.array(removing, pa.string())
    gone = wanted.filter(pc.invert(pc.is_in(wanted, value_set=snapshot.add_actions()["path"])))
    changed = sorted(gone.to_pylist()) or sorted(_with_deletion_vectors(snapshot, removing))
    if changed:
        raise StorageError(
            f"{len(changed)} of the files being sorted changed while they were rewritten "
            f"(e.g. {changed[0]}): another writer removed them or deleted rows in them; "
            "nothing was committed, compact the partition again"
        )


def _with_deletion_vectors(snapshot: DeltaSnapshot, paths: Sequence[str]) -> frozenset[str]:
    """Those of ``paths`` (as the log spells them) whose file carries a deletion vector."""
    # Read whatever the protocol says: the engine reads vectors a writer added without it.
    table = snapshot.table
    vectors = pa.table(table.deletion_vectors())
    if not vectors.num_rows:
        return frozenset()
    root = table.table_uri.rstrip("/") + "/"
    decoded = {
        urllib.parse.unquote(uri.removeprefix(root)) for uri in vectors["filepath"].to_pylist()
    }
    return frozenset(path for path in paths if urllib.parse.unquote(path) in decoded)


def _delete_quietly(location: TableLocation, paths: list[str]) -> None:
    # Cleanup after a failure that is being raised: a leftover file is only unreferenced
    # debris, which a full vacuum reclaims.
    for path in reversed(paths):
        try:
            if location.fs.exists(path):
                location.fs.rm(path, recursive=True)
        except Exception:
            continue
