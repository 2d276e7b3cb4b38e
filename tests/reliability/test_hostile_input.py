"""Hostile and unusual input, end to end on real tables: null partitions, partition values
that need escaping, table names that try to leave the root, and tables of a newer
protocol. (Option ranges, partition-spec shapes and value parsing are covered by
tests/test_facade.py and tests/test_partitions.py.)"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import urllib.parse
from collections import Counter
from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from pointline_storage import (
    InvalidTableNameError,
    PointlineStorageError,
    StorageError,
)
from reliability.store import ALL_PARTITIONS, Store, write_table

DAY = dt.date(2024, 1, 2)
NULLABLE = pa.schema([("s", pa.string()), ("d", pa.date32()), ("i", pa.int64()), ("v", pa.int64())])
#: (s, d, i) of each partition of the nullable table; None is the null partition value.
NULLABLE_PARTITIONS = [(None, None, None), (None, DAY, 1), ("a", None, 2), ("a", DAY, 1)]


def write_nullable(store: Store, files: int = 3) -> Counter[tuple[Any, ...]]:
    """A table partitioned by a string, a date and an integer column, with nulls."""
    rows: Counter[tuple[Any, ...]] = Counter()
    for number in range(files):
        batch = pa.table(
            {
                "s": [p[0] for p in NULLABLE_PARTITIONS],
                "d": [p[1] for p in NULLABLE_PARTITIONS],
                "i": [p[2] for p in NULLABLE_PARTITIONS],
                "v": [number * 10 + n for n in range(len(NULLABLE_PARTITIONS))],
            },
            schema=NULLABLE,
        )
        write_deltalake(
            store.uri("n"),
            batch,
            mode="append",
            partition_by=["s", "d", "i"],
            storage_options=dict(store.storage_options) or None,
        )
        rows.update(tuple(row.values()) for row in batch.to_pylist())
    return rows


def files_by_partition(store: Store, table: str) -> dict[tuple[str, ...], set[str]]:
    """Live files grouped by their partition folders (as on disk)."""
    grouped: dict[tuple[str, ...], set[str]] = {}
    for path in store.live_files(table):
        grouped.setdefault(tuple(path.split("/")[:-1]), set()).add(path)
    return grouped


def table_rows(store: Store, table: str) -> Counter[tuple[Any, ...]]:
    """Any table's rows as a multiset (columns in schema order)."""
    return Counter(tuple(r.values()) for r in store.open(table).to_pyarrow_table().to_pylist())


def test_null_partitions_are_named_compacted_and_reported_as_null(store: Store) -> None:
    rows = write_nullable(store)
    before = files_by_partition(store, "n")
    backend = store.backend()
    all_null = {"s": None, "d": None, "i": None}
    null_string = {"s": None, "d": DAY, "i": 1}
    report = backend.compact_partitions("n", partitions=[all_null, null_string], min_small_files=2)

    assert [r.partition for r in report.partitions] == [
        (("s", "null"), ("d", "2024-01-02"), ("i", "1")),
        (("s", "null"), ("d", "null"), ("i", "null")),
    ]
    assert [r.status for r in report.partitions] == ["compacted", "compacted"]
    assert report.to_dict()["partitions"][1]["partition"] == {"s": "null", "d": "null", "i": "null"}
    after = files_by_partition(store, "n")
    null = "__HIVE_DEFAULT_PARTITION__"
    compacted = {("s=" + null, "d=" + null, "i=" + null), ("s=" + null, "d=2024-01-02", "i=1")}
    assert set(after) == set(before)
    for folder, files in after.items():
        if folder in compacted:
            assert len(files) == 1
            assert not files & before[folder]
        else:
            assert files == before[folder], f"{folder} must be untouched"
    assert table_rows(store, "n") == rows

    inspection = backend.inspect_partitions("n", [all_null])
    assert inspection.partitions[0].partition == (("s", "null"), ("d", "null"), ("i", "null"))
    assert inspection.partitions[0].file_count == 1
    vacuum = backend.vacuum_table(
        "n", retention_hours=0, enforce_retention_duration=False, dry_run=False
    )
    removed = set().union(*(before[folder] for folder in compacted))
    assert set(vacuum.deleted_files) == removed
    assert all(null in path for path in vacuum.deleted_files)


def test_the_string_null_is_compacted_when_the_table_holds_no_null(store: Store) -> None:
    for number in range(3):
        batch = pa.table({"s": ["null", "x"], "v": [number, number]})
        write_deltalake(
            store.uri("n"),
            batch,
            mode="append",
            partition_by=["s"],
            storage_options=dict(store.storage_options) or None,
        )
    report = store.backend().compact_partitions("n", partitions=[{"s": "null"}], min_small_files=2)
    assert [(r.partition, r.status) for r in report.partitions] == [((("s", "null"),), "compacted")]
    assert {path.split("/")[0] for path in store.live_files("n")} == {"s=null", "s=x"}
    assert len(store.live_files("n")) == 4
    assert sorted(table_rows(store, "n").elements()) == sorted(
        (s, n) for s in ("null", "x") for n in range(3)
    )


ODD_VALUES = ["a b", "a/b", "k=v", "100%", "%2F", "上海", "é", "🚀 x", "'quoted'", "back\\slash"]


