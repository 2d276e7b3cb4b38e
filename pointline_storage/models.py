"""Typed, frozen reports returned by backends, and the constructors every backend uses.

Every collection is a tuple and every ordering is deterministic, so two reports of the
same work compare equal and serialise identically. Counters are derived from the results
by :meth:`CompactionReport.from_results` and checked on construction, so a report whose
counters disagree with its results cannot exist.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pointline_storage.errors import CompactionFailedError, InvalidOptionError
from pointline_storage.partitions import NULL_VALUE, PartitionKey, format_partition
from pointline_storage.redaction import error_text

if TYPE_CHECKING:
    # Only for annotations: ``import pointline_storage`` must not load pyarrow (about
    # 25 MiB and most of the import time), so ``to_arrow`` imports it when called.
    import pyarrow as pa

#: What happened to one named partition.
#: ``would_compact`` appears only in dry runs; ``not_attempted`` only in the report of a
#: :class:`~pointline_storage.errors.CompactionFailedError`, for partitions after the failure.
PartitionStatus = Literal["compacted", "would_compact", "skipped", "failed", "not_attempted"]

#: The partition has fewer small files than ``min_small_files``.
SKIP_BELOW_MIN_SMALL_FILES = "below_min_small_files"
#: The partition holds no files at all (it does not exist in the table).
SKIP_NO_FILES = "no_files"
#: No two small files can be merged: fewer than two, none that fit together within the
#: target size, or (rarely, decided by the engine) none adjacent in its file order.
SKIP_NOTHING_TO_COMPACT = "nothing_to_compact"
#: Executing a plan: a file the partition was planned on is no longer live (another run
#: compacted or deleted it since), so the plan no longer describes it. Files appended
#: since the plan do not count as a change.
SKIP_CHANGED_SINCE_PLAN = "changed_since_plan"
#: With ``sort_by``: fewer than ``min_small_files`` of the partition's files stand out of
#: the first sort key's order (see ``PartitionStats.unsorted_files``); 0 means laid out.
SKIP_ALREADY_SORTED = "already_sorted"

#: Statuses of partitions a plan selected for compaction (skipped ones aside).
_PLANNED_STATUSES: tuple[PartitionStatus, ...] = (
    "compacted",
    "failed",
    "would_compact",
    "not_attempted",
)


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-serialisable data.

        Tuples become lists, and a partition becomes an object of column to value, in
        partition-column order (``{}`` for an unpartitioned table).
        """
        return {
            item.name: _plain(item.name, getattr(self, item.name))
            for item in dataclasses.fields(self)  # type: ignore[arg-type]
        }


def _plain(name: str, value: Any) -> Any:
    if name == "partition":
        return dict(value)
    if isinstance(value, _Serialisable):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain("", item) for item in value]
    return value


