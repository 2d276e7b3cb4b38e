"""Property-based tests: random small tables, random partition selections and options.

Deterministic for CI: hypothesis runs derandomized, without an example database, on a
bounded number of examples.
"""

from __future__ import annotations

import datetime as dt
import itertools
import urllib.parse
from collections import Counter
from typing import Any

import pyarrow as pa
from deltalake import write_deltalake
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pointline_storage.testing.checks import assert_report_consistent
from reliability.store import Store

EXCHANGES = ["sse", "a b", "上海", None]
DAYS = [dt.date(2024, 1, 2), dt.date(2024, 1, 3), None]
SPACE = list(itertools.product(EXCHANGES, DAYS))
SCHEMA = pa.schema([("exchange", pa.string()), ("day", pa.date32()), ("v", pa.int64())])

Key = tuple[tuple[str, str], ...]

#: Files per partition (absent partitions have none) and rows per file.
layouts = st.dictionaries(
    st.sampled_from(SPACE), st.lists(st.integers(1, 6), min_size=1, max_size=4), min_size=1
)
options = st.fixed_dictionaries(
    {
        "named": st.lists(st.sampled_from(SPACE), min_size=1, max_size=5),
        "min_small_files": st.integers(0, 4),
        "target_file_size_bytes": st.sampled_from([None, 1, 1500, 3000, 100_000]),
    }
)
counter = itertools.count()


def render(value: object) -> str:
    """A partition value as reports render it."""
    return "null" if value is None else str(value)


def key(exchange: object, day: object) -> Key:
    """A partition's canonical key."""
    return (("exchange", render(exchange)), ("day", render(day)))


def write(store: Store, table: str, layout: dict[tuple[Any, Any], list[int]]) -> None:
    """One commit per file round; partition p gets its k-th file in round k."""
    value = itertools.count()
    for round_ in range(max(len(files) for files in layout.values())):
        rows = [
            (exchange, day, next(value))
            for (exchange, day), files in sorted(layout.items(), key=str)
            if round_ < len(files)
            for _ in range(files[round_])
        ]
        batch = pa.table(list(zip(*rows, strict=True)), schema=SCHEMA)
        write_deltalake(
            store.uri(table),
            batch,
            mode="append",
            partition_by=["exchange", "day"],
            storage_options=dict(store.storage_options) or None,
        )


def files_per_key(store: Store, table: str) -> dict[Key, frozenset[str]]:
    """Live files per partition, named as on disk."""
    actions = pa.table(store.open(table).get_add_actions(flatten=True)).to_pylist()
    grouped: dict[Key, set[str]] = {}
    for action in actions:
        partition = key(action["partition.exchange"], action["partition.day"])
        grouped.setdefault(partition, set()).add(urllib.parse.unquote(action["path"]))
    return {partition: frozenset(paths) for partition, paths in grouped.items()}


def rows_per_key(store: Store, table: str) -> dict[Key, Counter[int]]:
    """Each partition's rows (their unique ``v``) as a multiset."""
    grouped: dict[Key, Counter[int]] = {}
    for row in store.open(table).to_pyarrow_table().to_pylist():
        grouped.setdefault(key(row["exchange"], row["day"]), Counter())[row["v"]] += 1
    return grouped


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(layout=layouts, chosen=options)
def test_compaction_preserves_rows_touches_only_named_partitions_and_reports_truly(
    local_store: Store, layout: dict[tuple[Any, Any], list[int]], chosen: dict[str, Any]
) -> None:
    # Local disk: the engine's code paths are the same on S3, which the conformance and
    # reliability runs cover; thirty random tables there would cost minutes.
    store = local_store
    table = f"t{next(counter)}"
    write(store, table, layout)
    backend = store.backend()
    files, rows = files_per_key(store, table), rows_per_key(store, table)
    named = {key(*spec) for spec in chosen["named"]}
    specs = [{"exchange": e, "day": d} for e, d in chosen["named"]]
    common = {
        "partitions": specs,
        "min_small_files": chosen["min_small_files"],
        "target_file_size_bytes": chosen["target_file_size_bytes"],
    }

    dry = backend.compact_partitions(table, dry_run=True, **common)
    assert files_per_key(store, table) == files
    report = backend.compact_partitions(table, **common)
    after = files_per_key(store, table)

    for result in (dry, report):
        assert_report_consistent(result)
        assert {r.partition for r in result.partitions} == named
    assert rows_per_key(store, table) == rows, "rows preserved, per partition"
    assert {p for p in files if after.get(p) != files[p]} <= named, "only named partitions"
    would = {r.partition for r in dry.partitions if r.status == "would_compact"}
    compacted = {r.partition for r in report.partitions if r.status == "compacted"}
    assert would == compacted, "the dry run's plan is what the real run does"
    for result in report.partitions:
        before_files = files.get(result.partition, frozenset())
        assert result.before_file_count == len(before_files)
        assert result.rows_before == sum(rows.get(result.partition, Counter()).values())
        if result.status == "compacted":  # possibly in part, when the target is small
            now = after[result.partition]
            assert result.after_file_count == len(now) < len(before_files)
            assert result.files_removed == len(before_files - now) >= 2
            assert result.files_added == len(now - before_files) >= 1
        else:
            assert after.get(result.partition, frozenset()) == before_files

    options = {"retention_hours": 0, "enforce_retention_duration": False}
    vacuum_dry = backend.vacuum_table(table, **options)
    removed = set().union(*(files[p] - after[p] for p in compacted)) if compacted else set()
    assert set(vacuum_dry.deleted_files) == removed
    vacuum = backend.vacuum_table(table, dry_run=False, **options)
    assert vacuum.deleted_files == vacuum_dry.deleted_files
    assert rows_per_key(store, table) == rows
