"""Case 6: vacuum 100 partitions x 100 removed files, lite and full, on local disk and on
S3 (a local ``moto_server``): ``vacuum_table`` vs raw ``DeltaTable.vacuum`` on identical
copies of one table.

Run alone: ``uv run --group bench python -m benchmarks.case_vacuum [--repeats N] [--local]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fsspec
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
REMOVED = len(EXCHANGES) * len(DAYS) * FILES_PER_PARTITION
BUCKET = "bench-vacuum"
RETENTION_0 = {"retention_hours": 0, "enforce_retention_duration": False}
TARGET = 1.1


def build(root: Path) -> Path:
    """100 partitions x 100 one-row files, then one compaction: 10,000 removed files."""
    table = root / "vacuum_base"
    chunks = [
        order_events(exchanges=EXCHANGES, days=DAYS, rows_per_partition=1, seed=n)
        for n in range(FILES_PER_PARTITION)
    ]
    write_appends(str(table), chunks, {})
    DeltaTable(str(table)).optimize.compact()
    return table


def run(base: Path, work: Path, repeats: int, *, s3: bool = True) -> list[Row]:
    """Both modes on local disk, then (with ``s3``) on a fresh moto_server."""
    rows = []
    for full in (False, True):
        rows += _compare(f"6 vacuum {_mode(full)}, local", _local_sides(base, work, full), repeats)
    if not s3:
        return rows
    with MotoServer() as server:
        server.create_bucket(BUCKET)
        fs = fsspec.filesystem("s3", **s3_settings(server.storage_options()).filesystem_options)
        fs.call_s3(
            "put_bucket_versioning",
            Bucket=BUCKET,
            VersioningConfiguration={"Status": "Enabled"},
        )
        for full in (False, True):
            sides = _s3_sides(base, server, full)
            rows += _compare(f"6 vacuum {_mode(full)}, moto_server", sides, repeats)
    return rows


Sides = dict[str, Callable[[int], Callable[[], object]]]


def _local_sides(base: Path, work: Path, full: bool) -> Sides:
    def ours(repetition: int) -> Callable[[], object]:
        copy = fresh_copy(base, work / "ours")
        backend = load_backend("delta-local", root=work)
        return lambda: _deleted_all(
            backend.vacuum_table(copy.name, dry_run=False, full=full, **RETENTION_0).deleted_count
        )

    def raw(repetition: int) -> Callable[[], object]:
        copy = fresh_copy(base, work / "raw")
        return lambda: _deleted_all(
            len(DeltaTable(str(copy)).vacuum(dry_run=False, full=full, **RETENTION_0))
        )

    return {"raw DeltaTable.vacuum": raw, "vacuum_table (delta-local)": ours}


def _s3_sides(base: Path, server: MotoServer, full: bool) -> Sides:
    """Both sides vacuum one uploaded table, restored between runs: uploading 10,000
    files to moto_server takes minutes, while undoing a vacuum in a versioned bucket takes
    a few batched requests."""
    options = server.storage_options()
    fs = fsspec.filesystem("s3", **s3_settings(options).filesystem_options)
    name = f"table-{_mode(full)}"
    fs.put(str(base), f"{BUCKET}/{name}", recursive=True)
    snapshot = _Versions(fs, BUCKET, f"{name}/")
    uri = f"s3://{BUCKET}/{name}"

    def ours(repetition: int) -> Callable[[], object]:
        snapshot.restore()
        backend = load_backend("delta-s3", root=f"s3://{BUCKET}", storage_options=options)
        return lambda: _deleted_all(
            backend.vacuum_table(name, dry_run=False, full=full, **RETENTION_0).deleted_count
        )

    def raw(repetition: int) -> Callable[[], object]:
        snapshot.restore()
        return lambda: _deleted_all(
            len(
                DeltaTable(uri, storage_options=options).vacuum(
                    dry_run=False, full=full, **RETENTION_0
                )
            )
        )

    return {"raw DeltaTable.vacuum": raw, "vacuum_table (delta-s3)": ours}


class _Versions:
    """The object versions under a prefix of a versioned bucket, and a way back to them."""

    def __init__(self, fs: Any, bucket: str, prefix: str) -> None:
        self.fs, self.bucket, self.prefix = fs, bucket, prefix
        self.initial = self._versions()

    def restore(self) -> None:
        """Delete every version made since (delete markers included): deleted files come
        back, and commits made since go."""
        extra = sorted(self._versions() - self.initial)
        for offset in range(0, len(extra), 1000):
            objects = [{"Key": key, "VersionId": vid} for key, vid in extra[offset : offset + 1000]]
            self.fs.call_s3("delete_objects", Bucket=self.bucket, Delete={"Objects": objects})
        self.fs.invalidate_cache()
        assert self._versions() == self.initial

    def _versions(self) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        marker: dict[str, str] = {}
        while True:
            page = self.fs.call_s3(
                "list_object_versions", Bucket=self.bucket, Prefix=self.prefix, **marker
            )
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                found.add((entry["Key"], entry["VersionId"]))
            if not page.get("IsTruncated"):
                return found
            marker = {
                "KeyMarker": page["NextKeyMarker"],
                "VersionIdMarker": page["NextVersionIdMarker"],
            }


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


def _deleted_all(count: int) -> None:
    # A vacuum that silently deleted nothing would make a worthless measurement.
    assert count == REMOVED, f"deleted {count} files, expected {REMOVED}"


def _mode(full: bool) -> str:
    return "full" if full else "lite"


def main() -> None:
    """Build the table and run this case alone."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.case_vacuum")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side (default 3)")
    parser.add_argument("--local", action="store_true", help="local disk only, no moto_server")
    parser.add_argument("--base", type=Path, default=None, help="reuse a table build() made")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pointline-bench-vacuum-") as work:
        base = options.base or build(Path(work) / "base")
        rows = run(base, Path(work), options.repeats, s3=not options.local)
    print(render(rows))


if __name__ == "__main__":
    main()
