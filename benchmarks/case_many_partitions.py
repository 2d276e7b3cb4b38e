"""Case 2: compact 100 named partitions of a table of 1,000 partitions x 20 files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from deltalake import DeltaTable

from benchmarks.data import fresh_copy, order_events, write_appends
from benchmarks.report import Row, check
from benchmarks.timing import Samples, interleaved
from pointline_storage import load_backend
from pointline_storage.backend import DEFAULT_PARTITIONS_PER_COMMIT

EXCHANGES = ("bse", "hkex", "sse", "szse")
DAYS = tuple(dt.date(2023, 1, 2) + dt.timedelta(days=offset) for offset in range(250))
FILES_PER_PARTITION = 20
ROWS_PER_FILE = 200
#: The latest 25 trading days of every exchange: 100 partitions, one cross product, so a
#: single raw ``in`` x ``in`` filter selects exactly them.
NAMED_DAYS = DAYS[-25:]
NAMED = [
    {"exchange": exchange, "trading_date": day.isoformat()}
    for exchange in EXCHANGES
    for day in NAMED_DAYS
]

#: Labels of the sides, in the order the chart shows them.
RAW_LOOP = "raw, one call per partition"
RAW_IN_EACH = "raw, one 'in' call, min_commit_interval=0"
RAW_IN_ONCE = "raw, one 'in' call, one commit"
OURS_DEFAULT = f"compact_partitions, partitions_per_commit={DEFAULT_PARTITIONS_PER_COMMIT}"


def build(root: Path) -> Path:
    """1,000 partitions x 20 files in 20 appends, each writing one file to every partition."""
    table = root / "many_partitions"
    chunks = (
        order_events(exchanges=EXCHANGES, days=DAYS, rows_per_partition=ROWS_PER_FILE, seed=n)
        for n in range(FILES_PER_PARTITION)
    )
    write_appends(str(table), list(chunks), {})
    return table


def run(root: Path, base: Path, repeats: int) -> tuple[list[Row], dict[str, Samples]]:
    """Time our call against three raw deltalake calls (the third commits once, as we do)."""
    in_filter = [
        ("exchange", "in", list(EXCHANGES)),
        ("trading_date", "in", [day.isoformat() for day in NAMED_DAYS]),
    ]

    def raw_loop(repetition: int):
        copy = fresh_copy(base, root / "raw_loop")

        def call() -> None:
            table = DeltaTable(str(copy))
            for spec in NAMED:
                table.optimize.compact(partition_filters=[(k, "=", v) for k, v in spec.items()])

        return call

    def raw_in(interval: int | None):
        def prepare(repetition: int):
            copy = fresh_copy(base, root / "raw_in")
            return lambda: DeltaTable(str(copy)).optimize.compact(
                partition_filters=in_filter, min_commit_interval=interval
            )

        return prepare

    def ours(per_commit: int):
        def prepare(repetition: int):
            copy = fresh_copy(base, root / "ours")
            backend = load_backend("delta-local", root=root)
            return lambda: _checked(
                backend.compact_partitions(
                    copy.name, partitions=NAMED, partitions_per_commit=per_commit
                )
            )

        return prepare

    sides = {
        RAW_LOOP: raw_loop,
        RAW_IN_EACH: raw_in(0),
        RAW_IN_ONCE: raw_in(None),
        OURS_DEFAULT: ours(DEFAULT_PARTITIONS_PER_COMMIT),
    }
    samples = interleaved(sides, repeats)
    median = {name: sample.median for name, sample in samples.items()}
    best_raw = min(median[RAW_LOOP], median[RAW_IN_EACH])
    ratio = median[OURS_DEFAULT] / best_raw
    speedup = median[RAW_LOOP] / median[OURS_DEFAULT]
    case = "2 100 of 1,000 partitions x 20 files"
    rows = [Row(case, name, f"{median[name]:.2f} s") for name in sides if name != OURS_DEFAULT]
    rows += [
        Row(
            case,
            OURS_DEFAULT,
            f"{median[OURS_DEFAULT]:.2f} s",
            f"{ratio:.2f}x best raw",
            "<= 1.0 (stretch 0.6)",
            check(ratio, at_most=1.0),
        ),
        Row(
            case,
            "speed-up over the per-partition raw loop",
            "",
            f"{speedup:.2f}x",
            ">= 1.8",
            check(speedup, at_least=1.8),
        ),
    ]
    return rows, samples


def _checked(report: object) -> None:
    # A benchmark of a call that silently did nothing would be worthless.
    assert getattr(report, "succeeded_partitions", None) == len(NAMED), report
