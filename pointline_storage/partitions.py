"""Partition specs: validation against a table's partition columns and canonical values.

Backends share this so every backend accepts the same specs, renders the same values and
raises the same errors.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from pointline_storage.errors import InvalidPartitionError

#: A partition: ``(column, value)`` pairs in the table's partition-column order, values
#: rendered canonically (dates as ``YYYY-MM-DD``, booleans as ``true``/``false``).
PartitionKey = tuple[tuple[str, str], ...]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECIMAL_INTEGER = re.compile(r"[+-]?\d+")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"(?:(Z)|([+-])(\d{2}):(\d{2}))?"
)
_DECIMAL_KIND = re.compile(r"decimal\((\d+), ?(\d+)\)")
_DECIMAL_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")

#: One partition as a caller names it: every partition column mapped to a value.
PartitionSpec = Mapping[str, object]

#: How a partition column's values are parsed and rendered: ``string``, ``date``,
#: ``integer``, ``boolean``, ``timestamp`` (an instant, rendered in UTC), ``timestamp_ntz``
#: (a wall-clock time without time zone), or ``decimal(P,S)`` (precision P, scale S).
ValueKind = str

#: How a null partition value is rendered for display.
NULL_VALUE = "null"


def format_partition(partition: PartitionKey) -> str:
    """Render a partition as ``col=value/col=value`` for display."""
    return "/".join(f"{key}={value}" for key, value in partition) or "<unpartitioned>"


def canonical_value(value: object, kind: ValueKind) -> str:
    """Render a caller's partition value canonically for a column of the given kind.

    Dates render as ``YYYY-MM-DD`` (from a ``date`` or an ISO string), integers in base 10
    (from an ``int`` or a decimal string), booleans as ``true``/``false`` (from a ``bool``
    or that string), strings as given (a ``date`` or ``int`` is accepted and rendered).
    Timestamps (from a ``datetime`` or a ``YYYY-MM-DD HH:MM[:SS[.ffffff]]`` string, ``T``
    also accepted as separator) render as ``YYYY-MM-DD HH:MM:SS[.ffffff]``; a
    ``timestamp`` is an instant, converted to UTC and rendered with ``+00:00`` (a value
    without offset is read as UTC, as deltalake and pyarrow read it), while a
    ``timestamp_ntz`` refuses an offset. Decimals (from a ``Decimal``, an ``int`` or a
    decimal string, not a float) render with exactly the column's scale (``1.50``).
    ``None`` names the null partition of any column and renders as :data:`NULL_VALUE`.

    Raises:
        ValueError: the value is of the wrong type for the column or cannot be parsed.
    """
    if value is None:
        return NULL_VALUE
    if kind == "date":
        return _date(value).isoformat()
    if kind == "integer":
        return str(_integer(value))
    if kind == "boolean":
        return _boolean(value)
    if kind == "string":
        return _string(value)
    if kind in {"timestamp", "timestamp_ntz"}:
        return _timestamp(value, utc=kind == "timestamp").isoformat(sep=" ")
    decimal_kind = _DECIMAL_KIND.fullmatch(kind)
    if decimal_kind:
        precision, scale = (int(group) for group in decimal_kind.groups())
        return _plain_decimal(_decimal(value, precision, scale))
    raise ValueError(f"unknown partition value kind {kind!r}")


def render_stored_value(value: object) -> str:
    """Render a typed partition value read from storage, for keys and display.

    Agrees with :func:`canonical_value` for every supported kind.
    """
    if value is None:
        return NULL_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.utcoffset() is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return _plain_decimal(value)
    return str(value)


def infer_kind(
    values: Iterable[str | None], kinds: Sequence[ValueKind] = ("date", "integer")
) -> ValueKind:
    """The first of ``kinds`` in which every value is canonical, else ``string``.

    Types a partition column from its values alone, as Spark's partition inference does
    for Hive directories (by default dates, then integers). Nulls (``None`` or
    :data:`NULL_VALUE`) are left out; ``01`` is no canonical integer, so it stays a string.
    """
    present = [value for value in values if value is not None and value != NULL_VALUE]
    for kind in kinds:
        if present and all(_is_canonical(value, kind) for value in present):
            return kind
    return "string"


def _is_canonical(value: str, kind: ValueKind) -> bool:
    try:
        return canonical_value(value, kind) == value
    except ValueError:
        return False


def _string(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected a string, got {type(value).__name__}")


def _date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date, got a datetime")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        # fromisoformat alone accepts other forms (20240102) on some Python versions.
        try:
            if not _ISO_DATE.fullmatch(value):
                raise ValueError(value)
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a YYYY-MM-DD date, got {value!r}") from None
    raise ValueError(f"expected a date or a YYYY-MM-DD string, got {type(value).__name__}")


def _timestamp(value: object, *, utc: bool) -> dt.datetime:
    example = "2024-01-02 13:00:00" + ("+00:00" if utc else "")
    if isinstance(value, str):
        parsed = _parse_timestamp(value)
        if parsed is None:
            raise ValueError(f"expected a timestamp such as {example!r}, got {value!r}")
    elif isinstance(value, dt.datetime):
        parsed = value
    else:
        raise ValueError(
            f"expected a datetime or a timestamp string such as {example!r}, "
            f"got {type(value).__name__}"
        )
    if not utc:
        if parsed.utcoffset() is not None:
            raise ValueError(
                f"the column holds timestamps without time zone (timestamp_ntz), got "
                f"{value!r} with an offset; name it without one, e.g. {example!r}"
            )
        return parsed
    if parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def _parse_timestamp(text: str) -> dt.datetime | None:
    # Python 3.10's fromisoformat takes neither "Z" nor 1-5 fraction digits: parse here.
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, tz_h, tz_m = match.groups()
    tzinfo = None
    if zulu:
        tzinfo = dt.timezone.utc
    elif sign:
        offset = dt.timedelta(hours=int(tz_h), minutes=int(tz_m))
        try:
            tzinfo = dt.timezone(-offset if sign == "-" else offset)
        except ValueError:
            return None
    try:
        return dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "").ljust(6, "0")),
            tzinfo=tzinfo,
        )
    except ValueError:
        return None


def _decimal(value: object, precision: int, scale: int) -> decimal.Decimal:
    if isinstance(value, float):
        raise ValueError(f"floats are inexact: pass Decimal({str(value)!r}) or {str(value)!r}")
    if isinstance(value, bool) or not isinstance(value, (int, str, decimal.Decimal)):
        raise ValueError(
            f"expected a Decimal, an int or a decimal string, got {type(value).__name__}"
        )
    if isinstance(value, str) and not _DECIMAL_NUMBER.fullmatch(value):
        raise ValueError(f"expected a decimal number such as '1.50', got {value!r}")
    # Enough digits for any Delta decimal (precision <= 38): quantize never rounds here.
    with decimal.localcontext(decimal.Context(prec=precision + scale + 80)):
        number = decimal.Decimal(value)
        if not number.is_finite():
            raise ValueError(f"expected a finite decimal number, got {value!r}")
        quantized = number.quantize(decimal.Decimal(1).scaleb(-scale))
        if quantized != number:
            raise ValueError(f"{value!r} has more than {scale} decimal places")
        if abs(quantized) >= decimal.Decimal(10) ** (precision - scale):
            raise ValueError(
                f"{value!r} does not fit decimal({precision},{scale}) "
                f"(at most {precision - scale} digits before the point)"
            )
    return quantized


def _plain_decimal(number: decimal.Decimal) -> str:
    # Plain notation (never 1E-7), and one zero: -0.00 and 0.00 name the same partition.
    return format(abs(number) if number == 0 else number, "f")


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected an integer, got {type(value).__name__}")
    if isinstance(value, str) and not _DECIMAL_INTEGER.fullmatch(value):
        raise ValueError(f"expected an integer, got {value!r}")
    return int(value)


def _boolean(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower()
    raise ValueError(f"expected true or false, got {value!r}")


def partition_specs(partitions: Iterable[PartitionSpec]) -> tuple[dict[str, object], ...]:
    """Check that ``partitions`` is a non-empty list of mappings and copy it.

    Raises:
        InvalidPartitionError: the list is empty, or fails the checks of
            :func:`normalize_partitions` on its shape.
    """
    specs = _mappings(partitions)
    if not specs:
        raise InvalidPartitionError(
            "no partitions named; name at least one (use [{}] for an unpartitioned table)"
        )
    return specs


def _mappings(partitions: Iterable[PartitionSpec]) -> tuple[dict[str, object], ...]:
    if isinstance(partitions, (Mapping, str, bytes)) or not isinstance(partitions, Iterable):
        raise InvalidPartitionError(
            f"partitions must be a list of mappings (column -> value), got {partitions!r}"
        )
    specs = tuple(partitions)
    for spec in specs:
        if not isinstance(spec, Mapping):
            raise InvalidPartitionError(
                f"each partition must be a mapping of column to value, got {spec!r}"
            )
    return tuple(dict(spec) for spec in specs)


def normalize_partitions(
    table_name: str,
    partitions: Iterable[PartitionSpec],
    partition_columns: Sequence[str],
    render: Callable[[str, object], str],
) -> tuple[PartitionKey, ...]:
    """Validate partition specs against a table and return them canonical, merged and sorted.

    Args:
        table_name: Used in error messages.
        partitions: The caller's specs; each must name exactly the partition columns.
        partition_columns: The table's partition columns, in the table's order.
        render: Renders one value of one column canonically; raises ``ValueError`` or
            ``TypeError`` for a value the column cannot hold.

    Raises:
        InvalidPartitionError: ``partitions`` is not a list of mappings, a spec misses or
            adds a key, or holds a value of the wrong type; or the table is unpartitioned
            and a spec names keys.
    """
    columns = tuple(partition_columns)
    keys = {_partition_key(table_name, spec, columns, render) for spec in _mappings(partitions)}
    return tuple(sorted(keys))


def _partition_key(
    table_name: str,
    spec: PartitionSpec,
    columns: tuple[str, ...],
    render: Callable[[str, object], str],
) -> PartitionKey:
    keys = set(spec)
    if not columns and keys:
        raise InvalidPartitionError(
            f"table {table_name!r} is not partitioned, but a partition names "
            f"{sorted(keys)}; pass partitions=[{{}}] to work on the whole table"
        )
    missing = [column for column in columns if column not in keys]
    extra = sorted(str(key) for key in keys - set(columns))
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing {missing}")
        if extra:
            problems.append(f"unknown {extra}")
        raise InvalidPartitionError(
            f"partition {dict(spec)!r} does not match table {table_name!r}: "
            f"{' and '.join(problems)}; its partition columns are {list(columns)}"
        )
    rendered = []
    for column in columns:
        try:
            rendered.append((column, render(column, spec[column])))
        except (ValueError, TypeError) as exc:
            raise InvalidPartitionError(
                f"invalid value {spec[column]!r} for partition column {column!r} "
                f"of table {table_name!r}: {exc}"
            ) from exc
    return tuple(rendered)
