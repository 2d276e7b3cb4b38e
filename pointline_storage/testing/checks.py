"""Assertions shared by the conformance tests."""

from __future__ import annotations

from collections.abc import Mapping

from pointline_storage import CompactionReport, PartitionKey, render_stored_value


def key(spec: Mapping[str, object]) -> PartitionKey:
    """The canonical key of a sample-table partition spec (named in column order)."""
    return tuple((column, render_stored_value(value)) for column, value in spec.items())


def assert_report_consistent(report: CompactionReport) -> None:
    """Check the invariants of a compaction report made while no other writer was active
    (with concurrent appends, after-values legitimately include the appended files)."""
    partitions = [result.partition for result in report.partitions]
    assert partitions == sorted(partitions), "results must be sorted by partition"
    assert len(set(partitions)) == len(partitions), "duplicate partitions must be merged"
    statuses = [result.status for result in report.partitions]
    assert report.succeeded_partitions == statuses.count("compacted")
    assert report.skipped_partitions == statuses.count("skipped")
    assert report.failed_partitions == statuses.count("failed")
    active = sum(s in {"compacted", "failed", "would_compact", "not_attempted"} for s in statuses)
    engine_noops = report.planned_partitions - active
    assert 0 <= engine_noops <= report.skipped_partitions
    ran = statuses.count("compacted") + statuses.count("failed")
    assert report.attempted_partitions == ran + engine_noops
    for result in report.partitions:
        assert tuple(column for column, _ in result.partition) == report.partition_keys
        assert (result.skipped_reason is not None) == (result.status == "skipped")
        assert (result.error is not None) == (result.status == "failed")
        if report.dry_run:
            assert result.status in {"would_compact", "skipped"}
        if result.status == "compacted":
            assert result.after_file_count is not None
            assert result.after_file_count < result.before_file_count
            assert result.files_removed >= 2
            assert result.rows_after == result.rows_before
