"""The ``pointline-storage`` command line: inspect, compact and vacuum tables.

Exit status: 0 on success, 1 on an error, 2 on a usage error or invalid input, 3 when
``compact`` finished but some partitions failed, 130 when interrupted (143 when SIGTERM
stopped ``compact``). Errors are printed as one ``error: ...`` line on stderr.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from pointline_storage import cli_render, trace
from pointline_storage.backend import (
    DEFAULT_MIN_SMALL_FILES,
    DEFAULT_PARTITIONS_PER_COMMIT,
    DEFAULT_RETENTION_HOURS,
    Backend,
    load_backend,
)
from pointline_storage.cli_all_partitions import check_all_partitions, nothing_needs_compaction
from pointline_storage.cli_executors import executor_for, executor_options
from pointline_storage.cli_locations import TableChoiceError, choose_table
from pointline_storage.cli_partitions import (
    absent_partition_warnings,
    parse_partition,
)
from pointline_storage.cli_words import EXIT_ERROR, EXIT_USAGE, exit_status, in_cli_words
from pointline_storage.demo import DEMO_BACKEND, DEMO_TABLE, PROG_NAME, run_demo
from pointline_storage.errors import (
    CompactionFailedError,
    CompactionInterruptedError,
    PointlineStorageError,
)
from pointline_storage.models import SKIP_NO_FILES, CompactionReport, TableInspection
from pointline_storage.partitions import PartitionKey, PartitionSpec
from pointline_storage.progress import compact_with_progress
from pointline_storage.redaction import redact, redact_exception, secret_values
from pointline_storage.registry import available_backends, find_entry_point, load_factory
from pointline_storage.sizes import EXAMPLES as SIZE_EXAMPLES
from pointline_storage.sizes import parse_size

DEFAULT_BACKEND = "delta-local"

#: Exit status of ``compact`` when it finished but some partitions failed.
EXIT_PARTIAL_FAILURE = 3
EXIT_INTERRUPTED = 130
#: Set to show the traceback of an unexpected error instead of one line.
DEBUG_VARIABLE = "POINTLINE_STORAGE_DEBUG"
#: Secret storage-option values given on this command line, masked in every error line.
_given_secrets: set[str] = set()


# --- option parsing -----------------------------------------------------------------------


def _key_values(
    metavar: str, *, secret: bool = False
) -> Callable[[click.Context, click.Parameter, tuple[str, ...]], dict[str, str]]:
    """An option callback parsing repeated ``KEY=VALUE`` into a dict.

    With ``secret``, values never appear in error messages.
    """

    def parse(
        ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
    ) -> dict[str, str]:
        result: dict[str, str] = {}
        for value in values:
            key, sep, item = value.partition("=")
            key = key.strip()
            if not sep or not key:
                shown = "" if secret else f", got {value!r}"
                raise click.BadParameter(f"expected {metavar}{shown}", ctx=ctx, param=param)
            if key in result:
                raise click.BadParameter(f"{key!r} is given twice", ctx=ctx, param=param)
            result[key] = item
        if secret:
            _given_secrets.update(secret_values(result))
        return result

    return parse


def _partitions(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[dict[str, object], ...]:
    """Option callback: each ``--partition`` becomes one ``{col: value}`` mapping."""
    specs = []
    for value in values:
        try:
            specs.append(parse_partition(value))
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return tuple(specs)


class _Size(click.ParamType):  # type: ignore[type-arg]
    """A byte size with an optional unit (``64MiB``, ``1GB``, plain bytes), at least 1."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            size = parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if size < 1:
            self.fail(f"{value!r}: a size must be at least 1 byte", param, ctx)
        return size


SIZE = _Size()


