"""pointline-storage: explicit, safe maintenance primitives for partitioned lakehouse tables.

Load a backend by name, then call its primitives::

    from pointline_storage import load_backend

    backend = load_backend("delta-local", root="/data/silver")
    report = backend.compact_partitions(
        "cn_order_events", partitions=[{"exchange": "sse", "trading_date": "2024-01-02"}]
    )
    print(report.to_dict())  # plain JSON-ready data
    frame = backend.inspect_partitions("cn_order_events").to_arrow().to_pandas()

Calling:
    ``load_backend`` gives a ``Backend`` (the typed facade: ``compact_partitions``,
    ``inspect_partitions``, ``vacuum_table``, ``plan_compaction``, ``execute_plan``; the
    compaction calls spread over any ``concurrent.futures.Executor`` with ``executor=``
    and ``shards=``); ``available_backends`` lists the installed
    ones as ``BackendInfo``, found in the entry-point group ``ENTRY_POINT_GROUP``.
    ``PartitionOptimizer`` and ``TableVacuum`` are the Protocols a loaded backend satisfies.
    A backend does not pickle; its ``spec`` (a ``BackendSpec``) does, and ``.load()``s it.

Reports (frozen dataclasses with ``to_dict()``; inspections and compactions also
``to_arrow()``):
    ``CompactionReport`` of ``PartitionCompactionResult``, whose ``status`` is a
    ``PartitionStatus`` and whose ``skipped_reason`` is ``SKIP_BELOW_MIN_SMALL_FILES``,
    ``SKIP_NO_FILES``, ``SKIP_NOTHING_TO_COMPACT``, ``SKIP_CHANGED_SINCE_PLAN`` or (with
    ``sort_by``) ``SKIP_ALREADY_SORTED``; ``TableInspection`` of ``PartitionStats``;
    ``VacuumReport``, whose ``kept`` lists ``KeptPath`` entries, each with a reason:
    ``KEEP_NESTED_TABLE``, ``KEEP_OUTSIDE_LAYOUT``, ``KEEP_NOT_TABLE_FILE`` or
    ``KEEP_DELETION_VECTOR``; ``TableLeases`` of ``LeaseInfo`` (whose ``state`` is a
    ``LeaseState``), from ``Backend.list_leases``. ``CompactionPlan`` (of
    ``PlannedPartition``, JSON format ``PLAN_FORMAT``, ``InvalidPlanError``) is what
    ``Backend.plan_compaction`` makes and ``Backend.execute_plan`` runs, anywhere. A
    partition is a ``PartitionKey``: ``(column, value)`` pairs in column order, values
    canonical (``format_partition`` renders it, ``NULL_VALUE`` stands for a null value).

Errors:
    everything a caller can cause derives from ``PointlineStorageError``; storage that
    refuses the credentials raises ``StorageAccessError``, storage that does not answer
    ``StorageUnreachableError`` (both ``StorageError``). A compaction stopped by SIGINT
    or SIGTERM raises ``CompactionInterruptedError`` (a ``CompactionFailedError``) with
    the partial report.

Writing a backend (see CONTRIBUTING.md and the conformance suite
``pointline_storage.testing``):
    mark hook implementations with ``hookimpl``; build results and reports with
    ``PartitionStats.empty``, ``PartitionCompactionResult.from_stats`` and
    ``CompactionReport.from_results`` (which derives the counters) and raise
    ``report.failure()``; a format without a transaction log hands its listing (a
    ``FileListing``: each partition's files and statistics, and how to list it anew) and
    a merge to ``compact_by_merging``, which does all of that for it; ``HiveListing`` is
    such a listing of ``col=value`` directories of Parquet files; ``stop_on_signals`` gives a
    ``StopRequest`` to check between engine calls; a caller names a partition with a
    ``PartitionSpec`` (column -> value), which ``normalize_partitions`` checks against the
    table's columns, rendering values with ``canonical_value`` by ``ValueKind`` (a format
    without column types guesses them with ``infer_kind``);
    ``render_stored_value`` renders values read from storage the same way;
    ``count_small_files`` counts a partition's small files (those a compaction could
    merge: below the target and fitting with another file within it);
    ``resolve_table_location`` (with ``validate_table_name``) turns a table name into a
    ``TableLocation``. ``secret_values`` picks the secrets out of storage options and
    ``redact`` masks them in any message.

Observing:
    ``POINTLINE_STORAGE_TRACE=1`` registers a ``TraceObserver`` on every backend loaded,
    logging each call with its duration to the ``pointline_storage.trace`` logger; register
    your own hookwrapper on ``Backend.plugin_manager`` the same way.
"""

