"""The typed facade callers use: ``load_backend`` and :class:`Backend`.

The facade validates every option before the hook is called, so no backend can touch
storage with an out-of-range option; it refuses an option set to a non-default value that
the backend's hook does not take (pluggy would silently drop it); and it returns the
backend's typed reports instead of pluggy's untyped results.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from pointline_storage import hookspecs, trace
from pointline_storage.compression import parse_compression
from pointline_storage.errors import (
    BackendLoadError,
    InvalidOptionError,
    PointlineStorageError,
    UnsupportedOperationError,
    UnsupportedOptionError,
)
from pointline_storage.leases import TableLeases
from pointline_storage.models import (
    CompactionReport,
    PartitionCompactionResult,
    TableInspection,
    VacuumReport,
)
from pointline_storage.partitions import PartitionKey, PartitionSpec, partition_specs
from pointline_storage.plans import CompactionPlan
from pointline_storage.registry import find_entry_point, load_factory
from pointline_storage.spec import BackendSpec

if TYPE_CHECKING:
    import pyarrow as pa

REQUIRED_HOOKS = ("compact_partitions", "inspect_partitions", "vacuum_table")
DEFAULT_RETENTION_HOURS = 168
DEFAULT_MIN_SMALL_FILES = 8
#: Partitions one compaction commit may hold (see ``Backend.compact_partitions``).
DEFAULT_PARTITIONS_PER_COMMIT = 100
#: Far beyond any machine's cores; larger values are typing mistakes.
MAX_CONCURRENT_TASKS = 4096
#: Engines count bytes in signed 64-bit integers.
MAX_INT64 = 2**63 - 1
#: A century; engines overflow on durations far beyond any real retention.
MAX_RETENTION_HOURS = 100 * 366 * 24

_Report = TypeVar(
    "_Report", CompactionReport, CompactionPlan, TableInspection, VacuumReport, TableLeases
)


class Backend:
    """A loaded backend: every call goes through its pluggy hooks.

    Satisfies :class:`~pointline_storage.contracts.PartitionOptimizer` and
    :class:`~pointline_storage.contracts.TableVacuum`. Create it with :func:`load_backend`.

    A backend does not pickle (it holds live connections and credentials): ship
    :attr:`spec` to another process and call ``spec.load()`` there.

    Attributes:
        name: The backend's entry-point name.
        plugin_manager: The pluggy manager; register observers (hookwrappers) on it.
    """

    def __init__(
        self,
        name: str,
        plugin_manager: pluggy.PluginManager,
        *,
        spec: BackendSpec | None = None,
    ) -> None:
        self.name = name
        self.plugin_manager = plugin_manager
        self._spec = spec

    def __repr__(self) -> str:
        return f"Backend(name={self.name!r})"

    def __reduce_ex__(self, protocol: object) -> Any:
        # pickle and cloudpickle would otherwise ship the plugin, credentials included.
        raise TypeError(
            f"a Backend ({self.name!r}) cannot be pickled: send backend.spec to the other "
            "process and call .load() there"
        )

    @property
    def spec(self) -> BackendSpec:
        """The picklable arguments this backend was loaded with; ``.load()`` loads it again.

        Raises:
            UnsupportedOperationError: the backend was not made by ``load_backend``.
        """
        if self._spec is None:
            raise UnsupportedOperationError(
                f"backend {self.name!r} was not loaded with load_backend, so it has no spec"
            )
        return self._spec

    def compact_partitions(
        self,
        table_name: str,
        *,
        partitions: Iterable[PartitionSpec | PartitionKey],
        target_file_size_bytes: int | None = None,
        min_small_files: int = DEFAULT_MIN_SMALL_FILES,
        dry_run: bool = False,
        continue_on_error: bool = True,
        progress: Callable[[PartitionCompactionResult], None] | None = None,
        partitions_per_commit: int = DEFAULT_PARTITIONS_PER_COMMIT,
        max_concurrent_tasks: int | None = None,
        max_spill_size: int | None = None,
        compression: str | None = None,
        lease_seconds: float | None = None,
        executor: concurrent.futures.Executor | None = None,
        shards: int | None = None,
        sort_by: Iterable[str] | None = None,
    ) -> CompactionReport:
        """Rewrite the small files of the named partitions into fewer, larger files.

        Rows are never changed; only the named partitions are touched. Everything is
        validated before anything is written.

        Args:
            table_name: The table, relative to the backend root (or a ``table_paths`` key).
            partitions: One mapping per partition, naming every partition column exactly
                (``[{}]`` for an unpartitioned table), or a canonical ``PartitionKey`` as
                reports hold them. Duplicates are merged.
            target_file_size_bytes: Files are merged towards this size; a file is "small"
                if it is smaller and fits with another file within it
                (:func:`~pointline_storage.count_small_files`). ``None``: the table's own
                setting, else the engine default.
            min_small_files: Skip a partition with fewer small files than this.
            dry_run: Validate and plan only; write nothing and report what would happen.
            continue_on_error: Record a failing partition and go on; with ``False`` raise
                :class:`~pointline_storage.errors.CompactionFailedError` at the first
                failure (partitions compacted before it stay committed).
            progress: Called once per partition with its result, as it becomes known (for a
                partition committed together with others, once that commit is made). An
                exception it raises stops the call (work already committed stays).
            partitions_per_commit: At most this many partitions are committed together.
                One commit for many partitions is much faster on large tables (each commit
                costs a log write and a snapshot update); ``1`` commits each partition
                alone. A commit of several partitions that fails, e.g. on a conflict with
                another writer's delete in one of them, is redone one partition per
                commit, so only the partitions that fail again are reported failed.
            max_concurrent_tasks: Files the engine rewrites in parallel. ``None``: the
                engine's default (the number of CPUs).
            max_spill_size: Bytes the engine may hold in memory before spilling to disk.
                ``None``: the engine's default (unbounded).
            compression: Parquet codec of the rewritten files, optionally with a level:
                ``"zstd(4)"``, ``"snappy"``, ``"gzip(6)"``, ``"lz4_raw"``, ... ``None``:
                the engine's default (for deltalake 1.x compaction, zstd level 4).
            lease_seconds: Lifetime of the partition leases of backends that lease
                partitions: how long a run killed on another host (or whose death this
                host cannot prove) blocks its partitions. Leases are renewed every quarter
                of it while the run lasts. ``None``: the backend's default (for Delta,
                ``POINTLINE_STORAGE_LEASE_SECONDS`` if set, else 600).
            executor: Spread the work over this ``concurrent.futures.Executor`` (a dask
                ``Client.get_executor()``, a spawn ``ProcessPoolExecutor``, ...): plan here
                (:meth:`plan_compaction`), then :meth:`execute_plan` with ``executor``
                and ``shards``. A dry run only plans, so it runs here.
            shards: With ``executor``: see :meth:`execute_plan`.
            sort_by: Columns to lay each compacted partition out by: its files end up
                sorted by them and cover disjoint ranges of the first, so a read of a key
                range skips most files and row groups from their statistics alone. A
                partition with fewer than ``min_small_files`` files out of that order is
                skipped as ``already_sorted`` (a rerun rewrites nothing); any other is
                rewritten whole. Several columns: lexicographic order, nulls first.
                ``None``: plain compaction. Backends that cannot sort refuse it.

        Returns:
            A per-partition report, sorted by partition.

        Raises:
            InvalidPartitionError: a partition does not match the table's columns or types.
            InvalidOptionError: an option is out of range, or ``sort_by`` names columns
                the table cannot be sorted by.
            UnsupportedOptionError: an option is set that this backend's hook does not
                take (e.g. ``compression`` or ``sort_by`` on a backend without them).
            TableNotFoundError: the table does not exist.
            CompactionFailedError: a partition failed and ``continue_on_error`` is false.
            CompactionInterruptedError: SIGINT or SIGTERM stopped the call after the engine
                call in flight (a backend that supports it; its ``report`` lists what was
                committed and what was not attempted).
        """
        specs = partition_specs(partitions)
        if target_file_size_bytes is not None:
            _require_int(
                "target_file_size_bytes", target_file_size_bytes, minimum=1, maximum=MAX_INT64
            )
        _require_int("min_small_files", min_small_files, minimum=0)
        _require_bool("dry_run", dry_run)
        _require_bool("continue_on_error", continue_on_error)
        compression = _checked_engine_options(
            partitions_per_commit, max_concurrent_tasks, max_spill_size, compression
        )
        if lease_seconds is not None:
            _require_seconds("lease_seconds", lease_seconds)
        _check_executor(executor, shards)
        keys = _sort_keys(sort_by)
        if executor is not None and not dry_run:
            started = time.perf_counter()
            plan = self.plan_compaction(
                table_name,
                partitions=specs,
                target_file_size_bytes=target_file_size_bytes,
                min_small_files=min_small_files,
                sort_by=keys,
            )
            return self._execute_sharded(
                plan,
                executor=executor,
                shards=shards,
                continue_on_error=continue_on_error,
                progress=progress,
                started=started,
                options={
                    "partitions_per_commit": partitions_per_commit,
                    "max_concurrent_tasks": max_concurrent_tasks,
                    "max_spill_size": max_spill_size,
                    "compression": compression,
                    "lease_seconds": lease_seconds,
                },
            )
        return self._call(
            "compact_partitions",
            CompactionReport,
            table_name=table_name,
            partitions=specs,
            target_file_size_bytes=target_file_size_bytes,
            min_small_files=min_small_files,
            dry_run=dry_run,
            continue_on_error=continue_on_error,
            progress=progress,
            partitions_per_commit=partitions_per_commit,
            max_concurrent_tasks=max_concurrent_tasks,
            max_spill_size=max_spill_size,
            compression=compression,
            lease_seconds=lease_seconds,
            sort_by=keys,
        )

    def plan_compaction(
        self,
        table_name: str,
        *,
        partitions: Iterable[PartitionSpec | PartitionKey],
        target_file_size_bytes: int | None = None,
        min_small_files: int = DEFAULT_MIN_SMALL_FILES,
        sort_by: Iterable[str] | None = None,
    ) -> CompactionPlan:
        """Plan a compaction without doing it: what :meth:`compact_partitions` would do.

        Reads the table once; writes nothing and takes no lease. Run the plan with
        :meth:`execute_plan` here, or ship it (``plan.to_json()``, ``plan.split(n)``) to
        workers that execute it with a backend of their own (``backend.spec.load()``).

        Args:
            table_name: The table, relative to the backend root (or a ``table_paths`` key).
            partitions: As for :meth:`compact_partitions`.
            target_file_size_bytes: As for :meth:`compact_partitions`.
            min_small_files: As for :meth:`compact_partitions`.
            sort_by: As for :meth:`compact_partitions`: the plan carries it, and executing
                it lays each planned partition out by these columns.

        Raises:
            InvalidPartitionError: a partition does not match the table's columns or types.
            InvalidOptionError: an option is out of range.
            TableNotFoundError: the table does not exist.
            UnsupportedOperationError: the backend cannot plan (an optional hook).
        """
        specs = partition_specs(partitions)
        keys = _sort_keys(sort_by)
        if target_file_size_bytes is not None:
            _require_int(
                "target_file_size_bytes", target_file_size_bytes, minimum=1, maximum=MAX_INT64
            )
        _require_int("min_small_files", min_small_files, minimum=0)
        self._require_hook("plan_compaction", "plan compactions")
        return self._call(
            "plan_compaction",
            CompactionPlan,
            table_name=table_name,
            partitions=specs,
            target_file_size_bytes=target_file_size_bytes,
            min_small_files=min_small_files,
            sort_by=keys,
        )

    def execute_plan(
        self,
        plan: CompactionPlan,
        *,
        continue_on_error: bool = True,
        progress: Callable[[PartitionCompactionResult], None] | None = None,
        partitions_per_commit: int = DEFAULT_PARTITIONS_PER_COMMIT,
        max_concurrent_tasks: int | None = None,
        max_spill_size: int | None = None,
        compression: str | None = None,
        lease_seconds: float | None = None,
        executor: concurrent.futures.Executor | None = None,
        shards: int | None = None,
    ) -> CompactionReport:
        """Compact the partitions a plan names, with the plan's target size and threshold.

        Everything else is as in :meth:`compact_partitions`: the same leases, batching
        and report. The latest version is read once the leases are held; a planned
        partition whose planned files are no longer all live (another run compacted or
        deleted some since) is skipped as ``SKIP_CHANGED_SINCE_PLAN``, never rewritten
        blindly; files appended since the plan are compacted with the rest. The plan's
        skipped partitions are reported as the plan has them. The report's
        ``version_before`` is the version executed from (the plan's ``version`` or later).

        Args:
            plan: From :meth:`plan_compaction` (here or in another process), or a shard of
                one (``plan.split(n)``).
            continue_on_error: As for :meth:`compact_partitions`.
            progress: As for :meth:`compact_partitions`.
            partitions_per_commit: As for :meth:`compact_partitions`.
            max_concurrent_tasks: As for :meth:`compact_partitions`.
            max_spill_size: As for :meth:`compact_partitions`.
            compression: As for :meth:`compact_partitions`.
            lease_seconds: As for :meth:`compact_partitions`; with ``executor``, the
                lifetime of each worker's leases (a worker lost on another host blocks its
                partitions that long).
            executor: Run the plan as ``shards`` tasks of this executor instead of here:
                ``plan.split(shards)``, one shard per task, each loading this backend from
                :attr:`spec` in its worker. The reports merge into one that reads like a
                single call's: results sorted, counters derived, ``version_before`` the
                plan's version, ``version_after`` the table's version once every shard is
                done, ``duration_seconds`` the wall time of this call. ``progress`` is
                called here as each shard's results arrive. A shard whose task raised or
                whose worker died costs only its partitions: they are reported
                ``failed`` with the reason, before-values from the plan and after-values
                measured from the table. With ``continue_on_error=False`` each shard stops
                at its first failure, and this call raises once all shards are done. If
                ``progress`` raises, this call stops waiting and cancels the shards not
                yet started; shards already running finish in their workers. A process
                pool must not fork (use a ``spawn`` context).
            shards: How many tasks at most (default: the executor's ``max_workers`` if it
                has one, else this machine's CPU count; give it for a cluster).
                Partitions that share a commit stay in one shard where the balance of
                bytes allows.

        Raises:
            InvalidPlanError: the plan's partition columns are not the table's.
            InvalidOptionError: an option is out of range.
            UnsupportedOptionError: an engine option is set that this backend lacks.
            TableNotFoundError: the table does not exist.
            CompactionFailedError: a partition failed and ``continue_on_error`` is false.
            UnsupportedOperationError: the backend cannot execute plans (an optional hook).
        """
        if not isinstance(plan, CompactionPlan):
            raise InvalidOptionError(
                f"plan must be a CompactionPlan (from plan_compaction or "
                f"CompactionPlan.from_json), got {type(plan).__name__}"
            )
        _require_bool("continue_on_error", continue_on_error)
        compression = _checked_engine_options(
            partitions_per_commit, max_concurrent_tasks, max_spill_size, compression
        )
        if lease_seconds is not None:
            _require_seconds("lease_seconds", lease_seconds)
        _check_executor(executor, shards)
        options = {
            "partitions_per_commit": partitions_per_commit,
            "max_concurrent_tasks": max_concurrent_tasks,
            "max_spill_size": max_spill_size,
            "compression": compression,
            "lease_seconds": lease_seconds,
        }
        if executor is not None:
            return self._execute_sharded(
                plan,
                executor=executor,
                shards=shards,
                continue_on_error=continue_on_error,
                progress=progress,
                started=time.perf_counter(),
                options=options,
            )
        self._require_hook("execute_plan", "execute compaction plans")
        return self._call(
            "execute_plan",
            CompactionReport,
            plan=plan,
            continue_on_error=continue_on_error,
            progress=progress,
            **options,
        )

    def _execute_sharded(
        self,
        plan: CompactionPlan,
        *,
        executor: concurrent.futures.Executor,
        shards: int | None,
        continue_on_error: bool,
        progress: Callable[[PartitionCompactionResult], None] | None,
        started: float,
        options: dict[str, Any],
    ) -> CompactionReport:
        from pointline_storage import scaleout

        # Refuse here what every worker would refuse, before any task starts.
        self._require_hook("execute_plan", "execute compaction plans")
        implementations = self.plugin_manager.hook.execute_plan.get_hookimpls()
        self._refuse_unsupported("execute_plan", implementations, options)
        return scaleout.execute_sharded(
            self,
            plan,
            executor=executor,
            shards=shards,
            continue_on_error=continue_on_error,
            progress=progress,
            options=options,
            started=started,
        )

    def inspect_partitions(
        self,
        table_name: str,
        partitions: Iterable[PartitionSpec | PartitionKey] | None = None,
        *,
        sort_by: Iterable[str] | None = None,
    ) -> TableInspection:
        """Return file count, small-file count, bytes and rows per partition; write nothing.

        Args:
            table_name: The table, relative to the backend root (or a ``table_paths`` key).
            partitions: The partitions to report (mappings or canonical keys, as for
                :meth:`compact_partitions`); ``None`` for every partition.
            sort_by: Also report each partition's ``unsorted_files``: how many of its files
                stand out of the first column's order (``0``: laid out by it), so a caller
                can choose what to re-sort.

        Raises:
            InvalidPartitionError: a partition does not match the table's columns or types.
            InvalidOptionError: ``sort_by`` names columns the table cannot be sorted by.
            TableNotFoundError: the table does not exist.
        """
        specs = None if partitions is None else partition_specs(partitions)
        return self._call(
            "inspect_partitions",
            TableInspection,
            table_name=table_name,
            partitions=specs,
            sort_by=_sort_keys(sort_by),
        )

    def vacuum_table(
        self,
        table_name: str,
        *,
        retention_hours: int = DEFAULT_RETENTION_HOURS,
        dry_run: bool = True,
        enforce_retention_duration: bool = True,
        full: bool = False,
    ) -> VacuumReport:
        """Delete files that no table version within the retention needs.

        The defaults are the safe ones: a dry run that only lists, a week of retention,
        and the table's minimum retention enforced. The latest table state is read first.

        Args:
            table_name: The table, relative to the backend root (or a ``table_paths`` key).
            retention_hours: Keep files removed from the table less than this long ago.
            dry_run: Only list the files that would be deleted.
            enforce_retention_duration: Refuse a retention shorter than the table's minimum.
            full: Also delete files the table's log never referenced (e.g. orphans of
                interrupted writes) once they are older than the retention; only the
                table's own (its data files and deletion vectors), never a nested table
                or other files, which the report lists in ``kept``.

        Raises:
            RetentionTooShortError: the retention is below the table's minimum while
                enforcement is on.
            InvalidOptionError: ``retention_hours`` is negative.
            TableNotFoundError: the table does not exist.
        """
        _require_int("retention_hours", retention_hours, minimum=0, maximum=MAX_RETENTION_HOURS)
        _require_bool("dry_run", dry_run)
        _require_bool("enforce_retention_duration", enforce_retention_duration)
        _require_bool("full", full)
        return self._call(
            "vacuum_table",
            VacuumReport,
            table_name=table_name,
            retention_hours=retention_hours,
            dry_run=dry_run,
            enforce_retention_duration=enforce_retention_duration,
            full=full,
        )

    def write_sample_table(
        self,
        table_name: str,
        *,
        rows: pa.Table,
        partition_by: Iterable[str] = (),
        rows_per_file: int = 1,
    ) -> None:
        """Create a table of many small files from ``rows``, for demos and tests.

        Raises:
            InvalidOptionError: no rows, or ``partition_by`` names a column ``rows`` lacks.
            UnsupportedOperationError: the backend does not implement this optional hook.
        """
        _require_int("rows_per_file", rows_per_file, minimum=1)
        if isinstance(partition_by, (str, bytes)):
            raise InvalidOptionError(
                f"partition_by must be a list of column names, got {partition_by!r}"
            )
        partition_by = tuple(partition_by)
        missing = [column for column in partition_by if column not in rows.column_names]
        if missing or not rows.num_rows:
            raise InvalidOptionError(
                f"cannot write sample table {table_name!r}: "
                + (f"partition_by names columns not in rows: {missing}" if missing else "no rows")
            )
        self._require_hook("write_sample_table", "write sample tables")
        self.plugin_manager.hook.write_sample_table(
            table_name=table_name,
            rows=rows,
            partition_by=partition_by,
            rows_per_file=rows_per_file,
        )

    def _require_hook(self, hook_name: str, what: str) -> None:
        implementations = getattr(self.plugin_manager.hook, hook_name).get_hookimpls()
        # Observers' wrappers do no work: only a plain implementation counts.
        if not [impl for impl in implementations if not (impl.wrapper or impl.hookwrapper)]:
            raise UnsupportedOperationError(
                f"backend {self.name!r} cannot {what} (it does not implement the optional "
                f"hook {hook_name})"
            )

    def list_leases(self, table_name: str, *, release_stale: bool = False) -> TableLeases:
        """List the partition leases of a table: who holds which partition, until when.

        Args:
            table_name: The table, relative to the backend root (or a ``table_paths`` key).
            release_stale: Delete the leases that expired or whose holder is provably dead
                (it ran on this host and is gone), and nothing else.

        Raises:
            TableNotFoundError: the table does not exist.
            UnsupportedOperationError: the backend does not lease partitions.
        """
        _require_bool("release_stale", release_stale)
        implementations = self.plugin_manager.hook.list_leases.get_hookimpls()
        if not [impl for impl in implementations if not (impl.wrapper or impl.hookwrapper)]:
            raise UnsupportedOperationError(f"backend {self.name!r} does not lease partitions")
        return self._call(
            "list_leases", TableLeases, table_name=table_name, release_stale=release_stale
        )

    def _call(self, hook_name: str, expected: type[_Report], **kwargs: Any) -> _Report:
        hook = getattr(self.plugin_manager.hook, hook_name)
        self._refuse_unsupported(hook_name, hook.get_hookimpls(), kwargs)
        result = hook(**kwargs)
        if not isinstance(result, expected):
            raise PointlineStorageError(
                f"backend {self.name!r} returned {type(result).__name__} from {hook_name}, "
                f"expected {expected.__name__}"
            )
        return result

    def _refuse_unsupported(
        self, hook_name: str, implementations: list[pluggy.HookImpl], kwargs: dict[str, Any]
    ) -> None:
        # pluggy passes an implementation only the arguments it names: an option it lacks
        # would be dropped without a word (compression="zstd(9)" giving snappy files).
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(getattr(Backend, hook_name)).parameters.items()
        }
        for implementation in implementations:
            if implementation.wrapper or implementation.hookwrapper:
                continue  # observers see every argument they name; they change nothing
            for option, value in kwargs.items():
                default = defaults.get(option, inspect.Parameter.empty)
                if option in implementation.argnames or (
                    default is not inspect.Parameter.empty and value == default
                ):
                    continue
                raise UnsupportedOptionError(
                    f"backend {self.name!r} does not support the option {option} of "
                    f"{hook_name} (its hook does not take it), so {option}={value!r} cannot "
                    f"be honoured; leave {option} unset with this backend"
                )


def load_backend(
    name: str,
    *,
    root: str | os.PathLike[str],
    table_paths: Mapping[str, str | os.PathLike[str]] | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> Backend:
    """Load the installed backend called ``name`` and bind it to a root location.

    Args:
        name: The backend's entry-point name, e.g. ``"delta-local"``.
        root: Where tables live: a path or URI (``file://``, ``s3://``, ...).
        table_paths: Explicit locations for some table names, used as given.
        storage_options: Backend-specific connection options (credentials, endpoint).

    Raises:
        BackendNotFoundError: no backend of that name is installed (lists those that are).
        BackendLoadError: the backend could not be imported or constructed, or does not
            implement the required hooks.
    """
    root_str = os.fspath(root)
    if not root_str:
        raise InvalidOptionError("root must be a non-empty path or URI")
    entry_point = find_entry_point(name)
    factory = load_factory(entry_point)
    paths = {str(key): os.fspath(value) for key, value in (table_paths or {}).items()}
    try:
        plugin = factory(
            root=root_str, table_paths=paths, storage_options=dict(storage_options or {})
        )
    except PointlineStorageError:
        raise
    except Exception as exc:
        raise BackendLoadError(
            f"backend {name!r} ({entry_point.value}) failed to initialise: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    try:
        manager.register(plugin, name=name)
        # A hookimpl naming no hook (a misspelt optional hook) would otherwise be ignored.
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise BackendLoadError(f"backend {name!r} implements a hook wrongly: {exc}") from exc
    missing = [hook for hook in REQUIRED_HOOKS if not getattr(manager.hook, hook).get_hookimpls()]
    if missing:
        raise BackendLoadError(f"backend {name!r} does not implement required hooks {missing}")
    trace.register_if_enabled(manager, name)
    spec = BackendSpec.of(
        name, root=root_str, table_paths=paths, storage_options=dict(storage_options or {})
    )
    return Backend(name, manager, spec=spec)


def _require_int(option: str, value: object, *, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidOptionError(f"{option} must be an integer, got {value!r}")
    if value < minimum:
        raise InvalidOptionError(f"{option} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InvalidOptionError(f"{option} must be <= {maximum}, got {value}")


def _checked_engine_options(
    partitions_per_commit: object,
    max_concurrent_tasks: object,
    max_spill_size: object,
    compression: str | None,
) -> str | None:
    """Check the engine options; return ``compression`` in its canonical spelling."""
    _require_int("partitions_per_commit", partitions_per_commit, minimum=1)
    if max_concurrent_tasks is not None:
        _require_int(
            "max_concurrent_tasks", max_concurrent_tasks, minimum=1, maximum=MAX_CONCURRENT_TASKS
        )
    if max_spill_size is not None:
        _require_int("max_spill_size", max_spill_size, minimum=1, maximum=MAX_INT64)
    return None if compression is None else _canonical_compression(compression)


def _check_executor(executor: object, shards: object) -> None:
    if executor is not None and not isinstance(executor, concurrent.futures.Executor):
        raise InvalidOptionError(
            f"executor must be a concurrent.futures.Executor (for dask: "
            f"client.get_executor()), got {type(executor).__name__}"
        )
    if shards is not None:
        if executor is None:
            raise InvalidOptionError("shards needs an executor to run the shards on")
        _require_int("shards", shards, minimum=1)


def _require_seconds(option: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidOptionError(f"{option} must be a number of seconds, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise InvalidOptionError(f"{option} must be positive and finite, got {value!r}")


def _sort_keys(sort_by: Iterable[str] | None) -> tuple[str, ...] | None:
    if sort_by is None:
        return None
    if isinstance(sort_by, (str, bytes)):
        # A string is an iterable of one-letter names: almost surely a forgotten tuple.
        raise InvalidOptionError(f"sort_by must be a list of column names, got {sort_by!r}")
    keys = tuple(sort_by)
    if not keys or not all(isinstance(key, str) and key for key in keys):
        raise InvalidOptionError(
            f"sort_by must name at least one column, each a non-empty string, got {keys!r}"
        )
    if len(set(keys)) != len(keys):
        raise InvalidOptionError(f"sort_by names a column twice: {keys!r}")
    return keys


def _canonical_compression(value: str) -> str:
    codec, level = parse_compression(value)
    return codec if level is None else f"{codec}({level})"


def _require_bool(option: str, value: object) -> None:
    # Truthiness would turn a missing setting (None) into dry_run=False: a real deletion.
    if not isinstance(value, bool):
        raise InvalidOptionError(f"{option} must be True or False, got {value!r}")
