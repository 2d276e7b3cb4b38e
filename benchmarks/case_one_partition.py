"""Case 1: one partition of 200 files of ~0.5 MB, vs raw deltalake and the I/O floor.

Also the shape of case 5 (the same on S3): ``run`` takes a root and storage options.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
from deltalake import DeltaTable

from benchmarks.data import fresh_copy, order_events, write_appends
from benchmarks.report import Row, check
from benchmarks.timing import interleaved
from pointline_storage import load_backend

FILES = 200
ROWS_PER_FILE = 30_000  # ~0.48 MB per file with the engine's default codec
DAY = dt.date(2024, 1, 2)
PARTITION = {"exchange": "sse", "trading_date": DAY.isoformat()}
#: Large enough that every file is small and all merge into one, like the floor's one file.
TARGET = 1 << 30


def build(root: Path) -> Path:
    """Write the table: 200 appends of one file each."""
    table = root / "one_partition"
    chunks = (
        order_events(exchanges=["sse"], days=[DAY], rows_per_partition=ROWS_PER_FILE, seed=n)
        for n in range(FILES)
    )
    write_appends(str(table), list(chunks), {})
    return table


def run(root: Path, repeats: int) -> list[Row]:
    """Time compact_partitions, the raw call and the floor on fresh copies of one table."""
    base = build(root)
    files = [uri.removeprefix("file://") for uri in DeltaTable(str(base)).file_uris()]
    input_bytes = sum(Path(path).stat().st_size for path in files)

    def ours(repetition: int):
        copy = fresh_copy(base, root / "ours")
        backend = load_backend("delta-local", root=root)
        return lambda: backend.compact_partitions(
            copy.name, partitions=[PARTITION], target_file_size_bytes=TARGET, min_small_files=2
        )

    def raw(repetition: int):
        copy = fresh_copy(base, root / "raw")
        filters = [(column, "=", value) for column, value in PARTITION.items()]
        return lambda: DeltaTable(str(copy)).optimize.compact(
            partition_filters=filters, target_size=TARGET
        )

    def floor(repetition: int):
        # The same bytes in, one file out, with the engine's default codec (zstd level 4).
        out = root / "floor.parquet"
        return lambda: pq.write_table(
            pq.read_table(files), out, compression="zstd", compression_level=4
        )

    samples = interleaved({"ours": ours, "raw": raw, "floor": floor}, repeats)
    mb = input_bytes / 1e6
    speed = {name: mb / sample.median for name, sample in samples.items()}
    ratio = samples["ours"].median / samples["raw"].median
    share = speed["ours"] / speed["floor"]
    case = f"1 one partition, {FILES} files, {mb:.0f} MB"
    return [
        Row(
            case, "raw optimize.compact", f"{samples['raw'].median:.2f} s  {speed['raw']:.0f} MB/s"
        ),
        Row(
            case,
            "I/O floor (pyarrow read + write)",
            f"{samples['floor'].median:.2f} s  {speed['floor']:.0f} MB/s",
        ),
        Row(
            case,
            "compact_partitions",
            f"{samples['ours'].median:.2f} s  {speed['ours']:.0f} MB/s",
            f"{ratio:.2f}x raw",
            "<= 1.05",
            check(ratio, at_most=1.05),
        ),
        Row(
            case,
            "compact_partitions MB/s / floor MB/s",
            "",
            f"{share:.2f}",
            ">= 0.75",
            check(share, at_least=0.75),
        ),
    ]
