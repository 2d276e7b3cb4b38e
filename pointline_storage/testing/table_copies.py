"""Sample tables written once per test session and copied into each test's root.

Writing a sample table takes one commit per round of small files; copying its folder takes
one file copy per file. On local disk copying is cheaper; on ``moto_server`` it is
not: every request costs about the same, and a copy (fsspec's asks for each object's size,
then ``CopyObject``) needs as many as the write. A backend's fixtures opt in by overriding
``create_table`` with a session-scoped :class:`TableCopies`::

    @pytest.fixture(scope="session")
    @classmethod
    def table_copies(cls, tmp_path_factory):
        return TableCopies(LocalFileSystem(), str(tmp_path_factory.mktemp("sample-tables")))

    @pytest.fixture
    def create_table(self, backend, table_copies, tmp_path):
        return lambda table: table_copies.create(
            table, backend=backend, table_path=f"{tmp_path}/silver/{table.name}"
        )

Only formats whose tables hold no absolute path of their own files can be copied so
(Delta logs and Hive layouts hold relative paths).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pointline_storage import Backend
from pointline_storage.testing.fixtures import SampleTable

#: Copies every file under one folder of a filesystem to another folder of it.
CopyFolder = Callable[[Any, str, str], None]


def copy_folder(fs: Any, source: str, target: str) -> None:
    """Copy every file under ``source`` to ``target`` with fsspec's recursive copy.

    fsspec's local filesystem copies bytes (no links, so a test corrupting its copy in
    place leaves the cached table intact); s3fs copies on the server.
    """
    fs.copy(source.rstrip("/") + "/", target.rstrip("/"), recursive=True)


class TableCopies:
    """Each distinct :class:`SampleTable`, written once and copied for every test.

    Args:
        fs: The fsspec filesystem holding both the cache and the tests' tables.
        cache_path: A folder of ``fs`` that no test writes to, kept for the session.
        copy: How to copy a table's folder (default :func:`copy_folder`).
    """

    def __init__(self, fs: Any, cache_path: str, *, copy: CopyFolder = copy_folder) -> None:
        self.fs = fs
        self.cache_path = cache_path.rstrip("/")
        self.copy = copy
        self._cached: dict[SampleTable, str] = {}

    def __repr__(self) -> str:
        return f"TableCopies(cache_path={self.cache_path!r}, tables={len(self._cached)})"

    def create(self, table: SampleTable, *, backend: Backend, table_path: str) -> str:
        """Create ``table`` at ``table_path`` (where ``backend`` keeps it); return its name.

        The first time, the backend writes it and a copy is cached; afterwards the cached
        copy is copied there. A cache that vanished (a storage server reset since) is
        written again.
        """
        cached = self._cached.get(table)
        if cached is not None and self.fs.exists(cached):
            self.copy(self.fs, cached, table_path)
            return table.name
        table.write(backend)
        layout = "-".join(table.partition_by) or "unpartitioned"
        cached = f"{self.cache_path}/{table.name}-{table.files_per_partition}-{layout}"
        if self.fs.exists(cached):  # a partial copy: the old files must not mix in
            self.fs.rm(cached, recursive=True)
        self.fs.makedirs(self.cache_path, exist_ok=True)
        self.copy(self.fs, table_path, cached)
        self._cached[table] = cached
        return table.name
