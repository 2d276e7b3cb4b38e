"""Sizes with units: the CLI's parser, Spark's reading of delta.targetFileSize, both end to end."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from deltalake import DeltaTable
from pointline_storage_delta.spark_sizes import parse_spark_size

from pointline_storage import InvalidOptionError, load_backend
from pointline_storage.cli import cli
from pointline_storage.sample import order_events
from pointline_storage.sizes import parse_size

TABLE = "orders"
PARTITION = {"exchange": "sse", "trading_date": "2024-01-02"}


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1048576", 1_048_576),
        ("0", 0),
        ("512B", 512),
        ("64MiB", 64 * 2**20),
        ("64mib", 64 * 2**20),
        ("64 MiB", 64 * 2**20),
        ("1GB", 10**9),
        ("1gb", 10**9),
        ("1kB", 1000),
        ("1.5GiB", 1_610_612_736),
        ("2TiB", 2 * 2**40),
        (" 3 KiB ", 3072),
    ],
)
def test_parse_size_reads_si_and_iec_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not a size"),
        ("MiB", "is not a size"),
        ("-1MiB", "is not a size"),
        ("1.5", "not a whole number of bytes"),
        ("0.1B", "not a whole number of bytes"),
        ("64m", "did you mean 64MiB or 64MB?"),
        ("64 parsecs", "unknown size unit 'parsecs'"),
        ("1e6", "is not a size"),
    ],
)
def test_parse_size_refuses_what_is_not_a_size(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("104857600", 104_857_600),
        ("1mb", 1_048_576),
        ("1MB", 1_048_576),
        ("1m", 1_048_576),
        ("128k", 131_072),
        ("2g", 2 * 2**30),
        ("7b", 7),
        (" 100mb ", 100 * 2**20),
    ],
)
def test_spark_sizes_are_powers_of_1024(text, size):
    assert parse_spark_size(text) == size


@pytest.mark.parametrize("text", ["1.5mb", "1 mb", "1mib", "big", "", "-1"])
def test_spark_sizes_refuse_what_spark_refuses(text):
    with pytest.raises(ValueError, match="is not a size"):
        parse_spark_size(text)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    rows = order_events(exchanges=("sse",), days=(dt.date(2024, 1, 2),), rows_per_partition=30)
    load_backend("delta-local", root=tmp_path).write_sample_table(
        TABLE, rows=rows, partition_by=["exchange", "trading_date"], rows_per_file=3
    )
    return tmp_path


def set_target_property(root: Path, value: str) -> None:
    DeltaTable(str(root / TABLE)).alter.set_table_properties({"delta.targetFileSize": value})


def test_a_target_size_property_with_a_unit_is_read_as_spark_reads_it(root):
    set_target_property(root, "1mb")
    backend = load_backend("delta-local", root=root)
    assert backend.inspect_partitions(TABLE).target_file_size_bytes == 1_048_576
    report = backend.compact_partitions(TABLE, partitions=[PARTITION], min_small_files=2)
    assert report.target_file_size_bytes == 1_048_576
    assert report.partitions[0].status == "compacted"


def test_a_target_size_property_that_is_no_size_is_refused_not_replaced(root):
    set_target_property(root, "1.5 megabytes")
    backend = load_backend("delta-local", root=root)
    version = DeltaTable(str(root / TABLE)).version()
    for call in (
        lambda: backend.inspect_partitions(TABLE),
        lambda: backend.compact_partitions(TABLE, partitions=[PARTITION], dry_run=True),
        lambda: backend.compact_partitions(TABLE, partitions=[PARTITION]),
    ):
        with pytest.raises(InvalidOptionError) as caught:
            call()
        message = str(caught.value)
        assert "delta.targetFileSize='1.5 megabytes'" in message
        assert "--target-file-size" in message
    assert DeltaTable(str(root / TABLE)).version() == version
    assert not (root / TABLE / "_pointline").exists() or not any(
        (root / TABLE / "_pointline").rglob("*.json")
    )
    # A size the caller gives is used without consulting the property.
    report = backend.compact_partitions(
        TABLE, partitions=[PARTITION], target_file_size_bytes=2**20, min_small_files=2
    )
    assert report.partitions[0].status == "compacted"


def test_zero_as_the_target_size_property_is_refused(root):
    set_target_property(root, "0")
    with pytest.raises(InvalidOptionError, match="at least 1 byte"):
        load_backend("delta-local", root=root).inspect_partitions(TABLE)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_sizes_take_units(root):
    result = invoke(
        "compact",
        *("--root", str(root), "--table", TABLE, "--json", "--dry-run"),
        *("--partition", "exchange=sse,trading_date=2024-01-02"),
        *("--target-file-size", "64MiB", "--max-spill-size", "1GB"),
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["target_file_size_bytes"] == 64 * 2**20

    plain = invoke(
        "compact",
        *("--root", str(root), "--table", TABLE, "--json", "--dry-run"),
        *("--partition", "exchange=sse,trading_date=2024-01-02"),
        *("--target-file-size", "1048576"),
    )
    assert json.loads(plain.stdout)["target_file_size_bytes"] == 1_048_576


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--target-file-size", "64m", "did you mean 64MiB or 64MB?"),
        ("--target-file-size", "0", "at least 1 byte"),
        ("--max-spill-size", "lots", "is not a size"),
    ],
)
def test_cli_refuses_a_bad_size_as_a_usage_error(root, option, value, message):
    result = CliRunner().invoke(
        cli,
        [
            "compact",
            *("--root", str(root), "--table", TABLE),
            *("--partition", "exchange=sse,trading_date=2024-01-02", option, value),
        ],
    )
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert message in result.output
