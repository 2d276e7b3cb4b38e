"""One compaction spread over any ``concurrent.futures.Executor``: plan here, execute one
shard of the plan per task, merge the shards' reports into one.

Workers commit disjoint partitions of one table at once; the engine rebases a commit that
loses the race for the next version, and the partition leases keep two runs off one
partition. What this module handles is everything around the call:

- every task is unique (a run id and the shard's index travel with it): dask's
  ``Client.get_executor()`` submits with ``pure=True`` and would return one cached report
  for two identical submits, silently skipping the second piece of work;
- a ``fork``-based process pool is refused: deltalake's runtime panics in a forked child of
  a process that used it, and planning here uses it;
- ``progress`` runs here, in the caller's process, as each shard's report arrives;
- a worker's error crosses processes as a :class:`ShardError` holding its text (engine
  errors do not pickle);
- a lost shard (its task raised, its worker died) costs only its partitions: they are
  reported ``failed`` with the reason, before-values from the plan, after-values measured
  from the table (some of the shard's commits may have landed).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pointline_storage.errors import (
    CompactionFailedError,
    InvalidOptionError,
    PointlineStorageError,
)
from pointline_storage.models import (
    SKIP_NOTHING_TO_COMPACT,
    CompactionReport,
    PartitionCompactionResult,
    PartitionStats,
)
from pointline_storage.partitions import PartitionKey
from pointline_storage.plans import CompactionPlan
from pointline_storage.redaction import error_text
from pointline_storage.spec import BackendSpec

if TYPE_CHECKING:
    from pointline_storage.backend import Backend


class ShardError(PointlineStorageError):
    """A shard's task failed in its worker; the message is the worker's error text (the
    original exception stays there: engine errors do not pickle)."""


@dataclass(frozen=True)
class ShardTask:
    """One shard's work, as shipped to a worker: plain, picklable values only.

    Attributes:
        spec: How the worker loads the backend.
        plan: The shard's plan.
        run_id: Unique per call, so no two calls' tasks are ever the same task.
        index: The shard's number within the call, so no two of its tasks are the same.
        continue_on_error: As for ``Backend.execute_plan``.
        options: The engine options, as for ``Backend.execute_plan``.
    """

    spec: BackendSpec
    plan: CompactionPlan
    run_id: str
    index: int
    continue_on_error: bool
    options: tuple[tuple[str, Any], ...]


def run_shard(task: ShardTask) -> CompactionReport:
    """Execute one shard in this process: the function each task runs.

    Raises:
        CompactionFailedError: a partition failed and ``continue_on_error`` is false.
        ShardError: anything else went wrong (the worker's error, as text).
    """
    try:
        backend = task.spec.load()
        return backend.execute_plan(
            task.plan, continue_on_error=task.continue_on_error, **dict(task.options)
        )
    except CompactionFailedError:
        raise  # it pickles, report included
    except Exception as exc:
        raise ShardError(f"shard {task.index} failed in its worker: {error_text(exc)}") from None


def execute_sharded(
    backend: Backend,
    plan: CompactionPlan,
    *,
    executor: concurrent.futures.Executor,
    shards: int | None,
    continue_on_error: bool,
    progress: Callable[[PartitionCompactionResult], None] | None,
    options: Mapping[str, Any],
    started: float | None = None,
) -> CompactionReport:
    """Split ``plan`` into at most ``shards`` shards, run each as one task of ``executor``,
    and merge their reports into one, as ``Backend.execute_plan(..., executor=...)`` does.

    The merged report's ``version_before`` is the plan's version, ``version_after`` the
    table's version once every shard is done, ``duration_seconds`` the wall time here
    since ``started`` (``time.perf_counter()``; default: now).
    """
    started = time.perf_counter() if started is None else started
    _refuse_fork(executor)
    count = _shard_count(executor, shards)
    run_id = uuid.uuid4().hex
    tasks = [
        ShardTask(
            spec=backend.spec,
            plan=piece,
            run_id=run_id,
            index=index,
            continue_on_error=continue_on_error,
            options=tuple(sorted(options.items())),
        )
        for index, piece in enumerate(plan.split(count))
    ]
    merged = _Merge(progress)
    futures = {executor.submit(run_shard, task): task for task in tasks}
    try:
        for future in concurrent.futures.as_completed(futures):
            task = futures[future]
            try:
                report = future.result()
            except CompactionFailedError as exc:
                report = exc.report
            except BaseException as exc:  # the task raised, or its worker died
                merged.lost.append((task, exc))
                continue
            merged.add(report)
    finally:
        for future in futures:
            future.cancel()  # only if the caller was interrupted: the rest are done
    version_after = merged.settle_lost(backend, plan)
    report = CompactionReport.from_results(
        merged.results,
        table_name=plan.table_name,
        partition_keys=plan.partition_keys,
        partition_kinds=plan.partition_kinds,
        dry_run=False,
        target_file_size_bytes=plan.target_file_size_bytes,
        min_small_files=plan.min_small_files,
        started=started,
        engine_skipped=merged.engine_skipped,
        version_before=plan.version,
        version_after=version_after,
        sort_by=plan.sort_by,
    )
    if not continue_on_error and report.failed_partitions:
        raise report.failure()
    return report


class _Merge:
    """The shards' results as they arrive, and the shards lost."""

    def __init__(self, progress: Callable[[PartitionCompactionResult], None] | None) -> None:
        self.progress = progress
        self.results: list[PartitionCompactionResult] = []
        self.engine_skipped: list[PartitionKey] = []
        self.versions: list[int] = []
        self.lost: list[tuple[ShardTask, BaseException]] = []

    def record(self, result: PartitionCompactionResult) -> None:
        self.results.append(result)
        if self.progress is not None:
            self.progress(result)

    def add(self, report: CompactionReport) -> None:
        # A report does not say which of its nothing_to_compact partitions the engine ran
        # on, only how many; any that many keep the merged counters exact.
        noops = report.attempted_partitions - report.succeeded_partitions
        noops -= report.failed_partitions
        nothing = [
            result.partition
            for result in report.partitions
            if result.skipped_reason == SKIP_NOTHING_TO_COMPACT
        ]
        self.engine_skipped.extend(nothing[:noops])
        if report.version_after is not None:
            self.versions.append(report.version_after)
        for result in report.partitions:
            self.record(result)

    def settle_lost(self, backend: Backend, plan: CompactionPlan) -> int | None:
        """Report the lost shards' partitions; return the table's version now."""
        if not self.lost:
            return max(self.versions, default=plan.version)
        keys = [planned.partition for task, _ in self.lost for planned in task.plan.partitions]
        now: dict[PartitionKey, PartitionStats] = {}
        version = None
        with contextlib.suppress(Exception):  # unmeasured after-values stay None
            inspection = backend.inspect_partitions(plan.table_name, partitions=keys or None)
            now = {stats.partition: stats for stats in inspection.partitions}
            version = inspection.version
        for task, exc in self.lost:
            reason = f"shard {task.index} was lost ({error_text(exc)})"
            for planned in task.plan.partitions:
                result = PartitionCompactionResult.from_stats(planned.stats, "failed", error=reason)
                if planned.partition in now:
                    result = result.measured(now[planned.partition])
                self.record(result)
            for skipped in task.plan.skipped:
                self.record(skipped)
        return version


def _refuse_fork(executor: concurrent.futures.Executor) -> None:
    context = getattr(executor, "_mp_context", None)
    if isinstance(executor, concurrent.futures.ProcessPoolExecutor) and (
        context is None or context.get_start_method() == "fork"
    ):
        raise InvalidOptionError(
            "a ProcessPoolExecutor that forks its workers cannot run compactions: the "
            "storage engine's runtime does not survive fork once this process has used it; "
            "create it with mp_context=multiprocessing.get_context('spawn') (or "
            "'forkserver')"
        )


def _shard_count(executor: concurrent.futures.Executor, shards: int | None) -> int:
    if shards is None:
        workers = getattr(executor, "_max_workers", None)
        return workers if isinstance(workers, int) and workers > 0 else os.cpu_count() or 1
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise InvalidOptionError(f"shards must be a positive integer, got {shards!r}")
    return shards


def spawn_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """A process pool of ``workers`` processes started with ``spawn``, the start method
    compactions need."""
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn")
    )
