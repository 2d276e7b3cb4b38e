"""Vacuum: delete temporary files that interrupted compactions left behind.

Compaction deletes the files it rewrote itself (there is no older version to keep them
for), so the only files vacuum ever deletes are ``.pointline-tmp-*`` files older than the
retention. A younger one may belong to a compaction still running.
"""

from __future__ import annotations

import datetime as dt
import time

from pointline_storage import HiveListing, RetentionTooShortError, VacuumReport
from pointline_storage_hive_parquet.compaction import TEMP_PREFIX

#: The shortest retention accepted while enforcement is on: a compaction's temporary file
#: younger than this may still be in use.
MIN_RETENTION_HOURS = 168


def vacuum_table(
    table: HiveListing,
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
            f"hours for table {table.table_name!r} (a younger temporary file may belong to a "
            "running compaction); raise the retention, or turn the retention check off "
            "(enforce_retention_duration=False, CLI --no-enforce-retention) only if no "
            "compaction of this table is running"
        )
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=retention_hours)
    expired = {
        path: size
        for path, size in table.hidden_files.items()
        if path.rsplit("/", 1)[-1].startswith(TEMP_PREFIX) and _modified(table, path) <= cutoff
    }
    deleted = expired if dry_run else {p: s for p, s in expired.items() if _delete(table, p)}
    return VacuumReport.from_deleted(
        {table.relative(path): size for path, size in deleted.items()},
        table_name=table.table_name,
        dry_run=dry_run,
        retention_hours=retention_hours,
        enforce_retention_duration=enforce_retention_duration,
        full=full,
        started=started,
    )


def _modified(table: HiveListing, path: str) -> dt.datetime:
    modified: dt.datetime = table.fs.modified(path)
    # Local filesystems may answer in naive UTC.
    return modified if modified.tzinfo else modified.replace(tzinfo=dt.timezone.utc)


def _delete(table: HiveListing, path: str) -> bool:
    """Delete one file; ``False`` if it was already gone (so it is not reported)."""
    try:
        table.fs.rm(path)
    except FileNotFoundError:
        return False
    return True
