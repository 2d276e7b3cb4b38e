"""compact_by_merging on a real table without a log: directories of text files on disk.

The table here is the smallest format the loop can serve: one directory per partition,
each file a few lines (a line is a row). Merging really reads, writes and deletes files,
and a broken file (a dangling link) really fails to read.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pointline_storage import (
    CompactionFailedError,
    CompactionReport,
    PartitionCompactionResult,
    PartitionKey,
    PartitionStats,
    compact_by_merging,
    count_small_files,
)

TARGET = 100  # bytes: every file below is small
ROW = "0123456789\n"  # 11 bytes a row
_names = itertools.count()


class Lines:
    """One listing of the table: each partition's files (a ``FileListing``).

    ``relist`` stands in for listing anew, to show the loop what another writer did.
    """

    table_name, partition_columns, partition_kinds = "t", ("p",), ("string",)

    def __init__(self, root: Path, relist: Callable[[], Lines] | None = None) -> None:
        self.root, self._relist = root, relist
        self.files = {
            key(d.name): {f: f.lstat().st_size for f in sorted(d.iterdir())}
            for d in sorted(root.iterdir())
        }

    def sizes(self, partition: PartitionKey) -> dict[Path, int]:
        return self.files.get(partition, {})

    def stats(self, partition: PartitionKey, target_file_size_bytes: int) -> PartitionStats:
        sizes = self.sizes(partition)
        try:
            rows: int | None = sum(len(f.read_text().splitlines()) for f in sizes)
        except OSError:
            rows = None
        small = count_small_files(sizes.values(), target_file_size_bytes)
        return PartitionStats(partition, len(sizes), small, sum(sizes.values()), rows)

    def relist(self) -> Lines:
        return self._relist() if self._relist else Lines(self.root)


def merge(partition: PartitionKey, group: list[Path]) -> None:
    rows = "".join(f.read_text() for f in group)
    (group[0].parent / f"merged-{next(_names)}.txt").write_text(rows)
    for f in group:
        f.unlink()


def key(name: str) -> PartitionKey:
    return (("p", name),)


def write(root: Path, partition: str, *rows_per_file: int) -> None:
    directory = root / partition
    directory.mkdir(parents=True, exist_ok=True)
    for rows in rows_per_file:
        (directory / f"part-{next(_names):03}.txt").write_text(ROW * rows)


def break_file(root: Path, partition: str) -> None:
    """A file that lists with a small size but cannot be read: a dangling link."""
    (root / partition / "zz-broken.txt").symlink_to("nowhere")  # 7 bytes long


def snapshot(root: Path) -> dict[str, list[str]]:
    return {d.name: sorted(f.name for f in d.iterdir()) for d in sorted(root.iterdir())}


def compact(
    root: Path,
    partitions: list[str],
    *,
    min_small_files: int = 2,
    dry_run: bool = False,
    continue_on_error: bool = True,
    progress: Callable[[PartitionCompactionResult], None] | None = None,
    relist: Callable[[], Lines] | None = None,
) -> CompactionReport:
    return compact_by_merging(
        Lines(root, relist),
        [key(name) for name in partitions],
        merge=merge,
        target_file_size_bytes=TARGET,
        min_small_files=min_small_files,
        dry_run=dry_run,
        continue_on_error=continue_on_error,
        progress=progress,
        started=time.perf_counter(),
    )


def by_partition(report: CompactionReport) -> dict[str, PartitionCompactionResult]:
    return {dict(result.partition)["p"]: result for result in report.partitions}


def test_every_partition_gets_one_status_and_compacted_ones_are_merged(tmp_path: Path) -> None:
    write(tmp_path, "a", 2, 2, 2, 2)  # 4 files of 22 bytes: one group of 88
    write(tmp_path, "b", 2)  # one small file: below min_small_files
    write(tmp_path, "c", 5, 5)  # 55 bytes each: no two fit together, so none is small
    report = compact(tmp_path, ["a", "b", "c", "missing"])
    results = by_partition(report)
    assert {name: r.status for name, r in results.items()} == {
        "a": "compacted",
        "b": "skipped",
        "c": "skipped",
        "missing": "skipped",
    }
    assert results["b"].skipped_reason == results["c"].skipped_reason == "below_min_small_files"
    assert results["missing"].skipped_reason == "no_files"
    a = results["a"]
    assert (a.files_removed, a.files_added) == (4, 1)
    assert (a.before_file_count, a.after_file_count) == (4, 1)
    assert a.rows_before == a.rows_after == 8
    (merged,) = (tmp_path / "a").iterdir()
    assert merged.name.startswith("merged-")
    assert merged.read_text() == ROW * 8
    assert (report.succeeded_partitions, report.skipped_partitions) == (1, 3)
    assert report.attempted_partitions == report.planned_partitions == 1
    assert report.partition_kinds == ("string",)
    assert report.dry_run is False


def test_groups_stay_within_the_target_and_a_lone_file_is_not_rewritten(tmp_path: Path) -> None:
    write(tmp_path, "a", 4, 4, 4, 4, 4)  # 44 bytes each: groups of two, the fifth alone
    (result,) = compact(tmp_path, ["a"]).partitions
    assert (result.files_removed, result.files_added, result.after_file_count) == (4, 2, 3)
    sizes = sorted(f.stat().st_size for f in (tmp_path / "a").iterdir())
    assert sizes == [44, 88, 88]
    # With min_small_files 0, a partition with nothing to merge is the engine's no-op.
    write(tmp_path, "b", 4)
    (lone,) = compact(tmp_path, ["b"], min_small_files=0).partitions
    assert lone.skipped_reason == "nothing_to_compact"


def test_after_values_are_measured_from_a_new_listing(tmp_path: Path) -> None:
    write(tmp_path, "a", 1, 1, 1)

    def relist_after_another_writer() -> Lines:
        write(tmp_path, "a", 5)  # appended between the merge and the measurement
        return Lines(tmp_path)

    (result,) = compact(tmp_path, ["a"], relist=relist_after_another_writer).partitions
    assert result.status == "compacted"
    assert (result.before_file_count, result.after_file_count) == (3, 2)
    assert (result.rows_before, result.rows_after) == (3, 8)
    assert result.bytes_after == 3 * 11 + 5 * 11


def test_a_listing_that_fails_after_the_merges_leaves_after_values_unknown(
    tmp_path: Path,
) -> None:
    write(tmp_path, "a", 1, 1)

    def relist() -> Lines:
        return Lines(tmp_path / "gone")  # raises FileNotFoundError

    (result,) = compact(tmp_path, ["a"], relist=relist).partitions
    assert result.status == "compacted"
    assert result.after_file_count is result.rows_after is result.bytes_after is None
    assert len(snapshot(tmp_path)["a"]) == 1, "the merge stands"


def test_a_dry_run_writes_nothing_and_never_relists(tmp_path: Path) -> None:
    write(tmp_path, "a", 1, 1)
    write(tmp_path, "b", 1)
    before = snapshot(tmp_path)
    listings = []

    def relist() -> Lines:
        listings.append(Lines(tmp_path))
        return listings[-1]

    report = compact(tmp_path, ["a", "b"], dry_run=True, relist=relist)
    assert [r.status for r in report.partitions] == ["would_compact", "skipped"]
    assert report.partitions[0].after_file_count is None
    assert (report.planned_partitions, report.attempted_partitions) == (1, 0)
    assert snapshot(tmp_path) == before
    assert listings == []


def test_a_failure_stops_the_call_and_later_partitions_are_not_attempted(tmp_path: Path) -> None:
    write(tmp_path, "a", 1, 1)
    write(tmp_path, "b", 4, 4, 4)  # 44 bytes each: groups [44+44, 44+broken], the second fails
    break_file(tmp_path, "b")
    write(tmp_path, "c", 1, 1)
    write(tmp_path, "d", 1)  # skipped before and after a failure alike
    before = snapshot(tmp_path)
    with pytest.raises(CompactionFailedError, match="partition p=b") as raised:
        compact(tmp_path, ["a", "b", "c", "d"], continue_on_error=False)
    assert isinstance(raised.value.__cause__, FileNotFoundError)
    results = by_partition(raised.value.report)
    assert {name: r.status for name, r in results.items()} == {
        "a": "compacted",
        "b": "failed",
        "c": "not_attempted",
        "d": "skipped",
    }
    failed = results["b"]
    assert failed.error is not None
    assert failed.error.startswith("FileNotFoundError: ")
    assert failed.error.endswith("(after merging 2 of its files into 1)")
    assert failed.after_file_count is None
    assert (failed.files_removed, failed.files_added) == (0, 0)
    assert results["a"].after_file_count == 1, "the partition before the failure is measured"
    after = snapshot(tmp_path)
    assert (after["c"], after["d"]) == (before["c"], before["d"])


def test_with_continue_on_error_a_failure_stays_in_its_partition(tmp_path: Path) -> None:
    write(tmp_path, "a", 1, 1)
    write(tmp_path, "b", 1)
    break_file(tmp_path, "b")
    write(tmp_path, "c", 1, 1)
    report = compact(tmp_path, ["a", "b", "c"])
    results = by_partition(report)
    assert {name: r.status for name, r in results.items()} == {
        "a": "compacted",
        "b": "failed",
        "c": "compacted",
    }
    assert results["b"].error is not None
    assert "after merging" not in results["b"].error, "nothing of it was merged"
    assert (report.failed_partitions, report.succeeded_partitions) == (1, 2)
    assert report.attempted_partitions == 3


def test_progress_is_called_once_per_partition_in_order(tmp_path: Path) -> None:
    write(tmp_path, "a", 1, 1)
    write(tmp_path, "b", 1)
    write(tmp_path, "c", 1, 1)
    seen: list[PartitionCompactionResult] = []
    report = compact(tmp_path, ["c", "a", "b", "missing"], progress=seen.append)
    assert [dict(r.partition)["p"] for r in seen] == ["c", "a", "b", "missing"]
    assert [r.status for r in seen] == ["compacted", "compacted", "skipped", "skipped"]
    # The report is sorted by partition, and its compacted results are measured since.
    assert [dict(r.partition)["p"] for r in report.partitions] == ["a", "b", "c", "missing"]
    assert seen[0].after_file_count is None
    assert by_partition(report)["c"].after_file_count == 1
