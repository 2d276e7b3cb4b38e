"""One compaction pipeline: a refused lease is a planner outcome, every before-value of a
report comes from the version it names, and the duration is the whole call's."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pointline_storage_delta import optimizer, snapshot
from pointline_storage_delta.leases import PartitionLeasedError
from small_tables import SSE, SZSE, lease_elsewhere, small_table

from pointline_storage import (
    Backend,
    CompactionFailedError,
    PartitionKey,
)
from pointline_storage.testing import sample_rows
from pointline_storage.testing.checks import key

SSE_LATER = {"exchange": "sse", "trading_date": "2024-01-03"}


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    return small_table(tmp_path)


def files_of(tmp_path: Path, spec: dict[str, object]) -> int:
    table = DeltaTable(str(tmp_path / "t"))
    return sum(
        1
        for action in pa.table(table.get_add_actions(flatten=True)).to_pylist()
        if all(str(action[f"partition.{c}"]) == str(v) for c, v in spec.items())
    )


def test_a_refused_lease_fails_first_and_stops_the_rest_without_continue_on_error(
    backend: Backend, tmp_path: Path
) -> None:
    lease_elsewhere(tmp_path, SZSE)
    version = DeltaTable(str(tmp_path / "t")).version()

    with pytest.raises(CompactionFailedError) as stopped:
        backend.compact_partitions(
            "t", partitions=[SSE, SZSE, SSE_LATER], min_small_files=2, continue_on_error=False
        )

    assert isinstance(stopped.value.__cause__, PartitionLeasedError)
    report = stopped.value.report
    assert {r.partition: r.status for r in report.partitions} == {
        key(SSE): "not_attempted",
        key(SSE_LATER): "not_attempted",
        key(SZSE): "failed",
    }
    refused = next(r for r in report.partitions if r.status == "failed")
    assert refused.error is not None
    assert refused.error.startswith("PartitionLeasedError: another compaction holds")
    assert "another-host" in refused.error
    assert "exchange=szse/trading_date=2024-01-02" in str(stopped.value)
    assert (report.planned_partitions, report.attempted_partitions) == (3, 1)
    assert report.failed_partitions == 1
    assert report.version_before == report.version_after == version
    assert DeltaTable(str(tmp_path / "t")).version() == version


def test_a_refused_lease_leaves_the_others_compacted_with_continue_on_error(
    backend: Backend, tmp_path: Path
) -> None:
    lease_elsewhere(tmp_path, SZSE)

    report = backend.compact_partitions("t", partitions=[SSE, SZSE], min_small_files=2)

    statuses = {r.partition: r.status for r in report.partitions}
    assert statuses == {key(SSE): "compacted", key(SZSE): "failed"}
    assert (report.succeeded_partitions, report.failed_partitions) == (1, 1)
    refused = report.partitions[1]
    assert (refused.before_file_count, refused.small_file_count) == (4, 4)
    assert refused.after_file_count is None
    assert files_of(tmp_path, SZSE) == 4


def test_every_before_value_comes_from_the_version_the_report_names(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer appends to both partitions between the open and the leases: the
    report plans from, and reports before-values of, the version after that append."""
    lease_elsewhere(tmp_path, SZSE)
    real_leased = optimizer.leases.leased
    extra = sample_rows(files_per_partition=1)
    extra = extra.filter([str(d) == "2024-01-02" for d in extra["trading_date"].to_pylist()])

    @contextlib.contextmanager
    def leased_then_appended(*args: object, **kwargs: object) -> Iterator[object]:
        with real_leased(*args, **kwargs) as taken:  # type: ignore[arg-type]
            write_deltalake(str(tmp_path / "t"), extra, mode="append")
            yield taken

    monkeypatch.setattr(optimizer.leases, "leased", leased_then_appended)
    before = DeltaTable(str(tmp_path / "t")).version()

    report = backend.compact_partitions("t", partitions=[SSE, SZSE], min_small_files=2)

    assert report.version_before == before + 1
    by_partition = {r.partition: r for r in report.partitions}
    assert by_partition[key(SSE)].before_file_count == 5
    assert by_partition[key(SZSE)].before_file_count == 5  # the refused one too
    assert by_partition[key(SSE)].rows_after == by_partition[key(SSE)].rows_before


def test_the_duration_is_the_whole_call_and_the_table_is_opened_once(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[PartitionKey] = []
    real_open = snapshot.DeltaTable

    class SlowToOpen(real_open):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            time.sleep(0.3)
            opened.append(())
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(snapshot, "DeltaTable", SlowToOpen)

    for dry_run in (True, False):
        opened.clear()
        report = backend.compact_partitions(
            "t", partitions=[SSE], min_small_files=2, dry_run=dry_run
        )
        assert report.duration_seconds >= 0.3
        assert len(opened) == 1
    assert report.succeeded_partitions == 1