def _columns(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    """An option callback parsing ``col[,col...]`` into a tuple of column names."""
    if value is None:
        return None
    columns = tuple(column.strip() for column in value.split(","))
    if not all(columns):
        raise click.BadParameter(f"expected col[,col...], got {value!r}", ctx, param)
    return columns


# Options several commands share, defined once (click makes a fresh parameter each time a
# decorator is applied).
_BACKEND_OPTION = click.option(
    "--backend",
    default=DEFAULT_BACKEND,
    show_default=True,
    help="Installed backend to use (see 'pointline-storage backends').",
)
_TABLE_PATH_OPTION = click.option(
    "--table-path",
    "table_paths",
    multiple=True,
    callback=_key_values("NAME=PATH"),
    metavar="NAME=PATH",
    help="Explicit location of a table, used as given (repeatable).",
)
_STORAGE_OPTION_OPTION = click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    callback=_key_values("KEY=VALUE", secret=True),
    metavar="KEY=VALUE",
    help="Backend storage option, e.g. credentials (repeatable; never printed).",
)
_JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
_TARGET_FILE_SIZE_OPTION = click.option(
    "--target-file-size",
    type=SIZE,
    default=None,
    metavar="SIZE",
    help=f"Files smaller than this are merged towards it ({SIZE_EXAMPLES}). Default: the "
    "table's delta.targetFileSize, else the engine's.",
)
_MIN_SMALL_FILES_OPTION = click.option(
    "--min-small-files",
    type=click.IntRange(min=0),
    default=DEFAULT_MIN_SMALL_FILES,
    show_default=True,
    metavar="N",
    help="Skip a partition with fewer small files than this (small: under the target "
    "size, and able to merge with another file within it).",
)
_STOP_ON_ERROR_OPTION = click.option(
    "--stop-on-error",
    is_flag=True,
    help="Stop at the first failing partition (exit 1); default: record it and go on.",
)
_PARTITIONS_PER_COMMIT_OPTION = click.option(
    "--partitions-per-commit",
    type=click.IntRange(min=1),
    default=DEFAULT_PARTITIONS_PER_COMMIT,
    show_default=True,
    metavar="N",
    help="Commit up to N partitions together (1: each alone). A failed commit of several "
    "is redone one partition per commit.",
)
_LEASE_SECONDS_OPTION = click.option(
    "--lease-seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Lifetime of the partition leases: how long a run killed on another host blocks "
    "its partitions. Default: POINTLINE_STORAGE_LEASE_SECONDS, else 600.",
)


def _sort_by_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--sort-by",
        "sort_by",
        default=None,
        metavar="COL[,COL...]",
        callback=_columns,
        help=help_text,
    )


def _table_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options every table command shares: the table, backend, locations and --json.

    The command is called with ``root``, ``table_name`` and ``table_paths`` resolved from
    either form of naming the table (see :mod:`pointline_storage.cli_locations`).
    """

    @functools.wraps(function)
    def with_table(
        *args: Any,
        location: str | None,
        root: str | None,
        table_name: str | None,
        table_paths: dict[str, str],
        **kwargs: Any,
    ) -> Any:
        try:
            choice = choose_table(
                location=location, root=root, table=table_name, table_paths=table_paths
            )
        except TableChoiceError as exc:
            raise click.UsageError(str(exc), ctx=click.get_current_context()) from None
        return function(
            *args,
            root=choice.root,
            table_name=choice.table_name,
            table_paths=choice.table_paths,
            **kwargs,
        )

    options = [
        click.argument("location", required=False, metavar="[LOCATION]"),
        _BACKEND_OPTION,
        click.option(
            "--root", help="Where tables live: a path or URI (with --table; or give LOCATION)."
        ),
        click.option("--table", "table_name", help="Table name, relative to --root."),
        _TABLE_PATH_OPTION,
        _STORAGE_OPTION_OPTION,
        _JSON_OPTION,
    ]
    for option in reversed(options):
        with_table = option(with_table)
    return with_table


def _partition_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--partition",
        "partitions",
        multiple=True,
        callback=_partitions,
        metavar="COL=VALUE[/COL=VALUE...]",
        help=help_text + " Written as inspect prints it, with ',' for '/', or as a JSON "
        "object for values holding ',' or '/'.",
    )


def _open(
    backend: str, root: str, table_paths: dict[str, str], storage_options: dict[str, str]
) -> Backend:
    return load_backend(
        backend, root=root, table_paths=table_paths, storage_options=storage_options
    )


def _emit(report: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else render(report))


# --- commands -----------------------------------------------------------------------------


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="pointline-storage", prog_name=PROG_NAME)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Explicit, safe maintenance of partitioned lakehouse tables: compaction and vacuum.

    Start with 'pointline-storage demo' to see every command at work on a sample table.

    Exit status: 0 ok, 1 error, 2 usage error or invalid input, 3 compact finished but some
    partitions failed, 130 interrupted (143: compact stopped by SIGTERM). Errors are one
    'error: ...' line on stderr.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def backends(as_json: bool) -> None:
    """List installed backends and whether each one loads."""
    entries = [(info, _load_problem(info.name)) for info in available_backends()]
    if as_json:
        payload = [
            {**info.to_dict(), "status": "ok" if error is None else "broken", "error": error}
            for info, error in entries
        ]
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(cli_render.render_backends(entries))


def _load_problem(name: str) -> str | None:
    """``None`` if the backend's factory imports, else why not (never raises)."""
    try:
        load_factory(find_entry_point(name))
    except Exception as exc:
        return cli_render.one_line(str(exc) or type(exc).__name__)
    return None


