"""The printed result table: medians, ratios, and each target beside its measured ratio."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of the table.

    Attributes:
        case: Which case (``"1 one partition"``, ...).
        side: What was measured.
        value: The measurement, formatted (median seconds, MB/s, MiB of RSS).
        ratio: The measured ratio, formatted, or ``""``.
        target: The target for that ratio, or ``""``.
        met: Whether the target is met (``None`` without a target).
    """

    case: str
    side: str
    value: str
    ratio: str = ""
    target: str = ""
    met: bool | None = None


def check(ratio: float, *, at_most: float | None = None, at_least: float | None = None) -> bool:
    """Whether ``ratio`` is within the bound."""
    if at_most is not None:
        return ratio <= at_most
    assert at_least is not None
    return ratio >= at_least


def render(rows: list[Row]) -> str:
    """The rows as an aligned plain-text table."""
    header = Row("case", "measured", "median", "ratio", "target", None)
    cells = [
        (row.case, row.side, row.value, row.ratio, row.target, _verdict(row.met))
        for row in (header, *rows)
    ]
    cells[0] = (*cells[0][:5], "met")
    widths = [max(len(line[i]) for line in cells) for i in range(6)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _verdict(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "NO")
