# mypy: disable-error-code="empty-body"
"""The pluggy contract every storage backend implements.

A backend is an object whose methods carry :data:`hookimpl` markers for these hooks. Hooks
are called with keyword arguments only, after the core has validated every option, so an
implementation may rely on the ranges documented here. Implementations must not give their
parameters default values: pluggy never passes the caller's value to such a parameter.

Every hook is ``firstresult``: the backend's answer is the answer. Other plugins registered
on the same manager can observe a call with a hookwrapper (``@hookimpl(wrapper=True)``),
which is the supported way to add logging or metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import pyarrow as pa

    from pointline_storage.leases import TableLeases
    from pointline_storage.models import (
        CompactionReport,
        PartitionCompactionResult,
        TableInspection,
        VacuumReport,
    )
    from pointline_storage.partitions import PartitionSpec
    from pointline_storage.plans import CompactionPlan

PROJECT_NAME = "pointline_storage"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a backend method as the implementation of a hook of the same name.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec(firstresult=True)
def compact_partitions(
    table_name: str,
    partitions: tuple[PartitionSpec, ...],
    target_file_size_bytes: int | None,
    min_small_files: int,
    dry_run: bool,
    continue_on_error: bool,
    progress: Callable[[PartitionCompactionResult], None] | None,
    partitions_per_commit: int,
    max_concurrent_tasks: int | None,
    max_spill_size: int | None,
    compression: str | None,
    lease_seconds: float | None,
    sort_by: tuple[str, ...] | None,
) -> CompactionReport:
    """Rewrite the small files of the named partitions into fewer, larger files.

    ``partitions`` is non-empty; ``target_file_size_bytes`` is ``None`` (the table's own
    setting, else the engine default) or positive; ``min_small_files`` is non-negative.
    Validate every partition against the table before writing anything. ``progress``, when
    given, is called once per named partition as its result becomes known. Build each
    result with ``PartitionCompactionResult.from_stats`` and the report with
    ``CompactionReport.from_results`` (it derives the counters); with
    ``continue_on_error=False`` raise ``report.failure()`` from the first failure.

    Engine options (an implementation may leave out those its engine lacks; the facade
    then refuses a caller's non-default value for them instead of dropping it):
    ``partitions_per_commit`` (>= 1) caps how many partitions one commit may hold; if a
    commit of several fails, compact each of its partitions in its own commit instead.
    ``max_concurrent_tasks`` (>= 1) and ``max_spill_size`` (bytes, >= 1) bound the
    engine's parallelism and memory; ``compression`` is a checked codec spelling such as
    ``"zstd(4)"`` (see ``pointline_storage.compression``). ``None`` means the engine's
    default.

    A backend that leases partitions takes ``lease_seconds`` (positive, or ``None`` for its
    default), and may stop at a safe point on SIGINT/SIGTERM with
    ``pointline_storage.stop_on_signals``, raising ``request.error(report)``.
    ``sort_by`` (optional: a backend whose implementation leaves it out never gets it; the
    facade refuses it there): ``None``, or distinct non-empty column names. Rewrite each
    compacted partition so its files are sorted by these columns (lexicographically) and
    cover disjoint ranges of the first; refuse, before writing, columns the table cannot
    be sorted by. Skip a partition with fewer than ``min_small_files`` files out of that
    order as ``SKIP_ALREADY_SORTED``, so that a rerun rewrites nothing; report each
    partition's ``unsorted_files``.
    """


@hookspec(firstresult=True)
def plan_compaction(
    table_name: str,
    partitions: tuple[PartitionSpec, ...],
    target_file_size_bytes: int | None,
    min_small_files: int,
    sort_by: tuple[str, ...] | None,
) -> CompactionPlan:
    """Optional: plan what ``compact_partitions`` would do, from one read of the table; write
    nothing and take no lease.

    Arguments are validated as for ``compact_partitions``; a plan made with ``sort_by``
    carries it, and ``execute_plan`` lays its partitions out by it. Return a ``CompactionPlan``
    naming the version read, each partition worth compacting with its statistics and
    the live files it was planned on, and the others as skipped results. Without this
    hook (or ``execute_plan``), ``Backend.plan_compaction`` raises
    ``UnsupportedOperationError``.
    """


@hookspec(firstresult=True)
def execute_plan(
    plan: CompactionPlan,
    continue_on_error: bool,
    progress: Callable[[PartitionCompactionResult], None] | None,
    partitions_per_commit: int,
    max_concurrent_tasks: int | None,
    max_spill_size: int | None,
    compression: str | None,
    lease_seconds: float | None,
) -> CompactionReport:
    """Optional: compact the partitions ``plan`` names, as ``compact_partitions`` would.

    The same leases, batching and report as ``compact_partitions``, with the plan's target
    size and ``min_small_files``. Once the leases are held, read the latest version: a
    planned partition any of whose planned files is no longer live is skipped as
    ``SKIP_CHANGED_SINCE_PLAN`` (files appended since the plan do not matter). The plan's
    skipped results are reported as they are. The plan may come from another process or
    machine (``CompactionPlan.from_json``); refuse one whose partition columns are not the
    table's with ``InvalidPlanError``. Engine options and ``lease_seconds`` are those of
    ``compact_partitions``.
    """


@hookspec(firstresult=True)
def inspect_partitions(
    table_name: str,
    partitions: tuple[PartitionSpec, ...] | None,
    sort_by: tuple[str, ...] | None,
) -> TableInspection:
    """Return per-partition file statistics, reading the table state once; write nothing.

    ``sort_by`` (optional, as for ``compact_partitions``): also fill each partition's
    ``unsorted_files`` for the first of these columns.
    """


@hookspec(firstresult=True)
def vacuum_table(
    table_name: str,
    retention_hours: int,
    dry_run: bool,
    enforce_retention_duration: bool,
    full: bool,
) -> VacuumReport:
    """Delete (or, in a dry run, list) files no table version within retention needs.

    Read the latest table state before deciding what to delete. A dry run lists exactly
    what the real run deletes. With ``full``, delete only files a writer of this table
    could have left, never those of a table nested in it or other tools' files: report
    those in ``VacuumReport.kept``.
    """


@hookspec(firstresult=True)
def write_sample_table(
    table_name: str,
    rows: pa.Table,
    partition_by: tuple[str, ...],
    rows_per_file: int,
) -> None:
    """Optional: create a table from ``rows`` with one small file per ``rows_per_file`` rows.

    ``rows`` is non-empty and holds every ``partition_by`` column; ``rows_per_file`` is
    positive.

    Used by ``pointline-storage demo`` and by the conformance suite's default table
    fixture; a backend that does not implement it overrides that fixture instead.
    Returns ``None``.
    """


@hookspec(firstresult=True)
def list_leases(table_name: str, release_stale: bool) -> TableLeases:
    """Optional: the table's partition leases, for backends that lease partitions.

    With ``release_stale``, delete the leases that are ``expired`` or ``dead`` (their
    holder provably gone) and nothing else; mark those ``released`` in the result. Never
    delete a ``live`` lease: its holder may still be compacting.
    """
