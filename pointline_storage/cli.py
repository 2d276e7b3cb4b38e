"""The ``pointline-storage`` command line: inspect, compact and vacuum tables.

Exit status: 0 on success, 1 on an error, 2 on a usage error, 3 when ``compact`` finished
but some partitions failed. Errors are printed as one ``error: ...`` line on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
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
from pointline_storage.demo import DEMO_TABLE, PROG_NAME, run_demo
from pointline_storage.errors import CompactionFailedError, PointlineStorageError
from pointline_storage.partitions import PartitionSpec
from pointline_storage.progress import compact_with_progress
from pointline_storage.redaction import redact, redact_exception, secret_values
from pointline_storage.registry import available_backends, find_entry_point, load_factory

DEFAULT_BACKEND = "delta-local"

#: Exit status of ``compact`` when it finished but some partitions failed.
EXIT_PARTIAL_FAILURE = 3
EXIT_ERROR = 1
EXIT_USAGE = 2
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
) -> tuple[dict[str, str], ...]:
    """Option callback: each ``col=value,col=value`` becomes one ``{col: value}`` mapping.

    Values stay strings (the core canonicalises them); ``""`` is ``{}``, the whole of an
    unpartitioned table.
    """
    specs = []
    for value in values:
        spec: dict[str, str] = {}
        text = value.strip()
        for piece in text.split(",") if text else []:
            key, sep, item = piece.strip().partition("=")
            key = key.strip()
            if not sep or not key:
                raise click.BadParameter(
                    f"expected col=value[,col=value...], got {value!r}", ctx=ctx, param=param
                )
            if key in spec:
                raise click.BadParameter(
                    f"column {key!r} is given twice in {value!r}", ctx=ctx, param=param
                )
            spec[key] = item
        specs.append(spec)
    return tuple(specs)


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
    """The options every table command shares: backend, root, table and locations."""
    options = [
        click.option(
            "--backend",
            default=DEFAULT_BACKEND,
            show_default=True,
            help="Installed backend to use (see 'pointline-storage backends').",
        ),
        click.option("--root", required=True, help="Where tables live: a path or URI."),
        click.option(
            "--table", "table_name", required=True, help="Table name, relative to --root."
        ),
        click.option(
            "--table-path",
            "table_paths",
            multiple=True,
            callback=_key_values("NAME=PATH"),
            metavar="NAME=PATH",
            help="Explicit location of a table, used as given (repeatable).",
        ),
        click.option(
            "--storage-option",
            "storage_options",
            multiple=True,
            callback=_key_values("KEY=VALUE", secret=True),
            metavar="KEY=VALUE",
            help="Backend storage option, e.g. credentials (repeatable; never printed).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _partition_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--partition",
        "partitions",
        multiple=True,
        callback=_partitions,
        metavar="COL=VALUE[,COL=VALUE...]",
        help=help_text,
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

    Exit status: 0 ok, 1 error, 2 usage error, 3 compact finished but some partitions
    failed. Errors are one 'error: ...' line on stderr.
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
    """Show files, small files, bytes and rows per partition. Writes nothing."""
    report = _open(backend, root, table_paths, storage_options).inspect_partitions(
        table_name, partitions or None, sort_by=sort_by
    )
    _emit(report, as_json, cli_render.render_inspection)


@cli.command()
@_table_options
@_partition_option(
    "Partition to compact, naming every partition column (repeatable, at least one). "
    "Use --partition '' for an unpartitioned table."
)
@click.option(
    "--target-file-size",
    type=click.IntRange(min=1),
    default=None,
    metavar="BYTES",
    help="Files smaller than this are merged towards it. Default: the table's setting, "
    "else the engine's.",
)
@click.option(
    "--min-small-files",
    type=click.IntRange(min=0),
    default=DEFAULT_MIN_SMALL_FILES,
    show_default=True,
    metavar="N",
    help="Skip a partition with fewer small files than this.",
)
@click.option("--dry-run", is_flag=True, help="Plan and report only; write nothing.")
@click.option(
    "--stop-on-error",
    is_flag=True,
    help="Stop at the first failing partition (exit 1); default: record it and go on.",
)
@click.option(
    "--partitions-per-commit",
    type=click.IntRange(min=1),
    default=DEFAULT_PARTITIONS_PER_COMMIT,
    show_default=True,
    metavar="N",
    help="Commit up to N partitions together (1: each alone). A failed commit of several "
    "is redone one partition per commit.",
)
@click.option(
    "--max-concurrent-tasks",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Files rewritten in parallel. Default: the engine's (the number of CPUs).",
)
@click.option(
    "--max-spill-size",
    type=click.IntRange(min=1),
    default=None,
    metavar="BYTES",
    help="Memory the engine may use before spilling to disk. Default: the engine's.",
)
@click.option(
    "--compression",
    default=None,
    metavar="CODEC[(LEVEL)]",
    help="Parquet codec of rewritten files: zstd(4), snappy, gzip(6), lz4_raw, brotli, "
    "uncompressed. Default: the engine's (zstd level 4 for Delta).",
)
@_sort_by_option(
    "Lay each compacted partition out by these columns: files sorted, each covering its "
    "own range of the first. A partition with fewer than --min-small-files files out of "
    "that order is skipped (already_sorted)."
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
    dry_run: bool,
    stop_on_error: bool,
    partitions_per_commit: int,
    max_concurrent_tasks: int | None,
    max_spill_size: int | None,
    compression: str | None,
    sort_by: tuple[str, ...] | None,
) -> None:
    """Rewrite the small files of the named partitions into fewer, larger files.

    Rows never change and only the named partitions are touched; up to
    --partitions-per-commit partitions are compacted in one commit.

    \b
    Exit status:
      0  every partition was compacted or skipped
      1  an error; with --stop-on-error, after printing the partial report
         (partitions compacted before the failure stay committed)
      2  a usage error
      3  some partitions failed; the others were compacted (see the report)
    """
    if not partitions:
        raise click.UsageError(
            "name at least one partition with --partition col=value[,col=value...]", ctx=ctx
        )
    opened = _open(backend, root, table_paths, storage_options)
    try:
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
            sort_by=sort_by,
        )
    except CompactionFailedError as exc:
        _emit(exc.report, as_json, cli_render.render_compaction)
        raise
    _emit(report, as_json, cli_render.render_compaction)
    if report.failed_partitions:
        _error_line(
            f"{report.failed_partitions} of {len(report.partitions)} partitions failed; "
            f"see the report (exit status {EXIT_PARTIAL_FAILURE})"
        )
        ctx.exit(EXIT_PARTIAL_FAILURE)


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
) -> None:
    """Delete files no table version within the retention needs.

    Safe by default: a dry run that only lists files, a week of retention, and the table's
    minimum retention enforced. Pass --no-dry-run to delete.
    """
    report = _open(backend, root, table_paths, storage_options).vacuum_table(
        table_name,
        retention_hours=retention_hours,
        dry_run=dry_run,
        enforce_retention_duration=not no_enforce_retention,
        full=full,
    )
    _emit(report, as_json, cli_render.render_vacuum)
    if report.dry_run and report.deleted_count and not as_json:
        click.echo("dry run: nothing deleted; pass --no-dry-run to delete these files")


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for the sample table. Default: a new temporary directory.",
)
def demo(directory: Path | None) -> None:
    """Build a sample table of many tiny files, then inspect, compact and vacuum it."""
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="pointline-demo-"))
    table_dir = directory / DEMO_TABLE
    if table_dir.exists() and (not table_dir.is_dir() or any(table_dir.iterdir())):
        raise click.ClickException(
            f"{table_dir} already exists; pass another --dir or remove it first"
        )
    directory.mkdir(parents=True, exist_ok=True)
    run_demo(str(directory.resolve()))


# --- entry point --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit; errors become one ``error: ...`` line on stderr."""
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
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        _fail(f"{exc.format_message().rstrip('.')}{hint}", EXIT_USAGE)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except PointlineStorageError as exc:
        _fail(str(exc) or type(exc).__name__, EXIT_ERROR)
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


if __name__ == "__main__":
    main()
