"""Who holds a lease, and whether that process is provably dead.

A lease records its holder's host name, the kernel's boot id, the pid namespace, the pid
and the process start time (clock ticks since boot, field 22 of ``/proc/<pid>/stat``).
On the same host, boot and pid namespace, a pid that no longer exists, or that is the
holder itself (same start time) exited but not yet reaped, proves the holder is gone: its
lease can be taken over at once. Everything else proves nothing, and the lease keeps
blocking until it lapses: another host, no ``/proc``, a field missing, a process we cannot
read, and a live pid with another start time (most likely a reused pid, but a start time
recorded under another clock, after a container checkpoint and restore for one, looks the
same, and taking over a live holder duplicates rows).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True)
class Holder:
    """A process, as a lease records it.

    Attributes:
        host: Its host name.
        pid: Its process id.
        boot_id: The kernel's boot id (``None`` where the system has none).
        pid_namespace: Its pid namespace, e.g. ``"pid:[4026531836]"`` (``None``: unknown).
        start_time: When it started, in clock ticks since boot (``None``: unknown).
    """

    host: str
    pid: int
    boot_id: str | None = None
    pid_namespace: str | None = None
    start_time: int | None = None


def this_process() -> Holder:
    """The calling process."""
    pid = os.getpid()
    return Holder(
        host=socket.gethostname(),
        pid=pid,
        boot_id=_boot_id(),
        pid_namespace=_pid_namespace(),
        start_time=_start_time(pid),
    )


def is_provably_dead(holder: Holder) -> bool:
    """Whether ``holder`` ran on this host, in this boot and pid namespace, and is gone.

    ``False`` means "not proven", never "alive": the caller then waits for the lease to
    lapse.
    """
    if holder.pid <= 0:  # not a process: os.kill would address a process group
        return False
    here = this_process()
    if None in (holder.boot_id, holder.pid_namespace, holder.start_time, here.start_time):
        return False
    if (holder.host, holder.boot_id, holder.pid_namespace) != (
        here.host,
        here.boot_id,
        here.pid_namespace,
    ):
        return False
    if not _proc_shows_our_namespace():
        return False
    try:
        os.kill(holder.pid, 0)  # unlike /proc, not hidden by hidepid for other users' pids
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists, run by another user
    except OSError:
        return False
    fields = _stat_fields(holder.pid)
    if fields is None or len(fields) < 20 or not fields[19].isdigit():
        return False  # it exists but we cannot read it (or it ended just now): unproven
    # The holder itself, exited and not yet reaped. Another start time proves nothing.
    return int(fields[19]) == holder.start_time and fields[0] in ("Z", "X")


def _boot_id() -> str | None:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _pid_namespace() -> str | None:
    try:
        return os.readlink(_PROC / "self/ns/pid")
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3 onwards of ``/proc/<pid>/stat`` (after the command name, which may hold
    spaces and parentheses), or ``None`` if unreadable: state is ``[0]``, start time
    (field 22) ``[19]``."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    _, closing, rest = text.rpartition(")")
    return rest.split() if closing else None


def _start_time(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 and fields[19].isdigit() else None


def _proc_shows_our_namespace() -> bool:
    """Whether ``/proc`` is mounted for our own pid namespace: only then does a pid
    missing from it mean the process is gone."""
    try:
        return int((_PROC / "self/stat").read_text().partition(" ")[0]) == os.getpid()
    except (OSError, ValueError):
        return False
