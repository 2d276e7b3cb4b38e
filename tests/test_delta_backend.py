"""Delta-specific behaviour of the Delta backends, beyond the shared conformance suite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake
from pointline_storage_delta import DeltaPartitionOptimizer
from pointline_storage_delta.vacuum import minimum_retention_hours

from pointline_storage import (
    InvalidOptionError,
    PartitionCompactionResult,
    RetentionTooShortError,
    StorageError,
    TableNotFoundError,
    hookimpl,
    load_backend,
)
from pointline_storage.testing import sample_rows

PARTITION_BY = ["exchange", "trading_date"]


def write_small_files(path: Path, files: int = 6, configuration: dict | None = None) -> None:
    rows = sample_rows(files_per_partition=1)
    for number in range(files):
        write_deltalake(
            str(path),
            rows,
            mode="append" if number else "error",
            partition_by=PARTITION_BY,
            configuration=configuration if not number else None,
        )


@pytest.fixture
def table(tmp_path: Path) -> Path:
    write_small_files(tmp_path / "orders")
    return tmp_path / "orders"


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count snapshot scans (calls of the real get_add_actions)."""
    calls: list[int] = []
    real = DeltaTable.get_add_actions

    def counting(self: DeltaTable, flatten: bool = False):
        calls.append(1)
        return real(self, flatten=flatten)

    monkeypatch.setattr(DeltaTable, "get_add_actions", counting)
    return calls


