"""Partition leases: at most one compaction of a (table, partition) at a time.

deltalake 1.6 lets two compactions of one partition both commit, duplicating its rows, so
a real compaction first takes a lease on every partition it will rewrite. A lease is a
small JSON file under the table (paths starting with ``_`` are ignored by Delta readers
and by vacuum)::

    <table>/_pointline/leases/<sha256 of the partition key>.<generation:010d>.json

holding the partition, the holder (:mod:`~pointline_storage_delta.holders`) and when it
lapses. It is made with an exclusive create (a hard link of a complete file on local
disk, ``If-None-Match: *`` on S3), so two takers never both create one generation and no
reader ever sees half a lease. A taker then lists the leases again and backs off if
another live one appeared meanwhile, so two takers that raced on different generations
cannot both hold the partition either.

The holder renews its leases every quarter of their lifetime while it runs, replacing the
file whole (a rename on local disk, a PUT on S3), and deletes them when done. All leases
of a table share one folder: nothing is left behind per partition, and no taker races a
remover of its folder. A lease nobody renews blocks the partition until it lapses, unless
its holder ran on this host and is provably dead (killed, out of memory): then the next
taker takes it over at once (on an object store after
:data:`DEAD_HOLDER_GRACE_SECONDS`, in case the store was still completing the dead
holder's last request). Expiry compares clocks of different machines: keep them in sync.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import hashlib
import json
import math
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from fsspec.implementations.local import LocalFileSystem

from pointline_storage import (
    InvalidOptionError,
    LeaseState,
    PartitionKey,
    PointlineStorageError,
    StorageError,
)
from pointline_storage_delta.holders import Holder, is_provably_dead, this_process

#: Where lease files live, relative to the table root.
LEASE_ROOT = "_pointline/leases"
#: How long a lease lasts without renewal: how long a killed compaction on another host
#: (or one whose death cannot be proven) blocks its partitions.
DEFAULT_LEASE_SECONDS = 600.0
#: Environment variable overriding :data:`DEFAULT_LEASE_SECONDS` (a positive number).
LEASE_SECONDS_ENV = "POINTLINE_STORAGE_LEASE_SECONDS"
#: How long a run that takes over a dead holder's lease on an object store waits before
#: it reads the table (see :func:`leased`).
DEAD_HOLDER_GRACE_SECONDS = 2.0
#: Attempts at creating a lease whose folder someone keeps deleting by hand.
_CREATE_ATTEMPTS = 3


class PartitionLeasedError(PointlineStorageError):
    """Another compaction holds the lease of a partition."""


@dataclass(frozen=True)
class Lease:
    """One lease file and what it says.

    Attributes:
        path: The file, as a path of the table's filesystem.
        owner: A random id of the call that took it.
        holder: The process that took it.
        partition: The partition it holds (``None``: the file does not say).
        created: When it was taken (seconds since the epoch).
        expires: When it lapses unless renewed (seconds since the epoch).
    """

    path: str
    owner: str
    holder: Holder
    partition: PartitionKey | None
    created: float
    expires: float

    def describe(self) -> str:
        """Who holds the lease and until when, for error messages."""
        return (
            f"owner {self.owner} (host {self.holder.host}, pid {self.holder.pid}) until "
            f"{_iso(self.expires)}, lease file {self.path}"
        )

    def state(self, now: float | None = None) -> LeaseState:
        """Whether the lease still blocks its partition (``live``), and if not, why."""
        if self.expires <= (time.time() if now is None else now):
            return "expired"
        return "dead" if is_provably_dead(self.holder) else "live"

    def to_json(self) -> bytes:
        """The file's content."""
        holder = dataclasses.asdict(self.holder)
        partition = None if self.partition is None else dict(self.partition)
        times = {"created": _iso(self.created), "expires": _iso(self.expires)}
        return json.dumps({"owner": self.owner, "partition": partition, **holder, **times}).encode()


@dataclass
class PartitionLeases:
    """The leases one call took, and who holds the partitions it could not lease.

    Attributes:
        held: Our lease of each partition we hold.
        refused: For each partition another compaction holds, who and until when.
    """

    held: dict[PartitionKey, Lease] = field(default_factory=dict)
    refused: dict[PartitionKey, str] = field(default_factory=dict)


def lease_seconds(seconds: float | None = None) -> float:
    """The lease lifetime: ``seconds`` if given, else :data:`LEASE_SECONDS_ENV` if set,
    else the default.

    Raises:
        InvalidOptionError: ``seconds`` or the variable is not a positive number.
    """
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise InvalidOptionError(f"lease_seconds must be a number, got {seconds!r}")
        if not (math.isfinite(seconds) and seconds > 0):
            raise InvalidOptionError(f"lease_seconds must be positive and finite, got {seconds}")
        return float(seconds)
    raw = os.environ.get(LEASE_SECONDS_ENV)
    if raw is None:
        return DEFAULT_LEASE_SECONDS
    try:
        parsed = float(raw)
    except ValueError:
        parsed = math.nan
    if not (math.isfinite(parsed) and parsed > 0):
        raise InvalidOptionError(
            f"{LEASE_SECONDS_ENV} must be a positive number of seconds, got {raw!r}; "
            f"unset it to use the default of {DEFAULT_LEASE_SECONDS:g}"
        )
    return parsed


