"""Hourly tables (timestamp partition columns) from the command line: the value ``inspect``
prints names the partition for ``compact``."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from pointline_storage.cli import cli

HOURS = [dt.datetime(2024, 1, 2, hour) for hour in range(3)]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("zone", ["UTC", None], ids=["timestamp", "timestamp_ntz"])
def test_compact_takes_the_hour_inspect_prints(tmp_path: Path, zone: str | None) -> None:
    for number in range(4):
        rows = pa.table(
            {"hour": pa.array(HOURS, pa.timestamp("us", tz=zone)), "n": [number] * len(HOURS)}
        )
        write_deltalake(str(tmp_path / "t"), rows, partition_by=["hour"], mode="append")
    table = ["--root", str(tmp_path), "--table", "t"]
    code, out, _ = invoke("inspect", *table, "--json")
    assert code == 0
    shown = [stats["partition"]["hour"] for stats in json.loads(out)["partitions"]]
    suffix = "+00:00" if zone else ""
    assert shown == [f"2024-01-02 0{hour}:00:00{suffix}" for hour in range(3)]
    code, text, _ = invoke("inspect", *table)
    printed = [line.split("  ")[0] for line in text.splitlines()[1:4]]
    assert printed == [f"hour={hour}" for hour in shown]
    # The partition exactly as the table printed it, copied into --partition.
    code, out, err = invoke("compact", *table, "--partition", printed[0], "--dry-run", "--json")
    assert code == 0, err
    assert [r["partition"] for r in json.loads(out)["partitions"]] == [{"hour": shown[0]}]

    code, out, err = invoke(
        "compact", *table, "--partition", f"hour={shown[1]}", "--min-small-files", "2", "--json"
    )
    assert code == 0, err
    (result,) = json.loads(out)["partitions"]
    assert (result["partition"], result["status"]) == ({"hour": shown[1]}, "compacted")
    files = pa.table(DeltaTable(str(tmp_path / "t")).get_add_actions(flatten=True))
    per_hour = files.group_by("partition.hour").aggregate([("path", "count")]).to_pylist()
    counts = {row["partition.hour"].replace(tzinfo=None): row["path_count"] for row in per_hour}
    assert counts == {HOURS[0]: 4, HOURS[1]: 1, HOURS[2]: 4}


def test_an_offset_for_a_timestamp_ntz_column_is_one_clear_error(tmp_path: Path) -> None:
    rows = pa.table({"hour": pa.array(HOURS, pa.timestamp("us")), "n": [0] * len(HOURS)})
    write_deltalake(str(tmp_path / "t"), rows, partition_by=["hour"])
    args = ["--root", str(tmp_path), "--table", "t", "--partition", "hour=2024-01-02 01:00Z"]
    result = subprocess.run(
        [sys.executable, "-m", "pointline_storage.cli", "inspect", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: invalid value '2024-01-02 01:00Z' for partition column 'hour'")
    assert "without time zone" in line