@dataclass(frozen=True)
class PartitionCompactionResult(_Serialisable):
    """The outcome of compacting one partition.

    Attributes:
        partition: The partition, canonically rendered.
        before_file_count: Files in the partition before the call.
        after_file_count: Files after the call, measured from the table once all work is
            done (so it includes files other writers appended meanwhile); ``None`` when
            not known, e.g. in a dry run for a partition that would be compacted.
        skipped_reason: Why the partition was skipped (one of the ``SKIP_*`` constants).
        error: ``"ExceptionType: message"`` when the partition failed.
        status: What happened, see :data:`PartitionStatus`.
        small_file_count: Small files before the call: smaller than the target size and
            able to merge with another file within it (see ``count_small_files``).
        bytes_before: Total size of the partition's files before the call.
        bytes_after: Total size after the call, measured like ``after_file_count``.
        rows_before: Rows before the call (``None`` if the table lacks row statistics).
        rows_after: Rows after the call, measured like ``after_file_count``: equal to
            ``rows_before`` unless other writers changed the partition meanwhile.
        files_removed: Files this compaction rewrote (and removed from the table), as its
            commit records them.
        files_added: Files this compaction wrote.
        unsorted_files: With ``sort_by``, the partition's files out of the first key's
            order before the call (see :class:`PartitionStats`); else ``None``.
    """

    partition: PartitionKey
    before_file_count: int
    after_file_count: int | None
    skipped_reason: str | None = None
    error: str | None = None
    status: PartitionStatus = field(kw_only=True)
    small_file_count: int = 0
    bytes_before: int = 0
    bytes_after: int | None = None
    rows_before: int | None = None
    rows_after: int | None = None
    files_removed: int = 0
    files_added: int = 0
    unsorted_files: int | None = None

    def __post_init__(self) -> None:
        if (self.skipped_reason is not None) != (self.status == "skipped"):
            raise ValueError(
                f"{format_partition(self.partition)}: a result has a skipped_reason exactly "
                f"when its status is 'skipped' (status {self.status!r}, "
                f"skipped_reason {self.skipped_reason!r})"
            )
        if (self.error is not None) != (self.status == "failed"):
            raise ValueError(
                f"{format_partition(self.partition)}: a result has an error exactly when its "
                f"status is 'failed' (status {self.status!r}, error {self.error!r})"
            )

    @classmethod
    def from_stats(
        cls,
        stats: PartitionStats,
        status: PartitionStatus,
        *,
        skipped_reason: str | None = None,
        error: BaseException | str | None = None,
        files_removed: int = 0,
        files_added: int = 0,
        after: PartitionStats | None = None,
    ) -> PartitionCompactionResult:
        """A partition's result: before-values from ``stats``, after-values from ``after``.

        A skipped partition was not rewritten, so its after-values default to ``stats``;
        otherwise they stay unknown (``None``) until measured (see :meth:`measured`). An
        exception given as ``error`` becomes ``"ExceptionType: message"`` with secrets
        masked (:func:`~pointline_storage.redaction.error_text`).
        """
        if after is None and status == "skipped":
            after = stats
        return cls(
            partition=stats.partition,
            before_file_count=stats.file_count,
            after_file_count=None if after is None else after.file_count,
            skipped_reason=skipped_reason,
            error=error_text(error) if isinstance(error, BaseException) else error,
            status=status,
            small_file_count=stats.small_file_count,
            bytes_before=stats.total_bytes,
            bytes_after=None if after is None else after.total_bytes,
            rows_before=stats.total_rows,
            rows_after=None if after is None else after.total_rows,
            files_removed=files_removed,
            files_added=files_added,
            unsorted_files=stats.unsorted_files,
        )

    def measured(self, after: PartitionStats) -> PartitionCompactionResult:
        """This result with its after-values taken from ``after`` (the partition now)."""
        return dataclasses.replace(
            self,
            after_file_count=after.file_count,
            bytes_after=after.total_bytes,
            rows_after=after.total_rows,
        )


