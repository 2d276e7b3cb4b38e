"""``pointline-storage demo``: every primitive at work on a sample table of tiny files."""

from __future__ import annotations

import datetime as dt
import json
import shlex

import click

from pointline_storage import cli_render
from pointline_storage.backend import DEFAULT_MIN_SMALL_FILES, DEFAULT_RETENTION_HOURS, load_backend
from pointline_storage.progress import compact_with_progress
from pointline_storage.sample import order_events

PROG_NAME = "pointline-storage"
DEMO_BACKEND = "delta-local"
DEMO_TABLE = "cn_order_events"

_DEMO_DAYS = (dt.date(2024, 1, 2), dt.date(2024, 1, 3))
_DEMO_EXCHANGES = ("sse", "szse")
_DEMO_FILES_PER_PARTITION = 24
_DEMO_ROWS_PER_FILE = 50


def run_demo(root: str, *, backend: str = DEMO_BACKEND) -> None:
    """Build the sample table under ``root``, then inspect, compact and vacuum it, printing
    each report and the equivalent command line.

    Args:
        root: Where the sample table is written (it must not exist yet).
        backend: The installed backend to use; it must implement ``write_sample_table``.
    """
    backend_name = backend
    backend_flags = [] if backend_name == DEMO_BACKEND else ["--backend", backend_name]
    opened = load_backend(backend_name, root=root)

    def command(name: str, *flags: str) -> None:
        line = [PROG_NAME, name, *backend_flags, "--root", root, "--table", DEMO_TABLE, *flags]
        click.secho(f"$ {shlex.join(line)}", dim=True)

    _heading("1. A table of many tiny files")
    rows = order_events(
        exchanges=_DEMO_EXCHANGES,
        days=_DEMO_DAYS,
        rows_per_partition=_DEMO_FILES_PER_PARTITION * _DEMO_ROWS_PER_FILE,
    )
    opened.write_sample_table(
        DEMO_TABLE,
        rows=rows,
        partition_by=["exchange", "trading_date"],
        rows_per_file=_DEMO_ROWS_PER_FILE,
    )
    partition_count = len(_DEMO_EXCHANGES) * len(_DEMO_DAYS)
    click.echo(
        f"wrote {rows.num_rows:,} order events to {root}/{DEMO_TABLE}\n"
        f"partitioned by exchange/trading_date: {partition_count} partitions x "
        f"{_DEMO_FILES_PER_PARTITION} files x {_DEMO_ROWS_PER_FILE} rows,\n"
        "one commit per file, the way per-source-file ingestion leaves a table"
    )

    _heading("2. Inspect")
    command("inspect")
    click.echo(cli_render.render_inspection(opened.inspect_partitions(DEMO_TABLE)))

    chosen = [
        {"exchange": exchange, "trading_date": day.isoformat()}
        for exchange in _DEMO_EXCHANGES
        for day in _DEMO_DAYS
    ][:3]
    min_small_files = DEFAULT_MIN_SMALL_FILES
    flags = [
        *(
            option
            for spec in chosen
            # As inspect prints it: the command line takes what it shows.
            for option in ("--partition", "/".join(f"{k}={v}" for k, v in spec.items()))
        ),
        "--min-small-files",
        str(min_small_files),
    ]

    _heading("3. Compact three partitions: dry run first")
    command("compact", *flags, "--dry-run")
    report = compact_with_progress(
        opened, DEMO_TABLE, chosen, min_small_files=min_small_files, dry_run=True
    )
    click.echo(cli_render.render_compaction(report))

    _heading("4. Compact three partitions")
    command("compact", *flags)
    report = compact_with_progress(opened, DEMO_TABLE, chosen, min_small_files=min_small_files)
    click.echo(cli_render.render_compaction(report))

    _heading("5. Inspect again: the fourth partition was not touched")
    command("inspect")
    click.echo(cli_render.render_inspection(opened.inspect_partitions(DEMO_TABLE)))

    _heading("6. Vacuum (dry run)")
    click.echo(
        "retention 0 h with the retention check off, so the files compaction just removed\n"
        f"are listed; the real default is {DEFAULT_RETENTION_HOURS} h with the check on, "
        "and a dry run unless --no-dry-run"
    )
    vacuum_flags = ["--retention-hours", "0", "--no-enforce-retention"]
    command("vacuum", *vacuum_flags)
    vacuum_report = opened.vacuum_table(
        DEMO_TABLE, retention_hours=0, dry_run=True, enforce_retention_duration=False
    )
    click.echo(cli_render.render_vacuum(vacuum_report, max_files=cli_render.VACUUM_FILES_SHOWN))

    _heading("Done")
    click.echo(
        f"the table is left at {root}/{DEMO_TABLE}; nothing was deleted.\n"
        "to delete the files listed above, run:"
    )
    command("vacuum", *vacuum_flags, "--no-dry-run")
    click.echo("to work on it from Python (see the README's Python API):")
    # JSON strings are Python literals too, in the double quotes the README uses.
    click.echo(f"backend = load_backend({json.dumps(backend_name)}, root={json.dumps(root)})")


def _heading(title: str) -> None:
    click.echo()
    click.secho(f"== {title} ==", bold=True)
