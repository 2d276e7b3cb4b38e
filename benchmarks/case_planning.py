"""Case 3: planning 100 partitions of a 20,000-file table vs opening it and one scan."""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable

from benchmarks.case_many_partitions import DAYS, EXCHANGES, NAMED
from benchmarks.report import Row, check
from benchmarks.timing import interleaved
from pointline_storage import load_backend

EVERY_PARTITION = [{"exchange": e, "trading_date": d.isoformat()} for e in EXCHANGES for d in DAYS]


def run(base: Path, repeats: int) -> list[Row]:
    """Time inspect and dry run (100 and 1,000 partitions) against open + get_add_actions."""
    backend = load_backend("delta-local", root=base.parent)
    files = len(DeltaTable(str(base)).get_add_actions())

    def baseline(repetition: int):
        return lambda: DeltaTable(str(base)).get_add_actions(flatten=True)

    def inspect(repetition: int):
        return lambda: backend.inspect_partitions(base.name, NAMED)

    def dry_run(named: list[dict[str, str]]):
        return lambda repetition: (
            lambda: backend.compact_partitions(base.name, partitions=named, dry_run=True)
        )

    samples = interleaved(
        {
            "open + get_add_actions": baseline,
            "inspect_partitions, 100": inspect,
            "dry-run compact_partitions, 100": dry_run(NAMED),
            "dry-run compact_partitions, 1,000": dry_run(EVERY_PARTITION),
        },
        repeats,
    )
    median = {name: sample.median for name, sample in samples.items()}
    base_time = median.pop("open + get_add_actions")
    case = f"3 planning, {files:,} files"
    rows = [Row(case, "open + get_add_actions", f"{base_time:.3f} s")]
    for name, seconds in median.items():
        ratio = seconds / base_time
        rows.append(
            Row(
                case,
                name,
                f"{seconds:.3f} s",
                f"{ratio:.2f}x open+scan",
                "<= 1.5",
                check(ratio, at_most=1.5),
            )
        )
    return rows