@dataclass(frozen=True)
class CompactionReport(_Serialisable):
    """The outcome of one ``compact_partitions`` call.

    Attributes:
        table_name: The table as the caller named it.
        partition_keys: The table's partition columns, in order.
        planned_partitions: Partitions the plan selected for compaction.
        attempted_partitions: Partitions the engine was run on (0 in a dry run).
        succeeded_partitions: Partitions compacted.
        skipped_partitions: Partitions skipped, at planning or by the engine.
        failed_partitions: Partitions whose compaction raised.
        partitions: One result per distinct named partition, sorted by partition.
        dry_run: Whether this was a dry run (nothing written).
        target_file_size_bytes: The target size used to tell small files from large.
        min_small_files: The threshold used.
        version_before: Table version the plan was made from (``None`` if unversioned).
        version_after: Table version after the call, other writers' commits included
            (``None`` if unversioned).
        duration_seconds: Wall-clock time of the whole call.
        partition_kinds: The :data:`~pointline_storage.ValueKind` of each partition
            column, in order, as the table defines it; empty if the backend does not say.
        sort_by: The columns the compacted partitions were laid out by (``None``: not
            sorted).

    Build one with :meth:`from_results`, which derives every counter; constructing one
    whose counters disagree with its results raises ``ValueError``.
    """

    table_name: str
    partition_keys: tuple[str, ...]
    planned_partitions: int
    attempted_partitions: int
    succeeded_partitions: int
    skipped_partitions: int
    failed_partitions: int
    partitions: tuple[PartitionCompactionResult, ...]
    dry_run: bool = False
    target_file_size_bytes: int = 0
    min_small_files: int = 0
    version_before: int | None = None
    version_after: int | None = None
    duration_seconds: float = 0.0
    partition_kinds: tuple[str, ...] = ()
    sort_by: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        statuses = Counter(result.status for result in self.partitions)
        problems = _order_problems(self.partition_keys, self.partitions)
        noops = self.attempted_partitions - statuses["compacted"] - statuses["failed"]
        nothing_to_compact = sum(
            result.skipped_reason == SKIP_NOTHING_TO_COMPACT for result in self.partitions
        )
        for counter, expected in (
            ("succeeded_partitions", statuses["compacted"]),
            ("skipped_partitions", statuses["skipped"]),
            ("failed_partitions", statuses["failed"]),
            ("planned_partitions", noops + sum(statuses[status] for status in _PLANNED_STATUSES)),
        ):
            if getattr(self, counter) != expected:
                problems.append(f"{counter} is {getattr(self, counter)}, expected {expected}")
        if not 0 <= noops <= nothing_to_compact:
            problems.append(
                f"attempted_partitions is {self.attempted_partitions}: it counts compacted and "
                "failed partitions, plus planned ones the engine found nothing to rewrite in"
            )
        if self.dry_run and (noops or set(statuses) - {"would_compact", "skipped"}):
            problems.append("a dry run attempts nothing: statuses are would_compact or skipped")
        if problems:
            raise ValueError(
                f"inconsistent compaction report of table {self.table_name!r}: "
                + "; ".join(problems)
                + " (build reports with CompactionReport.from_results)"
            )

    @classmethod
    def from_results(
        cls,
        results: Iterable[PartitionCompactionResult],
        *,
        table_name: str,
        partition_keys: tuple[str, ...],
        dry_run: bool,
        target_file_size_bytes: int,
        min_small_files: int,
        started: float,
        engine_skipped: Collection[PartitionKey] = (),
        version_before: int | None = None,
        version_after: int | None = None,
        partition_kinds: tuple[str, ...] = (),
        sort_by: tuple[str, ...] | None = None,
    ) -> CompactionReport:
        """The report of a call, its counters derived from ``results`` (in any order).

        Args:
            results: One result per named partition.
            started: ``time.perf_counter()`` when the call began: the report's duration is
                the wall time of the whole call.
            engine_skipped: Planned partitions the engine ran on and found nothing to
                rewrite in (reported ``skipped`` as ``nothing_to_compact``): they count as
                planned and attempted.
        """
        ordered = tuple(sorted(results, key=lambda result: result.partition))
        statuses = Counter(result.status for result in ordered)
        attempted = statuses["compacted"] + statuses["failed"] + len(engine_skipped)
        return cls(
            table_name=table_name,
            partition_keys=partition_keys,
            planned_partitions=attempted + statuses["would_compact"] + statuses["not_attempted"],
            attempted_partitions=attempted,
            succeeded_partitions=statuses["compacted"],
            skipped_partitions=statuses["skipped"],
            failed_partitions=statuses["failed"],
            partitions=ordered,
            dry_run=dry_run,
            target_file_size_bytes=target_file_size_bytes,
            min_small_files=min_small_files,
            version_before=version_before,
            version_after=version_after,
            duration_seconds=time.perf_counter() - started,
            partition_kinds=partition_kinds,
            sort_by=sort_by,
        )

    def failure(self) -> CompactionFailedError:
        """The error of a call stopped by its first failed partition
        (``continue_on_error=False``); raise it ``from`` that partition's exception.

        Raises:
            ValueError: no partition failed.
        """
        failed = next((result for result in self.partitions if result.status == "failed"), None)
        if failed is None:
            raise ValueError(f"no partition of table {self.table_name!r} failed")
        return CompactionFailedError(
            f"compaction of table {self.table_name!r} failed at partition "
            f"{format_partition(failed.partition)}: {failed.error}",
            report=self,
        )

    def to_arrow(self) -> pa.Table:
        """Return the per-partition results as a pyarrow table, one row per partition.

        Partition columns come first, typed by ``partition_kinds`` (see
        :mod:`pointline_storage.arrow_tables`), then every field of
        :class:`PartitionCompactionResult`. For pandas or polars:
        ``report.to_arrow().to_pandas()``, ``polars.from_arrow(report.to_arrow())``.
        """
        from pointline_storage.arrow_tables import compaction_table

        return compaction_table(self)


#: A directory holding a table of its own (a Delta ``_delta_log/``, or Iceberg's
#: ``metadata/`` with ``*.metadata.json``); nothing below it is touched.
KEEP_NESTED_TABLE = "nested_table"
#: A directory or file where no writer of this table puts files: outside its partition
#: layout (``col=value/`` per partition column, in order), e.g. another tool's folder.
KEEP_OUTSIDE_LAYOUT = "outside_table_layout"
#: A file in the table's layout that is neither a Parquet data file nor a deletion vector.
KEEP_NOT_TABLE_FILE = "not_a_table_file"
#: A deletion-vector file, kept because the table has live deletion vectors and the
#: engine cannot tell which files hold them (its own full vacuum deletes them too).
KEEP_DELETION_VECTOR = "deletion_vector_maybe_live"


