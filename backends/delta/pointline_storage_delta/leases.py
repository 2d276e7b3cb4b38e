"""Partition leases: at most one compaction of a (table, partition) at a time.

deltalake 1.6 lets two compactions of one partition both commit, duplicating its rows, so
a real compaction first takes a lease on every partition it will rewrite. A lease is a
small JSON file under the table (paths starting with ``_`` are ignored by Delta readers
and by vacuum)::

    <table>/_pointline/leases/<sha256 of the partition key>/<generation:010d>.json

It is made with an exclusive create (``O_EXCL`` on local disk, ``If-None-Match: *`` on
S3), so two takers never both create one generation. A taker then lists the leases again
and backs off if another live one appeared meanwhile, so two takers that raced on
different generations cannot both hold the partition either. The holder renews its
leases every quarter of their lifetime while it runs and deletes them when done. A lease
nobody renews (its holder was killed) blocks the partition until it expires; the next
taker deletes it. Expiry compares clocks of different machines: keep them in sync.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from pointline_storage import (
    InvalidOptionError,
    PartitionKey,
    PointlineStorageError,
    StorageError,
)

#: Where lease files live, relative to the table root.
LEASE_ROOT = "_pointline/leases"
#: How long a lease lasts without renewal: how long a killed compaction blocks its partitions.
DEFAULT_LEASE_SECONDS = 600.0
#: Environment variable overriding :data:`DEFAULT_LEASE_SECONDS` (a positive number).
LEASE_SECONDS_ENV = "POINTLINE_STORAGE_LEASE_SECONDS"


class PartitionLeasedError(PointlineStorageError):
    """Another compaction holds the lease of a partition."""


@dataclass(frozen=True)
class Lease:
    """One lease file and what it says.

    Attributes:
        path: The file, as a path of the table's filesystem.
        owner: A random id of the call that took it.
        host: The host name of that process.
        pid: Its process id.
        created: When it was taken (seconds since the epoch).
        expires: When it lapses unless renewed (seconds since the epoch).
    """

    path: str
    owner: str
    host: str
    pid: int
    created: float
    expires: float

    def describe(self) -> str:
        """Who holds the lease and until when, for error messages."""
        return (
            f"owner {self.owner} (host {self.host}, pid {self.pid}) until "
            f"{_iso(self.expires)}, lease file {self.path}"
        )

    def to_json(self) -> bytes:
        """The file's content."""
        fields = {"owner": self.owner, "host": self.host, "pid": self.pid}
        times = {"created": _iso(self.created), "expires": _iso(self.expires)}
        return json.dumps({**fields, **times}).encode()


@dataclass
class PartitionLeases:
    """The leases one call took, and who holds the partitions it could not lease.

    Attributes:
        held: Our lease of each partition we hold.
        refused: For each partition another compaction holds, who and until when.
    """

    held: dict[PartitionKey, Lease] = field(default_factory=dict)
    refused: dict[PartitionKey, str] = field(default_factory=dict)


def lease_seconds() -> float:
    """The lease lifetime: :data:`LEASE_SECONDS_ENV` if set, else the default.

    Raises:
        InvalidOptionError: the variable is set but not a positive number.
    """
    raw = os.environ.get(LEASE_SECONDS_ENV)
    if raw is None:
        return DEFAULT_LEASE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise InvalidOptionError(
            f"{LEASE_SECONDS_ENV} must be a positive number of seconds, got {raw!r}; "
            f"unset it to use the default of {DEFAULT_LEASE_SECONDS:g}"
        )
    return seconds


def lease_folder(table_path: str, partition: PartitionKey) -> str:
    """The folder holding the leases of one partition of the table at ``table_path``."""
    digest = hashlib.sha256(json.dumps(partition).encode()).hexdigest()
    return f"{table_path.rstrip('/')}/{LEASE_ROOT}/{digest}"


@contextmanager
def leased(
    fs: Any, table_path: str, partitions: Iterable[PartitionKey]
) -> Iterator[PartitionLeases]:
    """Take the leases of ``partitions`` for the duration of the block.

    Partitions another compaction holds are listed in ``refused``, not waited for. Our
    leases are renewed while the block runs and deleted when it ends, however it ends.

    Raises:
        InvalidOptionError: :data:`LEASE_SECONDS_ENV` is invalid (nothing was written).
        StorageError: the storage refused to list or create lease files.
    """
    seconds = lease_seconds()
    taken = PartitionLeases()
    renewer = _Renewer(fs, taken.held, seconds)
    try:
        _acquire(fs, table_path, tuple(partitions), seconds, taken)
        if taken.held:
            renewer.start()
        yield taken
    finally:
        renewer.stop()
        for lease in taken.held.values():
            with suppress(Exception):  # best effort: an unreleased lease expires on its own
                fs.rm_file(lease.path)