@cli.command()
@_table_options
@_partition_option("Partition to report (repeatable); default: every partition.")
@_sort_by_option(
    "Also count, per partition, the files out of the first column's order (UNSORTED; "
    "0: laid out by it)."
)
def inspect(
    backend: str,
    root: str,
    table_name: str,
    table_paths: dict[str, str],
    storage_options: dict[str, str],
    as_json: bool,
    partitions: tuple[PartitionSpec, ...],
    sort_by: tuple[str, ...] | None,
) -> None:
    """Show files, small files, bytes and rows per partition. Writes nothing.

    Name the table by its LOCATION (a path, or a URI such as s3://bucket/silver/t with
    --backend delta-s3), or by --root and --table.
    """
    opened = _open(backend, root, table_paths, storage_options)
    report = opened.inspect_partitions(table_name, partitions or None, sort_by=sort_by)
    _emit(report, as_json, cli_render.render_inspection)
    _warn_absent(
        opened, report, [stats.partition for stats in report.partitions if not stats.file_count]
    )


@cli.command()
@_table_options
@_partition_option(
    "Partition to compact, naming every partition column (repeatable, at least one). "
    "Use --partition '' for an unpartitioned table."
)
@_TARGET_FILE_SIZE_OPTION
@_MIN_SMALL_FILES_OPTION
@click.option(
    "--all-partitions",
    is_flag=True,
    help="Compact every partition with at least --min-small-files small files that can be "
    "merged, and report only those (not with --partition or --target-file-size).",
)
@click.option("--dry-run", is_flag=True, help="Plan and report only; write nothing.")
@_STOP_ON_ERROR_OPTION
@_PARTITIONS_PER_COMMIT_OPTION
@click.option(
    "--max-concurrent-tasks",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Files rewritten in parallel. Default: the engine's (the number of CPUs).",
)
@click.option(
    "--max-spill-size",
    type=SIZE,
    default=None,
    metavar="SIZE",
    help="Memory the engine may use before spilling to disk (a size, as above). "
    "Default: the engine's.",
)
@click.option(
    "--compression",
    default=None,
    metavar="CODEC[(LEVEL)]",
    help="Parquet codec of rewritten files: zstd(4), snappy, gzip(6), lz4_raw, brotli, "
    "uncompressed. Default: the engine's (zstd level 4 for Delta).",
)
@_LEASE_SECONDS_OPTION
@executor_options
@_sort_by_option(
    "Lay each compacted partition out by these columns (several: in lexicographic order): "
    "files sorted, each covering its own range of the first. A partition with fewer than "
    "--min-small-files files out of that order is skipped (already_sorted)."
)
@click.pass_context
def compact(
    ctx: click.Context,
    backend: str,
    root: str,
    table_name: str,
    table_paths: dict[str, str],
    storage_options: dict[str, str],
    as_json: bool,
    partitions: tuple[PartitionSpec, ...],
    target_file_size: int | None,
    min_small_files: int,
    all_partitions: bool,
    dry_run: bool,
    stop_on_error: bool,
    partitions_per_commit: int,
    max_concurrent_tasks: int | None,
    max_spill_size: int | None,
    compression: str | None,
    lease_seconds: float | None,
    workers: int | None,
    dask_scheduler: str | None,
    sort_by: tuple[str, ...] | None,
) -> None:
    """Rewrite the small files of the named partitions into fewer, larger files.

    Rows never change and only the named partitions are touched; up to
    --partitions-per-commit partitions are compacted in one commit. Name the table by its
    LOCATION, or by --root and --table. A named partition the table does not hold is
    reported no_files, and stderr names the closest ones it does.

    \b
    Exit status:
      0  every partition was compacted or skipped
      1  an error; with --stop-on-error, after printing the partial report
         (partitions compacted before the failure stay committed)
      2  a usage error or invalid input (nothing was written)
      3  some partitions failed; the others were compacted (see the report)
      130, 143  stopped by SIGINT or SIGTERM after the commit in flight, after
         printing the partial report (the rest is not attempted; rerun to finish)
    """
    if all_partitions:
        check_all_partitions(ctx, partitions=partitions, target_file_size=target_file_size)
    elif not partitions:
        raise click.UsageError(
            "name at least one partition with --partition col=value[/col=value...] "
            "(--partition '' for an unpartitioned table), or pass --all-partitions",
            ctx=ctx,
        )
    opened = _open(backend, root, table_paths, storage_options)
    if all_partitions:
        started = time.perf_counter()
        inspection = opened.inspect_partitions(table_name)
        partitions = inspection.needing_compaction(min_small_files=min_small_files)
        if not partitions:
            report = nothing_needs_compaction(inspection, min_small_files, dry_run, started=started)
            _emit(report, as_json, cli_render.render_compaction)
            click.echo(
                f"no partition of {table_name!r} has {min_small_files} or more small files "
                "that can be merged: nothing to compact",
                err=True,
            )
            return
    try:
        with executor_for(workers, dask_scheduler) as executor:
            report = compact_with_progress(
                opened,
                table_name,
                partitions,
                target_file_size_bytes=target_file_size,
                min_small_files=min_small_files,
                dry_run=dry_run,
                continue_on_error=not stop_on_error,
                partitions_per_commit=partitions_per_commit,
                max_concurrent_tasks=max_concurrent_tasks,
                max_spill_size=max_spill_size,
                compression=compression,
                lease_seconds=lease_seconds,
                executor=executor,
                sort_by=sort_by,
            )
    except CompactionFailedError as exc:
        stopped_by = None
        if isinstance(exc, CompactionInterruptedError):
            stopped_by = signal.Signals(exc.signal_number).name
        render = functools.partial(cli_render.render_compaction, stopped_by=stopped_by)
        _emit(exc.report, as_json, render)
        raise
    _emit(report, as_json, cli_render.render_compaction)
    _warn_absent(opened, report, _absent(report))
    if report.failed_partitions:
        _error_line(
            f"{report.failed_partitions} of {len(report.partitions)} partitions failed; "
            f"see the report (exit status {EXIT_PARTIAL_FAILURE})"
        )
        ctx.exit(EXIT_PARTIAL_FAILURE)