@dataclass(frozen=True)
class KeptPath(_Serialisable):
    """Unreferenced files past the retention that a full vacuum kept: they may not be the
    table's own, so it leaves them for the user to clean by hand.

    Attributes:
        path: Relative to the table root; a directory ends with ``/``.
        reason: Why it was kept (one of the ``KEEP_*`` constants).
        file_count: How many files the engine would have deleted there.
    """

    path: str
    reason: str
    file_count: int = 1


@dataclass(frozen=True)
class VacuumReport(_Serialisable):
    """The outcome of one ``vacuum_table`` call.

    Attributes:
        table_name: The table as the caller named it.
        dry_run: Whether files were only listed, not deleted.
        retention_hours: Files removed from the table less than this long ago are kept.
        enforce_retention_duration: Whether the table's minimum retention was enforced.
        full: Whether files never referenced by the log were considered too.
        deleted_count: How many files were (or, in a dry run, would be) deleted.
        deleted_files: Their paths relative to the table root, sorted.
        deleted_bytes: Their total size.
        version: Table version the vacuum read before deciding.
        duration_seconds: Wall-clock time of the call.
        kept: What a full vacuum found unreferenced but kept, and why, sorted by path.
    """

    table_name: str
    dry_run: bool
    retention_hours: int
    enforce_retention_duration: bool
    full: bool
    deleted_count: int
    deleted_files: tuple[str, ...]
    deleted_bytes: int = 0
    version: int | None = None
    duration_seconds: float = 0.0
    kept: tuple[KeptPath, ...] = ()

    def __post_init__(self) -> None:
        if self.deleted_count != len(self.deleted_files):
            raise ValueError(
                f"inconsistent vacuum report of table {self.table_name!r}: deleted_count is "
                f"{self.deleted_count} but {len(self.deleted_files)} files are listed"
            )
        if list(self.deleted_files) != sorted(set(self.deleted_files)):
            raise ValueError(
                f"inconsistent vacuum report of table {self.table_name!r}: deleted_files "
                "must be sorted and list each file once"
            )

    @classmethod
    def from_deleted(
        cls,
        deleted: Mapping[str, int],
        *,
        table_name: str,
        dry_run: bool,
        retention_hours: int,
        enforce_retention_duration: bool,
        full: bool,
        started: float,
        version: int | None = None,
        kept: tuple[KeptPath, ...] = (),
    ) -> VacuumReport:
        """The report of a vacuum that deleted (or would delete) ``deleted``: each file's
        path relative to the table root, mapped to its size. ``started`` is
        ``time.perf_counter()`` when the call began; ``kept`` what a full vacuum kept."""
        return cls(
            table_name=table_name,
            dry_run=dry_run,
            retention_hours=retention_hours,
            enforce_retention_duration=enforce_retention_duration,
            full=full,
            deleted_count=len(deleted),
            deleted_files=tuple(sorted(deleted)),
            deleted_bytes=sum(deleted.values()),
            version=version,
            duration_seconds=time.perf_counter() - started,
            kept=tuple(sorted(kept, key=lambda entry: entry.path)),
        )


@dataclass(frozen=True)
class PartitionStats(_Serialisable):
    """Read-only statistics of one partition.

    Attributes:
        partition: The partition, canonically rendered.
        file_count: Data files in the partition.
        small_file_count: Small files: smaller than the target size and able to merge
            with another file within it (see ``count_small_files``).
        total_bytes: Total size of the files.
        total_rows: Total rows (``None`` if the table lacks row statistics).
        unsorted_files: When inspected with ``sort_by``: how many files stand out of the
            first key's order, the fewest whose removal leaves the others covering
            pairwise disjoint ranges of the key (ranges may touch), as the file statistics
            show them; a file without statistics on the key always counts. ``0``: laid
            out by the key. ``None`` when not asked for.
    """

    partition: PartitionKey
    file_count: int
    small_file_count: int
    total_bytes: int
    total_rows: int | None
    unsorted_files: int | None = None

    @classmethod
    def empty(cls, partition: PartitionKey) -> PartitionStats:
        """The statistics of a partition that holds no file."""
        return cls(partition, 0, 0, 0, 0)

    def skip_reason(
        self, *, min_small_files: int, can_merge: bool, sorting: bool = False
    ) -> str | None:
        """Why a compaction skips this partition, or ``None`` if it is to be compacted.

        Args:
            min_small_files: The caller's threshold.
            can_merge: Whether the engine would rewrite anything (e.g. two small files fit
                together within the target).
            sorting: A sorted compaction (``sort_by``): ``unsorted_files`` decides
                instead of the small files, since the sort rewrites the whole partition;
                fewer than ``min_small_files`` of them is ``SKIP_ALREADY_SORTED``.
        """
        if self.file_count == 0:
            return SKIP_NO_FILES
        if sorting:
            unsorted = self.unsorted_files or 0
            return SKIP_ALREADY_SORTED if unsorted < min_small_files else None
        if self.small_file_count < min_small_files:
            return SKIP_BELOW_MIN_SMALL_FILES
        if not can_merge:
            return SKIP_NOTHING_TO_COMPACT
        return None