def test_partition_values_that_need_escaping(store: Store) -> None:
    for number in range(2):
        batch = pa.table({"s": ODD_VALUES, "v": [number] * len(ODD_VALUES)})
        write_deltalake(
            store.uri("odd"),
            batch,
            mode="append",
            partition_by=["s"],
            storage_options=dict(store.storage_options) or None,
        )
    rows = table_rows(store, "odd")
    backend = store.backend()
    inspection = backend.inspect_partitions("odd")
    assert [p.partition for p in inspection.partitions] == sorted((("s", v),) for v in ODD_VALUES)
    for value in ODD_VALUES:
        before = files_by_partition(store, "odd")
        report = backend.compact_partitions("odd", partitions=[{"s": value}], min_small_files=2)
        assert [(r.partition, r.status) for r in report.partitions] == [
            ((("s", value),), "compacted")
        ]
        after = files_by_partition(store, "odd")
        (folder,) = [f for f in before if urllib.parse.unquote(f[0]) == f"s={value}"]
        assert len(after[folder]) == 1
        assert {f: files for f, files in after.items() if f != folder} == {
            f: files for f, files in before.items() if f != folder
        }
    assert table_rows(store, "odd") == rows
    vacuum = backend.vacuum_table(
        "odd", retention_hours=0, enforce_retention_duration=False, dry_run=False
    )
    assert vacuum.deleted_count == 2 * len(ODD_VALUES)
    assert set(store.disk_files("odd")) == store.live_files("odd")
    assert table_rows(store, "odd") == rows


ESCAPING_NAMES = [
    "../victim",
    "a/../../victim",
    "..",
    "/tmp/victim",
    "file:///tmp/victim",
    "s3://bucket/victim",
    "victim\x00",
    "..\\victim",
    "",
]


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_a_table_name_cannot_reach_outside_the_root(store: Store, name: str) -> None:
    """A real table sits next to the root, where ``../victim`` would lead."""
    outside = f"{posixpath.dirname(store.root.rstrip('/'))}/victim"
    options = dict(store.storage_options) or None
    write_deltalake(outside, pa.table({"v": [1]}), mode="append", storage_options=options)
    write_deltalake(outside, pa.table({"v": [2]}), mode="overwrite", storage_options=options)
    parent = posixpath.dirname(store.fs_root.rstrip("/"))
    before = sorted(store.fs.find(parent))
    backend = store.backend()
    calls = [
        lambda: backend.compact_partitions(name, partitions=[{}], min_small_files=0),
        lambda: backend.inspect_partitions(name),
        lambda: backend.vacuum_table(
            name, retention_hours=0, enforce_retention_duration=False, dry_run=False, full=True
        ),
    ]
    for call in calls:
        with pytest.raises(InvalidTableNameError) as raised:
            call()
        assert isinstance(raised.value, PointlineStorageError)
    assert sorted(store.fs.find(parent)) == before


def upgrade_protocol(store: Store, table: str, protocol: dict[str, Any]) -> None:
    """Commit a protocol this engine does not know, as a newer writer would."""
    version = store.open(table).version() + 1
    lines = [
        {"commitInfo": {"timestamp": 1, "operation": "UPGRADE PROTOCOL"}},
        {"protocol": protocol},
    ]
    with store.fs.open(f"{store.fs_root}/{table}/_delta_log/{version:020}.json", "w") as log:
        log.write("".join(json.dumps(line) + "\n" for line in lines))


@pytest.mark.parametrize(
    ("protocol", "unreadable"),
    [
        (
            {"minReaderVersion": 1, "minWriterVersion": 7, "writerFeatures": ["futureFeature"]},
            False,
        ),
        (
            {
                "minReaderVersion": 3,
                "minWriterVersion": 7,
                "readerFeatures": ["futureFeature"],
                "writerFeatures": ["futureFeature"],
            },
            True,
        ),
        ({"minReaderVersion": 9, "minWriterVersion": 9}, True),
    ],
    ids=["unknown-writer-feature", "unknown-reader-feature", "future-versions"],
)
def test_a_newer_protocol_is_reported_and_the_table_left_as_it_was(
    store: Store, protocol: dict[str, Any], unreadable: bool
) -> None:
    write_table(store, "t", files_per_partition=3)
    backend = store.backend()
    backend.compact_partitions("t", partitions=ALL_PARTITIONS[:1], min_small_files=2)
    rows = store.rows("t")
    upgrade_protocol(store, "t", protocol)
    log = sorted(store.fs.ls(f"{store.fs_root}/t/_delta_log", detail=False))
    files = store.disk_files("t")

    if unreadable:
        with pytest.raises(StorageError, match="cannot read table 't'"):
            backend.compact_partitions("t", partitions=ALL_PARTITIONS, min_small_files=2)
    else:
        report = backend.compact_partitions("t", partitions=ALL_PARTITIONS, min_small_files=2)
        failed = [r for r in report.partitions if r.status == "failed"]
        assert len(failed) == report.planned_partitions == len(ALL_PARTITIONS) - 1
        assert all("futureFeature" in (r.error or "") for r in failed)
        assert store.rows("t") == rows
    with pytest.raises(StorageError, match=r"futureFeature|version 9"):
        backend.vacuum_table(
            "t", retention_hours=0, enforce_retention_duration=False, dry_run=False, full=True
        )
    assert sorted(store.fs.ls(f"{store.fs_root}/t/_delta_log", detail=False)) == log
    assert store.disk_files("t") == files