from pointline_storage.backend import Backend, load_backend
from pointline_storage.contracts import PartitionOptimizer, TableVacuum
from pointline_storage.errors import (
    BackendLoadError,
    BackendNotFoundError,
    CompactionFailedError,
    CompactionInterruptedError,
    InvalidOptionError,
    InvalidPartitionError,
    InvalidTableNameError,
    PointlineStorageError,
    RetentionTooShortError,
    StorageAccessError,
    StorageError,
    StorageUnreachableError,
    TableNotFoundError,
    UnsupportedOperationError,
    UnsupportedOptionError,
)
from pointline_storage.hive_listing import HiveListing
from pointline_storage.hookspecs import hookimpl
from pointline_storage.interruption import StopRequest, stop_on_signals
from pointline_storage.leases import LeaseInfo, LeaseState, TableLeases
from pointline_storage.locations import (
    TableLocation,
    resolve_table_location,
    validate_table_name,
)
from pointline_storage.merging import FileListing, compact_by_merging
from pointline_storage.models import (
    KEEP_DELETION_VECTOR,
    KEEP_NESTED_TABLE,
    KEEP_NOT_TABLE_FILE,
    KEEP_OUTSIDE_LAYOUT,
    SKIP_ALREADY_SORTED,
    SKIP_BELOW_MIN_SMALL_FILES,
    SKIP_CHANGED_SINCE_PLAN,
    SKIP_NO_FILES,
    SKIP_NOTHING_TO_COMPACT,
    BackendInfo,
    CompactionReport,
    KeptPath,
    PartitionCompactionResult,
    PartitionStats,
    PartitionStatus,
    TableInspection,
    VacuumReport,
)
from pointline_storage.partitions import (
    NULL_VALUE,
    PartitionKey,
    PartitionSpec,
    ValueKind,
    canonical_value,
    format_partition,
    infer_kind,
    normalize_partitions,
    render_stored_value,
)
from pointline_storage.plans import (
    PLAN_FORMAT,
    CompactionPlan,
    InvalidPlanError,
    PlannedPartition,
)
from pointline_storage.redaction import redact, secret_values
from pointline_storage.registry import ENTRY_POINT_GROUP, available_backends
from pointline_storage.small_files import count_small_files
from pointline_storage.spec import BackendSpec
from pointline_storage.trace import TraceObserver

__all__ = [
    "ENTRY_POINT_GROUP",
    "KEEP_DELETION_VECTOR",
    "KEEP_NESTED_TABLE",
    "KEEP_NOT_TABLE_FILE",
    "KEEP_OUTSIDE_LAYOUT",
    "NULL_VALUE",
    "PLAN_FORMAT",
    "SKIP_ALREADY_SORTED",
    "SKIP_BELOW_MIN_SMALL_FILES",
    "SKIP_CHANGED_SINCE_PLAN",
    "SKIP_NOTHING_TO_COMPACT",
    "SKIP_NO_FILES",
    "Backend",
    "BackendInfo",
    "BackendLoadError",
    "BackendNotFoundError",
    "BackendSpec",
    "CompactionFailedError",
    "CompactionInterruptedError",
    "CompactionPlan",
    "CompactionReport",
    "FileListing",
    "HiveListing",
    "InvalidOptionError",
    "InvalidPartitionError",
    "InvalidPlanError",
    "InvalidTableNameError",
    "KeptPath",
    "LeaseInfo",
    "LeaseState",
    "PartitionCompactionResult",
    "PartitionKey",
    "PartitionOptimizer",
    "PartitionSpec",
    "PartitionStats",
    "PartitionStatus",
    "PlannedPartition",
    "PointlineStorageError",
    "RetentionTooShortError",
    "StopRequest",
    "StorageAccessError",
    "StorageError",
    "StorageUnreachableError",
    "TableInspection",
    "TableLeases",
    "TableLocation",
    "TableNotFoundError",
    "TableVacuum",
    "TraceObserver",
    "UnsupportedOperationError",
    "UnsupportedOptionError",
    "VacuumReport",
    "ValueKind",
    "available_backends",
    "canonical_value",
    "compact_by_merging",
    "count_small_files",
    "format_partition",
    "hookimpl",
    "infer_kind",
    "load_backend",
    "normalize_partitions",
    "redact",
    "render_stored_value",
    "resolve_table_location",
    "secret_values",
    "stop_on_signals",
    "validate_table_name",
]