@dataclass(frozen=True)
class TableInspection(_Serialisable):
    """The outcome of one ``inspect_partitions`` call.

    Attributes:
        table_name: The table as the caller named it.
        partition_keys: The table's partition columns, in order.
        target_file_size_bytes: The target size small files are counted against.
        version: Table version inspected (``None`` if unversioned).
        partitions: Statistics per partition, sorted by partition. With no partitions
            named, every partition of the table; otherwise each named one (a named
            partition with no files appears with zero counts).
        partition_kinds: The :data:`~pointline_storage.ValueKind` of each partition
            column, in order, as the table defines it; empty if the backend does not say.
        sort_by: The sort keys the layout was checked against (``None``: not checked).
    """

    table_name: str
    partition_keys: tuple[str, ...]
    target_file_size_bytes: int
    version: int | None
    partitions: tuple[PartitionStats, ...]
    partition_kinds: tuple[str, ...] = ()
    sort_by: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        problems = _order_problems(self.partition_keys, self.partitions)
        if problems:
            raise ValueError(
                f"inconsistent inspection of table {self.table_name!r}: " + "; ".join(problems)
            )

    def to_arrow(self) -> pa.Table:
        """Return the statistics as a pyarrow table, one row per partition.

        Partition columns come first, typed by ``partition_kinds`` (see
        :mod:`pointline_storage.arrow_tables`), then ``file_count``, ``small_file_count``,
        ``total_bytes``, ``total_rows`` and ``unsorted_files``. For pandas or polars:
        ``inspection.to_arrow().to_pandas()``, ``polars.from_arrow(inspection.to_arrow())``.
        """
        from pointline_storage.arrow_tables import inspection_table

        return inspection_table(self)

    def needing_compaction(self, *, min_small_files: int = 8) -> tuple[dict[str, str | None], ...]:
        """The partitions a compaction with ``min_small_files`` would compact, sorted.

        Those with at least ``min_small_files`` small files, and at least two: a small file
        is one that fits together with another within the target (``count_small_files``),
        so two of them is what a compaction needs to rewrite anything. Each is a mapping
        ``compact_partitions`` takes (``None`` for a null value)::

            inspection = backend.inspect_partitions("orders")
            backend.compact_partitions("orders", partitions=inspection.needing_compaction())

        The default is ``compact_partitions``'s. The selection uses this inspection's
        target size: compact with the same (the table's) target.

        Raises:
            InvalidOptionError: ``min_small_files`` is not an integer >= 0.
        """
        if isinstance(min_small_files, bool) or not isinstance(min_small_files, int):
            raise InvalidOptionError(f"min_small_files must be an integer, got {min_small_files!r}")
        if min_small_files < 0:
            raise InvalidOptionError(f"min_small_files must be >= 0, got {min_small_files}")
        return tuple(
            {column: None if value == NULL_VALUE else value for column, value in stats.partition}
            for stats in self.partitions
            if stats.skip_reason(
                min_small_files=min_small_files, can_merge=stats.small_file_count >= 2
            )
            is None
        )


@dataclass(frozen=True)
class BackendInfo(_Serialisable):
    """An installed backend, as its entry point declares it (nothing imported).

    Attributes:
        name: The entry-point name, passed to ``load_backend``.
        distribution: The distribution that declares it.
        version: That distribution's version.
        target: The entry point's ``module:attribute``.
    """

    name: str
    distribution: str
    version: str
    target: str


def _order_problems(
    columns: tuple[str, ...], rows: tuple[PartitionStats | PartitionCompactionResult, ...]
) -> list[str]:
    """What is wrong with the order, uniqueness or columns of a report's partitions."""
    keys = [row.partition for row in rows]
    problems = []
    if keys != sorted(set(keys)):
        problems.append("partitions must be sorted and each listed once")
    wrong = [key for key in keys if tuple(column for column, _ in key) != columns]
    if wrong:
        problems.append(
            f"partition {format_partition(wrong[0])} does not name the columns {list(columns)}"
        )
    return problems