def lease_path(table_path: str, partition: PartitionKey, generation: int) -> str:
    """The file of one generation of a lease of a partition of the table at ``table_path``."""
    return f"{table_path.rstrip('/')}/{LEASE_ROOT}/{_digest(partition)}.{generation:010d}.json"


@contextmanager
def leased(
    fs: Any,
    table_path: str,
    partitions: Iterable[PartitionKey],
    *,
    seconds: float | None = None,
) -> Iterator[PartitionLeases]:
    """Take the leases of ``partitions`` for the duration of the block.

    Partitions another compaction holds are listed in ``refused``, not waited for. Our
    leases are renewed while the block runs and deleted when it ends, however it ends.

    Args:
        fs: The table's fsspec filesystem.
        table_path: The table, as a path of ``fs``.
        partitions: The partitions to lease.
        seconds: The lease lifetime; ``None``: see :func:`lease_seconds`.

    Raises:
        InvalidOptionError: the lifetime is invalid (nothing was written).
        StorageError: the storage refused to list or create lease files.
    """
    lifetime = lease_seconds(seconds)
    taken = PartitionLeases()
    renewer = _Renewer(fs, taken.held, lifetime)
    try:
        superseded = _acquire(fs, table_path, tuple(partitions), lifetime, taken)
        if taken.held:
            renewer.start()
        if "dead" in superseded and not _is_local(fs):
            # A request the dead holder had fully sent (its last commit) may still be
            # completed by the store for a moment after its death; a local write is
            # complete when the process dies.
            time.sleep(DEAD_HOLDER_GRACE_SECONDS)
        yield taken
    finally:
        renewer.stop()
        for lease in taken.held.values():
            _delete(fs, lease.path)  # best effort: an unreleased lease lapses on its own


def table_leases(fs: Any, table_path: str) -> list[Lease]:
    """Every lease of the table at ``table_path``, sorted by partition then path.

    Raises:
        InvalidOptionError: :data:`LEASE_SECONDS_ENV` is invalid.
        StorageError: the storage refused to list the leases.
    """
    seconds = lease_seconds()  # how long an unreadable lease file counts as live
    leases = [
        lease
        for paths in _listing(fs, table_path).values()
        for path in paths.values()
        if (lease := _read(fs, path, seconds)) is not None
    ]
    return sorted(leases, key=lambda lease: (lease.partition or (), lease.path))


