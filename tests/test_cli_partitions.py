"""The CLI takes what it prints: --partition forms, tables named by location, hints in CLI
words, named partitions the table lacks, and exit statuses. In-process, real tables."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
from cli_inprocess import run_cli
from deltalake import DeltaTable, write_deltalake

from pointline_storage import load_backend
from pointline_storage.cli_partitions import parse_partition
from pointline_storage.cli_words import in_cli_words
from pointline_storage.sample import order_events
from pointline_storage.testing.s3 import MotoServer

TABLE = "orders"
COLUMNS = ["exchange", "trading_date"]


def write_orders(root: Path | str, *, exchanges=("sse", "szse"), **options) -> None:
    rows = order_events(
        exchanges=exchanges,
        days=(dt.date(2024, 1, 2), dt.date(2024, 1, 3)),
        rows_per_partition=12,
    )
    load_backend("delta-local", root=root, **options).write_sample_table(
        TABLE, rows=rows, partition_by=COLUMNS, rows_per_file=3
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Table ``orders``: (sse, szse) x (2024-01-02, 2024-01-03), 4 files per partition."""
    write_orders(tmp_path)
    return tmp_path


def files_of(root: Path, directory: str) -> int:
    return sum(1 for uri in DeltaTable(str(root / TABLE)).file_uris() if f"/{directory}/" in uri)


# --- the forms of --partition ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        (
            "venue=NYSE/bucket=1/day=2024-01-02",
            {"venue": "NYSE", "bucket": "1", "day": "2024-01-02"},
        ),
        (
            "venue=NYSE,bucket=1,day=2024-01-02",
            {"venue": "NYSE", "bucket": "1", "day": "2024-01-02"},
        ),
        (
            "venue=NYSE/bucket=1,day=2024-01-02",
            {"venue": "NYSE", "bucket": "1", "day": "2024-01-02"},
        ),
        (" venue = NYSE ", {"venue": " NYSE"}),
        ("", {}),
        ("  ", {}),
        ("note=a=b", {"note": "a=b"}),
        ('{"venue": "A,B/C", "day": "2024-01-02"}', {"venue": "A,B/C", "day": "2024-01-02"}),
        ('{"venue": null, "bucket": 1}', {"venue": None, "bucket": 1}),
        ("{}", {}),
    ],
)
def test_a_partition_is_written_as_inspect_prints_it_with_commas_or_as_json(text, spec):
    assert parse_partition(text) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("venue", "expected col=value"),
        ("venue=A,B", "needs the JSON form"),
        ("=x", "expected col=value"),
        ("venue=a/venue=b", "column 'venue' is given twice"),
        ("{venue: 1}", "is not a JSON object"),
        ('["venue"]', "expected col=value"),
        ('{"venue": [1]}', "expected a JSON object"),
    ],
)
def test_a_malformed_partition_says_how_to_write_one(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_partition(text)


def test_the_partition_inspect_prints_is_what_compact_takes(root):
    inspected = run_cli("inspect", "--root", str(root), "--table", TABLE)
    assert inspected.exit_code == 0, inspected.stderr
    first_row = inspected.stdout.splitlines()[1]
    printed = first_row.split()[0]
    assert printed == "exchange=sse/trading_date=2024-01-02"

    result = run_cli(
        "compact", "--root", str(root), "--table", TABLE, "--partition", printed,
        "--min-small-files", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "compacted  4 -> 1" in result.stdout
    assert files_of(root, "exchange=sse/trading_date=2024-01-02") == 1
    assert files_of(root, "exchange=szse/trading_date=2024-01-02") == 4


def test_a_value_holding_a_comma_is_named_in_json(tmp_path):
    write_orders(tmp_path, exchanges=("a,b", "a"))
    spec = json.dumps({"exchange": "a,b", "trading_date": "2024-01-02"})
    result = run_cli(
        "compact", "--root", str(tmp_path), "--table", TABLE, "--partition", spec,
        "--min-small-files", "2", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (only,) = json.loads(result.stdout)["partitions"]
    assert only["partition"] == {"exchange": "a,b", "trading_date": "2024-01-02"}
    assert only["status"] == "compacted"
    assert files_of(tmp_path, "exchange=a%2Cb/trading_date=2024-01-02") == 1
    assert files_of(tmp_path, "exchange=a/trading_date=2024-01-02") == 4

    comma_form = run_cli(
        "compact", "--root", str(tmp_path), "--table", TABLE,
        "--partition", "exchange=a,b,trading_date=2024-01-02",
    )  # fmt: skip
    assert comma_form.exit_code == 2
    assert "JSON form" in comma_form.error_line()


# --- naming a table by its location ----------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        lambda root: [str(root / TABLE)],
        lambda root: [f"{root / TABLE}/"],
        lambda root: [f"file://{root / TABLE}"],
        lambda root: ["--root", f"{root}/", "--table", f"./{TABLE}/"],
    ],
    ids=["path", "trailing-slash", "file-uri", "root-and-dotted-table"],
)
def test_a_table_is_named_by_its_location_alone(root, form):
    result = run_cli("inspect", *form(root), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["table_name"] == TABLE
    assert len(report["partitions"]) == 4


def test_a_relative_location_and_dot(root, monkeypatch):
    monkeypatch.chdir(root)
    for location in (f"./{TABLE}", f"{TABLE}/"):
        result = run_cli("inspect", location, "--json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["table_name"] == TABLE
    monkeypatch.chdir(root / TABLE)
    here = run_cli("compact", ".", "--partition", "exchange=sse/trading_date=2024-01-03",
                   "--min-small-files", "2")  # fmt: skip
    assert here.exit_code == 0, here.stderr
    assert f"of {TABLE!r}" in here.stdout
    assert files_of(root, "exchange=sse/trading_date=2024-01-03") == 1


def test_vacuum_takes_a_location_too(root):
    result = run_cli("vacuum", str(root / TABLE))
    assert result.exit_code == 0, result.stderr
    assert f"table {TABLE!r}" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name a table: its LOCATION"),
        (["--root", "/tmp"], "missing --table"),
        (["--table", TABLE], "missing --root"),
        (["/tmp/t", "--table", TABLE], "not both"),
    ],
)
def test_naming_no_table_or_two_is_a_usage_error(args, message):
    result = run_cli("inspect", *args)
    assert result.exit_code == 2
    assert message in result.error_line()


def test_an_s3_table_is_named_by_its_uri(s3_bucket: str, moto_server: MotoServer, monkeypatch):
    for key, value in moto_server.storage_options().items():
        monkeypatch.setenv(key, value)
    rows = order_events(exchanges=("sse",), days=(dt.date(2024, 1, 2),), rows_per_partition=6)
    load_backend("delta-s3", root=f"s3://{s3_bucket}/silver").write_sample_table(
        TABLE, rows=rows, partition_by=COLUMNS, rows_per_file=3
    )
    for location in (f"s3://{s3_bucket}/silver/{TABLE}", f"s3://{s3_bucket}/silver/{TABLE}/"):
        result = run_cli("inspect", "--backend", "delta-s3", location, "--json")
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["table_name"] == TABLE
        assert [p["file_count"] for p in report["partitions"]] == [2]


# --- hints in CLI words, exit statuses -------------------------------------------------------


def test_an_unpartitioned_table_hint_names_the_cli_option(tmp_path):
    rows = order_events(exchanges=("sse",), days=(dt.date(2024, 1, 2),), rows_per_partition=6)
    load_backend("delta-local", root=tmp_path).write_sample_table("flat", rows=rows)
    result = run_cli(
        "compact", "--root", str(tmp_path), "--table", "flat", "--partition", "exchange=sse"
    )
    line = result.error_line()
    assert result.exit_code == 2
    assert "--partition ''" in line
    assert "partitions=" not in line
    whole = run_cli(
        "compact", "--root", str(tmp_path), "--table", "flat", "--partition", "",
        "--min-small-files", "2",
    )  # fmt: skip
    assert whole.exit_code == 0, whole.stderr
    assert "compacted 1 of 1 partition" in whole.stdout


@pytest.mark.parametrize(
    ("args", "expected", "python_name"),
    [
        (["--table", "/abs/t"], "name the table by its location", "table_paths"),
        (["--table", "s3://b/t"], "name the table by its location", "table_paths"),
        (
            ["--table", TABLE, "--target-file-size", f"{2**63}"],
            "--target-file-size must be <=",
            "target_file_size_bytes",
        ),
    ],
)
def test_error_hints_use_cli_words_and_invalid_input_exits_2(root, args, expected, python_name):
    result = run_cli("compact", "--root", str(root), *args, "--partition", "exchange=sse")
    line = result.error_line()
    assert result.exit_code == 2, line
    assert expected in line
    assert python_name not in line


def test_a_retention_below_the_minimum_exits_2_with_the_cli_flag(root):
    result = run_cli("vacuum", str(root / TABLE), "--retention-hours", "1", "--no-dry-run")
    line = result.error_line()
    assert result.exit_code == 2
    assert "(--no-enforce-retention)" in line
    assert "enforce_retention_duration" not in line


def test_a_bad_partition_value_exits_2_and_a_missing_table_1(root):
    bad = run_cli(str(root / TABLE), "--partition", "exchange=sse/trading_date=tomorrow")
    assert bad.exit_code == 2  # no such command: a usage error
    invalid = run_cli("compact", str(root / TABLE), "--partition",
                      "exchange=sse/trading_date=tomorrow")  # fmt: skip
    assert invalid.exit_code == 2
    assert "expected a YYYY-MM-DD date" in invalid.error_line()
    missing = run_cli("inspect", str(root / "nothing_here"))
    assert missing.exit_code == 1
    assert "not found" in missing.error_line()


# --- named partitions that are not in the table ----------------------------------------------


def test_a_named_partition_not_in_the_table_is_reported_and_warned_about(root):
    version = DeltaTable(str(root / TABLE)).version()
    result = run_cli(
        "compact", str(root / TABLE), "--json", "--dry-run", "--min-small-files", "2",
        "--partition", "exchange=bse/trading_date=2024-01-02",
        "--partition", "exchange=sse/trading_date=2024-01-09",
        "--partition", "exchange=sse/trading_date=2024-01-02",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    statuses = {
        "/".join(p["partition"].values()): p["skipped_reason"] or p["status"]
        for p in json.loads(result.stdout)["partitions"]
    }
    assert statuses == {
        "bse/2024-01-02": "no_files",
        "sse/2024-01-09": "no_files",
        "sse/2024-01-02": "would_compact",
    }
    bse, day = result.warnings()
    assert bse == (
        "warning: partition exchange=bse/trading_date=2024-01-02 is not in table 'orders': "
        "no partition has exchange=bse (closest: sse, szse)"
    )
    assert day.startswith(
        "warning: partition exchange=sse/trading_date=2024-01-09 is not in table 'orders': "
        "no partition has trading_date=2024-01-09 (closest: 2024-01-03, 2024-01-02)"
    )
    assert DeltaTable(str(root / TABLE)).version() == version


def test_a_combination_not_in_the_table_names_the_closest_partitions(tmp_path):
    rows = order_events(exchanges=("sse",), days=(dt.date(2024, 1, 2),), rows_per_partition=6)
    more = order_events(exchanges=("szse",), days=(dt.date(2024, 1, 3),), rows_per_partition=6)
    backend = load_backend("delta-local", root=tmp_path)
    backend.write_sample_table(TABLE, rows=rows, partition_by=COLUMNS, rows_per_file=3)
    write_deltalake(str(tmp_path / TABLE), more, mode="append", partition_by=COLUMNS)
    result = run_cli("inspect", str(tmp_path / TABLE),
                     "--partition", "exchange=sse/trading_date=2024-01-03")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (warning,) = result.warnings()
    head, closest = warning.split(": closest partitions: ")
    assert head.endswith("is not in table 'orders'")
    assert sorted(closest.split(", ")) == [
        "exchange=sse/trading_date=2024-01-02",
        "exchange=szse/trading_date=2024-01-03",
    ]
    assert "exchange=sse/trading_date=2024-01-03" in result.stdout  # still in the report


def test_no_warning_when_every_named_partition_is_there(root):
    result = run_cli("compact", str(root / TABLE), "--partition",
                     "exchange=sse/trading_date=2024-01-02", "--dry-run")  # fmt: skip
    assert result.exit_code == 0
    assert result.stderr.count("warning:") == 0


def test_the_issue_example_with_an_integer_and_a_date_column(tmp_path):
    location = tmp_path / "trades"
    for price in (1.0, 2.0, 3.0):
        rows = pa.table(
            {
                "venue": ["NYSE", "NYSE", "ARCA"],
                "bucket": pa.array([1, 2, 1], pa.int64()),
                "day": pa.array([dt.date(2024, 1, 2)] * 3, pa.date32()),
                "price": [price] * 3,
            }
        )
        write_deltalake(str(location), rows, mode="append", partition_by=["venue", "bucket", "day"])
    inspected = run_cli("inspect", str(location))
    printed = [line.split()[0] for line in inspected.stdout.splitlines()[1:-1]]
    assert "venue=NYSE/bucket=1/day=2024-01-02" in printed
    result = run_cli(
        "compact", str(location), "--partition", "venue=NYSE/bucket=1/day=2024-01-02",
        "--min-small-files", "2", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (only,) = json.loads(result.stdout)["partitions"]
    assert (only["status"], only["before_file_count"], only["after_file_count"]) == (
        "compacted",
        3,
        1,
    )


def test_python_names_become_options_but_reasons_stay():
    assert in_cli_words(
        "min_small_files must be >= 0, got -1; skipped as below_min_small_files"
    ) == ("--min-small-files must be >= 0, got -1; skipped as below_min_small_files")
    assert in_cli_words("set max_spill_size or partitions_per_commit") == (
        "set --max-spill-size or --partitions-per-commit"
    )
