"""CompactionPlan: its JSON form, its checks, and how it splits into shards."""

from __future__ import annotations

import json

import pytest

from pointline_storage import (
    SKIP_BELOW_MIN_SMALL_FILES,
    CompactionPlan,
    InvalidOptionError,
    InvalidPlanError,
    PartitionCompactionResult,
    PartitionStats,
    PlannedPartition,
    PointlineStorageError,
)

COLUMNS = ("exchange", "trading_date")


def _planned(exchange: str, day: str, size: int = 100, files: int = 3) -> PlannedPartition:
    key = (("exchange", exchange), ("trading_date", day))
    stats = PartitionStats(key, files, files, size, files * 10)
    paths = tuple(f"exchange={exchange}/trading_date={day}/part-{i}.parquet" for i in range(files))
    return PlannedPartition(stats=stats, files=paths)


def _plan(planned: list[PlannedPartition], skipped=()) -> CompactionPlan:
    return CompactionPlan(
        table_name="trades",
        partition_keys=COLUMNS,
        version=7,
        target_file_size_bytes=1000,
        min_small_files=2,
        partitions=tuple(sorted(planned, key=lambda p: p.partition)),
        skipped=tuple(skipped),
        partition_kinds=("string", "date"),
    )


def _skipped(exchange: str, day: str) -> PartitionCompactionResult:
    stats = PartitionStats((("exchange", exchange), ("trading_date", day)), 1, 1, 5, None)
    return PartitionCompactionResult.from_stats(
        stats, "skipped", skipped_reason=SKIP_BELOW_MIN_SMALL_FILES
    )


def test_json_round_trips_exactly():
    plan = _plan(
        [_planned("sse", "2024-01-02"), _planned("szse", "null", files=2)],
        skipped=[_skipped("bse", "2024-01-02")],
    )
    text = plan.to_json()
    assert json.loads(text)["format"] == 1
    again = CompactionPlan.from_json(text)
    assert again == plan
    assert again.to_json() == text
    assert CompactionPlan.from_json(text.encode()) == plan


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "must be JSON"),
        ('{"format": 2}', "unknown compaction plan format 2"),
        ("[1, 2]", "unknown compaction plan format None"),
        ('{"format": 1, "table_name": "t"}', "malformed"),
    ],
)
def test_bad_json_is_refused(text, problem):
    with pytest.raises(InvalidPlanError, match=problem) as caught:
        CompactionPlan.from_json(text)
    assert isinstance(caught.value, PointlineStorageError)
    assert isinstance(caught.value, ValueError)


def test_wrong_field_types_are_refused():
    data = json.loads(_plan([_planned("sse", "2024-01-02")]).to_json())
    data["partitions"][0]["total_bytes"] = "100"
    with pytest.raises(InvalidPlanError, match="expected int"):
        CompactionPlan.from_json(json.dumps(data))
    data = json.loads(_plan([_planned("sse", "2024-01-02")]).to_json())
    data["partitions"][0]["partition"] = [["exchange", "sse"]]
    with pytest.raises(InvalidPlanError, match="does not name the columns"):
        CompactionPlan.from_json(json.dumps(data))


def test_inconsistent_plans_cannot_be_built():
    one = _planned("sse", "2024-01-02")
    with pytest.raises(InvalidPlanError, match="sorted"):
        _plan([]).__class__(**{**_plan([one]).__dict__, "partitions": (one, one)})
    with pytest.raises(InvalidPlanError, match="both planned and skipped"):
        _plan([one], skipped=[_skipped("sse", "2024-01-02")])
    with pytest.raises(InvalidPlanError, match="one kind per partition column"):
        CompactionPlan(**{**_plan([one]).__dict__, "partition_kinds": ("string",)})


def _keys(plan: CompactionPlan) -> list:
    return [planned.partition for planned in plan.partitions]


def test_split_is_disjoint_covering_and_balanced():
    days = [f"2024-01-{d:02d}" for d in range(1, 9)]
    planned = [
        _planned(x, d, size=100 + 10 * i)
        for i, (x, d) in enumerate((x, d) for x in ("bse", "sse", "szse") for d in days)
    ]
    plan = _plan(planned, skipped=[_skipped("nyse", "2024-01-01")])
    shards = plan.split(3)
    assert len(shards) == 3
    keys = [key for shard in shards for key in _keys(shard)]
    assert sorted(keys) == _keys(plan)
    assert len(keys) == len(set(keys))
    loads = [shard.total_bytes for shard in shards]
    assert max(loads) - min(loads) <= max(p.stats.total_bytes for p in planned)
    # Skipped results ride with the first shard, so the shards' reports cover everything.
    assert [len(shard.skipped) for shard in shards] == [1, 0, 0]
    for shard in shards:
        assert shard.version == plan.version
        assert CompactionPlan.from_json(shard.to_json()) == shard


def test_split_keeps_cross_products_together_when_balance_allows():
    # Three exchanges of eight days: each exchange's days form one cross product (the
    # days vary most), and three shards can hold one exchange each.
    days = [f"2024-01-{d:02d}" for d in range(1, 9)]
    plan = _plan([_planned(x, d) for x in ("bse", "sse", "szse") for d in days])
    shards = plan.split(3)
    assert [{key[0][1] for key in _keys(shard)} for shard in shards] == [
        {"bse"},
        {"sse"},
        {"szse"},
    ]


def test_split_cuts_one_big_group_into_runs():
    days = [f"2024-01-{d:02d}" for d in range(1, 9)]
    plan = _plan([_planned("sse", d) for d in days])
    shards = plan.split(4)
    assert [len(shard.partitions) for shard in shards] == [2, 2, 2, 2]
    # Each shard holds consecutive days: still one cross product, one commit.
    assert [_keys(shard) for shard in shards] == [_keys(plan)[i : i + 2] for i in (0, 2, 4, 6)]


def test_split_never_returns_empty_shards_or_splits_a_partition():
    plan = _plan([_planned("sse", "2024-01-01", size=1000), _planned("sse", "2024-01-02")])
    assert [len(shard.partitions) for shard in plan.split(5)] == [1, 1]
    assert plan.split(1) == (plan,)
    empty = _plan([], skipped=[_skipped("sse", "2024-01-01")])
    assert empty.split(3) == (empty,)


@pytest.mark.parametrize("n", [0, -1, True, 2.0])
def test_split_needs_a_positive_count(n):
    with pytest.raises(InvalidOptionError, match="positive number of shards"):
        _plan([_planned("sse", "2024-01-01")]).split(n)