def every_day(count: int) -> list[dict[str, object]]:
    start = dt.date(2024, 1, 2)
    return [
        {"exchange": exchange, "trading_date": start + dt.timedelta(days=offset)}
        for exchange in ("sse", "szse")
        for offset in range(count // 2)
    ]


def test_planning_many_partitions_costs_one_scan(table: Path, scans: list[int]) -> None:
    backend = load_backend("delta-local", root=table.parent)
    named = every_day(100)
    inspection = backend.inspect_partitions("orders", named)
    assert len(inspection.partitions) == 100
    assert len(scans) == 1
    report = backend.compact_partitions("orders", partitions=named, min_small_files=2, dry_run=True)
    assert report.planned_partitions == 6
    assert len(scans) == 2


def test_a_sorted_plan_reads_the_snapshot_once(table: Path, scans: list[int]) -> None:
    # The sort-key check, the layout and the plan share one read of the add actions.
    backend = load_backend("delta-local", root=table.parent)
    report = backend.compact_partitions(
        "orders", partitions=every_day(6), min_small_files=2, dry_run=True, sort_by=("ts",)
    )
    assert report.planned_partitions == 6
    assert {result.unsorted_files for result in report.partitions} == {5}
    assert len(scans) == 1


@pytest.mark.parametrize("partitions_per_commit", [1, 100])
def test_a_real_compaction_scans_the_snapshot_in_python_twice(
    table: Path, scans: list[int], partitions_per_commit: int
) -> None:
    backend = load_backend("delta-local", root=table.parent)
    report = backend.compact_partitions(
        "orders",
        partitions=every_day(6),
        min_small_files=2,
        partitions_per_commit=partitions_per_commit,
    )
    assert report.succeeded_partitions == 6
    # The engine reads its own snapshot per commit; this bounds only our planning and
    # measuring, which must not grow with the number of partitions. (Each commit of
    # several partitions is measured by one scan, which then serves as the final one.)
    assert len(scans) == 2, "one scan to plan, one to measure the result"


def test_the_tables_target_file_size_is_the_default(tmp_path: Path) -> None:
    write_small_files(tmp_path / "orders", configuration={"delta.targetFileSize": "100"})
    backend = load_backend("delta-local", root=tmp_path)
    day = {"exchange": "sse", "trading_date": "2024-01-02"}
    report = backend.compact_partitions("orders", partitions=[day], min_small_files=2)
    assert report.target_file_size_bytes == 100
    assert report.partitions[0].skipped_reason == "below_min_small_files"
    assert backend.inspect_partitions("orders").target_file_size_bytes == 100
    explicit = backend.compact_partitions(
        "orders", partitions=[day], min_small_files=2, target_file_size_bytes=10_000_000
    )
    assert explicit.partitions[0].status == "compacted"


def test_the_tables_retention_property_is_enforced(tmp_path: Path) -> None:
    write_small_files(
        tmp_path / "orders",
        files=2,
        configuration={"delta.deletedFileRetentionDuration": "interval 2 hours"},
    )
    backend = load_backend("delta-local", root=tmp_path)
    with pytest.raises(RetentionTooShortError, match="2 hours"):
        backend.vacuum_table("orders", retention_hours=1)
    assert backend.vacuum_table("orders", retention_hours=2).deleted_count == 0


@pytest.mark.parametrize(
    ("value", "hours"),
    [
        (None, 168.0),
        ("interval 1 week", 168.0),
        ("interval 7 days", 168.0),
        ("interval 2 hours", 2.0),
        ("interval 1 day 12 hours", 36.0),
        ("INTERVAL 30 MINUTES", 0.5),
        ("interval 3 fortnights", None),
        ("forever", None),
    ],
)
def test_minimum_retention_parsing(value: str | None, hours: float | None) -> None:
    configuration = {} if value is None else {"delta.deletedFileRetentionDuration": value}
    assert minimum_retention_hours(configuration) == hours


def test_a_real_vacuum_with_nothing_to_delete_makes_no_version(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    version = DeltaTable(str(table)).version()
    report = backend.vacuum_table(
        "orders", retention_hours=0, enforce_retention_duration=False, dry_run=False
    )
    assert report.deleted_count == 0
    assert DeltaTable(str(table)).version() == version


def test_vacuum_reports_bytes_of_deleted_files(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    day = {"exchange": "sse", "trading_date": "2024-01-02"}
    compacted = backend.compact_partitions("orders", partitions=[day], min_small_files=2)
    options = {"retention_hours": 0, "enforce_retention_duration": False}
    report = backend.vacuum_table("orders", dry_run=False, **options)
    assert report.deleted_bytes == compacted.partitions[0].bytes_before
    assert all(not (table / path).exists() for path in report.deleted_files)


def test_observer_hookwrapper_sees_every_call(table: Path) -> None:
    backend = load_backend("delta-local", root=table.parent)
    seen = []

    class Observer:
        @hookimpl(wrapper=True)
        def compact_partitions(self, table_name, dry_run):
            report = yield
            seen.append((table_name, dry_run, report.planned_partitions))
            return report

    backend.plugin_manager.register(Observer())
    backend.compact_partitions("orders", partitions=every_day(2), min_small_files=2, dry_run=True)
    assert seen == [("orders", True, 2)]


def test_table_paths_point_anywhere_and_file_uris_work(table: Path, tmp_path: Path) -> None:
    backend = load_backend(
        "delta-local", root=(tmp_path / "elsewhere").as_uri(), table_paths={"events": str(table)}
    )
    assert backend.inspect_partitions("events").partitions
    uri_backend = load_backend("delta-local", root=table.parent.as_uri())
    assert uri_backend.inspect_partitions("orders").partitions


def test_a_directory_without_a_delta_log_is_not_a_table(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    pq.write_table(pa.table({"a": [1]}), tmp_path / "plain" / "part.parquet")
    backend = load_backend("delta-local", root=tmp_path)
    with pytest.raises(TableNotFoundError, match="holds no Delta table"):
        backend.inspect_partitions("plain")
    with pytest.raises(TableNotFoundError, match="does not exist"):
        backend.vacuum_table("absent")


def test_delta_local_refuses_remote_roots() -> None:
    with pytest.raises(InvalidOptionError, match="delta-local works on local paths"):
        load_backend("delta-local", root="memory://bucket/silver")


def test_repr_never_shows_storage_options() -> None:
    optimizer = DeltaPartitionOptimizer(
        silver_root="/data", storage_options={"AWS_SECRET_ACCESS_KEY": "hunter2"}
    )
    assert "hunter2" not in repr(optimizer)
    assert "hunter2" not in repr(load_backend("delta-local", root="/data"))


def test_delta_local_refuses_s3_roots_without_needing_s3fs() -> None:
    with pytest.raises(InvalidOptionError, match="delta-local works on local paths"):
        load_backend("delta-local", root="s3://bucket/silver")


def test_a_corrupt_log_is_a_storage_error(table: Path) -> None:
    with (table / "_delta_log" / "00000000000000000000.json").open("a") as log:
        log.write("{not json\n")
    backend = load_backend("delta-local", root=table.parent)
    with pytest.raises(StorageError, match="cannot read table 'orders'"):
        backend.inspect_partitions("orders")


def test_a_plain_file_is_not_a_table(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    backend = load_backend("delta-local", root=tmp_path)
    with pytest.raises(TableNotFoundError, match="is a file"):
        backend.compact_partitions("afile", partitions=[{}])


def test_a_commit_conflict_fails_only_its_partition(tmp_path: Path) -> None:
    path = tmp_path / "events"
    for number in range(5):
        rows = pa.table({"p": [f"p{i:02}" for i in range(6)], "v": [number] * 6})
        write_deltalake(str(path), rows, mode="append", partition_by=["p"])
    backend = load_backend("delta-local", root=tmp_path)

    def delete_in_p02_after_p01(result: PartitionCompactionResult) -> None:
        if result.partition == (("p", "p01"),):
            DeltaTable(str(path)).delete("p = 'p02' AND v = 0")  # a concurrent writer

    report = backend.compact_partitions(
        "events",
        partitions=[{"p": f"p{i:02}"} for i in range(6)],
        min_small_files=2,
        progress=delete_in_p02_after_p01,
        partitions_per_commit=1,
    )
    statuses = {dict(result.partition)["p"]: result.status for result in report.partitions}
    assert statuses == {
        "p00": "compacted",
        "p01": "compacted",
        "p02": "failed",
        "p03": "compacted",
        "p04": "compacted",
        "p05": "compacted",
    }
    (failed,) = [result for result in report.partitions if result.status == "failed"]
    assert "CommitFailedError" in (failed.error or "")
    rows = {(row["p"], row["v"]) for row in DeltaTable(str(path)).to_pyarrow_table().to_pylist()}
    written = {(f"p{i:02}", number) for i in range(6) for number in range(5)}
    assert rows == written - {("p02", 0)}, "every row but the one the other writer deleted"


def test_write_sample_table_validates_its_input(tmp_path: Path) -> None:
    backend = load_backend("delta-local", root=tmp_path)
    rows = sample_rows(files_per_partition=1)
    with pytest.raises(InvalidOptionError, match="not in rows"):
        backend.write_sample_table("t", rows=rows, partition_by=["venue"])
    with pytest.raises(InvalidOptionError, match="no rows"):
        backend.write_sample_table("t", rows=rows.slice(0, 0))
    assert not (tmp_path / "t").exists()


def test_vacuum_names_files_as_they_are_on_disk_whatever_the_partition_value(
    tmp_path: Path,
) -> None:
    value = "a b/c=d%e"
    for number in range(3):
        rows = pa.table({"p": [value], "v": [number]})
        write_deltalake(str(tmp_path / "t"), rows, mode="append", partition_by=["p"])
    partition_dir = tmp_path / "t" / "p=a%20b%2Fc%3Dd%25e"
    written = {f"p=a%20b%2Fc%3Dd%25e/{file.name}" for file in partition_dir.iterdir()}
    backend = load_backend("delta-local", root=tmp_path)
    compacted = backend.compact_partitions("t", partitions=[{"p": value}], min_small_files=2)
    assert compacted.partitions[0].status == "compacted"
    report = backend.vacuum_table(
        "t", retention_hours=0, enforce_retention_duration=False, dry_run=False
    )
    assert set(report.deleted_files) == written
    assert len(written) == 3
    assert not any((tmp_path / "t" / path).exists() for path in report.deleted_files)
    assert sorted(DeltaTable(str(tmp_path / "t")).to_pyarrow_table()["v"].to_pylist()) == [0, 1, 2]
