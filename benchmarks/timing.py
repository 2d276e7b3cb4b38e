"""Repeating measurements and summarising them."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Samples:
    """Wall-clock seconds of every repetition of one side of a case."""

    name: str
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """The median of the repetitions."""
        return statistics.median(self.seconds)


def timed(function: Callable[[], object]) -> float:
    """Seconds one call of ``function`` takes."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def interleaved(
    sides: dict[str, Callable[[int], Callable[[], object]]], repeats: int
) -> dict[str, Samples]:
    """Time every side ``repeats`` times, alternating sides so drifting load hits all alike.

    The order rotates with each repetition, so no side always runs first (cold caches) or
    always right after the side that wrote most (its write-back still going on).
    Each side is a factory: given the repetition number it prepares (untimed) and returns
    the call to time.
    """
    samples = {name: Samples(name) for name in sides}
    names = list(sides)
    for repetition in range(repeats):
        shift = repetition % len(names)
        for name in names[shift:] + names[:shift]:
            prepare = sides[name]
            call = prepare(repetition)
            samples[name].seconds.append(timed(call))
            print(f"    {name}: {samples[name].seconds[-1]:.2f} s", file=sys.stderr, flush=True)
    return samples
