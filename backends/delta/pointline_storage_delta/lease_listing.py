"""The ``list_leases`` hook: a table's leases as a report, and releasing the stale ones."""

from __future__ import annotations

import datetime as dt
import time

from pointline_storage import LeaseInfo, LeaseState, TableLeases, TableLocation
from pointline_storage_delta.leases import Lease, release, table_leases


def list_leases(location: TableLocation, *, table_name: str, release_stale: bool) -> TableLeases:
    """Every lease of the table; with ``release_stale``, delete the expired and dead ones.

    Raises:
        StorageError: the storage refused to list or delete lease files.
    """
    now = time.time()
    found = []
    for lease in table_leases(location.fs, location.path):
        state = lease.state(now)
        stale = release_stale and state != "live"
        if stale:
            release(location.fs, lease)
        found.append(_info(lease, state, location.path, released=stale))
    return TableLeases(table_name=table_name, leases=tuple(found), release_stale=release_stale)


def _info(lease: Lease, state: LeaseState, table_path: str, *, released: bool) -> LeaseInfo:
    return LeaseInfo(
        partition=lease.partition,
        state=state,
        owner=lease.owner,
        host=lease.holder.host,
        pid=lease.holder.pid,
        expires=dt.datetime.fromtimestamp(lease.expires, dt.timezone.utc),
        path=lease.path[len(table_path.rstrip("/")) + 1 :],
        released=released,
    )
