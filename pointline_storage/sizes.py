"""Byte sizes as people write them: ``64MiB``, ``1GB``, ``1.5 GiB`` or plain bytes.

No dependency of the core parses sizes (click has no such type), and the rules fit in a
few lines: SI units are powers of 1000 and IEC units powers of 1024, as their standards
define them, so ``1GB`` is 1,000,000,000 bytes and ``1GiB`` 1,073,741,824.
"""

from __future__ import annotations

import re
from decimal import Decimal

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
EXAMPLES = "e.g. 64MiB, 1GB, 1.5GiB or 1048576 (bytes)"


def parse_size(text: str) -> int:
    """Parse a byte size: a number with an optional unit, case-insensitive.

    Units: ``B``; ``KB``, ``MB``, ``GB``, ``TB`` (powers of 1000); ``KiB``, ``MiB``,
    ``GiB``, ``TiB`` (powers of 1024). A fraction is allowed if it gives whole bytes.

    Raises:
        ValueError: not such a size, or one that is not a whole number of bytes.
    """
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not a size ({EXAMPLES})")
    number, unit = match.groups()
    factor = _UNITS.get(unit)
    if factor is None:
        single = f"; did you mean {number}{unit.upper()}iB or {number}{unit.upper()}B?"
        hint = single if unit in {"k", "m", "g", "t"} else f" ({EXAMPLES})"
        raise ValueError(f"unknown size unit {unit!r} in {text!r}{hint}")
    size = Decimal(number) * factor
    if size != size.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number of bytes")
    return int(size)
