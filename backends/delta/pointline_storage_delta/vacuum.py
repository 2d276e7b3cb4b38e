"""Vacuum: delete files no Delta version within the retention needs, after a fresh load."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
from deltalake.exceptions import DeltaError
from fsspec.implementations.local import LocalFileSystem

from pointline_storage import (
    KeptPath,
    RetentionTooShortError,
    StorageError,
    TableLocation,
    VacuumReport,
)
from pointline_storage_delta import debris, table_files
from pointline_storage_delta.snapshot import DeltaSnapshot
from pointline_storage_delta.sorted_rewrite import STAGING_PREFIX
from pointline_storage_delta.table_files import FileInfo

RETENTION_PROPERTY = "delta.deletedFileRetentionDuration"
MAX_WRITER_VERSION = 7
#: Writer features whose tables vacuum knows how to clean: those that change nothing
#: about which files a version needs, and deletion vectors (see
#: :mod:`~pointline_storage_delta.debris`). Checkpoint sidecars live in ``_delta_log``.
KNOWN_WRITER_FEATURES = frozenset(
    {
        "appendOnly",
        "invariants",
        "checkConstraints",
        "changeDataFeed",
        "generatedColumns",
        "columnMapping",
        "identityColumns",
        "timestampNtz",
        "timestampNanos",
        "variantType",
        "variantType-preview",
        "deletionVectors",
        "domainMetadata",
        "v2Checkpoint",
        "inCommitTimestamp",
        "rowTracking",
        "typeWidening",
        "typeWidening-preview",
        "vacuumProtocolCheck",
        "clustering",
    }
)
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
    location: TableLocation,
    open_snapshot: Callable[[], DeltaSnapshot],
    *,
    table_name: str,
    retention_hours: int,
    dry_run: bool,
    enforce_retention_duration: bool,
    full: bool,
    started: float,
) -> VacuumReport:
    """Vacuum the table at ``location``, which ``open_snapshot`` loads fresh (it must not
    return a stale snapshot); ``started`` is when the whole call began.

    The engine decides once, in a dry run, which files no version within the retention
    needs; a full vacuum keeps those that may not be the table's own
    (:mod:`~pointline_storage_delta.debris`); then this deletes the rest itself, in batches
    where the storage has them. So a dry run lists exactly what a real run deletes, and a
    vacuum adds no commit to the table.

    Raises:
        RetentionTooShortError: enforcement is on and the retention is below the table's
            minimum; raised before anything is deleted.
        StorageError: the engine failed, or a file could not be deleted.
    """
    # A full vacuum needs one listing of the table (nested tables, sizes), and so does a
    # lite one where a listing is cheaper than asking per file (object stores). It needs
    # no snapshot, so it runs while the table loads and the engine, which releases the
    # GIL, decides; it stops early if either fails.
    local = isinstance(location.fs, LocalFileSystem)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        listed = pool.submit(_survey, location, full, stop) if full or not local else None
        try:
            snapshot = open_snapshot()
            _check_writable(snapshot, table_name)
            if enforce_retention_duration:
                minimum = minimum_retention_hours(snapshot.configuration)
                if minimum is not None and retention_hours < minimum:
                    raise _too_short(table_name, retention_hours, f"{minimum:g} hours")
            engine = _engine_vacuum(
                snapshot, table_name, retention_hours, enforce_retention_duration, full
            )
        except BaseException:
            stop.set()
            raise
        survey = None if listed is None else listed.result()
    # The engine names a file once per remove action (a file compacted away with its
    # deletion vector has two), and may answer with absolute paths.
    candidates = list(dict.fromkeys(_relative(engine, location)))
    kept: tuple[KeptPath, ...] = ()
    if survey is None:
        sizes = table_files.existing_sizes(candidates, location)
    else:
        listing, nested = survey
        sizes = {path: listing[path].size for path in candidates if path in listing}
    if full and survey is not None:
        leftovers = _staged_leftovers(listing, location, retention_hours)
        sizes.update((path, listing[path].size) for path in leftovers)
        decided = debris.sort_candidates(
            list(dict.fromkeys(candidates + leftovers)),
            partition_columns=snapshot.partition_columns,
            nested=nested,
            live_deletion_vectors=_has_live_deletion_vectors(snapshot),
        )
        candidates, kept = list(decided.deletable), decided.kept
    # The engine also names files an earlier vacuum already deleted: report only those
    # that exist.
    deleted = sorted(path for path in candidates if path in sizes)
    if deleted and not dry_run:
        table_files.delete(deleted, location)
    return VacuumReport.from_deleted(
        {path: sizes[path] for path in deleted},
        table_name=table_name,
        dry_run=dry_run,
        retention_hours=retention_hours,
        enforce_retention_duration=enforce_retention_duration,
        full=full,
        started=started,
        version=snapshot.version,
        kept=kept,
    )


def _survey(
    location: TableLocation, full: bool, stop: threading.Event
) -> tuple[dict[str, FileInfo], frozenset[str]]:
    """One listing of the table, and (for a full vacuum) the folders in it that hold a
    table of their own."""
    listing = table_files.list_table(location, stop=stop)
    return listing, debris.nested_tables(listing) if full else frozenset()


def _check_writable(snapshot: DeltaSnapshot, table_name: str) -> None:
    """Refuse tables whose writer protocol asks for what this vacuum does not know.

    Deleting is writing: the engine's own vacuum commits, so its protocol check refuses
    such tables, but its dry run reads them happily. A feature may change which files
    the table still needs, so an unknown one means: do not delete.
    """
    protocol = snapshot.table.protocol()
    unknown = sorted(set(protocol.writer_features or ()) - KNOWN_WRITER_FEATURES)
    if protocol.min_writer_version > MAX_WRITER_VERSION or unknown:
        needs = ", ".join(unknown) or f"writer version {protocol.min_writer_version}"
        raise StorageError(
            f"cannot vacuum table {table_name!r}: it requires writer features this version "
            f"does not support ({needs}); upgrade pointline-storage and deltalake"
        )


def _engine_vacuum(
    snapshot: DeltaSnapshot,
    table_name: str,
    retention_hours: int,
    enforce_retention_duration: bool,
    full: bool,
) -> list[str]:
    try:
        return list(
            snapshot.table.vacuum(
                retention_hours=retention_hours,
                dry_run=True,
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


def _has_live_deletion_vectors(snapshot: DeltaSnapshot) -> bool:
    table = snapshot.table
    if "deletionVectors" not in (table.protocol().reader_features or []):
        return False
    return bool(pa.table(table.deletion_vectors()).num_rows > 0)


def _staged_leftovers(
    listing: Mapping[str, FileInfo], location: TableLocation, retention_hours: int
) -> list[str]:
    """Files killed writers left, at least ``retention_hours`` old, that the engine's full
    vacuum never reclaims.

    The engine's local store writes ``name#N`` and renames it when complete, and hides
    such names from its own listings. A sorted rewrite killed before its commit leaves its
    staging directory (:func:`~pointline_storage_delta.debris.is_sort_staging`), which the
    engine skips as hidden at the root and takes for a nested table anywhere.
    """
    cutoff = time.time() - retention_hours * 3600
    local = isinstance(location.fs, LocalFileSystem)
    leftovers = []
    for path, info in listing.items():
        # Substrings first: this runs on every file of the table.
        if "#" not in path and STAGING_PREFIX not in path:
            continue
        if info.mtime is None or info.mtime > cutoff:
            continue
        staged = local and debris.STAGED_NAME.search(path) and not path.startswith("_delta_log/")
        if staged or debris.is_sort_staging(path):
            leftovers.append(path)
    return leftovers


def _relative(paths: list[str], location: TableLocation) -> list[str]:
    prefixes = (location.uri.rstrip("/") + "/", location.path.rstrip("/") + "/")
    return [_strip(path, prefixes) if path.startswith(prefixes) else path for path in paths]


def _strip(path: str, prefixes: tuple[str, str]) -> str:
    for prefix in prefixes:
        if path.startswith(prefix):
            return path[len(prefix) :]
    return path


def _too_short(table_name: str, retention_hours: int, minimum: str) -> RetentionTooShortError:
    return RetentionTooShortError(
        f"retention of {retention_hours} h is below the minimum of {minimum} for table "
        f"{table_name!r} ({RETENTION_PROPERTY}); raise the retention, or turn the retention "
        "check off (enforce_retention_duration=False, CLI --no-enforce-retention) only if no "
        "reader or writer can still need those files"
    )
