"""Compaction plans: what one compaction will do, made in one place and executed in another.

``Backend.plan_compaction`` writes a :class:`CompactionPlan`; ``Backend.execute_plan`` runs
it, here or in another process (``plan.to_json()`` carries it through a queue or an
orchestrator's task), and ``plan.split(n)`` cuts it into disjoint shards for ``n`` workers.

The JSON form (``"format": 1``) is one object::

    {"format": 1, "table_name": "trades", "partition_keys": ["exchange", "trading_date"],
     "partition_kinds": ["string", "date"], "version": 12,
     "target_file_size_bytes": 104857600, "min_small_files": 8, "sort_by": null,
     "partitions": [{"partition": [["exchange", "sse"], ["trading_date", "2024-01-02"]],
                     "file_count": 40, "small_file_count": 40, "total_bytes": 41000,
                     "total_rows": 400, "unsorted_files": null,
                     "files": ["exchange=sse/.../part-0.parquet", ...]}],
     "skipped": [{"partition": [["exchange", "szse"], ...], "status": "skipped",
                  "skipped_reason": "below_min_small_files", ...every result field}]}

``sort_by`` is ``null`` or the list of columns executing the plan lays partitions out by
(then each planned partition's ``unsorted_files`` is a count). ``partition`` is a list of
``[column, value]`` pairs in partition-column order (values
canonical, as in :data:`~pointline_storage.partitions.PartitionKey`); ``files`` are the
live data files the partition was planned on, as the table's log names them; a skipped
entry holds every field of :class:`~pointline_storage.models.PartitionCompactionResult`.
A reader refuses any other ``format``.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pointline_storage.errors import InvalidOptionError, PointlineStorageError
from pointline_storage.models import PartitionCompactionResult, PartitionStats
from pointline_storage.partitions import PartitionKey, format_partition

#: The version of the JSON form :meth:`CompactionPlan.to_json` writes.
PLAN_FORMAT = 1


class InvalidPlanError(PointlineStorageError, ValueError):
    """A plan's JSON is malformed, of an unknown format version, or does not fit the table."""


@dataclass(frozen=True)
class PlannedPartition:
    """One partition a plan selected for compaction.

    Attributes:
        stats: Its statistics when planned (the before-values of its result).
        files: The live data files it was planned on, as the table's log names them,
            sorted. Executing the plan skips the partition if any of them is gone.
    """

    stats: PartitionStats
    files: tuple[str, ...]

    @property
    def partition(self) -> PartitionKey:
        """The partition, canonically rendered."""
        return self.stats.partition


