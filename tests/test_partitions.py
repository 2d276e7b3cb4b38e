"""Partition-spec validation and canonical partition values."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping

import pytest

from pointline_storage import InvalidPartitionError, canonical_value, normalize_partitions
from pointline_storage.partitions import ValueKind, infer_kind, render_stored_value


def _render(kinds: Mapping[str, ValueKind]) -> Callable[[str, object], str]:
    return lambda column, value: canonical_value(value, kinds[column])


PLUS_ONE = dt.timezone(dt.timedelta(hours=1))
KINDS: dict[str, ValueKind] = {"exchange": "string", "trading_date": "date", "bucket": "integer"}
COLUMNS = ("exchange", "trading_date", "bucket")


def _normalize(partitions: object, columns: tuple[str, ...] = COLUMNS) -> object:
    return normalize_partitions(
        "cn_order_events",
        partitions,  # type: ignore[arg-type]
        columns,
        _render(KINDS),
    )


# --- canonical_value -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (dt.date(2024, 1, 2), "date", "2024-01-02"),
        ("2024-01-02", "date", "2024-01-02"),
        (7, "integer", "7"),
        ("007", "integer", "7"),
        ("-3", "integer", "-3"),
        (0, "integer", "0"),
        (True, "boolean", "true"),
        (False, "boolean", "false"),
        ("true", "boolean", "true"),
        ("FALSE", "boolean", "false"),
        ("sse", "string", "sse"),
        ("", "string", ""),
        (dt.date(2024, 1, 2), "string", "2024-01-02"),
        (5, "string", "5"),
        (None, "date", "null"),
        (None, "integer", "null"),
        (None, "boolean", "null"),
        (None, "string", "null"),
        # timestamp: an instant, rendered in UTC; a value without offset is UTC already
        (dt.datetime(2024, 1, 2, 13), "timestamp", "2024-01-02 13:00:00+00:00"),
        (dt.datetime(2024, 1, 2, 14, tzinfo=PLUS_ONE), "timestamp", "2024-01-02 13:00:00+00:00"),
        ("2024-01-02 13:00:00+00:00", "timestamp", "2024-01-02 13:00:00+00:00"),
        ("2024-01-02T13:00Z", "timestamp", "2024-01-02 13:00:00+00:00"),
        ("2024-01-02 08:00:00-05:00", "timestamp", "2024-01-02 13:00:00+00:00"),
        ("2024-01-02 13:00:00.000000Z", "timestamp", "2024-01-02 13:00:00+00:00"),
        ("2024-01-02 13:00:00.5", "timestamp", "2024-01-02 13:00:00.500000+00:00"),
        ("2024-01-02 13:00:00", "timestamp", "2024-01-02 13:00:00+00:00"),
        (None, "timestamp", "null"),
        # timestamp_ntz: a wall-clock time, rendered as given
        (dt.datetime(2024, 1, 2, 13, 0, 0, 123456), "timestamp_ntz", "2024-01-02 13:00:00.123456"),
        ("2024-01-02T13:00", "timestamp_ntz", "2024-01-02 13:00:00"),
        ("2024-01-02 13:00:00", "timestamp_ntz", "2024-01-02 13:00:00"),
        # decimal(P,S): exactly S places
        ("1.5", "decimal(10,2)", "1.50"),
        (decimal.Decimal("2"), "decimal(10,2)", "2.00"),
        (3, "decimal(10,2)", "3.00"),
        ("-0.05", "decimal(10,2)", "-0.05"),
        (decimal.Decimal("-0.00"), "decimal(10,2)", "0.00"),
        (".5", "decimal(3,1)", "0.5"),
        ("0.0000001", "decimal(38,7)", "0.0000001"),
        (
            "12345678901234567890123456789012345678",
            "decimal(38,0)",
            "12345678901234567890123456789012345678",
        ),
        (None, "decimal(10,2)", "null"),
    ],
)
def test_canonical_value(value: object, kind: ValueKind, expected: str) -> None:
    assert canonical_value(value, kind) == expected


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("2024-13-45", "date", "YYYY-MM-DD"),
        ("yesterday", "date", "YYYY-MM-DD"),
        (dt.datetime(2024, 1, 2, 3, 4), "date", "datetime"),
        (20240102, "date", "int"),
        (True, "integer", "bool"),
        (False, "integer", "bool"),
        ("x", "integer", "'x'"),
        ("1.5", "integer", "'1.5'"),
        (1.0, "integer", "float"),
        ("yes", "boolean", "'yes'"),
        (1, "boolean", "1"),
        (0, "boolean", "0"),
        (1.5, "string", "float"),
        (b"sse", "string", "bytes"),
        (True, "string", "bool"),
        (dt.datetime(2024, 1, 2, 3, 4), "string", "datetime"),
        ("x", "float", "kind"),
        ("2024-01-02", "timestamp", "timestamp such as"),
        (dt.date(2024, 1, 2), "timestamp", "got date"),
        ("2024-02-30 13:00", "timestamp", "'2024-02-30 13:00'"),
        ("2024-01-02 13:00:00.1234567", "timestamp", "timestamp such as"),
        ("2024-01-02 13:00:00+25:00", "timestamp", "timestamp such as"),
        (1704200400, "timestamp", "got int"),
        ("2024-01-02 13:00:00+00:00", "timestamp_ntz", "without time zone"),
        (dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), "timestamp_ntz", "without time zone"),
        (dt.datetime(2024, 1, 2), "date", "datetime"),
        ("1.505", "decimal(10,2)", "more than 2 decimal places"),
        (1.5, "decimal(10,2)", "floats are inexact"),
        ("123456789.00", "decimal(10,2)", r"does not fit decimal\(10,2\)"),
        ("1e2", "decimal(10,2)", "decimal number"),
        ("NaN", "decimal(10,2)", "decimal number"),
        (decimal.Decimal("Infinity"), "decimal(10,2)", "finite"),
        (True, "decimal(10,2)", "bool"),
        ("x", "decimal", "kind"),
    ],
)
def test_canonical_value_rejects(value: object, kind: ValueKind, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        canonical_value(value, kind)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),
        (dt.datetime(2024, 1, 2, 4, 4, 5, tzinfo=PLUS_ONE), "2024-01-02 03:04:05+00:00"),
        (decimal.Decimal("1.50"), "1.50"),
        (decimal.Decimal("1E-7"), "0.0000001"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (7, "7"),
        (1.5, "1.5"),
        ("sse", "sse"),
    ],
)
def test_render_stored_value(value: object, expected: str) -> None:
    assert render_stored_value(value) == expected


@pytest.mark.parametrize(
    ("stored", "kind"),
    [
        (dt.datetime(2024, 1, 2, 13, tzinfo=dt.timezone.utc), "timestamp"),
        (dt.datetime(2024, 1, 2, 13, 0, 1, 5), "timestamp_ntz"),
        (decimal.Decimal("0.05"), "decimal(10,2)"),
    ],
)
def test_what_is_shown_names_the_same_partition(stored: object, kind: ValueKind) -> None:
    shown = render_stored_value(stored)
    assert canonical_value(shown, kind) == shown == canonical_value(stored, kind)


def test_canonical_value_date_error_hides_the_parser_traceback() -> None:
    with pytest.raises(ValueError, match="2024-13-45") as exc_info:
        canonical_value("2024-13-45", "date")
    assert exc_info.value.__suppress_context__


# --- normalize_partitions ------------------------------------------------------------------


def test_normalize_renders_in_table_column_order() -> None:
    result = _normalize([{"bucket": "007", "trading_date": dt.date(2024, 1, 2), "exchange": "sse"}])

    assert result == ((("exchange", "sse"), ("trading_date", "2024-01-02"), ("bucket", "7")),)


def test_normalize_merges_duplicates_named_differently() -> None:
    result = _normalize(
        [
            {"exchange": "sse", "trading_date": dt.date(2024, 1, 2), "bucket": 7},
            {"exchange": "sse", "trading_date": "2024-01-02", "bucket": "007"},
            {"bucket": 7, "trading_date": "2024-01-02", "exchange": "sse"},
        ]
    )

    assert result == ((("exchange", "sse"), ("trading_date", "2024-01-02"), ("bucket", "7")),)


def test_normalize_sorts_deterministically() -> None:
    specs = [
        {"exchange": "szse", "trading_date": "2024-01-02", "bucket": 1},
        {"exchange": "sse", "trading_date": "2024-01-03", "bucket": 1},
        {"exchange": "sse", "trading_date": dt.date(2024, 1, 2), "bucket": 2},
        {"exchange": "sse", "trading_date": "2024-01-02", "bucket": 1},
    ]

    forward = _normalize(specs)
    backward = _normalize(list(reversed(specs)))

    assert forward == backward
    assert forward == (
        (("exchange", "sse"), ("trading_date", "2024-01-02"), ("bucket", "1")),
        (("exchange", "sse"), ("trading_date", "2024-01-02"), ("bucket", "2")),
        (("exchange", "sse"), ("trading_date", "2024-01-03"), ("bucket", "1")),
        (("exchange", "szse"), ("trading_date", "2024-01-02"), ("bucket", "1")),
    )


def test_normalize_accepts_any_iterable() -> None:
    specs = ({"exchange": e, "trading_date": "2024-01-02", "bucket": 1} for e in ["b", "a"])
    result = _normalize(specs)
    assert [key[0] for key in result] == [("exchange", "a"), ("exchange", "b")]  # type: ignore[index, union-attr]


def test_normalize_missing_key_names_the_partition_columns() -> None:
    with pytest.raises(InvalidPartitionError) as exc_info:
        _normalize([{"exchange": "sse", "trading_date": "2024-01-02"}])

    message = str(exc_info.value)
    assert "missing ['bucket']" in message
    assert "unknown" not in message
    assert "'cn_order_events'" in message
    assert "['exchange', 'trading_date', 'bucket']" in message
    assert isinstance(exc_info.value, ValueError)


def test_normalize_extra_key_names_the_partition_columns() -> None:
    with pytest.raises(InvalidPartitionError) as exc_info:
        _normalize([{"exchange": "sse", "trading_date": "2024-01-02", "bucket": 1, "hour": 9}])

    message = str(exc_info.value)
    assert "unknown ['hour']" in message
    assert "missing" not in message
    assert "['exchange', 'trading_date', 'bucket']" in message


def test_normalize_missing_and_extra_keys_together() -> None:
    with pytest.raises(InvalidPartitionError) as exc_info:
        _normalize([{"exchange": "sse", "date": "2024-01-02", "bucket": 1}])

    message = str(exc_info.value)
    assert "missing ['trading_date'] and unknown ['date']" in message


def test_normalize_unpartitioned_table_given_keys() -> None:
    with pytest.raises(InvalidPartitionError) as exc_info:
        _normalize([{"exchange": "sse"}], columns=())

    message = str(exc_info.value)
    assert "'cn_order_events' is not partitioned" in message
    assert "['exchange']" in message
    assert "partitions=[{}]" in message


def test_normalize_unpartitioned_table_whole_table() -> None:
    assert _normalize([{}], columns=()) == ((),)
    assert _normalize([{}, {}], columns=()) == ((),)


def test_normalize_partitioned_table_given_empty_spec() -> None:
    with pytest.raises(InvalidPartitionError, match="missing"):
        _normalize([{}])


def test_normalize_empty_input_gives_nothing() -> None:
    assert _normalize([]) == ()


@pytest.mark.parametrize("spec", ["exchange=sse", ("exchange", "sse"), None, 1])
def test_normalize_rejects_non_mapping_items(spec: object) -> None:
    with pytest.raises(InvalidPartitionError, match="must be a mapping"):
        _normalize([spec])


@pytest.mark.parametrize(
    ("column", "value"),
    [("trading_date", "2024-13-45"), ("trading_date", dt.datetime(2024, 1, 2)), ("bucket", "x")],
)
def test_normalize_wraps_bad_values(column: str, value: object) -> None:
    spec: dict[str, object] = {"exchange": "sse", "trading_date": "2024-01-02", "bucket": 1}
    spec[column] = value

    with pytest.raises(InvalidPartitionError) as exc_info:
        _normalize([spec])

    message = str(exc_info.value)
    assert f"partition column {column!r}" in message
    assert repr(value) in message
    assert isinstance(exc_info.value.__cause__, ValueError)


def test_normalize_wraps_type_errors_from_the_renderer() -> None:
    def render(column: str, value: object) -> str:
        raise TypeError("unhashable thing")

    with pytest.raises(InvalidPartitionError, match="unhashable thing") as exc_info:
        normalize_partitions("t", [{"p": 1}], ["p"], render)
    assert isinstance(exc_info.value.__cause__, TypeError)


@pytest.mark.parametrize("text", ["20240102", "2024-1-2", "2024-01-02T00:00", " 2024-01-02"])
def test_only_the_iso_calendar_date_form_is_a_date(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        canonical_value(text, "date")


@pytest.mark.parametrize("text", [" 7 ", "1_000", "0x10", "", "7.0"])
def test_integers_are_plain_decimal(text: str) -> None:
    with pytest.raises(ValueError, match="expected an integer"):
        canonical_value(text, "integer")


@pytest.mark.parametrize(
    ("values", "kinds", "expected"),
    [
        (["2024-01-02", None, "null"], ("date", "integer"), "date"),
        (["7", "-3"], ("date", "integer"), "integer"),
        (["7", "01"], ("date", "integer"), "string"),  # 01 is no canonical integer
        (["2024-01-02", "7"], ("date", "integer"), "string"),
        ([None, "null"], ("date", "integer"), "string"),  # nothing to tell from
        ([], ("date", "integer"), "string"),
        (["true"], ("date", "integer"), "string"),
        (["true"], ("integer", "boolean"), "boolean"),
        (["2024-01-02 13:00:00+00:00"], ("timestamp_ntz", "timestamp"), "timestamp"),
    ],
)
def test_infer_kind(values: list[str | None], kinds: tuple[str, ...], expected: str) -> None:
    assert infer_kind(values, kinds) == expected
