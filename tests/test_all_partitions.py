"""Every partition that needs it, in one step: ``TableInspection.needing_compaction`` and
``pointline-storage compact --all-partitions``, on real Delta tables."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable, write_deltalake

from pointline_storage import load_backend
from pointline_storage.cli import cli

TARGET = 64 * 1024
# Incompressible rows of this many bytes make files of a known size.
BIG_FILE_BYTES = TARGET * 6 // 10


def write_files(path: Path, day: str, files: int, payload_bytes: int) -> None:
    for _ in range(files):
        rows = pa.table({"day": [day], "payload": pa.array([os.urandom(payload_bytes)])})
        first = not (path / "_delta_log").exists()
        write_deltalake(
            str(path),
            rows,
            mode="error" if first else "append",
            partition_by=["day"],
            configuration={"delta.targetFileSize": str(TARGET)} if first else None,
        )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Table ``t``: day 1 holds 9 tiny files, day 2 four small files of which no two fit
    together within the target, day 3 three tiny files, day 4 one tiny file."""
    table = tmp_path / "t"
    write_files(table, "2024-01-01", 9, 10)
    write_files(table, "2024-01-02", 4, BIG_FILE_BYTES)
    write_files(table, "2024-01-03", 3, 10)
    write_files(table, "2024-01-04", 1, 10)
    return tmp_path


def files_by_day(root: Path) -> dict[str, set[str]]:
    actions = pa.table(DeltaTable(str(root / "t")).get_add_actions(flatten=True)).to_pylist()
    days: dict[str, set[str]] = {}
    for action in actions:
        days.setdefault(str(action["partition.day"]), set()).add(action["path"])
    return days


def compact(root: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["compact", "--root", str(root), "--table", "t", *args])
    return result.exit_code, result.stdout, result.stderr


def test_small_files_that_cannot_be_merged_do_not_need_compaction(root: Path) -> None:
    inspection = load_backend("delta-local", root=root).inspect_partitions("t")
    by_day = {dict(stats.partition)["day"]: stats for stats in inspection.partitions}
    assert inspection.target_file_size_bytes == TARGET
    # Day 2's files are all below the target, but no two fit together: none is small.
    assert [by_day[day].small_file_count for day in sorted(by_day)] == [9, 0, 3, 0]
    assert inspection.needing_compaction(min_small_files=3) == (
        {"day": "2024-01-01"},
        {"day": "2024-01-03"},
    )
    assert inspection.needing_compaction(min_small_files=4) == ({"day": "2024-01-01"},)
    assert inspection.needing_compaction(min_small_files=0) == inspection.needing_compaction(
        min_small_files=2
    )
    # What the planner does with every partition agrees.
    plan = load_backend("delta-local", root=root).compact_partitions(
        "t", partitions=[{"day": day} for day in by_day], min_small_files=3, dry_run=True
    )
    assert [dict(r.partition) for r in plan.partitions if r.status == "would_compact"] == list(
        inspection.needing_compaction(min_small_files=3)
    )


def test_all_partitions_compacts_exactly_those_and_reports_only_them(root: Path) -> None:
    before = files_by_day(root)
    code, out, _ = compact(root, "--all-partitions", "--min-small-files", "3", "--json")
    assert code == 0
    report = json.loads(out)
    assert [result["partition"] for result in report["partitions"]] == [
        {"day": "2024-01-01"},
        {"day": "2024-01-03"},
    ]
    assert [result["status"] for result in report["partitions"]] == ["compacted", "compacted"]
    assert report["min_small_files"] == 3
    after = files_by_day(root)
    assert (len(after["2024-01-01"]), len(after["2024-01-03"])) == (1, 1)
    assert after["2024-01-02"] == before["2024-01-02"]
    assert after["2024-01-04"] == before["2024-01-04"]


def test_all_partitions_with_nothing_to_do_writes_nothing(root: Path) -> None:
    version = DeltaTable(str(root / "t")).version()
    code, out, err = compact(root, "--all-partitions", "--min-small-files", "10", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["partitions"] == []
    assert report["version_before"] == report["version_after"] == version
    assert "nothing to compact" in err
    code, out, _ = compact(root, "--all-partitions", "--min-small-files", "10")
    assert code == 0
    assert "0 of 0 partitions" in out
    assert DeltaTable(str(root / "t")).version() == version


def test_all_partitions_dry_run_plans_only_those(root: Path) -> None:
    before = files_by_day(root)
    code, out, _ = compact(root, "--all-partitions", "--min-small-files", "3", "--dry-run")
    assert code == 0
    assert "day=2024-01-01" in out
    assert "day=2024-01-03" in out
    assert "day=2024-01-02" not in out
    assert "day=2024-01-04" not in out
    assert files_by_day(root) == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--partition", "day=2024-01-01"], "mutually exclusive"),
        (["--target-file-size", "1000"], "--target-file-size"),
    ],
)
def test_all_partitions_refuses_what_it_cannot_combine_with(
    root: Path, extra: list[str], message: str
) -> None:
    before = files_by_day(root)
    code, _, err = compact(root, "--all-partitions", *extra)
    assert code == 2
    assert message in err
    assert files_by_day(root) == before


def test_without_partitions_the_error_names_both_ways(root: Path) -> None:
    code, _, err = compact(root)
    assert code == 2
    assert "--partition" in err
    assert "--all-partitions" in err
