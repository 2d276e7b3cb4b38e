"""The one listing of a table a vacuum makes: what it finds, that it stops when the vacuum
no longer needs it, and that it runs before the table loads without hiding the load's
clearer errors."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from pointline_storage_delta import table_files
from small_tables import small_table

from pointline_storage import TableNotFoundError, load_backend, resolve_table_location
from pointline_storage.testing.s3 import MotoServer


def test_the_listing_finds_every_file_with_its_size_and_time(tmp_path: Path) -> None:
    small_table(tmp_path)
    (tmp_path / "t" / "notes").mkdir()
    (tmp_path / "t" / "notes" / "readme.txt").write_bytes(b"12345")
    location = resolve_table_location(str(tmp_path), "t")
    listing = table_files.list_table(location)
    on_disk = {
        os.path.relpath(os.path.join(folder, name), tmp_path / "t"): os.stat(
            os.path.join(folder, name)
        )
        for folder, _, names in os.walk(tmp_path / "t")
        for name in names
    }
    assert set(listing) == set(on_disk)
    assert listing["notes/readme.txt"].size == 5
    for path, info in listing.items():
        assert (info.size, info.mtime) == (on_disk[path].st_size, on_disk[path].st_mtime)


def test_a_stopped_listing_ends_before_the_next_folder(tmp_path: Path) -> None:
    small_table(tmp_path)
    location = resolve_table_location(str(tmp_path), "t")
    stop = threading.Event()
    stop.set()
    assert table_files.list_table(location, stop=stop) == {}
    assert table_files.list_table(location, stop=threading.Event())


@pytest.mark.parametrize("full", [False, True])
def test_a_missing_bucket_is_named_though_the_listing_runs_first(
    moto_server: MotoServer, s3_bucket: str, full: bool
) -> None:
    # The listing of the table starts before the table loads; its own failure (no such
    # bucket) must not replace the load's error, which names the bucket.
    backend = load_backend(
        "delta-s3", root="s3://no-such-bucket/silver", storage_options=moto_server.storage_options()
    )
    with pytest.raises(TableNotFoundError, match="bucket 'no-such-bucket' does not exist"):
        backend.vacuum_table("orders", dry_run=False, full=full)
    buckets = [b["Name"] for b in moto_server.client().list_buckets()["Buckets"]]
    assert buckets == [s3_bucket]
