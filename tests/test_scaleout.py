"""One compaction spread over real executors: a dask LocalCluster with process workers (on
local disk and on moto_server), a spawn ProcessPoolExecutor; lost shards; the known traps."""

from __future__ import annotations

import collections
import concurrent.futures
import json
import multiprocessing
import pickle
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from deltalake import DeltaTable
from distributed import Client, LocalCluster

from pointline_storage import (
    SKIP_BELOW_MIN_SMALL_FILES,
    SKIP_CHANGED_SINCE_PLAN,
    Backend,
    InvalidOptionError,
    load_backend,
)
from pointline_storage.scaleout import ShardError, ShardTask, run_shard
from pointline_storage.testing import sample_rows, sorted_rows
from pointline_storage.testing.checks import assert_report_consistent
from pointline_storage.testing.s3 import MotoServer

PARTITION_BY = ("exchange", "trading_date")
#: Two exchanges by three days, plus one partition the table lacks.
SPECS = [
    {"exchange": exchange, "trading_date": day}
    for exchange in ("sse", "szse", "bse")
    for day in ("2024-01-02", "2024-01-03", "2024-01-04")
][:7]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    # Process workers, as on a real cluster: each loads the backend from its spec.
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def make_table(backend: Backend) -> None:
    backend.write_sample_table(
        "t", rows=sample_rows(files_per_partition=4), partition_by=PARTITION_BY, rows_per_file=20
    )


@pytest.fixture
def local(tmp_path: Path) -> Backend:
    backend = load_backend("delta-local", root=tmp_path)
    make_table(backend)
    return backend


@pytest.fixture
def on_s3(s3_bucket: str, moto_server: MotoServer) -> Backend:
    backend = load_backend(
        "delta-s3", root=f"s3://{s3_bucket}", storage_options=moto_server.storage_options()
    )
    make_table(backend)
    return backend


def open_table(backend: Backend) -> DeltaTable:
    spec = backend.spec
    return DeltaTable(f"{spec.root}/t", storage_options=dict(spec.storage_options) or None)


def removed_by_commit(backend: Backend) -> dict[str, int]:
    """Each file some commit removed -> how many commits removed it, from _delta_log."""
    spec = backend.spec
    options = dict(spec.storage_options)
    fs_options = (
        {
            "key": options["AWS_ACCESS_KEY_ID"],
            "secret": options["AWS_SECRET_ACCESS_KEY"],
            "client_kwargs": {"endpoint_url": options["AWS_ENDPOINT_URL"]},
        }
        if options
        else {}
    )
    fs, root = fsspec.core.url_to_fs(f"{spec.root}/t/_delta_log", **fs_options)
    fs.invalidate_cache()
    counts: collections.Counter[str] = collections.Counter()
    for path in sorted(fs.glob(f"{root}/*.json")):
        for line in fs.cat_file(path).decode().splitlines():
            action = json.loads(line)
            if "remove" in action:
                counts[action["remove"]["path"]] += 1
    return dict(counts)


def check_spread_compaction(backend: Backend, executor: concurrent.futures.Executor) -> None:
    table = open_table(backend)
    before_rows, version = sorted_rows(table.to_pyarrow_table()), table.version()
    seen: list[Any] = []
    report = backend.compact_partitions(
        "t",
        partitions=SPECS,
        min_small_files=2,
        executor=executor,
        shards=4,
        progress=seen.append,
        lease_seconds=120.0,  # travels to every worker's leases
    )
    table = open_table(backend)
    assert sorted_rows(table.to_pyarrow_table()).equals(before_rows)
    assert_report_consistent(report)
    assert report.succeeded_partitions == 6
    assert [r.skipped_reason for r in report.partitions if r.status == "skipped"] == ["no_files"]
    assert report.version_before == version
    assert report.version_after == table.version() > version
    assert report.partition_kinds == ("string", "date")  # to_arrow() types them as the table
    # progress ran here, once per partition, as the shards' reports arrived.
    assert sorted(r.partition for r in seen) == [r.partition for r in report.partitions]
    # Exactly once: every rewritten file was removed by one commit only.
    removed = removed_by_commit(backend)
    assert len(removed) == 24
    assert set(removed.values()) == {1}
    again = backend.compact_partitions(
        "t", partitions=SPECS, min_small_files=2, executor=executor, shards=4
    )
    assert again.succeeded_partitions == 0
    assert {r.skipped_reason for r in again.partitions} == {SKIP_BELOW_MIN_SMALL_FILES, "no_files"}
    assert again.version_after == report.version_after


def test_dask_cluster_on_local_disk(local, client):
    check_spread_compaction(local, client.get_executor())


def test_dask_cluster_on_moto_server(on_s3, client):
    check_spread_compaction(on_s3, client.get_executor())


def test_spawn_process_pool(local):
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=2, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        check_spread_compaction(local, pool)


def test_a_forking_pool_is_refused_before_anything_happens(local):
    version = open_table(local).version()
    with (
        concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("fork")
        ) as pool,
        pytest.raises(InvalidOptionError, match="spawn"),
    ):
        local.compact_partitions("t", partitions=SPECS, min_small_files=2, executor=pool)
    assert open_table(local).version() == version
    with pytest.raises(InvalidOptionError, match=r"concurrent\.futures\.Executor"):
        local.compact_partitions("t", partitions=SPECS, executor=object())  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="shards needs an executor"):
        local.compact_partitions("t", partitions=SPECS, shards=2)


