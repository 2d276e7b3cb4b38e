"""What the conformance suite cannot know about hive-parquet: its layout and its leftovers."""

import os
import time

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from pointline_storage import InvalidPartitionError, load_backend

SAMPLE = pa.table(
    {
        "bucket": [1, 1, 1, 2, 2, None],
        "venue": ["a/b", "a/b", "a/b", "c d", "c d", "e"],
        "price": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    }
)


@pytest.fixture
def warehouse(tmp_path):
    ds.write_dataset(
        SAMPLE,
        tmp_path / "t",
        format="parquet",
        partitioning=["bucket", "venue"],
        partitioning_flavor="hive",
        max_rows_per_file=1,
        max_rows_per_group=1,
    )
    return tmp_path


def rows(path):
    table = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    return sorted(table.to_pylist(), key=lambda row: row["price"])


def test_typed_and_percent_encoded_partitions_are_read_from_the_layout(warehouse):
    backend = load_backend("hive-parquet", root=str(warehouse))
    inspection = backend.inspect_partitions("t")
    assert inspection.partition_keys == ("bucket", "venue")
    assert [(s.partition, s.file_count, s.total_rows) for s in inspection.partitions] == [
        ((("bucket", "1"), ("venue", "a/b")), 3, 3),
        ((("bucket", "2"), ("venue", "c d")), 2, 2),
        ((("bucket", "null"), ("venue", "e")), 1, 1),
    ]
    with pytest.raises(InvalidPartitionError, match="bucket"):
        backend.inspect_partitions("t", [{"bucket": "one", "venue": "a/b"}])
    before = rows(warehouse / "t")
    report = backend.compact_partitions(
        "t", partitions=[{"bucket": 1, "venue": "a/b"}], min_small_files=2
    )
    (result,) = report.partitions
    assert (result.status, result.after_file_count, result.rows_after) == ("compacted", 1, 3)
    assert rows(warehouse / "t") == before


def test_vacuum_deletes_only_leftovers_older_than_the_retention(warehouse):
    directory = warehouse / "t" / "bucket=1" / "venue=a%2Fb"
    old, young = directory / ".pointline-tmp-old.parquet", directory / ".pointline-tmp-new.parquet"
    for leftover in (old, young):
        pq.write_table(SAMPLE, leftover)
    day_ago = time.time() - 24 * 3600
    os.utime(old, (day_ago, day_ago))
    backend = load_backend("hive-parquet", root=str(warehouse))
    before = rows(warehouse / "t")
    assert backend.inspect_partitions("t").partitions[0].file_count == 3, "leftovers are hidden"

    options = {"retention_hours": 12, "enforce_retention_duration": False}
    dry = backend.vacuum_table("t", **options)
    assert dry.deleted_files == ("bucket=1/venue=a%2Fb/.pointline-tmp-old.parquet",)
    assert dry.deleted_bytes == old.stat().st_size
    assert old.exists()
    real = backend.vacuum_table("t", dry_run=False, **options)
    assert real.deleted_files == dry.deleted_files
    assert not old.exists()
    assert young.exists()
    assert rows(warehouse / "t") == before


def test_files_of_different_schemas_fail_their_partition_and_stay(warehouse):
    directory = warehouse / "t" / "bucket=2" / "venue=c%20d"
    pq.write_table(pa.table({"price": ["seven"]}), directory / "odd.parquet")
    before = sorted(path.name for path in directory.iterdir())
    backend = load_backend("hive-parquet", root=str(warehouse))
    report = backend.compact_partitions(
        "t",
        partitions=[{"bucket": 2, "venue": "c d"}, {"bucket": 1, "venue": "a/b"}],
        min_small_files=2,
    )
    statuses = {dict(r.partition)["bucket"]: (r.status, r.error) for r in report.partitions}
    assert statuses["1"] == ("compacted", None)
    assert statuses["2"][0] == "failed"
    assert "another schema" in statuses["2"][1]
    assert sorted(path.name for path in directory.iterdir()) == before


def test_storage_options_stay_out_of_reprs_and_errors(warehouse):
    backend = load_backend(
        "hive-parquet", root=str(warehouse), storage_options={"secret": "hunter2-secret"}
    )
    (plugin,) = backend.plugin_manager.get_plugins()
    assert "hunter2" not in repr(plugin)
    with pytest.raises(Exception, match="missing") as raised:
        backend.inspect_partitions("missing")
    assert "hunter2" not in str(raised.value)
