"""The ``plan`` and ``execute`` commands: plan a compaction into a JSON file, execute it
later or elsewhere (here, on ``--workers`` or on a dask cluster)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from pointline_storage import cli_render
from pointline_storage.cli_executors import executor_for, executor_options
from pointline_storage.errors import CompactionFailedError
from pointline_storage.models import CompactionReport, PartitionCompactionResult
from pointline_storage.partitions import PartitionSpec, format_partition
from pointline_storage.plans import CompactionPlan, InvalidPlanError


def register(group: click.Group) -> None:
    """Add ``plan`` and ``execute`` to the command line's group.

    Called by ``pointline_storage.cli`` once its helpers exist; it imports them here, not
    at the top, because that module imports this one.
    """
    from pointline_storage import cli as base

    plan_command = _decorated(
        plan,
        base._table_options,
        base._partition_option(
            "Partition to plan, naming every partition column (repeatable, at least one)."
        ),
        *_plan_options(base),
    )
    execute_command = _decorated(execute, *_execute_options(base))
    group.add_command(click.command("plan")(click.pass_context(plan_command)))
    group.add_command(click.command("execute")(click.pass_context(execute_command)))


def _decorated(function: Callable[..., Any], *decorators: Callable[..., Any]) -> Any:
    # click keeps options on the function object: decorate a fresh wrapper per group
    # (``python -m pointline_storage.cli`` builds two groups).
    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _plan_options(base: ModuleType) -> list[Callable[..., Any]]:
    return [
        base._sort_by_option(
            "Plan a sorted compaction: executing the plan lays each partition out by these "
            "columns (see compact --sort-by)."
        ),
        base._TARGET_FILE_SIZE_OPTION,
        base._MIN_SMALL_FILES_OPTION,
        click.option(
            "--output",
            type=click.Path(dir_okay=False, writable=True, path_type=Path),
            default=None,
            metavar="PATH",
            help="Write the plan's JSON here (default: print it).",
        ),
    ]


def _execute_options(base: ModuleType) -> list[Callable[..., Any]]:
    return [
        click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        base._BACKEND_OPTION,
        click.option("--root", required=True, help="Where tables live: a path or URI."),
        base._TABLE_PATH_OPTION,
        base._STORAGE_OPTION_OPTION,
        base._JSON_OPTION,
        base._STOP_ON_ERROR_OPTION,
        base._PARTITIONS_PER_COMMIT_OPTION,
        base._LEASE_SECONDS_OPTION,
        executor_options,
        click.option(
            "--shards",
            type=click.IntRange(min=1),
            default=None,
            metavar="N",
            help="With --workers or --dask-scheduler: split the plan into at most N shards "
            "(default: --workers, else the CPU count).",
        ),
    ]


def plan(
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
    output: Path | None,
    sort_by: tuple[str, ...] | None,
) -> None:
    """Plan a compaction and write the plan as JSON; writes nothing to the table.

    Run it later, or elsewhere, with 'pointline-storage execute PLAN'.
    """
    if not partitions:
        raise click.UsageError(
            "name at least one partition with --partition col=value[,col=value...]", ctx=ctx
        )
    from pointline_storage.cli import _open

    made = _open(backend, root, table_paths, storage_options).plan_compaction(
        table_name,
        partitions=partitions,
        target_file_size_bytes=target_file_size,
        min_small_files=min_small_files,
        sort_by=sort_by,
    )
    if output is None:
        click.echo(made.to_json())
        return
    output.write_text(made.to_json() + "\n", encoding="utf-8")
    if as_json:
        click.echo(json.dumps({"output": str(output), **_summary(made)}, indent=2))
    else:
        click.echo(_render_plan(made, output))


def execute(
    ctx: click.Context,
    plan_file: Path,
    backend: str,
    root: str,
    table_paths: dict[str, str],
    storage_options: dict[str, str],
    as_json: bool,
    stop_on_error: bool,
    partitions_per_commit: int,
    lease_seconds: float | None,
    workers: int | None,
    dask_scheduler: str | None,
    shards: int | None,
) -> None:
    """Compact what a plan names (from 'pointline-storage plan'), on the plan's table.

    A partition whose planned files changed since is skipped (changed_since_plan).
    Exit status as for 'compact'.
    """
    try:
        loaded = CompactionPlan.from_json(plan_file.read_bytes())
    except InvalidPlanError as exc:
        raise InvalidPlanError(f"{plan_file}: {exc}") from exc
    from pointline_storage.cli import _open

    opened = _open(backend, root, table_paths, storage_options)
    with executor_for(workers, dask_scheduler) as executor:
        try:
            report = opened.execute_plan(
                loaded,
                continue_on_error=not stop_on_error,
                partitions_per_commit=partitions_per_commit,
                lease_seconds=lease_seconds,
                executor=executor,
                shards=shards,
                progress=_progress_line if sys.stderr.isatty() else None,
            )
        except CompactionFailedError as exc:
            from pointline_storage.cli import _emit

            _emit(exc.report, as_json, cli_render.render_compaction)
            raise
    _finish(ctx, report, as_json)


def _finish(ctx: click.Context, report: CompactionReport, as_json: bool) -> None:
    from pointline_storage.cli import EXIT_PARTIAL_FAILURE, _emit, _error_line

    _emit(report, as_json, cli_render.render_compaction)
    if report.failed_partitions:
        _error_line(
            f"{report.failed_partitions} of {len(report.partitions)} partitions failed; "
            f"see the report (exit status {EXIT_PARTIAL_FAILURE})"
        )
        ctx.exit(EXIT_PARTIAL_FAILURE)


def _progress_line(result: PartitionCompactionResult) -> None:
    click.echo(f"{result.status}: {format_partition(result.partition)}", err=True)


def _summary(made: CompactionPlan) -> dict[str, Any]:
    return {
        "table_name": made.table_name,
        "version": made.version,
        "planned_partitions": len(made.partitions),
        "planned_files": sum(len(planned.files) for planned in made.partitions),
        "planned_bytes": made.total_bytes,
        "skipped_partitions": len(made.skipped),
    }


def _render_plan(made: CompactionPlan, output: Path) -> str:
    summary = _summary(made)
    version = "" if made.version is None else f" at version {made.version}"
    return (
        f"planned {summary['planned_partitions']} partitions of table {made.table_name!r}"
        f"{version}: {summary['planned_files']} files, "
        f"{cli_render.format_bytes(made.total_bytes)}; "
        f"{summary['skipped_partitions']} skipped; plan written to {output}"
    )