@dataclass(frozen=True)
class CompactionPlan:
    """What a compaction of one table will do, planned from one table version.

    It names no backend and holds no credentials: execute it with any backend loaded on
    the same table (``Backend.execute_plan``).

    Attributes:
        table_name: The table as the caller named it.
        partition_keys: The table's partition columns, in order.
        version: The table version planned from (``None`` if unversioned).
        target_file_size_bytes: The target size planned with.
        min_small_files: The threshold planned with.
        partitions: The partitions to compact, sorted by partition.
        skipped: Results of the named partitions not worth compacting, sorted.
        partition_kinds: The ``ValueKind`` of each partition column, as reports carry
            them (``()`` if the backend does not say).
        sort_by: The columns executing the plan lays each partition out by (``None``:
            plain compaction); planned partitions' statistics then carry
            ``unsorted_files``.
    """

    table_name: str
    partition_keys: tuple[str, ...]
    version: int | None
    target_file_size_bytes: int
    min_small_files: int
    partitions: tuple[PlannedPartition, ...]
    skipped: tuple[PartitionCompactionResult, ...] = ()
    partition_kinds: tuple[str, ...] = ()
    sort_by: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        keys = [planned.partition for planned in self.partitions]
        skipped = [result.partition for result in self.skipped]
        problems = []
        if keys != sorted(set(keys)) or skipped != sorted(set(skipped)):
            problems.append("partitions and skipped must each be sorted, each partition once")
        if set(keys) & set(skipped):
            problems.append("a partition is both planned and skipped")
        if any(result.status != "skipped" for result in self.skipped):
            problems.append("every result in skipped must have status 'skipped'")
        wrong = [key for key in keys + skipped if tuple(c for c, _ in key) != self.partition_keys]
        if wrong:
            problems.append(
                f"partition {format_partition(wrong[0])} does not name the columns "
                f"{list(self.partition_keys)}"
            )
        if self.partition_kinds and len(self.partition_kinds) != len(self.partition_keys):
            problems.append("partition_kinds must name one kind per partition column")
        if problems:
            raise InvalidPlanError(
                f"inconsistent compaction plan of table {self.table_name!r}: " + "; ".join(problems)
            )

    @property
    def total_bytes(self) -> int:
        """Bytes of the planned partitions when planned."""
        return sum(planned.stats.total_bytes for planned in self.partitions)

    def to_json(self) -> str:
        """The plan as JSON (see the module documentation for the format)."""
        return json.dumps(
            {
                "format": PLAN_FORMAT,
                "table_name": self.table_name,
                "partition_keys": list(self.partition_keys),
                "partition_kinds": list(self.partition_kinds),
                "version": self.version,
                "target_file_size_bytes": self.target_file_size_bytes,
                "min_small_files": self.min_small_files,
                "sort_by": None if self.sort_by is None else list(self.sort_by),
                "partitions": [
                    {
                        **_stats_fields(planned.stats),
                        "partition": _pairs(planned.partition),
                        "files": list(planned.files),
                    }
                    for planned in self.partitions
                ],
                "skipped": [
                    {**result.to_dict(), "partition": _pairs(result.partition)}
                    for result in self.skipped
                ],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> CompactionPlan:
        """Read a plan written by :meth:`to_json`; ``from_json(plan.to_json()) == plan``.

        Raises:
            InvalidPlanError: the text is not JSON, its ``format`` is not
                :data:`PLAN_FORMAT`, or a field is missing or of the wrong type.
        """
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidPlanError(f"a compaction plan must be JSON: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise InvalidPlanError(
                f"unknown compaction plan format {found!r}: this version reads format "
                f"{PLAN_FORMAT}; write the plan again with this version's plan_compaction"
            )
        try:
            return cls(
                table_name=_typed(data["table_name"], str),
                partition_keys=tuple(_typed(c, str) for c in data["partition_keys"]),
                version=None if data["version"] is None else _typed(data["version"], int),
                target_file_size_bytes=_typed(data["target_file_size_bytes"], int),
                min_small_files=_typed(data["min_small_files"], int),
                partitions=tuple(
                    PlannedPartition(
                        stats=_stats(entry),
                        files=tuple(_typed(path, str) for path in entry["files"]),
                    )
                    for entry in data["partitions"]
                ),
                skipped=tuple(_result(entry) for entry in data["skipped"]),
                partition_kinds=tuple(_typed(kind, str) for kind in data["partition_kinds"]),
                sort_by=None
                if data["sort_by"] is None
                else tuple(_typed(column, str) for column in data["sort_by"]),
            )
        except InvalidPlanError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidPlanError(
                f"malformed compaction plan: {type(exc).__name__}: {exc}; write it again "
                "with plan_compaction"
            ) from exc

    def split(self, n: int) -> tuple[CompactionPlan, ...]:
        """At most ``n`` disjoint plans that together hold this plan's partitions.

        A partition is never split. Shards are balanced by planned bytes (the largest
        group first, into the lightest shard), and partitions that can share a commit stay
        in one shard where the balance allows: partitions agreeing on every partition
        column but the one with the most distinct values form one cross product, which the
        engine compacts in one commit. A group heavier than an even share is cut into
        runs of that column's values. The first shard carries the skipped results, so the
        shards' reports together cover every partition this plan names. Shards holding
        nothing are left out (an empty plan gives itself back).

        Raises:
            InvalidOptionError: ``n`` is not a positive integer.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidOptionError(f"split needs a positive number of shards, got {n!r}")
        if not self.partitions:
            return (self,)
        share = max(1, -(-self.total_bytes // n))  # ceiling: a group at most this stays whole
        units = [
            piece
            for group in _commit_groups(self.partitions, len(self.partition_keys))
            for piece in _cut(group, share)
        ]
        units.sort(key=lambda unit: (-_bytes(unit), unit[0].partition))
        shards: list[tuple[int, int, list[PlannedPartition]]] = [(0, i, []) for i in range(n)]
        for unit in units:
            weight, index, members = heapq.heappop(shards)
            members.extend(unit)
            heapq.heappush(shards, (weight + _bytes(unit), index, members))
        filled = sorted(
            (sorted(members, key=lambda planned: planned.partition) for _, _, members in shards),
            key=lambda members: members[0].partition if members else (),
        )
        filled = [members for members in filled if members]
        return tuple(
            dataclasses.replace(
                self, partitions=tuple(members), skipped=self.skipped if number == 0 else ()
            )
            for number, members in enumerate(filled)
        )


def _commit_groups(
    partitions: Sequence[PlannedPartition], width: int
) -> list[list[PlannedPartition]]:
    """Partitions grouped by every column but the one with the most distinct values."""
    if width <= 1:
        return [list(partitions)]
    # The same column batches.cross_products lets vary (ties: the later column).
    varying = max(range(width), key=lambda i: (len({p.partition[i][1] for p in partitions}), i))
    groups: dict[PartitionKey, list[PlannedPartition]] = {}
    for planned in partitions:
        rest = planned.partition[:varying] + planned.partition[varying + 1 :]
        groups.setdefault(rest, []).append(planned)
    return list(groups.values())


def _cut(group: list[PlannedPartition], share: int) -> Iterable[list[PlannedPartition]]:
    """Consecutive runs of ``group`` of at most ``share`` bytes (at least one partition)."""
    run: list[PlannedPartition] = []
    for planned in group:
        if run and _bytes(run) + planned.stats.total_bytes > share:
            yield run
            run = []
        run.append(planned)
    if run:
        yield run


def _bytes(unit: Sequence[PlannedPartition]) -> int:
    return sum(planned.stats.total_bytes for planned in unit)


def _pairs(partition: PartitionKey) -> list[list[str]]:
    return [[column, value] for column, value in partition]


def _key(pairs: Any) -> PartitionKey:
    key = []
    for pair in pairs:
        column, value = pair
        key.append((_typed(column, str), _typed(value, str)))
    return tuple(key)


def _stats_fields(stats: PartitionStats) -> dict[str, Any]:
    return {field: getattr(stats, field) for field in _STATS_FIELDS}


_STATS_FIELDS = (
    "file_count",
    "small_file_count",
    "total_bytes",
    "total_rows",
    "unsorted_files",
)


def _stats(entry: dict[str, Any]) -> PartitionStats:
    rows, unsorted = entry["total_rows"], entry["unsorted_files"]
    return PartitionStats(
        partition=_key(entry["partition"]),
        file_count=_typed(entry["file_count"], int),
        small_file_count=_typed(entry["small_file_count"], int),
        total_bytes=_typed(entry["total_bytes"], int),
        total_rows=None if rows is None else _typed(rows, int),
        unsorted_files=None if unsorted is None else _typed(unsorted, int),
    )


def _result(entry: dict[str, Any]) -> PartitionCompactionResult:
    names = {field.name for field in dataclasses.fields(PartitionCompactionResult)}
    unknown = set(entry) - names
    if unknown:
        raise ValueError(f"unknown result fields {sorted(unknown)}")
    return PartitionCompactionResult(**{**entry, "partition": _key(entry["partition"])})


def _typed(value: Any, kind: type) -> Any:
    # bool is an int to isinstance, and never a valid count or version.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value
