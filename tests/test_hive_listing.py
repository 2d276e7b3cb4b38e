"""HiveListing on real Parquet directories: written by pyarrow, on disk and on moto_server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from pointline_storage import (
    HiveListing,
    InvalidPartitionError,
    StorageError,
    TableLocation,
    TableNotFoundError,
    resolve_table_location,
)
from pointline_storage.testing.s3 import MotoServer

ROWS = pa.table(
    {
        "day": [dt.date(2024, 1, 2)] * 4 + [dt.date(2024, 1, 3)] * 2,
        "venue": ["a/b", "a/b", "a/b", "c d", "c d", None],
        "bucket": [1, 1, 2, 2, 2, 3],
        "price": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    }
)
DAY, SLASH = ("day", "2024-01-02"), ("venue", "a/b")


def write(location: TableLocation, rows: pa.Table, partition_by: list[str]) -> None:
    ds.write_dataset(
        rows,
        location.path,
        filesystem=location.fs,
        format="parquet",
        partitioning=partition_by or None,
        partitioning_flavor="hive",
        max_rows_per_file=1,
        max_rows_per_group=1,
    )


@pytest.fixture
def table(tmp_path: Path) -> TableLocation:
    location = resolve_table_location(str(tmp_path), "t")
    write(location, ROWS, ["day", "venue"])
    return location


def test_partitions_are_read_from_the_directory_names(table: TableLocation) -> None:
    listing = HiveListing.of(table, "t")
    assert (listing.table_name, listing.partition_columns) == ("t", ("day", "venue"))
    # Percent-decoded, the null directory as null, each column's kind from its values.
    assert listing.keys(None) == (
        (DAY, SLASH),
        (DAY, ("venue", "c d")),
        (("day", "2024-01-03"), ("venue", "c d")),
        (("day", "2024-01-03"), ("venue", "null")),
    )
    assert listing.partition_kinds == ("date", "string")
    assert listing.fs is table.fs
    files = listing.sizes((DAY, SLASH))
    assert list(files) == sorted(files)
    assert [listing.relative(path) for path in files] == [
        f"day=2024-01-02/venue=a%2Fb/part-{i}.parquet" for i in range(3)
    ]
    assert list(files.values()) == [Path(path).stat().st_size for path in files]
    assert listing.sizes((DAY, ("venue", "nowhere"))) == {}


def test_specs_are_checked_and_made_canonical_by_the_inferred_kinds(table: TableLocation) -> None:
    listing = HiveListing.of(table, "t")
    named = [{"day": dt.date(2024, 1, 2), "venue": "a/b"}, {"day": "2024-01-03", "venue": None}]
    assert listing.keys(named) == ((DAY, SLASH), (("day", "2024-01-03"), ("venue", "null")))
    assert listing.keys([{"day": "2024-01-02", "venue": "a/b"}] * 2) == ((DAY, SLASH),)
    with pytest.raises(InvalidPartitionError, match="day"):
        listing.keys([{"day": "tuesday", "venue": "a/b"}])
    with pytest.raises(InvalidPartitionError, match="missing"):
        listing.keys([{"day": "2024-01-02"}])


def test_stats_count_rows_from_the_footers_and_small_files_against_the_target(
    table: TableLocation,
) -> None:
    listing = HiveListing.of(table, "t")
    sizes = listing.sizes((DAY, SLASH))
    stats = listing.stats((DAY, SLASH), target_file_size_bytes=10**9)
    assert (stats.file_count, stats.small_file_count, stats.total_rows) == (3, 3, 3)
    assert stats.total_bytes == sum(sizes.values())
    # Below the target alone is not small: no two of these files fit together within it.
    assert listing.stats((DAY, SLASH), max(sizes.values()) + 1).small_file_count == 0
    missing = listing.stats((DAY, ("venue", "nowhere")), 10**9)
    assert (missing.file_count, missing.total_bytes, missing.total_rows) == (0, 0, 0)
    Path(next(iter(sizes))).write_bytes(b"not a parquet file")
    unreadable = HiveListing.of(table, "t").stats((DAY, SLASH), 10**9)
    assert (unreadable.file_count, unreadable.total_rows) == (3, None)


def test_the_inspection_holds_the_named_partitions_unversioned(table: TableLocation) -> None:
    listing = HiveListing.of(table, "t")
    everything = listing.inspection(None, target_file_size_bytes=10**9)
    assert [s.partition for s in everything.partitions] == list(listing.keys(None))
    assert [s.total_rows for s in everything.partitions] == [3, 1, 1, 1]
    assert everything.version is None
    assert everything.partition_kinds == ("date", "string")
    assert everything.target_file_size_bytes == 10**9
    one = listing.inspection([{"day": "2024-01-09", "venue": "x"}], target_file_size_bytes=1)
    ((partition, count),) = [(s.partition, s.file_count) for s in one.partitions]
    assert (partition, count) == ((("day", "2024-01-09"), ("venue", "x")), 0)


def test_hidden_names_are_not_data_but_are_kept_apart(table: TableLocation) -> None:
    directory = Path(table.path) / "day=2024-01-02" / "venue=a%2Fb"
    pq.write_table(ROWS, directory / ".tmp-merge.parquet")
    (Path(table.path) / "_SUCCESS").write_bytes(b"")
    (Path(table.path) / "_notes").mkdir()
    (Path(table.path) / "_notes" / "readme.txt").write_text("not col=value, but hidden")
    before = HiveListing.of(table, "t")
    assert len(before.sizes((DAY, SLASH))) == 3
    assert sorted(before.relative(path) for path in before.hidden_files) == [
        "_SUCCESS",
        "_notes/readme.txt",
        "day=2024-01-02/venue=a%2Fb/.tmp-merge.parquet",
    ]
    assert before.hidden_files[str(directory / ".tmp-merge.parquet")] > 0


def test_relist_sees_what_changed_since(table: TableLocation) -> None:
    listing = HiveListing.of(table, "t")
    write(
        resolve_table_location(table.path, "day=2024-01-04"),
        ROWS.select(["venue", "price"]).slice(0, 1),
        ["venue"],
    )
    assert (("day", "2024-01-04"), SLASH) not in listing.files
    assert len(listing.relist().sizes((("day", "2024-01-04"), SLASH))) == 1


def test_an_unpartitioned_table_has_one_partition_named_by_no_columns(tmp_path: Path) -> None:
    location = resolve_table_location(str(tmp_path), "flat")
    write(location, ROWS, [])
    listing = HiveListing.of(location, "flat")
    assert (listing.partition_columns, listing.partition_kinds) == ((), ())
    assert listing.keys(None) == ((),)
    assert listing.keys([{}]) == ((),)
    assert listing.stats((), 10**9).total_rows == ROWS.num_rows
    empty = resolve_table_location(str(tmp_path), "empty")
    Path(empty.path).mkdir()
    assert HiveListing.of(empty, "empty").keys(None) == ()


def test_what_is_not_a_hive_table_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(TableNotFoundError, match="'nowhere' not found"):
        HiveListing.of(resolve_table_location(str(tmp_path), "nowhere"), "nowhere")
    location = resolve_table_location(str(tmp_path), "t")
    write(location, ROWS, ["day"])
    (Path(location.path) / "extra").mkdir()
    (Path(location.path) / "extra" / "f.parquet").write_bytes(b"")
    with pytest.raises(StorageError, match=r"'extra' is not col=value.*leading '_'"):
        HiveListing.of(location, "t")
    (Path(location.path) / "extra" / "f.parquet").rename(Path(location.path) / "f.parquet")
    with pytest.raises(StorageError, match=r"partitioned by \[\], other files by \['day'\]"):
        HiveListing.of(location, "t")


def test_a_table_on_s3_lists_as_on_disk(
    tmp_path: Path, s3_bucket: str, moto_server: MotoServer
) -> None:
    options = {
        "endpoint_url": moto_server.endpoint_url,
        "key": moto_server.access_key_id,
        "secret": moto_server.secret_access_key,
    }
    remote = resolve_table_location(f"s3://{s3_bucket}/warehouse", "t", fs_options=options)
    local = resolve_table_location(str(tmp_path), "t")
    for location in (remote, local):
        write(location, ROWS, ["day", "venue"])
    on_s3, on_disk = HiveListing.of(remote, "t"), HiveListing.of(local, "t")
    assert on_s3.keys(None) == on_disk.keys(None)
    assert on_s3.partition_kinds == on_disk.partition_kinds
    target = 10**9
    for key in on_disk.keys(None):
        assert on_s3.stats(key, target) == on_disk.stats(key, target)
        assert [on_s3.relative(p) for p in on_s3.sizes(key)] == [
            on_disk.relative(p) for p in on_disk.sizes(key)
        ]
    # A file deleted since is gone from a new listing.
    remote.fs.rm(next(iter(on_s3.sizes((DAY, SLASH)))))
    assert len(on_s3.relist().sizes((DAY, SLASH))) == 2
    assert moto_server.secret_access_key not in repr(on_s3)
