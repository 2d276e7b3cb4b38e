"""The plan and execute commands, and compact --workers: in-process through click's runner,
and as ``python -m pointline_storage.cli`` (which builds its command group twice)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_inprocess import Ran, run_cli
from cli_run import run
from deltalake import DeltaTable
from test_cli import assert_one_error_line

from pointline_storage import CompactionPlan, load_backend
from pointline_storage.testing import sample_rows, sorted_rows

SSE = "exchange=sse,trading_date=2024-01-02"
SZSE = "exchange=szse,trading_date=2024-01-02"
SSE_LATER = "exchange=sse,trading_date=2024-01-03"


def invoke(*args: str) -> Ran:
    ran = run_cli(*args)
    assert ran.exit_code == 0, ran.stderr
    return ran


@pytest.fixture
def root(tmp_path: Path) -> Path:
    load_backend("delta-local", root=tmp_path).write_sample_table(
        "t",
        rows=sample_rows(files_per_partition=3),
        partition_by=("exchange", "trading_date"),
        rows_per_file=20,
    )
    return tmp_path


def test_plan_then_execute(root, tmp_path):
    plan_file = tmp_path / "plan.json"
    version = DeltaTable(str(root / "t")).version()
    planned = invoke(
        "plan", "--root", str(root), "--table", "t", "--partition", SSE, "--partition", SZSE,
        "--min-small-files", "2", "--output", str(plan_file),
    )  # fmt: skip
    assert planned.stdout.startswith(
        f"planned 2 partitions of table 't' at version {version}: 6 files, "
    )
    assert DeltaTable(str(root / "t")).version() == version
    plan = CompactionPlan.from_json(plan_file.read_text())
    assert len(plan.partitions) == 2
    before = sorted_rows(DeltaTable(str(root / "t")).to_pyarrow_table())
    done = invoke("execute", str(plan_file), "--root", str(root), "--json")
    report = json.loads(done.stdout)
    assert report["succeeded_partitions"] == 2
    assert report["version_before"] == version
    assert sorted_rows(DeltaTable(str(root / "t")).to_pyarrow_table()).equals(before)
    again = invoke("execute", str(plan_file), "--root", str(root))
    assert again.stdout.count("changed_since_plan") == 2


def test_plan_prints_json_without_output(root):
    planned = invoke("plan", "--root", str(root), "--table", "t", "--partition", SSE)
    plan = CompactionPlan.from_json(planned.stdout)
    assert [r.skipped_reason for r in plan.skipped] == ["below_min_small_files"]


def test_compact_on_local_workers(root):
    done = invoke(
        "compact", "--root", str(root), "--table", "t", "--partition", SSE, "--partition",
        SSE_LATER, "--partition", SZSE, "--min-small-files", "2", "--workers", "2", "--json",
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert report["succeeded_partitions"] == 3
    assert {r["after_file_count"] for r in report["partitions"]} == {1}


def test_bad_plans_and_options_are_one_error_line(root, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 9}')
    # Invalid input, nothing written: the usage-error status.
    line = assert_one_error_line(run("execute", str(bad), "--root", str(root)), 2)
    assert f"{bad}: unknown compaction plan format 9" in line
    both = run_cli(
        "compact", "--root", str(root), "--table", "t", "--partition", SSE,
        "--workers", "2", "--dask-scheduler", "tcp://127.0.0.1:1",
    )  # fmt: skip
    assert both.exit_code == 2
    assert "give --workers or --dask-scheduler, not both" in both.error_line()
