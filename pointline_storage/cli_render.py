"""Human-readable rendering of reports for the ``pointline-storage`` command line.

Each function returns plain text (status words may carry ANSI colour, which ``click.echo``
strips when the output is not a terminal). Machine-readable output is ``report.to_dict()``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import click

from pointline_storage.leases import TableLeases
from pointline_storage.models import (
    KEEP_DELETION_VECTOR,
    KEEP_NESTED_TABLE,
    KEEP_NOT_TABLE_FILE,
    KEEP_OUTSIDE_LAYOUT,
    SKIP_ALREADY_SORTED,
    SKIP_BELOW_MIN_SMALL_FILES,
    SKIP_CHANGED_SINCE_PLAN,
    SKIP_NO_FILES,
    BackendInfo,
    CompactionReport,
    PartitionCompactionResult,
    TableInspection,
    VacuumReport,
)
from pointline_storage.partitions import format_partition

ARROW = " -> "
#: Files ``vacuum`` lists before it shows totals per directory instead (--all-files: all).
VACUUM_FILES_SHOWN = 10

_Formatter = Callable[[int | None], str]

_KEPT_REASONS = {
    KEEP_NESTED_TABLE: "holds a table of its own",
    KEEP_OUTSIDE_LAYOUT: "outside the table's partition layout",
    KEEP_NOT_TABLE_FILE: "not a data or deletion-vector file",
    KEEP_DELETION_VECTOR: "deletion vector, possibly live",
}

_STATUS_COLOURS = {
    "compacted": "green",
    "would_compact": "cyan",
    "skipped": "yellow",
    "failed": "red",
    "not_attempted": "red",
}


def one_line(text: str) -> str:
    """Join a possibly multi-line message into one line."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def format_bytes(size: int | None) -> str:
    """Render a byte count with a binary unit: ``812 B``, ``64.3 KiB``, ``1.2 GiB``."""
    if size is None:
        return "?"
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def format_count(count: int | None) -> str:
    """Render a count with thousands separators, ``?`` when unknown."""
    return "?" if count is None else f"{count:,}"


def render_inspection(report: TableInspection) -> str:
    """One row per partition (files, small files, bytes, rows) and a summary line."""
    sorting = report.sort_by is not None
    rows = [
        [
            format_partition(stats.partition),
            format_count(stats.file_count),
            format_count(stats.small_file_count),
            format_bytes(stats.total_bytes),
            format_count(stats.total_rows),
            *([format_count(stats.unsorted_files)] if sorting else []),
        ]
        for stats in report.partitions
    ]
    header = ["PARTITION", "FILES", "SMALL", "BYTES", "ROWS"]
    header += [f"UNSORTED BY {report.sort_by[0]}"] if report.sort_by else []
    table = _table(header, rows, right=set(range(1, len(header))))
    stats = report.partitions
    row_counts = [s.total_rows for s in stats]
    total_rows = None if None in row_counts else sum(r for r in row_counts if r is not None)
    summary = (
        f"table {report.table_name!r}{_version(report.version)}: "
        f"{_plural(len(stats), 'partition')}, "
        f"{_plural(sum(s.file_count for s in stats), 'file')} "
        f"({format_count(sum(s.small_file_count for s in stats))} small: under the "
        f"{format_bytes(report.target_file_size_bytes)} target and able to merge), "
        f"{format_bytes(sum(s.total_bytes for s in stats))}, "
        f"{format_count(total_rows)} rows"
    )
    return _join(table, summary)


def render_compaction(report: CompactionReport, *, stopped_by: str | None = None) -> str:
    """One row per named partition (status, files, bytes, rows, reason) and a summary line.

    Args:
        report: The compaction report.
        stopped_by: Why partitions are ``not_attempted``, when not an earlier failure
            (e.g. ``"SIGTERM"``).
    """
    why = f"stopped by {stopped_by}" if stopped_by else "an earlier partition failed"
    rows = [_compaction_row(result, report, why) for result in report.partitions]
    colours = [_STATUS_COLOURS.get(result.status) for result in report.partitions]
    table = _table(
        ["PARTITION", "STATUS", "FILES", "SMALL", "BYTES", "ROWS", "NOTE"],
        rows,
        right={3},
        colour_column=1,
        colours=colours,
    )
    return _join(table, _compaction_summary(report))


