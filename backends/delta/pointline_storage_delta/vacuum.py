"""Vacuum: delete files no Delta version within the retention needs, after a fresh load."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from deltalake.exceptions import DeltaError
from fsspec.implementations.local import LocalFileSystem

from pointline_storage import RetentionTooShortError, StorageError, TableLocation, VacuumReport
from pointline_storage_delta.snapshot import DeltaSnapshot

RETENTION_PROPERTY = "delta.deletedFileRetentionDuration"
#: The Delta protocol's default for ``delta.deletedFileRetentionDuration``: one week.
DEFAULT_MIN_RETENTION_HOURS = 168.0

_UNIT_HOURS = {
    "week": 168.0,
    "day": 24.0,
    "hour": 1.0,
    "minute": 1 / 60,
    "second": 1 / 3600,
    "millisecond": 1 / 3_600_000,
    "microsecond": 1 / 3_600_000_000,
}
_INTERVAL_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+?)s?\b")
#: How the engine's local store names a file while writing it (renamed when complete).
_STAGED_NAME = re.compile(r"#\d+$")


def minimum_retention_hours(configuration: Mapping[str, str]) -> float | None:
    """The table's minimum vacuum retention in hours, or ``None`` if it cannot be parsed.

    Reads ``delta.deletedFileRetentionDuration`` (e.g. ``"interval 7 days"``), defaulting
    to one week when the table does not set it.
    """
    raw = configuration.get(RETENTION_PROPERTY)
    if raw is None:
        return DEFAULT_MIN_RETENTION_HOURS
    text = raw.strip().lower().removeprefix("interval").strip()
    parts = _INTERVAL_PART.findall(text)
    if not parts or _INTERVAL_PART.sub("", text).strip():
        return None
    hours = 0.0
    for amount, unit in parts:
        if unit not in _UNIT_HOURS:
            return None
        hours += float(amount) * _UNIT_HOURS[unit]
    return hours


def vacuum_table(
    snapshot: DeltaSnapshot,
    location: TableLocation,
    *,
    table_name: str,
    retention_hours: int,
    dry_run: bool,
    enforce_retention_duration: bool,
    full: bool,
    started: float,
) -> VacuumReport:
    """Vacuum a freshly loaded snapshot (the caller must not pass a stale one);
    ``started`` is when the whole call began.

    Raises:
        RetentionTooShortError: enforcement is on and the retention is below the table's
            minimum; raised before anything is deleted.
    """
    if enforce_retention_duration:
        minimum = minimum_retention_hours(snapshot.configuration)
        if minimum is not None and retention_hours < minimum:
            raise _too_short(table_name, retention_hours, f"{minimum:g} hours")
    # The engine also names files an earlier vacuum already deleted, and can answer with
    # absolute paths: report only files that exist, relative to the table root.

    def engine_vacuum(dry: bool) -> list[str]:
        files = _engine_vacuum(
            snapshot, table_name, retention_hours, dry, enforce_retention_duration, full
        )
        return _relative(files, location)

    # A dry pass first: a real engine vacuum commits new table versions even when it
    # deletes nothing, and a no-op must leave the table as it was.
    candidates = engine_vacuum(dry=True)
    staged = _staged_leftovers(location, retention_hours) if full else []
    sizes = _existing_sizes(candidates + staged, location)
    deleted = [path for path in candidates if path in sizes]
    if deleted and not dry_run:
        deleted = [path for path in engine_vacuum(dry=False) if path in sizes]
    if staged and not dry_run:
        _remove(staged, location)
    deleted += [path for path in staged if path in sizes]
    return VacuumReport.from_deleted(
        {path: sizes[path] for path in deleted},
        table_name=table_name,
        dry_run=dry_run,
        retention_hours=retention_hours,
        enforce_retention_duration=enforce_retention_duration,
        full=full,
        started=started,
        version=snapshot.version,
    )


def _engine_vacuum(
    snapshot: DeltaSnapshot,
    table_name: str,
    retention_hours: int,
    dry_run: bool,
    enforce_retention_duration: bool,
    full: bool,
) -> list[str]:
    try:
        return list(
            snapshot.table.vacuum(
                retention_hours=retention_hours,
                dry_run=dry_run,
                enforce_retention_duration=enforce_retention_duration,
                full=full,
            )
        )
    except DeltaError as exc:
        # The engine checks retention itself when our parser could not read the property.
        if "retention period" in str(exc).lower():
            raise _too_short(
                table_name, retention_hours, snapshot.configuration.get(RETENTION_PROPERTY, "")
            ) from exc
        raise StorageError(f"vacuum of table {table_name!r} failed: {exc}") from exc


def _staged_leftovers(location: TableLocation, retention_hours: int) -> list[str]:
    """Half-written files a killed local writer left, at least ``retention_hours`` old.

    The engine's local store writes ``name#N`` and renames it when complete, and hides
    such names from its own listings, so its full vacuum never reclaims them.
    """
    if not isinstance(location.fs, LocalFileSystem):
        return []
    root = location.path.rstrip("/") + "/"
    cutoff = time.time() - retention_hours * 3600
    leftovers = []
    for name, info in location.fs.find(root, detail=True).items():
        relative = name[len(root) :]
        if (
            _STAGED_NAME.search(relative)
            and not relative.startswith("_delta_log/")
            and info["mtime"] <= cutoff
        ):
            leftovers.append(relative)
    return leftovers


def _remove(paths: list[str], location: TableLocation) -> None:
    root = location.path.rstrip("/") + "/"
    for path in paths:
        try:
            location.fs.rm_file(root + path)
        except FileNotFoundError:  # another vacuum got there first
            pass
        except OSError as exc:
            raise StorageError(f"vacuum could not delete {path}: {exc}") from exc


def _relative(paths: list[str], location: TableLocation) -> list[str]:
    prefixes = (location.uri.rstrip("/") + "/", location.path.rstrip("/") + "/")
    relative = []
    for path in paths:
        for prefix in prefixes:
            if path.startswith(prefix):
                path = path[len(prefix) :]
                break
        relative.append(path)
    return relative


def _existing_sizes(paths: list[str], location: TableLocation) -> dict[str, int]:
    """Sizes of those of ``paths`` (relative) that exist, listing only their directories."""
    root = location.path.rstrip("/") + "/"
    sizes = {}
    for directory in sorted({path.rpartition("/")[0] for path in paths}):
        try:
            entries = location.fs.ls(root + directory, detail=True)
        except FileNotFoundError:
            continue
        for entry in entries:
            name = entry["name"]
            if entry.get("type") == "file" and name.startswith(root):
                sizes[name[len(root) :]] = int(entry.get("size") or 0)
    return sizes


def _too_short(table_name: str, retention_hours: int, minimum: str) -> RetentionTooShortError:
    return RetentionTooShortError(
        f"retention of {retention_hours} h is below the minimum of {minimum} for table "
        f"{table_name!r} ({RETENTION_PROPERTY}); raise the retention, or turn the retention "
        "check off (enforce_retention_duration=False, CLI --no-enforce-retention) only if no "
        "reader or writer can still need those files"
    )
