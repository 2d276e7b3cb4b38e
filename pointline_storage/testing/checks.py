"""Assertions shared by the conformance tests."""

from __future__ import annotations

from collections.abc import Mapping

from pointline_storage import CompactionReport, PartitionKey, render_stored_value


def key(spec: Mapping[str, object]) -> PartitionKey:
    """The canonical key of a sample-table partition spec (named in column order)."""
    return tuple((column, render_stored_value(value)) for column, value in spec.items())


def assert_report_consistent(report: CompactionReport) -> None:
    """Check the invariants of a compaction report made while no other writer was active
    (with concurrent appends, after-values legitimately include the appended files).

    Counters, order and status fields are checked by the report itself on construction;
    this checks what only a quiet table guarantees.
    """
    for result in report.partitions:
        if result.status == "compacted":
            assert result.after_file_count is not None
            assert result.after_file_count < result.before_file_count
            assert result.files_removed >= 2
            assert result.rows_after == result.rows_before
        if result.status == "skipped":
            assert result.after_file_count == result.before_file_count
            assert result.rows_after == result.rows_before
