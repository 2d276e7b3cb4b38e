"""Tables of the conformance suite written once per test session, copied for each test.

Writing a table of small files takes one commit per round of files; copying its folder
takes one file copy per file. On local disk copying is cheaper; on ``moto_server`` it is
not: every request costs about the same, and a copy (fsspec's asks for each object's size,
then ``CopyObject``) needs as many as the write. A backend's fixtures opt in by wrapping
their ``write_table`` with a session-scoped :class:`TableCopies`::

    @pytest.fixture(scope="session")
    @classmethod
    def table_copies(cls, tmp_path_factory):
        return TableCopies(LocalFileSystem(), str(tmp_path_factory.mktemp("tables")))

    @pytest.fixture
    def write_table(self, backend, table_copies, tmp_path):
        def write(name, rows, partition_by, rows_per_file):
            backend.write_sample_table(
                name, rows=rows, partition_by=partition_by, rows_per_file=rows_per_file
            )

        return table_copies.wrap(write, lambda name: f"{tmp_path}/silver/{name}")

Only formats whose tables hold no absolute path of their own files can be copied so
(Delta logs and Hive layouts hold relative paths).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from pointline_storage.testing.fixtures import WriteTable

#: Copies every file under one folder of a filesystem to another folder of it.
CopyFolder = Callable[[Any, str, str], None]


def copy_folder(fs: Any, source: str, target: str) -> None:
    """Copy every file under ``source`` to ``target`` with fsspec's recursive copy.

    fsspec's local filesystem copies bytes (no links, so a test corrupting its copy in
    place leaves the cached table intact); s3fs copies on the server.
    """
    fs.copy(source.rstrip("/") + "/", target.rstrip("/"), recursive=True)


class TableCopies:
    """Each distinct table, written once and copied for every test that writes it again.

    A table is known by what was written: its rows (schema and values), partition columns
    and rows per file; its name does not matter.

    Args:
        fs: The fsspec filesystem holding both the cache and the tests' tables.
        cache_path: A folder of ``fs`` that no test writes to, kept for the session.
        copy: How to copy a table's folder (default :func:`copy_folder`).
    """

    def __init__(self, fs: Any, cache_path: str, *, copy: CopyFolder = copy_folder) -> None:
        self.fs = fs
        self.cache_path = cache_path.rstrip("/")
        self.copy = copy
        self._cached: set[str] = set()

    def __repr__(self) -> str:
        return f"TableCopies(cache_path={self.cache_path!r}, tables={len(self._cached)})"

    def wrap(self, write: WriteTable, path_of: Callable[[str], str]) -> WriteTable:
        """``write``, made to copy a table written before instead of writing it again.

        ``path_of(name)`` is the folder of ``fs`` where ``write`` puts table ``name``. The
        first time a table is written, a copy is cached; afterwards the cached copy is
        copied there. A table whose folder exists already is passed to ``write`` (which
        refuses it), and a cache that vanished (a storage server reset) is written again.
        """

        def cached_write(
            name: str, rows: pa.Table, partition_by: tuple[str, ...], rows_per_file: int
        ) -> None:
            target = path_of(name)
            cached = f"{self.cache_path}/{_digest(rows, partition_by, rows_per_file)}"
            if self.fs.exists(target):
                write(name, rows, partition_by, rows_per_file)
            elif cached in self._cached and self.fs.exists(cached):
                self.copy(self.fs, cached, target)
            else:
                write(name, rows, partition_by, rows_per_file)
                if self.fs.exists(cached):  # a partial copy: its files must not mix in
                    self.fs.rm(cached, recursive=True)
                self.fs.makedirs(self.cache_path, exist_ok=True)
                self.copy(self.fs, target, cached)
                self._cached.add(cached)

        return cached_write


def _digest(rows: pa.Table, partition_by: tuple[str, ...], rows_per_file: int) -> str:
    """What a table was written from, as a folder name: equal names, equal tables."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, rows.schema) as stream:
        stream.write_table(rows)
    digest = hashlib.sha256(sink.getvalue().to_pybytes())
    digest.update(repr((tuple(partition_by), rows_per_file)).encode())
    return digest.hexdigest()[:32]
