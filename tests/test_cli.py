"""The ``pointline-storage`` command line, run as a subprocess against real Delta tables."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from pointline_storage import load_backend
from pointline_storage.sample import order_events

TABLE = "orders"
PARTITION_COLUMNS = ["exchange", "trading_date"]
SSE_0102 = "exchange=sse,trading_date=2024-01-02"
SSE_0103 = "exchange=sse,trading_date=2024-01-03"
SZSE_0102 = "exchange=szse,trading_date=2024-01-02"
FILES_PER_PARTITION = 10


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter, capturing text output."""
    return subprocess.run(
        [sys.executable, "-m", "pointline_storage.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The failure is exactly one ``error:`` line on stderr, no traceback, the exit code."""
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    (line,) = error_lines(result)
    return line


def sample_rows(files_per_partition: int = FILES_PER_PARTITION, rows_per_file: int = 3) -> pa.Table:
    """Order events over four partitions: (sse, szse) x (2024-01-02, 2024-01-03)."""
    return order_events(
        exchanges=("sse", "szse"),
        days=(dt.date(2024, 1, 2), dt.date(2024, 1, 3)),
        rows_per_partition=files_per_partition * rows_per_file,
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root holding table ``orders``: 4 partitions of 10 files of 3 rows each."""
    load_backend("delta-local", root=tmp_path).write_sample_table(
        TABLE, rows=sample_rows(), partition_by=PARTITION_COLUMNS, rows_per_file=3
    )
    return tmp_path


def table_args(root: Path, *extra: str) -> list[str]:
    return ["--root", str(root), "--table", TABLE, *extra]


def delta(root: Path) -> DeltaTable:
    return DeltaTable(str(root / TABLE))


def sorted_rows(root: Path) -> list[dict[str, object]]:
    rows = delta(root).to_pyarrow_table().to_pylist()
    return sorted(rows, key=lambda row: (row["exchange"], row["order_id"]))


def live_files(root: Path, partition_dir: str) -> int:
    prefix = partition_dir + "/"
    return sum(1 for path in delta(root).file_uris() if prefix in path)


def parquet_files(root: Path, partition_dir: str) -> list[Path]:
    return sorted((root / TABLE / partition_dir).glob("*.parquet"))


# --- backends -----------------------------------------------------------------------------


def test_backends_lists_delta_local_with_version():
    text = run("backends")
    assert text.returncode == 0, text.stderr
    expected_version = version("pointline-storage-delta")
    (line,) = [line for line in text.stdout.splitlines() if line.startswith("delta-local")]
    assert line.split() == ["delta-local", "pointline-storage-delta", expected_version, "ok"]

    as_json = run("backends", "--json")
    assert as_json.returncode == 0, as_json.stderr
    (entry,) = [item for item in json.loads(as_json.stdout) if item["name"] == "delta-local"]
    assert entry["distribution"] == "pointline-storage-delta"
    assert entry["version"] == expected_version
    assert entry["status"] == "ok"
    assert entry["error"] is None


def test_backends_shows_a_broken_backend_without_failing(tmp_path):
    dist_info = tmp_path / "broken_backend-1.2.3.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-backend\nVersion: 1.2.3\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[pointline_storage.backends]\nbroken = no_such_module_xyz:create_backend\n"
    )
    pythonpath = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))

    text = run("backends", env={"PYTHONPATH": pythonpath})
    assert text.returncode == 0, text.stderr
    (line,) = [line for line in text.stdout.splitlines() if line.startswith("broken ")]
    assert "broken-backend" in line
    assert "1.2.3" in line
    assert "broken: could not import" in line
    assert "no_such_module_xyz" in line
    assert any(
        line.startswith("delta-local") and line.endswith("ok") for line in text.stdout.splitlines()
    )

    as_json = run("backends", "--json", env={"PYTHONPATH": pythonpath})
    assert as_json.returncode == 0, as_json.stderr
    entries = {item["name"]: item for item in json.loads(as_json.stdout)}
    assert entries["broken"]["status"] == "broken"
    assert "no_such_module_xyz" in entries["broken"]["error"]
    assert entries["delta-local"]["status"] == "ok"


# --- inspect ------------------------------------------------------------------------------


def test_inspect_prints_a_table_of_every_partition(root):
    result = run("inspect", *table_args(root))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PARTITION", "FILES", "SMALL", "BYTES", "ROWS"]
    rows = {line.split()[0]: line.split() for line in lines[1:5]}
    assert set(rows) == {
        "exchange=sse/trading_date=2024-01-02",
        "exchange=sse/trading_date=2024-01-03",
        "exchange=szse/trading_date=2024-01-02",
        "exchange=szse/trading_date=2024-01-03",
    }
    for cells in rows.values():
        assert cells[1:3] == ["10", "10"]
        assert cells[-1] == "30"
    assert lines[5].startswith(f"table {TABLE!r} at version {delta(root).version()}: 4 partitions")
    assert "40 files" in lines[5]
    assert "120 rows" in lines[5]


def test_inspect_json_reports_counts(root):
    result = run("inspect", *table_args(root, "--json"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["table_name"] == TABLE
    assert report["partition_keys"] == PARTITION_COLUMNS
    assert report["version"] == delta(root).version()
    assert len(report["partitions"]) == 4
    assert {p["file_count"] for p in report["partitions"]} == {FILES_PER_PARTITION}
    assert sum(p["total_rows"] for p in report["partitions"]) == 120


def test_inspect_named_partitions_canonicalises_values(root):
    result = run(
        "inspect",
        *table_args(root, "--json", "--partition", SSE_0102),
        "--partition",
        "trading_date=2024-01-05, exchange=szse",
    )
    assert result.returncode == 0, result.stderr
    partitions = json.loads(result.stdout)["partitions"]
    assert [(p["partition"], p["file_count"]) for p in partitions] == [
        ({"exchange": "sse", "trading_date": "2024-01-02"}, FILES_PER_PARTITION),
        ({"exchange": "szse", "trading_date": "2024-01-05"}, 0),
    ]


def test_table_path_names_an_explicit_location(root, tmp_path):
    elsewhere = tmp_path / "other-root"
    elsewhere.mkdir()
    result = run(
        "inspect",
        "--root",
        str(elsewhere),
        "--table",
        "alias",
        "--table-path",
        f"alias={root / TABLE}",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["table_name"] == "alias"
    assert len(json.loads(result.stdout)["partitions"]) == 4


# --- compact ------------------------------------------------------------------------------


def test_compact_dry_run_changes_nothing(root):
    version_before = delta(root).version()
    result = run("compact", *table_args(root, "--partition", SSE_0102, "--dry-run"))
    assert result.returncode == 0, result.stderr
    assert delta(root).version() == version_before
    assert len(parquet_files(root, "exchange=sse/trading_date=2024-01-02")) == FILES_PER_PARTITION
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("exchange=")]
    assert row.split()[1:3] == ["would", "compact"]
    assert row.startswith("exchange=sse/trading_date=2024-01-02")
    assert "dry run: would compact 1 of 1 partition" in result.stdout
    assert "nothing written" in result.stdout
    assert "planning" not in result.stderr  # one partition: no progress bar


def test_compact_two_partitions_keeps_rows_and_reports_json(root):
    rows_before = sorted_rows(root)
    version_before = delta(root).version()
    result = run(
        "compact",
        *table_args(root, "--partition", SSE_0102, "--partition", SZSE_0102, "--json"),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is False
    assert report["planned_partitions"] == 2
    assert report["attempted_partitions"] == 2
    assert report["succeeded_partitions"] == 2
    assert report["skipped_partitions"] == 0
    assert report["failed_partitions"] == 0
    assert report["version_before"] == version_before
    # Both partitions in one commit (the default batches up to 100 partitions).
    assert report["version_after"] == delta(root).version() == version_before + 1
    for partition in report["partitions"]:
        assert partition["status"] == "compacted"
        assert partition["before_file_count"] == FILES_PER_PARTITION
        assert partition["after_file_count"] == 1
        assert partition["rows_before"] == partition["rows_after"] == 30

    assert live_files(root, "exchange=sse/trading_date=2024-01-02") == 1
    assert live_files(root, "exchange=szse/trading_date=2024-01-02") == 1
    assert live_files(root, "exchange=sse/trading_date=2024-01-03") == FILES_PER_PARTITION
    assert sorted_rows(root) == rows_before
    assert "compacting 2 partitions" in result.stderr  # the progress bar's label


def test_compact_engine_options_one_commit_per_partition_and_gzip(root):
    version_before = delta(root).version()
    result = run(
        "compact",
        *table_args(root, "--partition", SSE_0102, "--partition", SZSE_0102),
        "--partitions-per-commit=1",
        "--max-concurrent-tasks=1",
        "--max-spill-size=67108864",
        "--compression=GZIP(5)",
    )
    assert result.returncode == 0, result.stderr
    assert delta(root).version() == version_before + 2
    for partition_dir in ("exchange=sse/", "exchange=szse/"):
        (compacted,) = [
            f for f in delta(root).file_uris() if f"{partition_dir}trading_date=2024-01-02/" in f
        ]
        metadata = pq.ParquetFile(compacted.removeprefix("file://")).metadata
        assert metadata.row_group(0).column(0).compression == "GZIP"


def test_compact_bad_compression_is_one_line_before_writing(root):
    version_before = delta(root).version()
    result = run("compact", *table_args(root, "--partition", SSE_0102), "--compression", "zip")
    message = assert_one_error_line(result, 2)
    assert "compression must be one of" in message
    assert delta(root).version() == version_before


def test_compact_text_output_shows_each_partition_and_a_summary(root):
    result = run(
        "compact",
        *table_args(root, "--partition", SSE_0103, "--partition", SZSE_0102),
        "--min-small-files",
        "11",
        "--partition",
        "exchange=sse,trading_date=2024-01-09",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["PARTITION", "STATUS"]
    by_partition = {line.split()[0]: line for line in lines[1:4]}
    assert "below_min_small_files (10 < 11)" in by_partition["exchange=sse/trading_date=2024-01-03"]
    assert "no_files" in by_partition["exchange=sse/trading_date=2024-01-09"]
    assert lines[4].startswith(f"compacted 0 of 3 partitions of {TABLE!r} (3 skipped, 0 failed)")
    assert "min small files 11" in lines[4]
    assert "compacting 3 partitions" in result.stderr

    compacted = run("compact", *table_args(root, "--partition", SSE_0103))
    assert compacted.returncode == 0, compacted.stderr
    (row,) = [line for line in compacted.stdout.splitlines() if line.startswith("exchange=")]
    assert row.split()[1:5] == ["compacted", "10", "->", "1"]
    assert "10 files rewritten into 1" in row
    assert compacted.stderr == ""


def test_compact_requires_a_partition(root):
    version_before = delta(root).version()
    result = run("compact", *table_args(root))
    line = assert_one_error_line(result, 2)
    assert "--partition" in line
    assert delta(root).version() == version_before


def test_compact_bad_partition_key_is_one_line(root):
    result = run("compact", *table_args(root, "--partition", "exchange=sse,date=2024-01-02"))
    line = assert_one_error_line(result, 2)
    assert "missing ['trading_date']" in line
    assert "unknown ['date']" in line


def test_malformed_partition_option_is_a_usage_error(root):
    result = run("inspect", *table_args(root, "--partition", "exchange"))
    line = assert_one_error_line(result, 2)
    assert "--partition" in line
    assert "col=value" in line


def test_storage_option_values_are_never_printed(root):
    malformed = run("inspect", *table_args(root, "--storage-option", "SUPERSECRET"))
    assert_one_error_line(malformed, 2)
    assert "SUPERSECRET" not in malformed.stderr + malformed.stdout
    duplicated = run(
        "inspect",
        *table_args(root, "--storage-option", "token=SUPERSECRET", "--storage-option", "token=x"),
    )
    line = assert_one_error_line(duplicated, 2)
    assert "'token' is given twice" in line
    assert "SUPERSECRET" not in duplicated.stderr + duplicated.stdout


def test_unknown_backend_is_one_line_listing_installed_backends(root):
    result = run("inspect", *table_args(root, "--backend", "no-such-backend"))
    line = assert_one_error_line(result, 1)
    assert "no-such-backend" in line
    assert "delta-local" in line


def test_unknown_table_is_one_line(root):
    result = run("inspect", "--root", str(root), "--table", "missing_table")
    line = assert_one_error_line(result, 1)
    assert "missing_table" in line
    assert "not found" in line


def test_stop_on_error_prints_the_partial_report_then_the_error(root):
    parquet_files(root, "exchange=sse/trading_date=2024-01-02")[0].write_bytes(b"not parquet")
    version_before = delta(root).version()
    result = run(
        "compact",
        *table_args(root, "--partition", SSE_0102, "--partition", SZSE_0102, "--stop-on-error"),
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert "failed" in lines[1].split()[1]
    assert lines[1].startswith("exchange=sse/trading_date=2024-01-02")
    assert "not attempted" in lines[2]
    assert "1 failed, 1 not attempted" in lines[3]
    (error,) = error_lines(result)
    assert "exchange=sse/trading_date=2024-01-02" in error
    assert delta(root).version() == version_before

    as_json = run(
        "compact",
        *table_args(root, "--partition", SSE_0102, "--partition", SZSE_0102),
        "--stop-on-error",
        "--json",
    )
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert [p["status"] for p in report["partitions"]] == ["failed", "not_attempted"]
    assert len(error_lines(as_json)) == 1


def test_failed_partition_without_stop_on_error_exits_3(root):
    parquet_files(root, "exchange=sse/trading_date=2024-01-02")[0].write_bytes(b"not parquet")
    result = run(
        "compact", *table_args(root, "--partition", SSE_0102, "--partition", SZSE_0102, "--json")
    )
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["failed_partitions"] == 1
    assert report["succeeded_partitions"] == 1
    statuses = {tuple(p["partition"].items()): p for p in report["partitions"]}
    failed = statuses[(("exchange", "sse"), ("trading_date", "2024-01-02"))]
    assert failed["status"] == "failed"
    assert failed["error"]
    assert statuses[(("exchange", "szse"), ("trading_date", "2024-01-02"))]["status"] == "compacted"
    assert live_files(root, "exchange=szse/trading_date=2024-01-02") == 1
    assert live_files(root, "exchange=sse/trading_date=2024-01-02") == FILES_PER_PARTITION
    assert len(error_lines(result)) == 1


def test_empty_partition_option_compacts_an_unpartitioned_table(tmp_path):
    load_backend("delta-local", root=tmp_path).write_sample_table(
        "flat", rows=sample_rows(files_per_partition=3), rows_per_file=12
    )
    result = run(
        "compact",
        "--root",
        str(tmp_path),
        "--table",
        "flat",
        "--partition",
        "",
        "--min-small-files",
        "2",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    (partition,) = json.loads(result.stdout)["partitions"]
    assert partition["partition"] == {}
    assert partition["status"] == "compacted"
    assert (partition["before_file_count"], partition["after_file_count"]) == (3, 1)


def test_no_command_prints_help():
    result = run()
    assert result.returncode == 0, result.stderr
    for command in ("backends", "inspect", "compact", "vacuum", "demo"):
        assert command in result.stdout


def test_compact_help_documents_exit_status_3():
    result = run("compact", "--help")
    assert result.returncode == 0
    assert "3  some partitions failed" in result.stdout


# --- vacuum -------------------------------------------------------------------------------


def compact_in_process(root: Path) -> None:
    load_backend("delta-local", root=root).compact_partitions(
        TABLE, partitions=[{"exchange": "sse", "trading_date": "2024-01-02"}]
    )


def test_vacuum_is_a_dry_run_by_default(root):
    compact_in_process(root)
    on_disk = parquet_files(root, "exchange=sse/trading_date=2024-01-02")
    result = run("vacuum", *table_args(root, "--retention-hours", "0", "--no-enforce-retention"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"dry run: would delete {FILES_PER_PARTITION} files")
    listed = [line.split()[-1] for line in result.stdout.splitlines() if "would delete  " in line]
    assert len(listed) == FILES_PER_PARTITION
    assert all(path.startswith("exchange=sse/trading_date=2024-01-02/") for path in listed)
    assert parquet_files(root, "exchange=sse/trading_date=2024-01-02") == on_disk
    assert "--no-dry-run" in result.stdout

    safe_defaults = run("vacuum", *table_args(root, "--json"))
    assert safe_defaults.returncode == 0, safe_defaults.stderr
    report = json.loads(safe_defaults.stdout)
    assert report["dry_run"] is True
    assert report["retention_hours"] == 168
    assert report["enforce_retention_duration"] is True
    assert report["deleted_files"] == []


def test_vacuum_no_dry_run_deletes_the_files_it_lists(root):
    compact_in_process(root)
    rows_before = sorted_rows(root)
    result = run(
        "vacuum",
        *table_args(root, "--no-dry-run", "--retention-hours", "0", "--no-enforce-retention"),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is False
    assert report["deleted_count"] == FILES_PER_PARTITION
    for path in report["deleted_files"]:
        assert not (root / TABLE / path).exists()
    assert len(parquet_files(root, "exchange=sse/trading_date=2024-01-02")) == 1
    assert sorted_rows(root) == rows_before


def test_vacuum_retention_below_the_minimum_is_refused(root):
    compact_in_process(root)
    on_disk = parquet_files(root, "exchange=sse/trading_date=2024-01-02")
    result = run("vacuum", *table_args(root, "--no-dry-run", "--retention-hours", "0"))
    line = assert_one_error_line(result, 2)
    assert "retention" in line
    assert parquet_files(root, "exchange=sse/trading_date=2024-01-02") == on_disk


# --- demo ---------------------------------------------------------------------------------


def test_demo_builds_compacts_and_lists_files_to_vacuum(tmp_path):
    directory = tmp_path / "demo"
    result = run("demo", "--dir", str(directory))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    headings = [line for line in out.splitlines() if line.startswith("== ")]
    assert len(headings) == 7
    assert any("Inspect" in heading for heading in headings)
    assert any("dry run" in heading for heading in headings)
    assert any("Vacuum" in heading for heading in headings)
    assert str(directory.resolve() / "cn_order_events") in out
    assert "4 partitions, 96 files" in out
    assert "would compact 3 of 3 partitions" in out
    assert "compacted 3 of 3 partitions" in out
    assert out.count("24 -> 1") == 3
    assert "dry run: would delete 72 files" in out
    assert "168 h" in out

    table = DeltaTable(str(directory / "cn_order_events"))
    assert table.to_pyarrow_table().num_rows == 4 * 24 * 50
    assert len(table.file_uris()) == 3 + 24
    assert len(list((directory / "cn_order_events").rglob("*.parquet"))) == 96 + 3

    again = run("demo", "--dir", str(directory))
    line = assert_one_error_line(again, 1)
    assert "already exists" in line


def test_an_unexpected_error_is_one_line_unless_debugging(tmp_path):
    dist_info = tmp_path / "faulty_backend-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: faulty-backend\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[pointline_storage.backends]\nfaulty = faulty_backend:create_backend\n"
    )
    (tmp_path / "faulty_backend.py").write_text(
        "from pointline_storage import hookimpl\n"
        "class Faulty:\n"
        "    @hookimpl\n"
        "    def compact_partitions(self, table_name):\n"
        "        raise RuntimeError('disk on fire')\n"
        "    @hookimpl\n"
        "    def inspect_partitions(self, table_name):\n"
        "        raise RuntimeError('disk on fire')\n"
        "    @hookimpl\n"
        "    def vacuum_table(self, table_name):\n"
        "        raise RuntimeError('disk on fire')\n"
        "def create_backend(**options):\n"
        "    return Faulty()\n"
    )
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    }
    args = ("inspect", "--backend", "faulty", "--root", str(tmp_path), "--table", "t")
    result = run(*args, env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: unexpected RuntimeError: disk on fire "
        "(set POINTLINE_STORAGE_DEBUG=1 to see the traceback)"
    )
    debug = run(*args, env={**env, "POINTLINE_STORAGE_DEBUG": "1"})
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr
