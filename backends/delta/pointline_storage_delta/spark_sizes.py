"""Sizes in Delta table properties, read with Spark's rules (``delta.targetFileSize``).

Delta Spark and Databricks write sizes such as ``100mb``; Spark reads a suffix
case-insensitively and always in powers of 1024 (``1mb`` is 1,048,576 bytes, ``1k`` 1,024),
takes a bare number as bytes, and refuses fractions. delta-rs reads only bare numbers.
"""

from __future__ import annotations

import re

_FACTORS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "t": 1024**4,
    "tb": 1024**4,
    "p": 1024**5,
    "pb": 1024**5,
}
_SIZE = re.compile(r"(\d+)([a-z]*)")


def parse_spark_size(text: str) -> int:
    """Parse a size the way Spark reads a byte-size property.

    Raises:
        ValueError: the text is not such a size.
    """
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None or match.group(2) not in _FACTORS:
        raise ValueError(
            f"{text!r} is not a size: expected bytes or a whole number with one of the units "
            "b, k(b), m(b), g(b), t(b), p(b) (powers of 1024, as Spark reads them)"
        )
    return int(match.group(1)) * _FACTORS[match.group(2)]