def test_identical_plans_on_dask_really_run_twice(local, client):
    # dask's executor submits pure=True: identical tasks would share one cached result.
    plan = local.plan_compaction("t", partitions=SPECS, min_small_files=2)
    executor = client.get_executor()
    first = local.execute_plan(plan, executor=executor, shards=2)
    second = local.execute_plan(plan, executor=executor, shards=2)
    assert first.succeeded_partitions == 6
    assert second.succeeded_partitions == 0
    assert {r.skipped_reason for r in second.partitions} == {SKIP_CHANGED_SINCE_PLAN, "no_files"}


class DyingAfterWork(concurrent.futures.ThreadPoolExecutor):
    """An executor whose task for shard 1 does its work, then dies (as a worker killed
    after its commits would)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        task = args[0]
        if isinstance(task, ShardTask) and task.index == 1:
            return super().submit(_work_then_die, task)
        return super().submit(fn, *args, **kwargs)


def _work_then_die(task: ShardTask) -> None:
    run_shard(task)
    raise ConnectionResetError("worker tcp://10.0.0.7:4242 died")


def test_a_lost_shard_costs_only_its_partitions(local):
    plan = local.plan_compaction("t", partitions=SPECS, min_small_files=2)
    shards = plan.split(2)
    with DyingAfterWork(max_workers=2) as executor:
        report = local.execute_plan(plan, executor=executor, shards=2)
    assert_report_consistent(report)
    lost = {p.partition for p in shards[1].partitions}
    for result in report.partitions:
        if result.partition in lost:
            assert result.status == "failed"
            assert "shard 1 was lost (ConnectionResetError: worker tcp://" in result.error
            # Before-values from the plan; after-values measured: the commits landed.
            assert result.before_file_count == 4
            assert result.after_file_count == 1
        elif result.skipped_reason is None:
            assert result.status == "compacted"
    assert report.failed_partitions == len(lost) > 0
    assert report.version_after == open_table(local).version()


def test_worker_errors_cross_processes_as_text(local, client, tmp_path):
    plan = local.plan_compaction("t", partitions=SPECS, min_small_files=2)
    shutil.rmtree(tmp_path / "t")
    report = local.execute_plan(plan, executor=client.get_executor(), shards=2)
    assert report.failed_partitions == 6
    errors = {r.error for r in report.partitions if r.status == "failed"}
    assert all("TableNotFoundError: table 't' not found" in error for error in errors)
    error = ShardError("shard 0 failed in its worker: DeltaError: boom")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_cli_compact_on_a_dask_scheduler(local, client):
    from click.testing import CliRunner

    from pointline_storage.cli import cli

    named = [",".join(f"{column}={value}" for column, value in spec.items()) for spec in SPECS]
    outcome = CliRunner().invoke(
        cli,
        ["compact", "--root", local.spec.root, "--table", "t", "--min-small-files", "2",
         "--dask-scheduler", client.scheduler.address, "--json",
         *[arg for partition in named for arg in ("--partition", partition)]],
        catch_exceptions=False,
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    report = json.loads(outcome.stdout)
    assert report["succeeded_partitions"] == 6
    assert report["version_after"] == open_table(local).version()


def test_stop_on_error_raises_once_every_shard_is_done(local, client, tmp_path):
    from small_tables import lease_elsewhere

    from pointline_storage import CompactionFailedError

    lease_elsewhere(tmp_path, SPECS[0])  # another host's run holds sse/2024-01-02
    # The failing shard's CompactionFailedError, report included, crosses from its worker.
    with pytest.raises(CompactionFailedError, match="another compaction holds") as caught:
        local.compact_partitions(
            "t",
            partitions=SPECS,
            min_small_files=2,
            executor=client.get_executor(),
            shards=2,
            continue_on_error=False,
        )
    report = caught.value.report
    assert_report_consistent(report)
    statuses = collections.Counter(result.status for result in report.partitions)
    # The failing shard stopped at its refusal; the other shard ran to its end.
    assert statuses["failed"] == 1
    assert statuses["compacted"] == 3
    assert statuses["not_attempted"] == 2
    assert report.version_after == open_table(local).version()


class ExitingPool(concurrent.futures.ProcessPoolExecutor):
    """A spawn pool whose process running shard 1 exits right after that shard's work."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        task = args[0]
        if isinstance(task, ShardTask) and task.index == 1:
            return super().submit(_work_then_exit, task)
        return super().submit(fn, *args, **kwargs)


def _work_then_exit(task: ShardTask) -> None:
    import os

    run_shard(task)
    os._exit(17)  # the worker process dies: the pool is broken


def test_a_worker_process_that_dies_costs_only_its_shard(local):
    before = sorted_rows(open_table(local).to_pyarrow_table())
    plan = local.plan_compaction("t", partitions=SPECS, min_small_files=2)
    lost = {p.partition for p in plan.split(2)[1].partitions}
    # One process runs the shards in order: shard 0 completes, then shard 1 kills it.
    with ExitingPool(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        report = local.execute_plan(plan, executor=pool, shards=2)
    assert_report_consistent(report)
    assert sorted_rows(open_table(local).to_pyarrow_table()).equals(before)
    for result in report.partitions:
        if result.partition in lost:
            assert result.status == "failed"
            assert "shard 1 was lost (BrokenProcessPool" in result.error
            assert (result.before_file_count, result.after_file_count) == (4, 1)
    assert report.succeeded_partitions == 6 - len(lost) > 0
    again = local.execute_plan(plan)  # a rerun finds the dead shard's work done
    assert {r.skipped_reason for r in again.partitions} == {SKIP_CHANGED_SINCE_PLAN, "no_files"}
