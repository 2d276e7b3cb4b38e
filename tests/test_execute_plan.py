"""plan_compaction and execute_plan on delta-local: a plan writes nothing, executes on the
compaction pipeline, and skips a partition whose planned files changed since."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from entrypoints import FAKE_BACKEND_SOURCE, FakeDistributions
from small_tables import SSE, SZSE, small_table

from pointline_storage import (
    SKIP_BELOW_MIN_SMALL_FILES,
    SKIP_CHANGED_SINCE_PLAN,
    Backend,
    CompactionPlan,
    InvalidOptionError,
    InvalidPlanError,
    UnsupportedOperationError,
    load_backend,
)
from pointline_storage.testing import sample_rows, sorted_rows
from pointline_storage.testing.checks import key

MISSING = {"exchange": "bse", "trading_date": "2024-01-02"}


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    return small_table(tmp_path)


def rows(tmp_path: Path) -> pa.Table:
    return sorted_rows(DeltaTable(str(tmp_path / "t")).to_pyarrow_table())


def test_a_plan_names_files_and_stats_and_writes_nothing(backend, tmp_path):
    version = DeltaTable(str(tmp_path / "t")).version()
    plan = backend.plan_compaction("t", partitions=[SSE, SZSE, MISSING], min_small_files=2)
    assert DeltaTable(str(tmp_path / "t")).version() == version
    assert not (tmp_path / "t" / "_pointline").exists()  # no lease taken
    assert plan.version == version
    assert plan.partition_keys == ("exchange", "trading_date")
    assert plan.partition_kinds == ("string", "date")
    assert [p.partition for p in plan.partitions] == [key(SSE), key(SZSE)]
    live = set(DeltaTable(str(tmp_path / "t")).file_uris())
    for planned in plan.partitions:
        assert planned.stats.file_count == len(planned.files) == 4
        assert all(str(tmp_path / "t" / path) in live for path in planned.files)
    assert [(r.partition, r.skipped_reason) for r in plan.skipped] == [(key(MISSING), "no_files")]
    assert CompactionPlan.from_json(plan.to_json()) == plan


def test_executing_a_plan_reads_like_compacting(backend, tmp_path):
    before = rows(tmp_path)
    plan = backend.plan_compaction("t", partitions=[SSE, SZSE, MISSING], min_small_files=2)
    seen = []
    report = backend.execute_plan(CompactionPlan.from_json(plan.to_json()), progress=seen.append)
    assert rows(tmp_path).equals(before)
    assert report.succeeded_partitions == 2
    assert report.skipped_partitions == 1
    assert report.version_before == plan.version
    assert report.version_after == plan.version + 1  # one commit for the cross product
    assert sorted(result.partition for result in seen) == [key(MISSING), key(SSE), key(SZSE)]
    [sse] = [r for r in report.partitions if r.partition == key(SSE)]
    assert (sse.before_file_count, sse.after_file_count, sse.files_removed) == (4, 1, 4)
    # Executing the same plan again: its files are gone, nothing is rewritten blindly.
    again = backend.execute_plan(plan)
    assert {r.skipped_reason for r in again.partitions} == {SKIP_CHANGED_SINCE_PLAN, "no_files"}
    assert again.version_after == report.version_after


def test_a_partition_compacted_since_the_plan_is_skipped(backend, tmp_path):
    plan = backend.plan_compaction("t", partitions=[SSE, SZSE], min_small_files=2)
    backend.compact_partitions("t", partitions=[SSE], min_small_files=2)
    report = backend.execute_plan(plan)
    outcome = {r.partition: (r.status, r.skipped_reason) for r in report.partitions}
    assert outcome == {
        key(SSE): ("skipped", SKIP_CHANGED_SINCE_PLAN),
        key(SZSE): ("compacted", None),
    }
    [sse] = [r for r in report.partitions if r.partition == key(SSE)]
    assert sse.before_file_count == sse.after_file_count == 1  # as it is now, untouched


def test_files_appended_since_the_plan_are_compacted_too(backend, tmp_path):
    plan = backend.plan_compaction("t", partitions=[SSE], min_small_files=2)
    extra = DeltaTable(str(tmp_path / "t")).to_pyarrow_table(
        filters=[("exchange", "=", "sse"), ("trading_date", "=", dt.date(2024, 1, 2))]
    )
    write_deltalake(str(tmp_path / "t"), extra.slice(0, 5), mode="append")
    before = rows(tmp_path)
    report = backend.execute_plan(plan)
    [sse] = report.partitions
    assert sse.status == "compacted"
    assert (sse.before_file_count, sse.files_removed, sse.after_file_count) == (5, 5, 1)
    assert rows(tmp_path).equals(before)


def test_a_plan_of_other_partition_columns_is_refused(backend, tmp_path):
    plan = backend.plan_compaction("t", partitions=[SSE], min_small_files=2)
    other = load_backend("delta-local", root=tmp_path / "other")
    write_deltalake(str(tmp_path / "other" / "t"), sample_rows(2), partition_by=["exchange"])
    with pytest.raises(InvalidPlanError, match="partitioned by"):
        other.execute_plan(plan)
    with pytest.raises(InvalidOptionError, match="lease_seconds must be positive"):
        backend.execute_plan(plan, lease_seconds=0)
    with pytest.raises(InvalidOptionError, match="must be a CompactionPlan"):
        backend.execute_plan(plan.to_json())  # type: ignore[arg-type]


def test_plan_thresholds_are_the_plans(backend):
    plan = backend.plan_compaction("t", partitions=[SSE], min_small_files=5)
    assert [r.skipped_reason for r in plan.skipped] == [SKIP_BELOW_MIN_SMALL_FILES]
    lowered = dataclasses.replace(plan, min_small_files=2)
    assert backend.execute_plan(lowered).skipped_partitions == 1  # skipped results stand


def test_canonical_keys_name_partitions_even_null_integers(tmp_path):
    table = pa.table({"n": pa.array([None, None, 1], pa.int64()), "v": [1, 2, 3]})
    for row in range(3):
        write_deltalake(str(tmp_path / "t"), table.slice(row, 1), partition_by=["n"], mode="append")
    backend = load_backend("delta-local", root=tmp_path)
    inspection = backend.inspect_partitions("t")
    keys = [stats.partition for stats in inspection.partitions]
    assert (("n", "null"),) in keys
    report = backend.compact_partitions("t", partitions=keys, min_small_files=2)
    outcome = {r.partition: r.status for r in report.partitions}
    assert outcome == {(("n", "1"),): "skipped", (("n", "null"),): "compacted"}
    assert backend.plan_compaction("t", partitions=keys, min_small_files=1).partitions == ()


@pytest.fixture
def minimal_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    installed = FakeDistributions(tmp_path / "site", monkeypatch)
    installed.add(
        "fake-planless",
        entry_points={"planless": "fake_planless:create_backend"},
        modules={"fake_planless": FAKE_BACKEND_SOURCE},
    )
    yield load_backend("planless", root=tmp_path / "silver")
    installed.cleanup()


def test_a_backend_without_the_hooks_cannot_plan(minimal_backend, backend):
    with pytest.raises(UnsupportedOperationError, match="optional hook plan_compaction"):
        minimal_backend.plan_compaction("t", partitions=[{}])
    plan = backend.plan_compaction("t", partitions=[SSE], min_small_files=2)
    with pytest.raises(UnsupportedOperationError, match="optional hook execute_plan"):
        minimal_backend.execute_plan(plan)
