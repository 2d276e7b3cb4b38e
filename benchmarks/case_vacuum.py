"""Case 6: vacuum 100 partitions x 100 removed files, lite and full, on local disk and on
S3 (a local ``moto_server``): ``vacuum_table`` vs raw ``DeltaTable.vacuum`` on identical
copies of one table.

Run alone: ``uv run --group bench python -m benchmarks.case_vacuum [--repeats N] [--local]
[--s3-files N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path

import fsspec
import pyarrow as pa
from deltalake import DeltaTable
from pointline_storage_delta.s3_options import s3_settings

from benchmarks.data import fresh_copy, order_events, write_appends
from benchmarks.report import Row, check, render
from benchmarks.timing import interleaved
from pointline_storage import load_backend
from pointline_storage.testing.s3 import MotoServer

EXCHANGES = ("bse", "hkex", "sse", "szse")
DAYS = tuple(dt.date(2023, 1, 2) + dt.timedelta(days=offset) for offset in range(25))
FILES_PER_PARTITION = 100
#: Files per partition of the S3 runs' table: each run uploads a copy of its own, and
#: moto_server takes minutes per 10,000 uploads on 2 busy cores.
S3_FILES_PER_PARTITION = 20
RETENTION_0 = {"retention_hours": 0, "enforce_retention_duration": False}
TARGET = 1.1

Sides = dict[str, Callable[[int], Callable[[], object]]]


def build(root: Path, files_per_partition: int = FILES_PER_PARTITION) -> Path:
    """100 partitions x ``files_per_partition`` one-row files, then one compaction, which
    leaves them all removed (10,000 by default)."""
    table = root / f"vacuum_base_{files_per_partition}"
    chunks = [
        order_events(exchanges=EXCHANGES, days=DAYS, rows_per_partition=1, seed=n)
        for n in range(files_per_partition)
    ]
    write_appends(str(table), chunks, {})
    DeltaTable(str(table)).optimize.compact()
    return table


def run(base: Path, work: Path, repeats: int, *, s3_base: Path | None = None) -> list[Row]:
    """Both modes on local disk, then (given ``s3_base``) on a fresh moto_server."""
    rows = []
    for full in (False, True):
        case = f"6 vacuum {_mode(full)}, local, {_size(base)}"
        rows += _compare(case, _local_sides(base, work, full), repeats)
    if s3_base is None:
        return rows
    with MotoServer() as server:
        for full in (False, True):
            case = f"6 vacuum {_mode(full)}, moto_server, {_size(s3_base)}"
            rows += _compare(case, _s3_sides(s3_base, server, full), repeats)
    return rows


def _local_sides(base: Path, work: Path, full: bool) -> Sides:
    removed = _removed(base)

    def ours(repetition: int) -> Callable[[], object]:
        copy = fresh_copy(base, work / "ours")
        backend = load_backend("delta-local", root=work)
        return lambda: _deleted_all(
            backend.vacuum_table(copy.name, dry_run=False, full=full, **RETENTION_0).deleted_count,
            removed,
        )

    def raw(repetition: int) -> Callable[[], object]:
        copy = fresh_copy(base, work / "raw")
        return lambda: _deleted_all(
            len(DeltaTable(str(copy)).vacuum(dry_run=False, full=full, **RETENTION_0)), removed
        )

    return {"raw DeltaTable.vacuum": raw, "vacuum_table (delta-local)": ours}


def _s3_sides(base: Path, server: MotoServer, full: bool) -> Sides:
    """Each run vacuums a fresh upload in a bucket of its own (moto_server scans a whole
    bucket for every listing request: a shared bucket would slow later runs)."""
    options = server.storage_options()
    fs = fsspec.filesystem("s3", **s3_settings(options).filesystem_options)
    removed = _removed(base)

    def upload(side: str, repetition: int) -> str:
        # Preparation, not timed.
        bucket = server.create_bucket(f"{side}-{_mode(full)}-{repetition}")
        fs.put(str(base), f"{bucket}/t", recursive=True)
        return bucket

    def ours(repetition: int) -> Callable[[], object]:
        bucket = upload("ours", repetition)
        backend = load_backend("delta-s3", root=f"s3://{bucket}", storage_options=options)
        return lambda: _deleted_all(
            backend.vacuum_table("t", dry_run=False, full=full, **RETENTION_0).deleted_count,
            removed,
        )

    def raw(repetition: int) -> Callable[[], object]:
        uri = f"s3://{upload('raw', repetition)}/t"
        return lambda: _deleted_all(
            len(
                DeltaTable(uri, storage_options=options).vacuum(
                    dry_run=False, full=full, **RETENTION_0
                )
            ),
            removed,
        )

    return {"raw DeltaTable.vacuum": raw, "vacuum_table (delta-s3)": ours}


def _compare(case: str, sides: Sides, repeats: int) -> list[Row]:
    samples = interleaved(sides, repeats)
    (raw_name, raw), (ours_name, ours) = samples.items()
    ratio = ours.median / raw.median
    return [
        Row(case, raw_name, f"{raw.median:.2f} s"),
        Row(
            case,
            ours_name,
            f"{ours.median:.2f} s",
            f"{ratio:.2f}x raw",
            f"<= {TARGET}",
            check(ratio, at_most=TARGET),
        ),
    ]


def _deleted_all(count: int, expected: int) -> None:
    # A vacuum that silently deleted nothing would make a worthless measurement.
    assert count == expected, f"deleted {count} files, expected {expected}"


def _removed(base: Path) -> int:
    """Files a vacuum of ``base`` deletes: every data file but the live ones."""
    live = pa.table(DeltaTable(str(base)).get_add_actions(flatten=True)).num_rows
    data = [path for path in base.rglob("*.parquet") if "_delta_log" not in path.parts]
    return len(data) - live


def _size(base: Path) -> str:
    return f"100 x {_removed(base) // 100} files"


def _mode(full: bool) -> str:
    return "full" if full else "lite"


def main() -> None:
    """Build the tables and run this case alone."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.case_vacuum")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side (default 3)")
    parser.add_argument("--local", action="store_true", help="local disk only, no moto_server")
    parser.add_argument(
        "--s3-files",
        type=int,
        default=S3_FILES_PER_PARTITION,
        help=f"files per partition on S3 (default {S3_FILES_PER_PARTITION})",
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pointline-bench-vacuum-") as work:
        base = build(Path(work))
        s3_base = None
        if not options.local:
            s3_base = base
            if options.s3_files != FILES_PER_PARTITION:
                s3_base = build(Path(work), options.s3_files)
        rows = run(base, Path(work), options.repeats, s3_base=s3_base)
    print(render(rows))


if __name__ == "__main__":
    main()