def _absent(report: CompactionReport) -> list[PartitionKey]:
    return [r.partition for r in report.partitions if r.skipped_reason == SKIP_NO_FILES]


def _warn_absent(
    opened: Backend, report: CompactionReport | TableInspection, absent: Sequence[PartitionKey]
) -> None:
    """Say on stderr which named partitions the table does not hold, and what is close.

    The report keeps them (``no_files``); the warning is for a typo that would otherwise
    compact nothing in silence.
    """
    if not absent:
        return
    every_partition = opened.inspect_partitions(report.table_name)
    for line in absent_partition_warnings(absent, every_partition):
        click.echo(f"{click.style('warning:', fg='yellow')} {line}", err=True)


@cli.command()
@_table_options
@click.option(
    "--retention-hours",
    type=click.IntRange(min=0),
    default=DEFAULT_RETENTION_HOURS,
    show_default=True,
    metavar="HOURS",
    help="Keep files removed from the table less than this long ago.",
)
@click.option(
    "--dry-run/--no-dry-run",
    default=True,
    show_default=True,
    help="Only list the files that would be deleted.",
)
@click.option(
    "--no-enforce-retention",
    is_flag=True,
    help="Allow a retention below the table's minimum (only if no reader or writer can "
    "still need those files).",
)
@click.option(
    "--full",
    is_flag=True,
    help="Also delete files the table's log never referenced, once older than the retention.",
)
@click.option(
    "--all-files",
    is_flag=True,
    help=f"List every file; default: the first {cli_render.VACUUM_FILES_SHOWN}, then totals per "
    "directory (--json always lists every file).",
)
def vacuum(
    backend: str,
    root: str,
    table_name: str,
    table_paths: dict[str, str],
    storage_options: dict[str, str],
    as_json: bool,
    retention_hours: int,
    dry_run: bool,
    no_enforce_retention: bool,
    full: bool,
    all_files: bool,
) -> None:
    """Delete files no table version within the retention needs.

    Safe by default: a dry run that only lists files, a week of retention, and the table's
    minimum retention enforced. Pass --no-dry-run to delete. Name the table by its
    LOCATION, or by --root and --table.
    """
    report = _open(backend, root, table_paths, storage_options).vacuum_table(
        table_name,
        retention_hours=retention_hours,
        dry_run=dry_run,
        enforce_retention_duration=not no_enforce_retention,
        full=full,
    )
    shown = None if all_files else cli_render.VACUUM_FILES_SHOWN
    _emit(report, as_json, functools.partial(cli_render.render_vacuum, max_files=shown))
    if report.dry_run and report.deleted_count and not as_json:
        click.echo("dry run: nothing deleted; pass --no-dry-run to delete these files")


