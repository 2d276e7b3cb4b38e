"""Small means what the planner acts on: files below the target that can merge with another."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from cli_inprocess import run_cli
from deltalake import DeltaTable

from pointline_storage import count_small_files, load_backend
from pointline_storage.sample import order_events

MIB = 2**20
TABLE = "orders"
PARTITION = {"exchange": "sse", "trading_date": "2024-01-02"}


@pytest.mark.parametrize(
    ("sizes", "target", "small"),
    [
        ([62 * MIB] * 4, 100 * MIB, 0),  # each under the target, no two fit together
        ([62 * MIB] * 4 + [MIB], 100 * MIB, 5),  # each fits with the 1 MiB file
        ([62 * MIB, 30 * MIB, 80 * MIB], 100 * MIB, 2),  # 80 fits with nothing
        ([50 * MIB, 50 * MIB], 100 * MIB, 2),  # exactly the target together
        ([100 * MIB, 1], 100 * MIB, 0),  # a file at the target is not small
        ([1], 100, 0),
        ([], 100, 0),
        ([10] * 24, 1000, 24),
    ],
)
def test_a_file_is_small_if_it_is_under_the_target_and_can_merge(sizes, target, small):
    assert count_small_files(sizes, target) == small


@pytest.fixture
def root(tmp_path: Path) -> Path:
    rows = order_events(exchanges=("sse",), days=(dt.date(2024, 1, 2),), rows_per_partition=40)
    load_backend("delta-local", root=tmp_path).write_sample_table(
        TABLE, rows=rows, partition_by=["exchange", "trading_date"], rows_per_file=10
    )
    return tmp_path


def test_files_too_big_to_pair_are_not_small_anywhere(root):
    """The 62-MiB case at a small scale: a target under two files' size."""
    actions = pa.table(DeltaTable(str(root / TABLE)).get_add_actions(flatten=True))
    sizes = actions["size_bytes"].to_pylist()
    target = 2 * min(sizes) - 1  # below any pair of files
    assert target > max(sizes)  # yet above every single file
    DeltaTable(str(root / TABLE)).alter.set_table_properties({"delta.targetFileSize": str(target)})
    backend = load_backend("delta-local", root=root)
    (stats,) = backend.inspect_partitions(TABLE).partitions
    assert (stats.file_count, stats.small_file_count) == (4, 0)
    report = backend.compact_partitions(TABLE, partitions=[PARTITION], min_small_files=1)
    assert report.partitions[0].skipped_reason == "below_min_small_files"

    shown = run_cli("inspect", str(root / TABLE))
    assert shown.exit_code == 0, shown.stderr
    header, row, summary = shown.stdout.splitlines()
    assert header.split() == ["PARTITION", "FILES", "SMALL", "BYTES", "ROWS"]
    assert row.split()[1:3] == ["4", "0"]
    assert "(0 small: under the" in summary
    assert "target and able to merge)" in summary


def test_files_that_can_pair_are_small_and_compacted(root):
    backend = load_backend("delta-local", root=root)
    (stats,) = backend.inspect_partitions(TABLE).partitions
    assert stats.small_file_count == 4
    report = backend.compact_partitions(TABLE, partitions=[PARTITION], min_small_files=4)
    assert report.partitions[0].status == "compacted"
    (after,) = backend.inspect_partitions(TABLE).partitions
    assert (after.file_count, after.small_file_count) == (1, 0)  # one file merges with none
