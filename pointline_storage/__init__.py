"""pointline-storage: explicit, safe maintenance primitives for partitioned lakehouse tables.

Load a backend by name, then call its primitives::

    from pointline_storage import load_backend

    backend = load_backend("delta-local", root="/data/silver")
    report = backend.compact_partitions(
        "cn_order_events", partitions=[{"exchange": "sse", "trading_date": "2024-01-02"}]
    )
"""

from pointline_storage.backend import Backend, load_backend
from pointline_storage.contracts import PartitionOptimizer, TableVacuum
from pointline_storage.errors import (
    BackendLoadError,
    BackendNotFoundError,
    CompactionFailedError,
    InvalidOptionError,
    InvalidPartitionError,
    InvalidTableNameError,
    PointlineStorageError,
    RetentionTooShortError,
    StorageError,
    TableNotFoundError,
    UnsupportedOperationError,
)
from pointline_storage.hookspecs import hookimpl
from pointline_storage.locations import TableLocation, resolve_table_location
from pointline_storage.models import (
    SKIP_BELOW_MIN_SMALL_FILES,
    SKIP_NO_FILES,
    SKIP_NOTHING_TO_COMPACT,
    BackendInfo,
    CompactionReport,
    PartitionCompactionResult,
    PartitionKey,
    PartitionStats,
    PartitionStatus,
    TableInspection,
    VacuumReport,
)
from pointline_storage.partitions import (
    PartitionSpec,
    ValueKind,
    canonical_value,
    normalize_partitions,
    render_stored_value,
)
from pointline_storage.registry import ENTRY_POINT_GROUP, available_backends

__all__ = [
    "ENTRY_POINT_GROUP",
    "SKIP_BELOW_MIN_SMALL_FILES",
    "SKIP_NOTHING_TO_COMPACT",
    "SKIP_NO_FILES",
    "Backend",
    "BackendInfo",
    "BackendLoadError",
    "BackendNotFoundError",
    "CompactionFailedError",
    "CompactionReport",
    "InvalidOptionError",
    "InvalidPartitionError",
    "InvalidTableNameError",
    "PartitionCompactionResult",
    "PartitionKey",
    "PartitionOptimizer",
    "PartitionSpec",
    "PartitionStats",
    "PartitionStatus",
    "PointlineStorageError",
    "RetentionTooShortError",
    "StorageError",
    "TableInspection",
    "TableLocation",
    "TableNotFoundError",
    "TableVacuum",
    "UnsupportedOperationError",
    "VacuumReport",
    "ValueKind",
    "available_backends",
    "canonical_value",
    "hookimpl",
    "load_backend",
    "normalize_partitions",
    "render_stored_value",
    "resolve_table_location",
]
