"""Vacuum: delete temporary files that interrupted compactions left behind.

Compaction deletes the files it rewrote itself (there is no older version to keep them
for), so the only files vacuum ever deletes are ``.pointline-tmp-*`` files older than the
retention. A younger one may belong to a compaction still running.
"""

from __future__ import annotations

import datetime as dt
import time

from pointline_storage import RetentionTooShortError, VacuumReport
from pointline_storage_hive_parquet.layout import DataFile, HiveTable

#: The shortest retention accepted while enforcement is on: a compaction's temporary file
#: younger than this may still be in use.
MIN_RETENTION_HOURS = 168


def vacuum_table(
    table: HiveTable,
    *,
    retention_hours: int,
    dry_run: bool,
    enforce_retention_duration: bool,
    full: bool,
) -> VacuumReport:
    """Delete (or list) the table's leftover temporary files older than the retention.

    ``full`` changes nothing here: every leftover is considered either way.

    Raises:
        RetentionTooShortError: the retention is below :data:`MIN_RETENTION_HOURS` while
            enforcement is on.
    """
    started = time.perf_counter()
    if enforce_retention_duration and retention_hours < MIN_RETENTION_HOURS:
        raise RetentionTooShortError(
            f"retention of {retention_hours} h is below the minimum of {MIN_RETENTION_HOURS} "
            f"hours for table {table.name!r} (a younger temporary file may belong to a "
            "running compaction); raise the retention, or turn the retention check off "
            "(enforce_retention_duration=False, CLI --no-enforce-retention) only if no "
            "compaction of this table is running"
        )
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=retention_hours)
    expired = [leftover for leftover in table.leftovers if _modified(table, leftover) <= cutoff]
    deleted = expired if dry_run else [f for f in expired if _delete(table, f)]
    return VacuumReport.from_deleted(
        {table.relative(f.path): f.size for f in deleted},
        table_name=table.name,
        dry_run=dry_run,
        retention_hours=retention_hours,
        enforce_retention_duration=enforce_retention_duration,
        full=full,
        started=started,
    )


def _modified(table: HiveTable, leftover: DataFile) -> dt.datetime:
    modified: dt.datetime = table.fs.modified(leftover.path)
    # Local filesystems may answer in naive UTC.
    return modified if modified.tzinfo else modified.replace(tzinfo=dt.timezone.utc)


def _delete(table: HiveTable, leftover: DataFile) -> bool:
    """Delete one file; ``False`` if it was already gone (so it is not reported)."""
    try:
        table.fs.rm(leftover.path)
    except FileNotFoundError:
        return False
    return True
