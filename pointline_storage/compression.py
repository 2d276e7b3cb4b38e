"""Parquet writer compression: the codecs a compaction may write, and their levels."""

from __future__ import annotations

import re
from typing import NamedTuple

from pointline_storage.errors import InvalidOptionError

#: Codec name -> the (lowest, highest) level it accepts, or ``None`` if it has no levels.
CODEC_LEVELS: dict[str, tuple[int, int] | None] = {
    "uncompressed": None,
    "snappy": None,
    "lz4_raw": None,
    "gzip": (0, 10),
    "brotli": (0, 11),
    "zstd": (1, 22),
}

_SPELLING = re.compile(r"^\s*([a-z0-9_]+)\s*(?:\(\s*(\d+)\s*\))?\s*$", re.IGNORECASE)


class Compression(NamedTuple):
    """A codec and, for codecs that have levels, an optional level."""

    codec: str
    level: int | None


def parse_compression(text: str) -> Compression:
    """Parse ``"zstd"``, ``"zstd(4)"``, ``"SNAPPY"`` ... into a codec and a level.

    Raises:
        InvalidOptionError: unknown codec, a level for a codec without levels, or a level
            out of the codec's range.
    """
    match = _SPELLING.match(text) if isinstance(text, str) else None
    codecs = ", ".join(CODEC_LEVELS)
    if match is None or match.group(1).lower() not in CODEC_LEVELS:
        raise InvalidOptionError(
            f"compression must be one of {codecs}, optionally with a level as in "
            f"'zstd(4)'; got {text!r}"
        )
    codec, level = match.group(1).lower(), match.group(2)
    bounds = CODEC_LEVELS[codec]
    if level is None:
        return Compression(codec, None)
    if bounds is None:
        raise InvalidOptionError(f"compression {codec} takes no level; got {text!r}")
    if not bounds[0] <= int(level) <= bounds[1]:
        raise InvalidOptionError(
            f"{codec} compression levels range from {bounds[0]} to {bounds[1]}; got {text!r}"
        )
    return Compression(codec, int(level))
