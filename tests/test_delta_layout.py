"""The Delta backend's sorted-layout check and sort-key validation, on real tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable, write_deltalake
from pointline_storage_delta.layout import unsorted_files
from pointline_storage_delta.snapshot import open_snapshot
from pointline_storage_delta.sort_keys import check_sort_keys

from pointline_storage import InvalidOptionError, PointlineStorageError, resolve_table_location
from pointline_storage.sample import order_events

SSE = (("exchange", "sse"),)
SZSE = (("exchange", "szse"),)
#: Rows enough for the engine to write several files at SMALL_TARGET (it cuts a file only
#: between the batches, up to 8192 rows each, its sort yields).
BATCHES_OF_ROWS = 4 * 8192
SMALL_TARGET = 100_000


def interleaved(rows: pa.Table, files: int) -> list[pa.Table]:
    """Row k goes to file k % files: every file spans the whole session (per-source files)."""
    return [rows.take(list(range(start, rows.num_rows, files))) for start in range(files)]


def write(path: Path, chunks: list[pa.Table], configuration: dict | None = None) -> DeltaTable:
    for number, chunk in enumerate(chunks):
        write_deltalake(
            str(path),
            chunk,
            mode="append" if number else "error",
            partition_by=["exchange"],
            configuration=configuration if not number else None,
        )
    return DeltaTable(str(path))


def rows_of(exchanges: tuple[str, ...] = ("sse", "szse"), count: int = 400) -> pa.Table:
    rows = order_events(exchanges=exchanges, days=[dt.date(2024, 1, 2)], rows_per_partition=count)
    return rows.drop_columns(["trading_date"])


def counts(table: DeltaTable, key: str = "ts") -> dict:
    actions = pa.table(table.get_add_actions(flatten=True))
    return unsorted_files(actions, ["exchange"], key)


def test_overlapping_files_count_until_a_sort_lays_them_out(tmp_path: Path) -> None:
    table = write(tmp_path / "t", interleaved(rows_of(count=BATCHES_OF_ROWS), 6))
    # Six files spanning one range: five must go for the rest to be disjoint.
    assert counts(table) == {SSE: 5, SZSE: 5}
    table.optimize.z_order(
        ["ts"], partition_filters=[("exchange", "=", "sse")], target_size=SMALL_TARGET
    )
    files = pa.table(table.get_add_actions(flatten=True))
    assert pc.sum(pc.equal(files["partition.exchange"], "sse")).as_py() > 1
    assert counts(table) == {SSE: 0, SZSE: 5}


def test_an_appended_overlapping_file_counts_once_and_one_in_order_not_at_all(
    tmp_path: Path,
) -> None:
    rows = rows_of(("sse",), count=BATCHES_OF_ROWS + 100)
    early, late = rows.slice(0, BATCHES_OF_ROWS), rows.slice(BATCHES_OF_ROWS)
    table = write(tmp_path / "t", interleaved(early, 3))
    table.optimize.z_order(["ts"], target_size=SMALL_TARGET)
    assert len(table.file_uris()) > 1
    assert counts(table) == {SSE: 0}
    # A late file whose range covers the sorted ones stands out alone.
    write_deltalake(table, early.take([0, early.num_rows - 1]), mode="append")
    assert counts(table) == {SSE: 1}
    table = write(tmp_path / "u", interleaved(early, 3))
    table.optimize.z_order(["ts"], target_size=SMALL_TARGET)
    write_deltalake(table, late, mode="append")  # after the last one: still in order
    assert counts(table) == {SSE: 0}


def test_files_touching_at_one_value_are_disjoint(tmp_path: Path) -> None:
    moment = dt.datetime(2024, 1, 2, 10)
    chunks = [
        pa.table({"exchange": ["sse"] * 2, "ts": [moment - dt.timedelta(hours=1), moment]}),
        pa.table({"exchange": ["sse"] * 2, "ts": [moment, moment + dt.timedelta(hours=1)]}),
        pa.table({"exchange": ["sse"] * 2, "ts": [moment - dt.timedelta(minutes=1), moment]}),
    ]
    assert counts(write(tmp_path / "t", chunks[:2])) == {SSE: 0}
    assert counts(write(tmp_path / "u", chunks)) == {SSE: 1}


def test_nulls_sort_first(tmp_path: Path) -> None:
    moment = dt.datetime(2024, 1, 2, 10)
    hour = dt.timedelta(hours=1)
    ts = pa.timestamp("us")
    nulls = pa.table({"exchange": ["sse"] * 2, "ts": pa.array([None, None], ts)})
    some = pa.table({"exchange": ["sse"] * 2, "ts": pa.array([None, moment], ts)})
    later = pa.table({"exchange": ["sse"] * 2, "ts": pa.array([moment, moment + hour], ts)})
    # Files of nulls alone fit anywhere before; one file may hold nulls and values.
    assert counts(write(tmp_path / "t", [later, nulls, some, nulls])) == {SSE: 0}
    # Two files holding nulls and values both start below every value: they overlap.
    also = pa.table({"exchange": ["sse"] * 2, "ts": pa.array([None, moment + hour], ts)})
    assert counts(write(tmp_path / "u", [some, also])) == {SSE: 1}
    table = write(tmp_path / "v", [later, nulls, also, later])
    assert counts(table) == {SSE: 2}
    table.optimize.z_order(["ts"], target_size=1)
    assert counts(table) == {SSE: 0}


def test_files_without_statistics_on_the_key_always_count(tmp_path: Path) -> None:
    rows = rows_of(("sse",), count=100).select(["exchange", "order_id", "ts"])
    config = {"delta.dataSkippingNumIndexedCols": "1"}  # order_id only
    table = write(tmp_path / "t", [rows.slice(0, 50), rows.slice(50)], configuration=config)
    assert counts(table, "order_id") == {SSE: 0}
    assert counts(table, "ts") == {SSE: 2}


def test_an_unpartitioned_table_is_one_group(tmp_path: Path) -> None:
    rows = rows_of(("sse",), count=100)
    for chunk in interleaved(rows, 3):
        write_deltalake(str(tmp_path / "flat"), chunk, mode="append")
    table = DeltaTable(str(tmp_path / "flat"))
    assert unsorted_files(pa.table(table.get_add_actions(flatten=True)), [], "ts") == {(): 2}


@pytest.fixture
def snapshot(tmp_path: Path):
    rows = rows_of(("sse",), count=10).append_column("payload", pa.array([b"x"] * 10, pa.binary()))
    rows = rows.append_column("nested", pa.array([{"a": 1}] * 10))
    rows = rows.append_column("amount", pa.array([1] * 10, pa.decimal128(10, 2)))
    write(tmp_path / "t", [rows])
    snapshot = open_snapshot(resolve_table_location(str(tmp_path), "t"), "t", {})
    return snapshot, pa.table(snapshot.table.get_add_actions(flatten=True)).column_names


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (("nope",), "'nope': no such column"),
        (("exchange",), "it is a partition column"),
        (("payload",), "its type binary has no order"),
        (("nested",), "its type struct has no order"),
        (("amount",), r"its type decimal\(10,2\) has no order"),
    ],
)
def test_unsortable_keys_are_refused(snapshot, keys: tuple[str, ...], message: str) -> None:
    loaded, statistics = snapshot
    with pytest.raises(InvalidOptionError, match=message) as caught:
        check_sort_keys(loaded, keys, table_name="t", statistics=statistics)
    assert isinstance(caught.value, PointlineStorageError)
    assert isinstance(caught.value, ValueError)


def test_sortable_keys_pass(snapshot) -> None:
    loaded, statistics = snapshot
    for key in ("ts", "order_id", "price", "side"):
        check_sort_keys(loaded, (key,), table_name="t", statistics=statistics)


def test_a_key_without_statistics_is_refused(tmp_path: Path) -> None:
    rows = rows_of(("sse",), count=10).select(["exchange", "order_id", "ts"])
    write(tmp_path / "t", [rows], configuration={"delta.dataSkippingNumIndexedCols": "1"})
    loaded = open_snapshot(resolve_table_location(str(tmp_path), "t"), "t", {})
    statistics = pa.table(loaded.table.get_add_actions(flatten=True)).column_names
    with pytest.raises(InvalidOptionError, match="keeps no file statistics for it"):
        check_sort_keys(loaded, ("ts",), table_name="t", statistics=statistics)
    check_sort_keys(loaded, ("order_id",), table_name="t", statistics=statistics)
