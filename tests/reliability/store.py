"""Where the reliability tests keep their tables, and independent views of those tables.

A :class:`Store` is a backend name, a root URI, the engine's storage options and an fsspec
filesystem on the same root. Every check reads the table with deltalake or lists the
storage with fsspec directly, never through the backend under test.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import fsspec
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from pointline_storage_delta.s3_options import s3_settings

from pointline_storage import Backend, load_backend

#: Environment variable carrying a store's settings to worker processes.
STORE_ENV = "POINTLINE_TEST_STORE"
PARTITION_BY = ["exchange", "day"]
SCHEMA = pa.schema(
    [
        ("exchange", pa.string()),
        ("day", pa.date32()),
        ("id", pa.string()),
        ("payload", pa.int64()),
    ]
)
EXCHANGES = ("sse", "szse")
DAYS = tuple(dt.date(2024, 1, 2) + dt.timedelta(days=offset) for offset in range(4))
#: Every partition of the standard table, as partition specs.
ALL_PARTITIONS = [{"exchange": e, "day": d} for e in EXCHANGES for d in DAYS]

Row = tuple[Any, ...]


def filesystem(url: str, storage_options: Mapping[str, str]) -> tuple[Any, str]:
    """The fsspec filesystem and path of ``url``, reached with deltalake's options."""
    if url.startswith("s3://"):
        return fsspec.core.url_to_fs(url, **s3_settings(storage_options).filesystem_options)
    return fsspec.core.url_to_fs(url)


@dataclass(frozen=True)
class Store:
    """One storage location under test.

    Attributes:
        backend_name: The entry-point name of the backend serving ``root``.
        root: The backend root (a path or URI).
        storage_options: What deltalake needs to reach ``root``.
        fs: An fsspec filesystem holding ``fs_root``, the same place as ``root``.
        fs_root: ``root`` as a path of ``fs``.
        rounds: How many rounds the many-round scenarios run here; S3 on moto answers
            each request in milliseconds, not microseconds, so it runs fewer.
        writer_pause: Seconds an appender waits between commits.
    """

    backend_name: str
    root: str
    storage_options: Mapping[str, str]
    fs: Any = field(repr=False)
    fs_root: str
    rounds: int = 3
    writer_pause: float = 0.05

    def backend(self) -> Backend:
        """A new backend instance on this store."""
        return load_backend(
            self.backend_name, root=self.root, storage_options=dict(self.storage_options)
        )

    def uri(self, table: str) -> str:
        """The URI deltalake opens for ``table``."""
        return f"{self.root.rstrip('/')}/{table}"

    def open(self, table: str, version: int | None = None) -> DeltaTable:
        """The table at its latest (or the given) version, read by deltalake directly."""
        return DeltaTable(
            self.uri(table), version=version, storage_options=dict(self.storage_options) or None
        )

    def rows(self, table: str, version: int | None = None) -> Counter[Row]:
        """The table's rows as a multiset, so a duplicated row shows up."""
        data = self.open(table, version).to_pyarrow_table().select(SCHEMA.names)
        return Counter(tuple(row.values()) for row in data.to_pylist())

    def sorted_rows(self, table: str) -> pa.Table:
        """The table's rows ordered by their unique id: equal tables compare equal, and a
        lost or duplicated row does not (cheaper than :meth:`rows` on large tables)."""
        return by_id(self.open(table).to_pyarrow_table())

    def live_files(self, table: str) -> set[str]:
        """Data files the latest version references, named as on disk."""
        actions = pa.table(self.open(table).get_add_actions(flatten=True))
        return {urllib.parse.unquote(path) for path in actions["path"].to_pylist()}

    def disk_files(self, table: str) -> dict[str, int]:
        """Every file under the table outside ``_delta_log``, with its size."""
        self.fs.invalidate_cache()
        base = f"{self.fs_root.rstrip('/')}/{table}/"
        found = self.fs.find(base, detail=True)
        return {
            name[len(base) :]: int(info["size"])
            for name, info in found.items()
            if not name[len(base) :].startswith("_delta_log/")
        }

    def referenced_files(self, table: str) -> set[str]:
        """Data files any commit of the log ever added, named as on disk."""
        self.fs.invalidate_cache()
        log = f"{self.fs_root.rstrip('/')}/{table}/_delta_log/"
        added = set()
        for name in self.fs.glob(log + "*.json"):
            for line in self.fs.cat_file(name).decode().splitlines():
                action = json.loads(line)
                if "add" in action:
                    added.add(urllib.parse.unquote(action["add"]["path"]))
        return added

    def commit(self, table: str, version: int) -> list[dict[str, Any]]:
        """The actions of one commit, read from the log."""
        self.fs.invalidate_cache()
        name = f"{self.fs_root.rstrip('/')}/{table}/_delta_log/{version:020}.json"
        return [json.loads(line) for line in self.fs.cat_file(name).decode().splitlines()]

    def worker_env(self) -> dict[str, str]:
        """The environment a worker process needs to reach this store."""
        settings = {
            "backend": self.backend_name,
            "root": self.root,
            "storage_options": dict(self.storage_options),
        }
        return {**os.environ, STORE_ENV: json.dumps(settings)}