def release(fs: Any, lease: Lease) -> None:
    """Delete a lease file.

    Raises:
        StorageError: the storage refused the deletion.
    """
    try:
        fs.rm_file(lease.path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StorageError(f"cannot delete compaction lease {lease.path}: {exc}") from exc


def _acquire(
    fs: Any,
    table_path: str,
    partitions: tuple[PartitionKey, ...],
    seconds: float,
    taken: PartitionLeases,
) -> set[LeaseState]:
    """Take what can be taken into ``taken``; return the states of the stale leases of
    the partitions we now hold (``dead``, ``expired``)."""
    now = time.time()
    template = Lease("", uuid.uuid4().hex, this_process(), None, now, now + seconds)
    found = _listing(fs, table_path)
    for partition in partitions:
        existing = found.get(_digest(partition), {})
        blocking = _live(_read(fs, path, seconds) for path in existing.values())
        if blocking is not None:
            taken.refused[partition] = blocking.describe()
            continue
        generation = max(existing, default=0) + 1
        lease = dataclasses.replace(
            template, path=lease_path(table_path, partition, generation), partition=partition
        )
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
    superseded: set[LeaseState] = set()
    for partition, lease in list(taken.held.items()):
        others = [
            _read(fs, path, seconds)
            for path in found.get(_digest(partition), {}).values()
            if path != lease.path
        ]
        blocking = _live(others)
        if blocking is not None:
            del taken.held[partition]
            taken.refused[partition] = blocking.describe()
            _delete(fs, lease.path)
            continue
        for stale in others:  # leases of killed compactions: expired, or their holder dead
            if stale is not None:
                superseded.add(stale.state())
                _delete(fs, stale.path)
    return superseded


def _listing(fs: Any, table_path: str) -> dict[str, dict[int, str]]:
    """Lease files per partition digest and generation, from one listing of the lease
    folder."""
    root = f"{table_path.rstrip('/')}/{LEASE_ROOT}"
    fs.invalidate_cache(root)  # s3fs caches listings; another process may have written
    try:
        paths = fs.find(root)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StorageError(f"cannot list compaction leases under {root}: {exc}") from exc
    found: dict[str, dict[int, str]] = {}
    for path in paths:
        digest, _, rest = path.rpartition("/")[2].partition(".")
        generation, _, suffix = rest.partition(".")
        # Temporary files start with ".", so their digest is empty.
        if digest and generation.isdigit() and suffix == "json":
            found.setdefault(digest, {})[int(generation)] = path
    return found


def _digest(partition: PartitionKey) -> str:
    return hashlib.sha256(json.dumps(partition).encode()).hexdigest()


def _create(fs: Any, lease: Lease) -> bool:
    """Create the lease file unless it exists; whether we created it."""
    for _ in range(_CREATE_ATTEMPTS):
        try:
            _create_whole(fs, lease.path, lease.to_json(), lease.owner)
            return True
        except FileExistsError:
            return False
        except FileNotFoundError:  # local disk: the table's first lease
            fs.makedirs(lease.path.rpartition("/")[0], exist_ok=True)
        except OSError as exc:
            # Some S3-compatible stores refuse a conditional write without saying why.
            with suppress(OSError):
                fs.cat_file(lease.path)
                return False
            raise StorageError(f"cannot create compaction lease {lease.path}: {exc}") from exc
    raise StorageError(
        f"cannot create compaction lease {lease.path}: its folder vanished "
        f"{_CREATE_ATTEMPTS} times in a row; is something deleting {LEASE_ROOT}?"
    )


def _create_whole(fs: Any, path: str, content: bytes, owner: str) -> None:
    """Create ``path`` with ``content`` unless it exists, never visible half-written: a
    compaction killed while taking a lease must not leave a file nobody can read.

    Raises:
        FileExistsError: ``path`` exists.
        FileNotFoundError: its folder does not exist.
    """
    if not _is_local(fs):
        with fs.open(path, "xb") as handle:  # one conditional PUT: whole or absent
            handle.write(content)
        return
    folder, _, name = path.rpartition("/")
    temporary = f"{folder}/.{name}.{owner}.creating"  # one per taker: takers may race
    fs.pipe_file(temporary, content)
    try:
        # A hard link is made only if the name is free, and appears with all its content.
        os.link(LocalFileSystem._strip_protocol(temporary), LocalFileSystem._strip_protocol(path))
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        with fs.open(path, "xb") as handle:  # a filesystem without hard links
            handle.write(content)
    finally:
        with suppress(OSError):
            fs.rm_file(temporary)


def _read(fs: Any, path: str, seconds: float) -> Lease | None:
    """The lease at ``path``; ``None`` if it is gone. An unreadable file (a filesystem
    without hard links can show one half-created) counts as live for a whole lifetime
    from its modification time."""
    try:
        data = json.loads(fs.cat_file(path))
        partition = data.get("partition")
        return Lease(
            path=path,
            owner=str(data["owner"]),
            holder=Holder(
                host=str(data["host"]),
                pid=int(data["pid"]),
                boot_id=_optional(data, "boot_id", str),
                pid_namespace=_optional(data, "pid_namespace", str),
                start_time=_optional(data, "start_time", int),
            ),
            partition=None
            if partition is None
            else tuple((str(column), str(value)) for column, value in partition.items()),
            created=dt.datetime.fromisoformat(data["created"]).timestamp(),
            expires=dt.datetime.fromisoformat(data["expires"]).timestamp(),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, AttributeError):
        try:
            modified = fs.modified(path).timestamp()
        except FileNotFoundError:
            return None
        except Exception:  # a store without modification times
            modified = time.time()
        unknown = Holder(host="?", pid=0)
        return Lease(
            path, "unknown (lease file unreadable)", unknown, None, modified, modified + seconds
        )


def _optional(data: dict[str, Any], name: str, kind: type[Any]) -> Any:
    value = data.get(name)
    return None if value is None else kind(value)


def _live(leases: Iterable[Lease | None]) -> Lease | None:
    """The live lease expiring last, if any (a provably dead holder's is not live)."""
    now = time.time()
    live = [lease for lease in leases if lease is not None and lease.state(now) == "live"]
    return max(live, key=lambda lease: lease.expires, default=None)


def _delete(fs: Any, path: str) -> None:
    """Delete a lease, ignoring failures: a lease left behind lapses on its own, and the
    next taker deletes it."""
    with suppress(Exception):
        fs.rm_file(path)
    if _is_local(fs):
        with suppress(Exception):
            fs.rm_file(_temporary(path))  # a renewal a crash interrupted


def _is_local(fs: Any) -> bool:
    return isinstance(fs, LocalFileSystem)


def _temporary(path: str) -> str:
    folder, _, name = path.rpartition("/")
    return f"{folder}/.{name}.renewing"  # not a lease name: listings skip it


def _replace(fs: Any, path: str, content: bytes) -> None:
    """Replace the file at ``path`` whole: a reader sees the old content or the new."""
    if _is_local(fs):
        # fsspec's local mv is shutil.move, which is os.rename within one filesystem: an
        # atomic replacement on POSIX (and os.replace semantics on Windows).
        temporary = _temporary(path)
        fs.pipe_file(temporary, content)
        fs.mv(temporary, path)
    else:
        fs.pipe_file(path, content)  # one PUT: an object store replaces objects whole


def _iso(timestamp: float) -> str:
    # Milliseconds: a lease of a second or less must not lapse early by rounding.
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="milliseconds")


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
                    _replace(self._fs, lease.path, renewed.to_json())
                    self._held[partition] = renewed