def render_vacuum(report: VacuumReport, *, max_files: int | None = None) -> str:
    """A summary line, each file deleted (or that would be deleted in a dry run), then what
    a full vacuum kept and why.

    Args:
        report: The vacuum report.
        max_files: List at most this many files, then say how many more there are.
    """
    settings = (
        f"retention {report.retention_hours} h, "
        f"retention check {'on' if report.enforce_retention_duration else 'off'}"
        f"{', full' if report.full else ''}; {report.duration_seconds:.2f} s"
    )
    where = f"table {report.table_name!r}" + (
        "" if report.version is None else f" read at version {report.version}"
    )
    files = _plural(report.deleted_count, "file")
    size = format_bytes(report.deleted_bytes)
    if report.deleted_count == 0:
        summary = (
            f"{'dry run: ' if report.dry_run else ''}nothing to delete in {where} ({settings})"
        )
    elif report.dry_run:
        summary = f"dry run: would delete {files} ({size}) from {where} ({settings})"
    else:
        summary = f"deleted {files} ({size}) from {where} ({settings})"
    verb = "would delete" if report.dry_run else "deleted"
    shown = report.deleted_files if max_files is None else report.deleted_files[:max_files]
    lines = [summary, *(f"  {verb}  {path}" for path in shown)]
    hidden = len(report.deleted_files) - len(shown)
    if hidden > 0:
        lines.append(f"  ... and {_plural(hidden, 'more file')}")
        lines.append(f"{verb} per directory:")
        directories = Counter(path.rpartition("/")[0] or "." for path in report.deleted_files)
        width = max(len(directory) for directory in directories)
        lines.extend(
            f"  {directory.ljust(width)}  {_plural(count, 'file')}"
            for directory, count in sorted(directories.items())
        )
    if report.kept:
        kept_files = _plural(sum(entry.file_count for entry in report.kept), "unreferenced file")
        lines.append(f"kept {kept_files} that may not be this table's (delete them by hand):")
        width = max(len(entry.path) for entry in report.kept)
        lines.extend(
            f"  kept  {entry.path.ljust(width)}  {_KEPT_REASONS.get(entry.reason, entry.reason)}"
            + ("" if entry.file_count == 1 else f" ({_plural(entry.file_count, 'file')})")
            for entry in report.kept
        )
    return "\n".join(lines)


_LEASE_COLOURS = {"live": "yellow", "dead": "red", "expired": "red"}


def render_leases(report: TableLeases) -> str:
    """One row per lease (partition, state, holder, host, pid, expiry) and a summary line."""
    rows = [
        [
            "?" if lease.partition is None else format_partition(lease.partition),
            lease.state + (" (released)" if lease.released else ""),
            lease.owner,
            lease.host,
            str(lease.pid),
            lease.expires.isoformat(timespec="seconds"),
        ]
        for lease in report.leases
    ]
    colours = [_LEASE_COLOURS[lease.state] for lease in report.leases]
    headers = ["PARTITION", "STATE", "HOLDER", "HOST", "PID", "EXPIRES"]
    table = _table(headers, rows, right={4}, colour_column=1, colours=colours) if rows else ""
    states = Counter(lease.state for lease in report.leases)
    counts = ", ".join(f"{states[state]} {state}" for state in ("live", "dead", "expired"))
    summary = f"table {report.table_name!r}: {_plural(len(report.leases), 'lease')}"
    if report.leases:
        summary += f" ({counts})"
    if report.release_stale:
        released = sum(lease.released for lease in report.leases)
        summary += f"; released {_plural(released, 'stale lease')}, kept {states['live']} live"
    elif states["dead"] or states["expired"]:
        summary += "; --release-stale deletes the dead and expired ones"
    return _join(table, summary)


def render_backends(entries: Sequence[tuple[BackendInfo, str | None]]) -> str:
    """One row per installed backend: name, distribution, version, whether it loads.

    Args:
        entries: Each backend with ``None`` if it loads, else why it does not.
    """
    if not entries:
        return "no backends installed (entry-point group 'pointline_storage.backends')"
    rows = [
        [info.name, info.distribution, info.version, "ok" if error is None else f"broken: {error}"]
        for info, error in entries
    ]
    colours = ["green" if error is None else "red" for _, error in entries]
    return _table(
        ["NAME", "DISTRIBUTION", "VERSION", "STATUS"], rows, colour_column=3, colours=colours
    )