def _acquire(
    fs: Any,
    table_path: str,
    partitions: tuple[PartitionKey, ...],
    seconds: float,
    taken: PartitionLeases,
) -> None:
    now = time.time()
    template = Lease("", uuid.uuid4().hex, socket.gethostname(), os.getpid(), now, now + seconds)
    found = _listing(fs, table_path)
    for partition in partitions:
        folder = lease_folder(table_path, partition)
        names = found.get(_digest(folder), [])
        blocking = _live(_read(fs, f"{folder}/{name}", seconds) for name in names)
        if blocking is not None:
            taken.refused[partition] = blocking.describe()
            continue
        generation = max((int(name.partition(".")[0]) for name in names), default=0) + 1
        lease = dataclasses.replace(template, path=f"{folder}/{generation:010d}.json")
        if _create(fs, lease):
            taken.held[partition] = lease
        else:
            winner = _read(fs, lease.path, seconds)
            taken.refused[partition] = (
                winner.describe() if winner else "another compaction, taken at the same moment"
            )
    # Two takers that listed before either created may have created different
    # generations: each lists again, and backs off if it sees another live lease.
    found = _listing(fs, table_path)
    for partition, lease in list(taken.held.items()):
        folder = lease_folder(table_path, partition)
        others = [
            _read(fs, f"{folder}/{name}", seconds)
            for name in found.get(_digest(folder), [])
            if f"{folder}/{name}" != lease.path
        ]
        blocking = _live(others)
        if blocking is not None:
            del taken.held[partition]
            taken.refused[partition] = blocking.describe()
            with suppress(Exception):
                fs.rm_file(lease.path)
            continue
        for stale in others:  # expired leases of killed compactions
            if stale is not None:
                with suppress(Exception):
                    fs.rm_file(stale.path)


def _listing(fs: Any, table_path: str) -> dict[str, list[str]]:
    """Lease file names per partition digest, from one listing of the whole lease root."""
    root = f"{table_path.rstrip('/')}/{LEASE_ROOT}"
    fs.invalidate_cache(root)  # s3fs caches listings; another process may have written
    try:
        paths = fs.find(root)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StorageError(f"cannot list compaction leases under {root}: {exc}") from exc
    found: dict[str, list[str]] = {}
    for path in paths:
        folder, _, name = path.rpartition("/")
        if name.endswith(".json") and name.partition(".")[0].isdigit():
            found.setdefault(_digest(folder), []).append(name)
    return found


def _digest(folder: str) -> str:
    return folder.rstrip("/").rpartition("/")[2]


def _create(fs: Any, lease: Lease) -> bool:
    """Create the lease file unless it exists; whether we created it."""
    for attempt in range(2):
        try:
            with fs.open(lease.path, "xb") as handle:
                handle.write(lease.to_json())
            return True
        except FileExistsError:
            return False
        except FileNotFoundError:  # local disk: the partition's folder does not exist yet
            if attempt:
                raise
            fs.makedirs(lease.path.rpartition("/")[0], exist_ok=True)
        except OSError as exc:
            # Some S3-compatible stores refuse a conditional write without saying why.
            with suppress(OSError):
                fs.cat_file(lease.path)
                return False
            raise StorageError(f"cannot create compaction lease {lease.path}: {exc}") from exc
    return False  # pragma: no cover - the loop returns or raises


def _read(fs: Any, path: str, seconds: float) -> Lease | None:
    """The lease at ``path``; ``None`` if it is gone. A file still being written (or
    unreadable) counts as live for a whole lifetime from its modification time."""
    try:
        data = json.loads(fs.cat_file(path))
        return Lease(
            path=path,
            owner=str(data["owner"]),
            host=str(data["host"]),
            pid=int(data["pid"]),
            created=dt.datetime.fromisoformat(data["created"]).timestamp(),
            expires=dt.datetime.fromisoformat(data["expires"]).timestamp(),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        try:
            modified = fs.modified(path).timestamp()
        except FileNotFoundError:
            return None
        except Exception:  # a store without modification times
            modified = time.time()
        return Lease(path, "unknown (lease file unreadable)", "?", 0, modified, modified + seconds)


def _live(leases: Iterable[Lease | None]) -> Lease | None:
    """The live lease expiring last, if any."""
    now = time.time()
    live = [lease for lease in leases if lease is not None and lease.expires > now]
    return max(live, key=lambda lease: lease.expires, default=None)


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


class _Renewer:
    """Extends held leases every quarter of their lifetime, from a daemon thread: the
    engine releases the GIL while it compacts, so renewals run during long commits."""

    def __init__(self, fs: Any, held: dict[PartitionKey, Lease], seconds: float) -> None:
        self._fs = fs
        self._held = held
        self._seconds = seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-renewer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self._seconds / 4):
            for partition, lease in list(self._held.items()):
                renewed = dataclasses.replace(lease, expires=time.time() + self._seconds)
                with suppress(Exception):  # a failed renewal is retried at the next tick
                    self._fs.pipe_file(lease.path, renewed.to_json())
                    self._held[partition] = renewed
