"""Reports on partition leases: which compaction holds which partition of a table.

Backends that lease partitions (the Delta ones) implement the optional ``list_leases``
hook; ``Backend.list_leases`` returns a :class:`TableLeases`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from pointline_storage.partitions import PartitionKey

#: ``live``: its holder may still be running, so it blocks its partition; ``dead``: its
#: holder ran on this host and is provably gone; ``expired``: nobody renewed it in time.
LeaseState = Literal["live", "dead", "expired"]


@dataclass(frozen=True)
class LeaseInfo:
    """One lease of a partition.

    Attributes:
        partition: The partition it holds; ``None`` when the lease file does not say (it
            is unreadable, or was written by an older version).
        state: See :data:`LeaseState`.
        owner: The id of the call that took it.
        host: The host name of its holder's process.
        pid: Its holder's process id.
        expires: When it lapses unless renewed (UTC).
        path: The lease file, relative to the table root.
        released: Whether this call deleted it (``release_stale``).
    """

    partition: PartitionKey | None
    state: LeaseState
    owner: str
    host: str
    pid: int
    expires: dt.datetime
    path: str
    released: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: the partition as an object, ``expires`` in ISO 8601."""
        return {
            "partition": None if self.partition is None else dict(self.partition),
            "state": self.state,
            "owner": self.owner,
            "host": self.host,
            "pid": self.pid,
            "expires": self.expires.isoformat(timespec="milliseconds"),
            "path": self.path,
            "released": self.released,
        }


@dataclass(frozen=True)
class TableLeases:
    """The leases of one table, as ``Backend.list_leases`` found them.

    Attributes:
        table_name: The table as the caller named it.
        leases: Every lease found, sorted by partition then path.
        release_stale: Whether the expired and dead leases were deleted.
    """

    table_name: str
    leases: tuple[LeaseInfo, ...]
    release_stale: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "table_name": self.table_name,
            "release_stale": self.release_stale,
            "leases": [lease.to_dict() for lease in self.leases],
        }
