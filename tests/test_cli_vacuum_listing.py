"""``vacuum`` lists the first files and totals per directory; --all-files and --json list all."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cli_inprocess import run_cli

from pointline_storage import load_backend
from pointline_storage.cli_render import VACUUM_FILES_SHOWN
from pointline_storage.sample import order_events

TABLE = "orders"
FILES_PER_PARTITION = 12


@pytest.fixture
def compacted(tmp_path: Path) -> Path:
    """Two partitions compacted: 2 x 12 replaced files for a vacuum at retention 0."""
    rows = order_events(
        exchanges=("sse", "szse"),
        days=(dt.date(2024, 1, 2),),
        rows_per_partition=FILES_PER_PARTITION * 2,
    )
    backend = load_backend("delta-local", root=tmp_path)
    backend.write_sample_table(
        TABLE, rows=rows, partition_by=["exchange", "trading_date"], rows_per_file=2
    )
    backend.compact_partitions(
        TABLE,
        partitions=[
            {"exchange": "sse", "trading_date": "2024-01-02"},
            {"exchange": "szse", "trading_date": "2024-01-02"},
        ],
    )
    return tmp_path / TABLE


ARGS = ("--retention-hours", "0", "--no-enforce-retention")


def test_vacuum_shows_the_first_files_then_totals_per_directory(compacted):
    result = run_cli("vacuum", str(compacted), *ARGS)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("dry run: would delete 24 files")
    listed = [line for line in lines if line.startswith("  would delete  ")]
    assert len(listed) == VACUUM_FILES_SHOWN
    assert f"  ... and {24 - VACUUM_FILES_SHOWN} more files" in lines
    totals = lines[lines.index("would delete per directory:") + 1 :][:2]
    assert [line.split() for line in totals] == [
        ["exchange=sse/trading_date=2024-01-02", "12", "files"],
        ["exchange=szse/trading_date=2024-01-02", "12", "files"],
    ]
    assert lines[-1].startswith("dry run: nothing deleted")
    assert all(not line.endswith(".parquet") for line in lines[VACUUM_FILES_SHOWN + 1 :])


def test_all_files_and_json_list_every_file(compacted):
    every = run_cli("vacuum", str(compacted), *ARGS, "--all-files")
    assert every.exit_code == 0, every.stderr
    listed = [line.split()[-1] for line in every.stdout.splitlines() if line.startswith("  would")]
    assert len(listed) == 24
    assert "more files" not in every.stdout

    as_json = run_cli("vacuum", str(compacted), *ARGS, "--json")
    report = json.loads(as_json.stdout)
    assert report["deleted_count"] == 24
    assert sorted(report["deleted_files"]) == sorted(listed)
    assert all((compacted / path).exists() for path in listed)  # a dry run deleted nothing
