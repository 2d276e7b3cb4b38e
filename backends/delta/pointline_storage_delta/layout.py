"""Whether a partition's files are laid out by a sort key, read from file statistics alone.

The add actions carry each file's ``null_count``, ``min`` and ``max`` per column. A file
covers the range ``[min, max]`` of the key, extended below every value when it holds nulls
(the engine sorts nulls first). A partition is *laid out* by the key when its files' ranges
are pairwise disjoint; ranges may touch (one file's maximum equal to the next one's minimum),
since a sorted rewrite can cut a run of equal values between two files.

Appended files usually overlap the laid-out ones. :func:`unsorted_files` counts the files
that stand out of order: the fewest files whose removal leaves pairwise disjoint ranges. A
file without statistics on the key always counts, since nothing shows where it belongs.
Statistics are as precise as the log keeps them (timestamps to the millisecond, long
strings truncated), so overlaps finer than that are not seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from pointline_storage import PartitionKey, PartitionStats, render_stored_value
from pointline_storage_delta.snapshot import DeltaSnapshot
from pointline_storage_delta.sort_keys import check_sort_keys

#: Below every value: where a file holding nulls starts (or, all nulls, ends).
_NULL: tuple[Any, ...] = (0,)


def statistics(snapshot: DeltaSnapshot) -> list[str]:
    """The columns of the snapshot's flattened add actions (``min.<column>``, ...)."""
    return list(snapshot.add_actions().column_names)


def with_layout(
    snapshot: DeltaSnapshot,
    stats: Mapping[PartitionKey, PartitionStats],
    sort_by: tuple[str, ...],
    *,
    table_name: str,
) -> dict[PartitionKey, PartitionStats]:
    """``stats`` with each partition's ``unsorted_files`` filled for ``sort_by``'s first key.

    Raises:
        InvalidOptionError: the table cannot be sorted by ``sort_by`` (see
            :func:`~pointline_storage_delta.sort_keys.check_sort_keys`).
    """
    actions = snapshot.add_actions()
    check_sort_keys(snapshot, sort_by, table_name=table_name, statistics=actions.column_names)
    counts = unsorted_files(actions, snapshot.partition_columns, sort_by[0])
    return {
        key: dataclasses.replace(value, unsorted_files=counts.get(key, 0))
        for key, value in stats.items()
    }


def unsorted_files(
    actions: pa.Table, partition_columns: Sequence[str], key: str
) -> dict[PartitionKey, int]:
    """Per partition holding files, how many of them stand out of ``key`` order.

    ``actions`` is ``DeltaTable.get_add_actions(flatten=True)`` as a pyarrow table. ``0``
    means the partition is laid out by ``key``.
    """
    wanted = [f"partition.{column}" for column in partition_columns]
    wanted += ["num_records", f"null_count.{key}", f"min.{key}", f"max.{key}"]
    present = [column for column in wanted if column in actions.column_names]
    ranges: dict[PartitionKey, list[tuple[tuple[Any, ...], tuple[Any, ...]] | None]] = {}
    for row in actions.select(present).to_pylist():
        partition = tuple(
            (column, render_stored_value(row[f"partition.{column}"]))
            for column in partition_columns
        )
        ranges.setdefault(partition, []).append(
            _range(
                row.get("num_records"),
                row.get(f"null_count.{key}"),
                row.get(f"min.{key}"),
                row.get(f"max.{key}"),
            )
        )
    return {partition: _out_of_order(files) for partition, files in ranges.items()}


def _range(
    rows: int | None, nulls: int | None, low: object, high: object
) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """A file's ``(start, end)`` on the key, or ``None`` when its statistics do not say."""
    if rows is None or nulls is None:
        return None
    if nulls >= rows:
        return _NULL, _NULL
    if low is None or high is None:
        return None
    return (_NULL if nulls else (1, low)), (1, high)


def _out_of_order(files: list[tuple[tuple[Any, ...], tuple[Any, ...]] | None]) -> int:
    known = sorted((file for file in files if file is not None), key=lambda r: (r[1], r[0]))
    # Greedy by end: the largest set of pairwise disjoint ranges (interval scheduling).
    kept = 0
    end: tuple[Any, ...] | None = None
    for start, stop in known:
        if end is None or start >= end:
            kept += 1
            end = stop
    return len(files) - kept
