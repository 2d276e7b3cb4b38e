"""Vacuum: delete files no Delta version within the retention needs, after a fresh load."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from deltalake.exceptions import DeltaError

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
) -> VacuumReport:
    """Vacuum a freshly loaded snapshot (the caller must not pass a stale one).

    Raises:
        RetentionTooShortError: enforcement is on and the retention is below the table's
            minimum; raised before anything is deleted.
    """
    started = time.perf_counter()
    if enforce_retention_duration:
        minimum = minimum_retention_hours(snapshot.configuration)
        if minimum is not None and retention_hours < minimum:
            raise _too_short(table_name, retention_hours, f"{minimum:g} hours")
    existing = _data_files(location)
    # The engine also names files an earlier vacuum already deleted, and can answer with
    # absolute paths: report only files that existed, relative to the table root.

    def engine_vacuum(dry: bool) -> list[str]:
        files = _engine_vacuum(
            snapshot, table_name, retention_hours, dry, enforce_retention_duration, full
        )
        return _existing(files, location, existing)

    # A dry pass first: a real engine vacuum commits new table versions even when it
    # deletes nothing, and a no-op must leave the table as it was.
    deleted = engine_vacuum(dry=True)
    if deleted and not dry_run:
        deleted = engine_vacuum(dry=False)
    return VacuumReport(
        table_name=table_name,
        dry_run=dry_run,
        retention_hours=retention_hours,
        enforce_retention_duration=enforce_retention_duration,
        full=full,
        deleted_count=len(deleted),
        deleted_files=tuple(sorted(deleted)),
        deleted_bytes=sum(existing[path] for path in deleted),
        version=snapshot.version,
        duration_seconds=time.perf_counter() - started,
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


def _data_files(location: TableLocation) -> dict[str, int]:
    """Every file under the table root outside ``_delta_log``, relative, with its size."""
    root = location.path.rstrip("/") + "/"
    found = location.fs.find(location.path, detail=True)
    files = {}
    for path, info in found.items():
        relative = path[len(root) :] if path.startswith(root) else path
        if not relative.startswith("_delta_log/"):
            files[relative] = int(info.get("size") or 0)
    return files


def _existing(paths: list[str], location: TableLocation, existing: dict[str, int]) -> list[str]:
    prefixes = [location.uri.rstrip("/") + "/", location.path.rstrip("/") + "/"]
    relative = []
    for path in paths:
        for prefix in prefixes:
            if path.startswith(prefix):
                path = path[len(prefix) :]
                break
        if path in existing:
            relative.append(path)
    return relative


def _too_short(table_name: str, retention_hours: int, minimum: str) -> RetentionTooShortError:
    return RetentionTooShortError(
        f"retention of {retention_hours} h is below the minimum of {minimum} for table "
        f"{table_name!r} ({RETENTION_PROPERTY}); raise the retention, or turn the retention "
        "check off (enforce_retention_duration=False, CLI --no-enforce-retention) only if no "
        "reader or writer can still need those files"
    )