@cli.command()
@_table_options
@click.option(
    "--release-stale",
    is_flag=True,
    help="Delete the leases that expired or whose holder is provably dead (it ran on "
    "this host and is gone); never a live one.",
)
def leases(
    backend: str,
    root: str,
    table_name: str,
    table_paths: dict[str, str],
    storage_options: dict[str, str],
    as_json: bool,
    release_stale: bool,
) -> None:
    """List the partition leases of a table: which compaction holds which partition.

    A lease is live while its holder may still be compacting (it blocks that partition),
    dead once its holder ran on this host and is gone, expired once nobody renewed it.

    Name the table by its LOCATION (a path, or a URI such as s3://bucket/silver/t with
    --backend delta-s3), or by --root and --table.
    """
    report = _open(backend, root, table_paths, storage_options).list_leases(
        table_name, release_stale=release_stale
    )
    _emit(report, as_json, cli_render.render_leases)


@cli.command()
@click.option(
    "--root",
    "--dir",
    "root",
    default=None,
    help="Where to write the sample table: a new or empty directory (or the backend's "
    "URI). Default: a new temporary directory.",
)
@click.option(
    "--backend",
    default=DEMO_BACKEND,
    show_default=True,
    help="Installed backend to run the demo on (it must write sample tables).",
)
def demo(root: str | None, backend: str) -> None:
    """Build a sample table of many tiny files, then inspect, compact and vacuum it.

    The last line printed loads the table's backend in Python.
    """
    find_entry_point(backend)  # an unknown backend fails before any folder is made
    if root is None:
        root = tempfile.mkdtemp(prefix="pointline-demo-")
    if "://" not in root:  # a local directory: refuse a used one before writing anything
        directory = Path(root).resolve()
        table_dir = directory / DEMO_TABLE
        if table_dir.exists() and (not table_dir.is_dir() or any(table_dir.iterdir())):
            raise click.ClickException(
                f"{table_dir} already exists; pass another --root or remove it first"
            )
        directory.mkdir(parents=True, exist_ok=True)
        root = str(directory)
    run_demo(root, backend=backend)


# --- entry point --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit; errors become one ``error: ...`` line on stderr."""
    # Secrets belong to one command line: a caller running several in one process (tests,
    # click's CliRunner) must not see an earlier call's values masked in a later output.
    _given_secrets.clear()
    if trace.trace_enabled() and not trace.logger.handlers:
        # The library only logs; the command line shows the trace on stderr.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("trace: %(message)s"))
        trace.logger.addHandler(handler)
        trace.logger.setLevel(logging.INFO)
    try:
        result = cli.main(
            args=None if argv is None else list(argv),
            prog_name=PROG_NAME,
            standalone_mode=False,
        )
    except click.exceptions.Abort as exc:
        interrupted = isinstance(exc.__context__, KeyboardInterrupt)
        _fail("interrupted" if interrupted else "aborted", EXIT_INTERRUPTED)
    except CompactionInterruptedError as exc:  # the report is printed already
        _fail(str(exc), 128 + exc.signal_number)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        _fail(f"{exc.format_message().rstrip('.')}{hint}", EXIT_USAGE)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except PointlineStorageError as exc:
        _fail(in_cli_words(str(exc) or type(exc).__name__), exit_status(exc))
    except Exception as exc:  # an engine or environment failure nobody anticipated
        if os.environ.get(DEBUG_VARIABLE):
            redact_exception(exc, _given_secrets | secret_values(os.environ))
            raise
        _fail(
            f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_VARIABLE}=1 to see the traceback)",
            EXIT_ERROR,
        )
    sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int) -> NoReturn:
    _error_line(message)
    sys.exit(code)


def _error_line(message: str) -> None:
    # Backends mask what they know; the command line also masks what it was given.
    message = redact(message, _given_secrets | secret_values(os.environ))
    click.echo(f"{click.style('error:', fg='red')} {cli_render.one_line(message)}", err=True)


__import__("pointline_storage.cli_plans").cli_plans.register(cli)  # plan, execute

if __name__ == "__main__":
    main()
