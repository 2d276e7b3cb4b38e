"""Conformance tests of typed partition columns: timestamps (hourly tables) and decimals.

A backend that cannot name such partitions sets ``supports_timestamp_partitions`` or
``supports_decimal_partitions`` to ``False`` on its fixture class; the tests then check it
refuses them with :class:`~pointline_storage.InvalidPartitionError`, writing nothing.
"""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pointline_storage import Backend, InvalidPartitionError, PartitionKey
from pointline_storage.testing.checks import assert_report_consistent
from pointline_storage.testing.fixtures import DataFiles, ReadRows, WriteTable, sorted_rows

_FILES_PER_PARTITION = 3
_ROWS_PER_FILE = 2
_HOURS = (
    dt.datetime(2024, 1, 2, 0),
    dt.datetime(2024, 1, 2, 1),
    dt.datetime(2024, 1, 2, 1, 30, 15, 123456),
    None,
)
_PRICES = (decimal.Decimal("0.05"), decimal.Decimal("1.50"), decimal.Decimal("2.00"), None)
_UTC_PLUS_ONE = dt.timezone(dt.timedelta(hours=1))


def _rows(column: str, values: pa.Array) -> pa.Table:
    """Two venues x every value, ``_FILES_PER_PARTITION`` files of ``_ROWS_PER_FILE`` rows."""
    per_partition = _FILES_PER_PARTITION * _ROWS_PER_FILE
    venues = [venue for venue in ("a", "b") for _ in range(len(values) * per_partition)]
    typed = pa.concat_arrays([values.take([i] * per_partition) for i in range(len(values))] * 2)
    return pa.table(
        {
            "venue": pa.array(venues, pa.string()),
            column: typed,
            "seq": pa.array(range(len(venues)), pa.int64()),
        }
    )


def _key(venue: str, column: str, value: str) -> PartitionKey:
    return (("venue", venue), (column, value))


class AbstractPartitionTypeTests:
    """Mix into a test class together with a :class:`BackendFixtures` subclass."""

    supports_timestamp_partitions: bool
    supports_decimal_partitions: bool

    @pytest.mark.parametrize("zone", ["UTC", None], ids=["timestamp", "timestamp_ntz"])
    def test_hourly_partitions_are_named_by_datetime_or_by_what_inspect_prints(
        self,
        backend: Backend,
        write_table: WriteTable,
        data_files: DataFiles,
        read_rows: ReadRows,
        zone: str | None,
    ) -> None:
        arrow_type = pa.timestamp("us", tz=zone)
        write_table(
            "hourly", _rows("hour", pa.array(_HOURS, arrow_type)), ("venue", "hour"), _ROWS_PER_FILE
        )
        before, rows = data_files("hourly"), sorted_rows(read_rows("hourly"))
        if not self.supports_timestamp_partitions:
            with pytest.raises(InvalidPartitionError, match="hour"):
                backend.compact_partitions("hourly", partitions=[{"venue": "a", "hour": _HOURS[1]}])
            assert data_files("hourly") == before
            return
        suffix = "+00:00" if zone else ""
        shown = [f"2024-01-02 00:00:00{suffix}", f"2024-01-02 01:00:00{suffix}"]
        shown.append(f"2024-01-02 01:30:15.123456{suffix}")
        expected = sorted(_key(v, "hour", h) for v in ("a", "b") for h in [*shown, "null"])
        inspection = backend.inspect_partitions("hourly")
        assert [stats.partition for stats in inspection.partitions] == expected == sorted(before)
        table = inspection.to_arrow()
        assert table.schema.field("hour").type == arrow_type
        in_utc = [h.replace(tzinfo=dt.timezone.utc) if zone and h else h for h in _HOURS]
        assert sorted(set(table["hour"].to_pylist()), key=str) == sorted(in_utc, key=str)

        printed = dict(inspection.partitions[1].partition)["hour"]  # venue a, hour 01:00
        named: list[dict[str, object]] = [
            {"venue": "a", "hour": printed},
            {"venue": "b", "hour": _HOURS[2]},
            {"venue": "b", "hour": None},
        ]
        if zone:  # the same instant, in another zone
            named.append({"venue": "a", "hour": dt.datetime(2024, 1, 2, 2, tzinfo=_UTC_PLUS_ONE)})
        report = backend.compact_partitions("hourly", partitions=named, min_small_files=2)
        assert_report_consistent(report)
        compacted = {_key("a", "hour", shown[1]), _key("b", "hour", shown[2])}
        compacted.add(_key("b", "hour", "null"))
        assert {result.partition for result in report.partitions} == compacted
        assert {result.status for result in report.partitions} == {"compacted"}
        assert report.to_arrow().schema.field("hour").type == arrow_type
        after = data_files("hourly")
        for partition in before:
            if partition in compacted:
                assert len(after[partition]) == 1
            else:
                assert after[partition] == before[partition], f"{partition} must be untouched"
        assert sorted_rows(read_rows("hourly")).equals(rows)
        if not zone:
            with pytest.raises(InvalidPartitionError, match="without time zone"):
                backend.inspect_partitions("hourly", [{"venue": "a", "hour": shown[0] + "+00:00"}])

    def test_decimal_partitions_are_named_by_their_value(
        self, backend: Backend, write_table: WriteTable, data_files: DataFiles, read_rows: ReadRows
    ) -> None:
        arrow_type = pa.decimal128(10, 2)
        write_table(
            "priced",
            _rows("price", pa.array(_PRICES, arrow_type)),
            ("venue", "price"),
            _ROWS_PER_FILE,
        )
        before, rows = data_files("priced"), sorted_rows(read_rows("priced"))
        if not self.supports_decimal_partitions:
            with pytest.raises(InvalidPartitionError, match="price"):
                backend.compact_partitions(
                    "priced", partitions=[{"venue": "a", "price": _PRICES[1]}]
                )
            assert data_files("priced") == before
            return
        inspection = backend.inspect_partitions("priced")
        expected = sorted(
            _key(v, "price", p) for v in ("a", "b") for p in ("0.05", "1.50", "2.00", "null")
        )
        assert [stats.partition for stats in inspection.partitions] == expected == sorted(before)
        table = inspection.to_arrow()
        assert table.schema.field("price").type == arrow_type
        assert pc.sum(table["price"]).as_py() == 2 * sum(_PRICES[:3])
        named: list[dict[str, object]] = [
            {"venue": "a", "price": "1.5"},
            {"venue": "b", "price": decimal.Decimal(2)},
        ]
        report = backend.compact_partitions("priced", partitions=named, min_small_files=2)
        assert_report_consistent(report)
        compacted = {_key("a", "price", "1.50"), _key("b", "price", "2.00")}
        assert {result.partition for result in report.partitions} == compacted
        assert report.succeeded_partitions == 2
        after = data_files("priced")
        for partition in before:
            if partition in compacted:
                assert len(after[partition]) == 1
            else:
                assert after[partition] == before[partition], f"{partition} must be untouched"
        assert sorted_rows(read_rows("priced")).equals(rows)
        for value, message in (("1.505", "decimal places"), (1.5, "inexact")):
            with pytest.raises(InvalidPartitionError, match=message):
                backend.compact_partitions("priced", partitions=[{"venue": "a", "price": value}])
