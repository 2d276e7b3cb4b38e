"""Case 6: sorted compaction of one 1,000,000-row partition, and a 1 % ts-range read of it.

The partition's 100 files come one per source, each spanning the whole session (the way
per-symbol or per-feed files do), so no file can be skipped before compaction. It is then
compacted four ways on fresh copies: plain (``compact_partitions``), sorted
(``compact_partitions(sort_by=("ts",))``), raw ``optimize.z_order(["ts"])``, and sorted by
two keys (``sort_by=("side", "ts")``, our lexicographic rewrite, read with a ``side``
filter too). A 1 MiB
target makes ~20 files of the ~13 MB partition, as a 100M-row partition at the engine's
100 MB default would; at that default this partition would be a single file.

The read is ``DeltaTable.to_pyarrow_dataset()`` with a filter on a 1 % ts range: pyarrow
skips files by the log's statistics and row groups by the Parquet footers. Files, row
groups and compressed bytes touched are counted with the same pruning
(``get_fragments(filter)``, ``split_by_row_group(filter)``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from deltalake import DeltaTable

from benchmarks.data import fresh_copy, order_events, write_appends
from benchmarks.report import Row, check
from benchmarks.timing import interleaved, timed
from pointline_storage import load_backend

ROWS = 1_000_000
SOURCES = 100
DAY = dt.date(2024, 1, 2)
PARTITION = {"exchange": "sse", "trading_date": DAY.isoformat()}
FILTERS = [(column, "=", value) for column, value in PARTITION.items()]
TARGET = 1 << 20
#: Where in the session the read's range starts, as a fraction; the range is 1 % wide.
RANGE_START = 0.5
RANGE_WIDTH = 0.01
READS = 7
#: Lexicographic by side, then ts: a read of one side's time range.
TWO_KEYS = ("side", "ts")


@dataclass(frozen=True)
class Touched:
    """What a filtered read had to open, and its median time."""

    files: int
    all_files: int
    row_groups: int
    all_row_groups: int
    bytes: int
    rows: int
    seconds: float


def build(root: Path) -> Path:
    """One partition, 100 appends of a file each; file k holds rows k, k+100, k+200, ..."""
    table = root / "sources"
    rows = order_events(exchanges=["sse"], days=[DAY], rows_per_partition=ROWS, seed=6)
    chunks = [rows.take(pa.array(range(start, ROWS, SOURCES))) for start in range(SOURCES)]
    write_appends(str(table), chunks, {})
    return table


def run(root: Path, repeats: int) -> list[Row]:
    """Time the three compactions (alternating, fresh copies), then read each result."""
    base = build(root)
    results: dict[str, Path] = {}

    def side(name: str, call):
        def prepare(repetition: int):
            copy = fresh_copy(base, root / name)
            results[name] = copy
            return lambda: call(copy)

        return prepare

    def ours(copy: Path, **options):
        backend = load_backend("delta-local", root=copy.parent)
        report = backend.compact_partitions(
            copy.name,
            partitions=[PARTITION],
            target_file_size_bytes=TARGET,
            min_small_files=2,
            **options,
        )
        assert report.succeeded_partitions == 1, report

    samples = interleaved(
        {
            "plain": side("plain", ours),
            "sorted": side("sorted", lambda copy: ours(copy, sort_by=("ts",))),
            "two keys": side("two keys", lambda copy: ours(copy, sort_by=TWO_KEYS)),
            "raw": side(
                "raw",
                lambda copy: DeltaTable(str(copy)).optimize.z_order(
                    ["ts"], partition_filters=FILTERS, target_size=TARGET
                ),
            ),
        },
        repeats,
    )
    start, end = _range(base)
    plain, ours_sorted = (_read(results[name], start, end) for name in ("plain", "sorted"))
    assert plain.rows == ours_sorted.rows, (plain, ours_sorted)
    fewer = plain.row_groups / ours_sorted.row_groups
    faster = plain.seconds / ours_sorted.seconds
    cost = samples["sorted"].median / samples["plain"].median
    versus_raw = samples["sorted"].median / samples["raw"].median
    side_plain, side_sorted = (
        _read(results[name], start, end, side="B") for name in ("plain", "two keys")
    )
    assert side_plain.rows == side_sorted.rows, (side_plain, side_sorted)
    side_fewer = side_plain.row_groups / side_sorted.row_groups
    two_keys_cost = samples["two keys"].median / samples["sorted"].median
    case = f"8 sort_by ts, 1 partition of {ROWS:,} rows"
    return [
        Row(case, "compact_partitions (plain)", f"{samples['plain'].median:.2f} s"),
        Row(case, "raw optimize.z_order(['ts'])", f"{samples['raw'].median:.2f} s"),
        Row(
            case,
            "compact_partitions(sort_by=('ts',))",
            f"{samples['sorted'].median:.2f} s",
            f"{versus_raw:.2f}x raw",
            "<= 1.05",
            check(versus_raw, at_most=1.05),
        ),
        Row(case, "sorted / plain compaction time", "", f"{cost:.2f}"),
        Row(case, "1 % ts read, plain", _describe(plain)),
        Row(case, "1 % ts read, sorted", _describe(ours_sorted)),
        Row(
            case,
            "row groups read, plain / sorted",
            "",
            f"{fewer:.1f}",
            ">= 10",
            check(fewer, at_least=10),
        ),
        Row(
            case,
            "read time, plain / sorted",
            "",
            f"{faster:.1f}",
            ">= 3",
            check(faster, at_least=3),
        ),
        Row(
            case,
            "compact_partitions(sort_by=('side', 'ts'))",
            f"{samples['two keys'].median:.2f} s",
            f"{two_keys_cost:.2f}x sort_by ts",
        ),
        Row(case, "side B, 1 % ts read, plain", _describe(side_plain)),
        Row(case, "side B, 1 % ts read, by (side, ts)", _describe(side_sorted)),
        Row(
            case,
            "side B row groups read, plain / (side, ts)",
            "",
            f"{side_fewer:.1f}",
        ),
    ]


def _range(table: Path) -> tuple[pa.Scalar, pa.Scalar]:
    ts = pa.table(DeltaTable(str(table)).get_add_actions(flatten=True))
    low, high = pc.min(ts["min.ts"]).as_py(), pc.max(ts["max.ts"]).as_py()
    start = low + (high - low) * RANGE_START
    end = start + (high - low) * RANGE_WIDTH
    kind = pa.timestamp("us")
    return pa.scalar(start, kind), pa.scalar(end, kind)


def _read(table: Path, start: pa.Scalar, end: pa.Scalar, *, side: str | None = None) -> Touched:
    dataset = DeltaTable(str(table)).to_pyarrow_dataset()
    condition = (ds.field("ts") >= start) & (ds.field("ts") < end)
    if side is not None:
        condition &= ds.field("side") == side
    every = list(dataset.get_fragments())
    files = list(dataset.get_fragments(filter=condition))
    groups = [group for file in files for group in file.split_by_row_group(filter=condition)]
    read_bytes = 0
    for group in groups:
        (number,) = (info.id for info in group.row_groups)
        chunk = group.metadata.row_group(number)
        read_bytes += sum(chunk.column(i).total_compressed_size for i in range(chunk.num_columns))
    seconds = sorted(timed(lambda: dataset.to_table(filter=condition)) for _ in range(READS))
    return Touched(
        files=len(files),
        all_files=len(every),
        row_groups=len(groups),
        all_row_groups=sum(file.metadata.num_row_groups for file in every),
        bytes=read_bytes,
        rows=dataset.to_table(filter=condition).num_rows,
        seconds=seconds[len(seconds) // 2],
    )


def _describe(read: Touched) -> str:
    return (
        f"{read.seconds * 1000:.1f} ms  {read.files}/{read.all_files} files  "
        f"{read.row_groups}/{read.all_row_groups} row groups  {read.bytes / 1e6:.2f} MB"
    )
