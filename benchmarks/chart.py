"""The PNG chart of case 2 that the README shows."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from benchmarks.timing import Samples


def case_two_chart(samples: dict[str, Samples], path: Path) -> None:
    """Horizontal bars of median seconds per side, every repetition drawn as a dot."""
    names = list(samples)[::-1]
    medians = [samples[name].median for name in names]
    ours = ["compact_partitions" in name for name in names]
    figure, axes = plt.subplots(figsize=(9, 3.6), dpi=110)
    axes.barh(names, medians, color=["#2b7bba" if mine else "#b0b0b0" for mine in ours])
    for row, name in enumerate(names):
        axes.plot(samples[name].seconds, [row] * len(samples[name].seconds), "k.", markersize=4)
        # Label beyond the slowest run, so no dot hides it.
        label_at = max(samples[name].seconds)
        axes.text(label_at, row, f"  median {medians[row]:.1f} s", va="center", fontsize=9)
    axes.set_xlabel("seconds (median; dots: each run)")
    axes.set_title("Compacting 100 of 1,000 partitions (20 files each): lower is better")
    axes.set_xlim(0, max(max(s.seconds) for s in samples.values()) * 1.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
