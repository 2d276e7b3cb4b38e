"""``--partition`` on the command line: the forms it takes, and partitions named in vain.

A partition is written the way ``inspect`` prints it (``venue=NYSE/day=2024-01-02``), with
commas (``venue=NYSE,day=2024-01-02``), or as a JSON object for values that hold ``,`` or
``/`` (``{"venue": "A,B", "day": "2024-01-02"}``). ``''`` is the whole of an unpartitioned
table.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence

from pointline_storage import PartitionKey, TableInspection, format_partition

#: What ``--partition`` shows in help and errors.
PARTITION_FORMS = "col=value[/col=value...] (or with ',', or a JSON object)"
_SEPARATOR = re.compile(r"[,/]")
_CLOSEST = 3


def parse_partition(text: str) -> dict[str, object]:
    """Parse one ``--partition`` value into ``{column: value}``.

    Values stay strings (the core canonicalises them), except in the JSON form, whose
    ``null`` names the null partition.

    Raises:
        ValueError: the text is none of the accepted forms, or names a column twice.
    """
    stripped = text.strip()
    if stripped.startswith("{"):
        return _json_partition(text)
    spec: dict[str, object] = {}
    for piece in _SEPARATOR.split(stripped) if stripped else []:
        key, sep, value = piece.strip().partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(
                f"expected {PARTITION_FORMS}, got {text!r}; a value holding ',' or '/' "
                """needs the JSON form, e.g. '{"venue": "A,B"}'"""
            )
        if key in spec:
            raise ValueError(f"column {key!r} is given twice in {text!r}")
        spec[key] = value
    return spec


def _json_partition(text: str) -> dict[str, object]:
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{text!r} is not a JSON object: {exc}") from None
    if not isinstance(spec, dict) or not all(
        value is None or isinstance(value, (str, int, bool)) for value in spec.values()
    ):
        raise ValueError(
            f"expected a JSON object of column to string, number, boolean or null, got {text!r}"
        )
    return spec


def absent_partition_warnings(absent: Sequence[PartitionKey], table: TableInspection) -> list[str]:
    """One line per named partition the table does not hold, with the closest it does.

    Args:
        absent: Named partitions that hold no file.
        table: An inspection of every partition of the table.
    """
    present = [stats.partition for stats in table.partitions if stats.file_count]
    values: dict[str, set[str]] = {}
    for partition in present:
        for column, value in partition:
            values.setdefault(column, set()).add(value)
    lines = []
    for partition in absent:
        unknown = [(c, v) for c, v in partition if v not in values.get(c, set())]
        if not present:
            detail = "the table holds no files"
        elif unknown:
            detail = "; ".join(
                f"no partition has {column}={value} (closest: "
                f"{', '.join(_closest(value, sorted(values.get(column, ()))))})"
                for column, value in unknown
            )
        else:
            rendered = [format_partition(p) for p in present]
            detail = "closest partitions: " + ", ".join(
                _closest(format_partition(partition), rendered)
            )
        lines.append(
            f"partition {format_partition(partition)} is not in table "
            f"{table.table_name!r}: {detail}"
        )
    return lines


def _closest(value: str, candidates: Sequence[str]) -> list[str]:
    # cutoff=0: always show the best few, a typo may share few characters with its target.
    return difflib.get_close_matches(value, candidates, n=_CLOSEST, cutoff=0) or ["none"]
