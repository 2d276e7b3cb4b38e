"""Conformance tests of ``compact_partitions`` (behaviours 1-6 of the contract)."""

from __future__ import annotations

from typing import Any

import pytest

from pointline_storage import (
    Backend,
    CompactionFailedError,
    InvalidPartitionError,
    PartitionCompactionResult,
    PointlineStorageError,
    TableNotFoundError,
    UnsupportedOptionError,
)
from pointline_storage.testing.checks import assert_report_consistent, key
from pointline_storage.testing.fixtures import (
    SAMPLE_DATES,
    SAMPLE_FILES_PER_PARTITION,
    CorruptPartition,
    DataFiles,
    ReadRows,
    TableVersion,
    sorted_rows,
)

SSE_DAY1 = {"exchange": "sse", "trading_date": SAMPLE_DATES[0]}
SSE_DAY2 = {"exchange": "sse", "trading_date": SAMPLE_DATES[1]}
SZSE_DAY1 = {"exchange": "szse", "trading_date": SAMPLE_DATES[0]}
SZSE_DAY3 = {"exchange": "szse", "trading_date": SAMPLE_DATES[2]}


class AbstractCompactionTests:
    """Mix into a test class together with a :class:`BackendFixtures` subclass."""

    supports_table_versions: bool
    supports_partitions_per_commit: bool

    def test_only_named_partitions_are_rewritten(
        self, backend: Backend, sample_table: str, data_files: DataFiles
    ) -> None:
        before = data_files(sample_table)
        named = [SSE_DAY1, SZSE_DAY3]
        report = backend.compact_partitions(sample_table, partitions=named, min_small_files=2)
        after = data_files(sample_table)
        assert_report_consistent(report)
        assert report.succeeded_partitions == 2
        for partition in set(before) - {key(spec) for spec in named}:
            assert after[partition] == before[partition], f"{partition} must be untouched"
        for spec in named:
            assert len(before[key(spec)]) == SAMPLE_FILES_PER_PARTITION
            assert len(after[key(spec)]) == 1
            assert not after[key(spec)] & before[key(spec)]

    def test_rows_are_identical_after_compaction(
        self, backend: Backend, sample_table: str, read_rows: ReadRows
    ) -> None:
        before = sorted_rows(read_rows(sample_table))
        report = backend.compact_partitions(
            sample_table, partitions=[SSE_DAY1, SSE_DAY2, SZSE_DAY1], min_small_files=2
        )
        assert report.succeeded_partitions == 3
        after = sorted_rows(read_rows(sample_table))
        assert after.schema == before.schema
        assert after.equals(before)

    def test_report_counts_match_the_table(
        self,
        backend: Backend,
        sample_table: str,
        data_files: DataFiles,
        table_version: TableVersion,
    ) -> None:
        version_before = table_version(sample_table)
        report = backend.compact_partitions(
            sample_table,
            partitions=[SSE_DAY1, {"exchange": "sse", "trading_date": "2024-01-02"}],
            min_small_files=2,
        )
        assert_report_consistent(report)
        assert report.partition_keys == ("exchange", "trading_date")
        (result,) = report.partitions
        assert result.partition == (("exchange", "sse"), ("trading_date", "2024-01-02"))
        assert result.status == "compacted"
        assert result.before_file_count == SAMPLE_FILES_PER_PARTITION
        assert result.after_file_count == len(data_files(sample_table)[result.partition]) == 1
        assert result.files_removed == SAMPLE_FILES_PER_PARTITION
        assert result.rows_before == result.rows_after
        if self.supports_table_versions:
            assert report.version_before == version_before
            assert report.version_after == table_version(sample_table)
            assert report.version_after != version_before
        else:
            assert report.version_before is report.version_after is version_before is None

    def test_target_file_size_bounds_the_output(
        self, backend: Backend, sample_table: str, data_files: DataFiles
    ) -> None:
        sizes_known = backend.inspect_partitions(sample_table, [SSE_DAY1]).partitions[0]
        target = sizes_known.total_bytes // 3
        report = backend.compact_partitions(
            sample_table, partitions=[SSE_DAY1], target_file_size_bytes=target, min_small_files=2
        )
        assert_report_consistent(report)
        (result,) = report.partitions
        assert report.target_file_size_bytes == target
        assert result.status == "compacted"
        assert 1 < len(data_files(sample_table)[key(SSE_DAY1)]) < SAMPLE_FILES_PER_PARTITION

    def test_dry_run_plans_and_changes_nothing(
        self,
        backend: Backend,
        sample_table: str,
        data_files: DataFiles,
        table_version: TableVersion,
    ) -> None:
        before, version = data_files(sample_table), table_version(sample_table)
        report = backend.compact_partitions(
            sample_table,
            partitions=[SSE_DAY1, SZSE_DAY1, {"exchange": "bse", "trading_date": SAMPLE_DATES[0]}],
            min_small_files=2,
            dry_run=True,
        )
        assert_report_consistent(report)
        assert report.dry_run
        assert data_files(sample_table) == before
        assert table_version(sample_table) == version
        assert report.attempted_partitions == report.succeeded_partitions == 0
        assert report.planned_partitions == 2
        by_key = {result.partition: result for result in report.partitions}
        for spec in (SSE_DAY1, SZSE_DAY1):
            result = by_key[key(spec)]
            assert result.status == "would_compact"
            assert result.before_file_count == len(before[key(spec)])
            assert result.small_file_count == len(before[key(spec)])
        missing = by_key[(("exchange", "bse"), ("trading_date", "2024-01-02"))]
        assert (missing.status, missing.skipped_reason) == ("skipped", "no_files")

    def test_below_min_small_files_is_skipped(
        self, backend: Backend, sample_table: str, data_files: DataFiles
    ) -> None:
        before = data_files(sample_table)
        report = backend.compact_partitions(
            sample_table, partitions=[SSE_DAY1], min_small_files=SAMPLE_FILES_PER_PARTITION + 1
        )
        assert_report_consistent(report)
        (result,) = report.partitions
        assert result.skipped_reason == "below_min_small_files"
        assert result.before_file_count == result.after_file_count == SAMPLE_FILES_PER_PARTITION
        assert report.planned_partitions == report.attempted_partitions == 0
        assert data_files(sample_table) == before

    def test_files_at_or_above_target_are_not_small(
        self, backend: Backend, sample_table: str, data_files: DataFiles
    ) -> None:
        before = data_files(sample_table)
        report = backend.compact_partitions(
            sample_table, partitions=[SSE_DAY1], target_file_size_bytes=1, min_small_files=1
        )
        (result,) = report.partitions
        assert result.small_file_count == 0
        assert result.skipped_reason == "below_min_small_files"
        assert data_files(sample_table) == before

    def test_files_too_big_to_pair_are_not_compacted_and_the_dry_run_says_so(
        self,
        backend: Backend,
        sample_table: str,
        data_files: DataFiles,
        table_version: TableVersion,
    ) -> None:
        stats = backend.inspect_partitions(sample_table, [SSE_DAY1]).partitions[0]
        # Every file is below the target, but no two fit together within it: none is
        # small, so even min_small_files=0 finds nothing to compact.
        target = stats.total_bytes * 3 // (2 * stats.file_count)
        before, version = data_files(sample_table), table_version(sample_table)
        options: dict[str, Any] = {"partitions": [SSE_DAY1], "target_file_size_bytes": target}
        dry = backend.compact_partitions(sample_table, dry_run=True, min_small_files=0, **options)
        real = backend.compact_partitions(sample_table, min_small_files=0, **options)
        two = backend.compact_partitions(sample_table, min_small_files=2, **options)
        for report in (dry, real):
            assert_report_consistent(report)
            (result,) = report.partitions
            assert result.small_file_count == 0
            assert (result.status, result.skipped_reason) == ("skipped", "nothing_to_compact")
        assert two.partitions[0].skipped_reason == "below_min_small_files"
        assert data_files(sample_table) == before
        assert table_version(sample_table) == version

    def test_rerun_skips_everything_and_writes_nothing(
        self,
        backend: Backend,
        sample_table: str,
        data_files: DataFiles,
        table_version: TableVersion,
    ) -> None:
        named = [SSE_DAY1, SZSE_DAY1]
        first = backend.compact_partitions(sample_table, partitions=named)
        assert first.succeeded_partitions == 2
        files, version = data_files(sample_table), table_version(sample_table)
        second = backend.compact_partitions(sample_table, partitions=named)
        assert_report_consistent(second)
        assert second.succeeded_partitions == 0
        assert second.skipped_partitions == 2
        assert {r.skipped_reason for r in second.partitions} == {"below_min_small_files"}
        assert data_files(sample_table) == files
        assert table_version(sample_table) == version
        if self.supports_table_versions:
            assert second.version_before == second.version_after == version
        else:
            assert second.version_before is second.version_after is version is None

    def test_continue_on_error_isolates_a_failing_partition(
        self,
        backend: Backend,
        sample_table: str,
        data_files: DataFiles,
        read_rows: ReadRows,
        corrupt_partition: CorruptPartition,
    ) -> None:
        corrupt_partition(sample_table, SSE_DAY2)
        before = data_files(sample_table)
        report = backend.compact_partitions(
            sample_table, partitions=[SSE_DAY1, SSE_DAY2, SZSE_DAY1], min_small_files=2
        )
        assert_report_consistent(report)
        by_key = {result.partition: result for result in report.partitions}
        failed = by_key[key(SSE_DAY2)]
        assert failed.status == "failed"
        assert failed.error
        assert failed.after_file_count is None
        assert report.failed_partitions == 1
        assert report.succeeded_partitions == 2
        after = data_files(sample_table)
        assert after[key(SSE_DAY2)] == before[key(SSE_DAY2)]
        assert len(after[key(SSE_DAY1)]) == len(after[key(SZSE_DAY1)]) == 1

    def test_stop_on_error_raises_and_keeps_earlier_commits(
        self,
        backend: Backend,
        sample_table: str,
        data_files: DataFiles,
        corrupt_partition: CorruptPartition,
    ) -> None:
        corrupt_partition(sample_table, SSE_DAY2)
        before = data_files(sample_table)
        named = [SZSE_DAY1, SSE_DAY2, SSE_DAY1]  # sorted: sse/day1, sse/day2, szse/day1
        with pytest.raises(CompactionFailedError) as raised:
            backend.compact_partitions(
                sample_table, partitions=named, min_small_files=2, continue_on_error=False
            )
        error = raised.value
        assert isinstance(error, PointlineStorageError)
        assert error.__cause__ is not None
        assert "sse" in str(error)
        statuses = {result.partition: result.status for result in error.report.partitions}
        assert statuses == {
            key(SSE_DAY1): "compacted",
            key(SSE_DAY2): "failed",
            key(SZSE_DAY1): "not_attempted",
        }
        after = data_files(sample_table)
        assert len(after[key(SSE_DAY1)]) == 1, "the partition before the failure stays committed"
        assert after[key(SZSE_DAY1)] == before[key(SZSE_DAY1)]
        assert after[key(SSE_DAY2)] == before[key(SSE_DAY2)]

    def test_commit_granularity_changes_no_outcome(
        self, backend: Backend, sample_table: str, data_files: DataFiles, read_rows: ReadRows
    ) -> None:
        rows, before = sorted_rows(read_rows(sample_table)), data_files(sample_table)
        if not self.supports_partitions_per_commit:
            with pytest.raises(UnsupportedOptionError, match="partitions_per_commit"):
                backend.compact_partitions(
                    sample_table, partitions=[SSE_DAY1], partitions_per_commit=1
                )
            assert data_files(sample_table) == before, "a refused option writes nothing"
            return
        alone = backend.compact_partitions(
            sample_table, partitions=[SSE_DAY1, SZSE_DAY3], partitions_per_commit=1
        )
        # Two per commit, and sse/day2 with szse/day1 are no cross product: it takes care.
        together = backend.compact_partitions(
            sample_table, partitions=[SSE_DAY2, SZSE_DAY1, SZSE_DAY3], partitions_per_commit=2
        )
        assert_report_consistent(alone)
        assert_report_consistent(together)
        assert (alone.succeeded_partitions, together.succeeded_partitions) == (2, 2)
        compacted = [r for r in (*alone.partitions, *together.partitions) if r.files_added]
        assert {r.files_removed for r in compacted} == {SAMPLE_FILES_PER_PARTITION}
        after = data_files(sample_table)
        for spec in (SSE_DAY1, SSE_DAY2, SZSE_DAY1, SZSE_DAY3):
            assert len(after[key(spec)]) == 1
        for partition in set(before) - {key(s) for s in (SSE_DAY1, SSE_DAY2, SZSE_DAY1, SZSE_DAY3)}:
            assert after[partition] == before[partition], f"{partition} must be untouched"
        assert sorted_rows(read_rows(sample_table)).equals(rows)

    def test_progress_is_reported_once_per_partition(
        self, backend: Backend, sample_table: str
    ) -> None:
        seen: list[PartitionCompactionResult] = []
        named = [SSE_DAY1, SZSE_DAY1, {"exchange": "bse", "trading_date": SAMPLE_DATES[0]}]
        report = backend.compact_partitions(
            sample_table, partitions=named, min_small_files=2, progress=seen.append
        )
        assert sorted(result.partition for result in seen) == [
            result.partition for result in report.partitions
        ]

    def test_unpartitioned_table(
        self, backend: Backend, unpartitioned_table: str, read_rows: ReadRows
    ) -> None:
        rows = sorted_rows(read_rows(unpartitioned_table))
        with pytest.raises(InvalidPartitionError, match="not partitioned"):
            backend.compact_partitions(unpartitioned_table, partitions=[SSE_DAY1])
        report = backend.compact_partitions(unpartitioned_table, partitions=[{}], min_small_files=2)
        assert_report_consistent(report)
        assert report.partition_keys == ()
        (result,) = report.partitions
        assert result.partition == ()
        assert result.status == "compacted"
        assert result.after_file_count == 1
        assert sorted_rows(read_rows(unpartitioned_table)).equals(rows)

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ({"exchange": "sse"}, "missing"),
            ({**SSE_DAY1, "side": "B"}, "unknown"),
            ({"exchange": "sse", "trading_date": "2024-13-45"}, "trading_date"),
            ({"exchange": "sse", "trading_date": 20240102}, "trading_date"),
        ],
    )
    def test_invalid_partitions_are_rejected_before_writing(
        self,
        backend: Backend,
        sample_table: str,
        data_files: DataFiles,
        table_version: TableVersion,
        spec: dict[str, object],
        message: str,
    ) -> None:
        before, version = data_files(sample_table), table_version(sample_table)
        with pytest.raises(InvalidPartitionError, match=message) as raised:
            # The valid partition comes first: nothing may be written before validation ends.
            backend.compact_partitions(sample_table, partitions=[SSE_DAY1, spec], min_small_files=2)
        assert isinstance(raised.value, ValueError)
        assert data_files(sample_table) == before
        assert table_version(sample_table) == version

    def test_unknown_table_is_a_clear_error(self, backend: Backend) -> None:
        with pytest.raises(TableNotFoundError, match="no_such_table"):
            backend.compact_partitions("no_such_table", partitions=[SSE_DAY1])