def _compaction_row(
    result: PartitionCompactionResult, report: CompactionReport, not_attempted: str
) -> list[str]:
    return [
        format_partition(result.partition),
        result.status.replace("_", " "),
        _change(result.before_file_count, result.after_file_count, result.status, format_count)
        + (f"{ARROW}?" if result.status == "would_compact" else ""),
        format_count(result.small_file_count),
        _change(result.bytes_before, result.bytes_after, result.status, format_bytes),
        _change(result.rows_before, result.rows_after, result.status, format_count),
        _note(result, report, not_attempted),
    ]


def _change(before: int | None, after: int | None, status: str, fmt: _Formatter) -> str:
    """``before -> after`` when the partition was rewritten, else ``before``."""
    if status == "compacted":
        return f"{fmt(before)}{ARROW}{fmt(after)}"
    return fmt(before)


def _note(result: PartitionCompactionResult, report: CompactionReport, not_attempted: str) -> str:
    if result.status == "failed":
        return one_line(result.error or "failed")
    if result.status == "not_attempted":
        return not_attempted
    if result.status == "compacted":
        return f"{_plural(result.files_removed, 'file')} rewritten into {result.files_added}"
    if result.status == "would_compact" and report.sort_by:
        return (
            f"{result.unsorted_files} files out of {report.sort_by[0]} order "
            f">= min {report.min_small_files}"
        )
    if result.status == "would_compact":
        return f"{result.small_file_count} small files >= min {report.min_small_files}"
    if result.skipped_reason == SKIP_ALREADY_SORTED and report.sort_by:
        return (
            f"{SKIP_ALREADY_SORTED} by {report.sort_by[0]} "
            f"({result.unsorted_files} out of order < {report.min_small_files})"
        )
    if result.skipped_reason == SKIP_BELOW_MIN_SMALL_FILES:
        return (
            f"{SKIP_BELOW_MIN_SMALL_FILES} ({result.small_file_count} < {report.min_small_files})"
        )
    if result.skipped_reason == SKIP_NO_FILES:
        return f"{SKIP_NO_FILES} (partition not in table)"
    if result.skipped_reason == SKIP_CHANGED_SINCE_PLAN:
        return f"{SKIP_CHANGED_SINCE_PLAN} (planned files compacted or deleted since)"
    return result.skipped_reason or ""


def _compaction_summary(report: CompactionReport) -> str:
    statuses = [result.status for result in report.partitions]
    named = _plural(len(statuses), "partition")
    counts = f"{report.skipped_partitions} skipped, {report.failed_partitions} failed"
    not_attempted = statuses.count("not_attempted")
    if not_attempted:
        counts += f", {not_attempted} not attempted"
    sorting = f", sorted by {','.join(report.sort_by)}" if report.sort_by else ""
    settings = (
        f"target {format_bytes(report.target_file_size_bytes)}, "
        f"min small files {report.min_small_files}{sorting}; {report.duration_seconds:.2f} s"
    )
    before, after = report.version_before, report.version_after
    if report.dry_run:
        versions = "" if before is None else f" at version {before}"
        return (
            f"dry run: would compact {statuses.count('would_compact')} of {named} of "
            f"{report.table_name!r} ({counts}); nothing written{versions}; {settings}"
        )
    if before == after:
        versions = "" if before is None else f"; table unchanged at version {before}"
    else:
        versions = f"; version {before}{ARROW}{after}"
    return (
        f"compacted {report.succeeded_partitions} of {named} of {report.table_name!r} "
        f"({counts}){versions}; {settings}"
    )


def _version(version: int | None) -> str:
    return "" if version is None else f" at version {version}"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _join(*blocks: str) -> str:
    return "\n".join(block for block in blocks if block)


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: set[int] | frozenset[int] = frozenset(),
    colour_column: int | None = None,
    colours: Sequence[str | None] = (),
) -> str:
    """Align columns (two spaces apart); optionally colour one column per row."""
    if not rows:
        return "(no partitions)" if "PARTITION" in headers else ""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str], colour: str | None) -> str:
        padded = []
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            fill = " " * (width - len(cell))
            text = click.style(cell, fg=colour) if index == colour_column and colour else cell
            padded.append(fill + text if index in right else text + fill)
        return "  ".join(padded).rstrip()

    lines = [line(headers, None)]
    lines.extend(
        line(row, colours[number] if number < len(colours) else None)
        for number, row in enumerate(rows)
    )
    return "\n".join(lines)
