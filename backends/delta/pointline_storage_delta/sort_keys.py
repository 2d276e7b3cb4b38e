"""Which columns a Delta partition can be sorted by, checked before anything is written.

One key is the engine's (``optimize.z_order`` of one column is that column's order);
several are :mod:`~pointline_storage_delta.sorted_rewrite`'s lexicographic rewrite.
"""

from __future__ import annotations

from collections.abc import Collection

from pointline_storage import InvalidOptionError
from pointline_storage_delta.engine_options import EngineOptions
from pointline_storage_delta.snapshot import DeltaSnapshot

COLUMN_MAPPING_PROPERTY = "delta.columnMapping.mode"

#: Types the engine orders by value and keeps file statistics for. Not binary (no
#: statistics, so a sorted layout could never be recognised), not decimals (the engine
#: orders only the first 16 bytes of a value's row encoding, one short of a decimal's),
#: not nested types (no order of their own).
SORTABLE_TYPES = frozenset(
    {
        "boolean",
        "byte",
        "short",
        "integer",
        "long",
        "float",
        "double",
        "date",
        "timestamp",
        "timestamp_ntz",
        "string",
    }
)


def check_sort_keys(
    snapshot: DeltaSnapshot,
    sort_by: tuple[str, ...],
    *,
    table_name: str,
    statistics: Collection[str],
) -> None:
    """Refuse sort keys the engine cannot lay a partition out by.

    ``statistics`` are the column names of the snapshot's flattened add actions (empty
    when the table has no files): a key needs ``min.<key>`` among them.

    Raises:
        InvalidOptionError: an unknown column, a partition column, a type without an order
            or statistics, a column the table keeps no statistics of, or several keys on a
            table with column mapping.
    """
    mapping = snapshot.configuration.get(COLUMN_MAPPING_PROPERTY, "none")
    if len(sort_by) > 1 and mapping != "none":
        raise InvalidOptionError(
            f"cannot sort table {table_name!r} by several columns {list(sort_by)}: it uses "
            f"column mapping ({COLUMN_MAPPING_PROPERTY}={mapping}), which the rewrite by "
            "several keys does not support yet; sort by one column"
        )
    types = {
        field.name: str(getattr(field.type, "type", field.type))
        for field in snapshot.table.schema().fields
    }
    for key in sort_by:
        if key not in types:
            raise InvalidOptionError(
                f"cannot sort table {table_name!r} by {key!r}: no such column "
                f"(columns: {', '.join(sorted(types))})"
            )
        if key in snapshot.partition_columns:
            raise InvalidOptionError(
                f"cannot sort table {table_name!r} by {key!r}: it is a partition column, "
                "constant within each partition; sort by a data column"
            )
        if types[key] not in SORTABLE_TYPES:
            raise InvalidOptionError(
                f"cannot sort table {table_name!r} by {key!r}: its type {types[key]} has "
                f"no order the engine sorts by and records (sortable: "
                f"{', '.join(sorted(SORTABLE_TYPES))})"
            )
        if statistics and f"min.{key}" not in statistics:
            raise InvalidOptionError(
                f"cannot sort table {table_name!r} by {key!r}: the table keeps no file "
                "statistics for it, so a sorted layout could not be recognised; include it "
                "in delta.dataSkippingStatsColumns (or within the first "
                "delta.dataSkippingNumIndexedCols columns)"
            )


def check_engine_options(
    sort_by: tuple[str, ...] | None, engine: EngineOptions, *, table_name: str
) -> None:
    """Refuse engine knobs a sort by several keys cannot honour: it sorts each partition in
    memory with pyarrow, not in the engine's spilling, parallel rewrite.

    Raises:
        InvalidOptionError: ``max_spill_size`` or ``max_concurrent_tasks`` with several keys.
    """
    if sort_by is None or len(sort_by) < 2:
        return
    for name in ("max_spill_size", "max_concurrent_tasks"):
        if getattr(engine, name) is not None:
            raise InvalidOptionError(
                f"cannot sort table {table_name!r} by {list(sort_by)} with {name}: a sort by "
                f"several columns sorts each partition in memory, so {name} (an option of "
                "the engine's rewrite) cannot apply; leave it unset, or sort by one column"
            )