def directory(spec: Mapping[str, object]) -> str:
    """A standard-table partition's folder, as the engine names it on disk."""
    return f"exchange={spec['exchange']}/day={spec['day']}/"


def rows_for(exchange: str, day: dt.date, ids: Iterable[str]) -> pa.Table:
    """Rows of one partition with the given ids (payload derived from the id)."""
    ids = list(ids)
    return pa.table(
        {
            "exchange": [exchange] * len(ids),
            "day": [day] * len(ids),
            "id": ids,
            "payload": [sum(map(ord, row_id)) for row_id in ids],
        },
        schema=SCHEMA,
    )


def by_id(table: pa.Table) -> pa.Table:
    """Rows of ``SCHEMA`` in id order."""
    return table.select(SCHEMA.names).sort_by("id")


def as_rows(table: pa.Table) -> Counter[Row]:
    """A pyarrow table of ``SCHEMA`` as a multiset of rows."""
    return Counter(tuple(row.values()) for row in table.select(SCHEMA.names).to_pylist())


def write_table(
    store: Store,
    table: str,
    *,
    files_per_partition: int,
    rows_per_file: int = 5,
    tag: str = "seed",
    configuration: Mapping[str, str] | None = None,
    partitions: Iterable[Mapping[str, Any]] = ALL_PARTITIONS,
) -> pa.Table:
    """Append ``files_per_partition`` commits, each adding one file to every partition
    (of ``partitions``).

    Creates the table if needed. Returns the rows written.
    """
    written = []
    for number in range(files_per_partition):
        batch = pa.concat_tables(
            rows_for(
                p["exchange"],
                p["day"],
                (f"{tag}-{p['exchange']}-{p['day']}-{number}-{i}" for i in range(rows_per_file)),
            )
            for p in partitions
        )
        write_deltalake(
            store.uri(table),
            batch,
            mode="append",
            partition_by=PARTITION_BY,
            configuration=dict(configuration) if configuration else None,
            storage_options=dict(store.storage_options) or None,
        )
        written.append(batch)
    return pa.concat_tables(written)


def committed_rows(events: Iterable[Mapping[str, Any]]) -> Counter[Row]:
    """The rows that append workers reported as committed."""
    rows: Counter[Row] = Counter()
    for event in events:
        if event["event"] == "committed":
            day = dt.date.fromisoformat(event["day"])
            rows += as_rows(rows_for(event["exchange"], day, event["ids"]))
    return rows


def assert_every_version_reads(store: Store, table: str, since: int = 0) -> int:
    """Load and read every version from ``since`` to the latest; return how many."""
    latest = store.open(table).version()
    for version in range(since, latest + 1):
        store.open(table, version).to_pyarrow_table()
    return latest + 1 - since
