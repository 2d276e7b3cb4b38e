"""Conformance-suite fixtures for backends that store Delta tables.

Any backend writing Delta tables (``delta-local``, or a third party's on other storage)
gets ``read_rows``, ``data_files``, ``table_version`` and ``corrupt_partition`` from here
by overriding two fixtures: ``make_backend`` and ``table_uri``. :class:`DeltaS3Fixtures`
does that for ``delta-s3`` on the ``moto_server`` of ``pointline_storage.testing.s3``.

Sample tables are written for every test unless ``table_copies`` is overridden with a
session-scoped :class:`~pointline_storage.testing.table_copies.TableCopies` on the tables'
filesystem: then each is written once and copied. A Delta log names its files relative
to the table, so a copied table is a valid table.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import fsspec
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from pointline_storage import Backend, PartitionKey, load_backend, render_stored_value
from pointline_storage.testing import BackendFixtures
from pointline_storage.testing.fixtures import WriteTable
from pointline_storage.testing.s3 import MotoServer
from pointline_storage.testing.table_copies import TableCopies
from pointline_storage_delta.s3_options import s3_settings


def partition_key(values: Mapping[str, object], columns: list[str]) -> PartitionKey:
    """A partition's canonical key from typed values, in the table's column order."""
    return tuple((column, render_stored_value(values[column])) for column in columns)


class DeltaFixtures(BackendFixtures):
    """Fixtures reading Delta tables directly with deltalake, independently of the backend."""

    supports_sort_by = True

    @pytest.fixture
    def table_uri(self) -> Callable[[str], str]:
        """Return a function giving the URI deltalake opens for a table name."""
        raise NotImplementedError("override the 'table_uri' fixture")

    @pytest.fixture
    def storage_options(self) -> dict[str, str]:
        """Options deltalake and fsspec need to reach the tables (none for local disk)."""
        return {}

    @pytest.fixture
    def table_filesystem(self) -> Callable[[str], tuple[Any, str]]:
        """Return a function giving the fsspec filesystem and path of a table URI."""
        return lambda uri: fsspec.core.url_to_fs(uri)

    @pytest.fixture
    def table_copies(self) -> TableCopies | None:
        """Sample tables kept for the session and copied into each test's root.

        ``None`` (the default) writes every test's tables anew. Override it with a
        session-scoped fixture returning a ``TableCopies`` on the tables' filesystem.
        """
        return None

    @pytest.fixture
    def write_table(
        self,
        backend: Backend,
        table_uri: Callable[[str], str],
        table_filesystem: Callable[[str], tuple[Any, str]],
        table_copies: TableCopies | None,
    ) -> WriteTable:
        """Write through ``write_sample_table``, or copy from ``table_copies`` if there is one."""

        def write(name: str, rows: pa.Table, partition_by: tuple[str, ...], per_file: int) -> None:
            backend.write_sample_table(
                name, rows=rows, partition_by=partition_by, rows_per_file=per_file
            )

        if table_copies is None:
            return write
        return table_copies.wrap(write, lambda name: table_filesystem(table_uri(name))[1])

    @pytest.fixture
    def open_table(
        self, table_uri: Callable[[str], str], storage_options: dict[str, str]
    ) -> Callable[[str], DeltaTable]:
        """Return a function loading the latest version of a table."""
        return lambda name: DeltaTable(table_uri(name), storage_options=storage_options or None)

    @pytest.fixture
    def read_rows(self, open_table: Callable[[str], DeltaTable]) -> Callable[[str], pa.Table]:
        return lambda name: open_table(name).to_pyarrow_table()

    @pytest.fixture
    def table_version(self, open_table: Callable[[str], DeltaTable]) -> Callable[[str], int]:
        return lambda name: open_table(name).version()

    @pytest.fixture
    def data_files(
        self, open_table: Callable[[str], DeltaTable]
    ) -> Callable[[str], dict[PartitionKey, frozenset[str]]]:
        def files(name: str) -> dict[PartitionKey, frozenset[str]]:
            table = open_table(name)
            columns = table.metadata().partition_columns
            grouped: dict[PartitionKey, set[str]] = {}
            for action in pa.table(table.get_add_actions(flatten=True)).to_pylist():
                values = {column: action[f"partition.{column}"] for column in columns}
                # The log stores URI-encoded paths; reports name files as they are on disk.
                on_disk = urllib.parse.unquote(action["path"])
                grouped.setdefault(partition_key(values, columns), set()).add(on_disk)
            return {partition: frozenset(paths) for partition, paths in grouped.items()}

        return files

    @pytest.fixture
    def corrupt_partition(
        self,
        table_uri: Callable[[str], str],
        table_filesystem: Callable[[str], tuple[Any, str]],
        open_table: Callable[[str], DeltaTable],
        data_files: Callable[[str], dict[PartitionKey, frozenset[str]]],
    ) -> Callable[[str, Mapping[str, object]], None]:
        def corrupt(name: str, spec: Mapping[str, object]) -> None:
            columns = open_table(name).metadata().partition_columns
            victim = sorted(data_files(name)[partition_key(spec, columns)])[0]
            fs, root = table_filesystem(table_uri(name))
            with fs.open(f"{root.rstrip('/')}/{victim}", "wb") as handle:
                handle.write(b"not a parquet file")

        return corrupt


class DeltaS3Fixtures(DeltaFixtures):
    """``delta-s3`` on a fresh bucket of the session's ``moto_server``.

    Needs ``pytest_plugins = ["pointline_storage.testing.s3"]`` in a ``conftest.py``.
    Tables live under ``s3://<bucket>/<prefix>``; set ``prefix = ""`` for the bucket root.
    Sample tables are written anew in every test: on ``moto_server`` a server-side copy
    of a cached table (one ``CopyObject`` per object) costs as much as deltalake's write.
    """

    prefix = "warehouse/silver"

    @pytest.fixture
    def storage_options(self, moto_server: MotoServer) -> dict[str, str]:
        return moto_server.storage_options()

    @pytest.fixture
    def s3_root(self, s3_bucket: str) -> str:
        """The backend root: the bucket, plus ``prefix`` if any."""
        return f"s3://{s3_bucket}/{self.prefix}".rstrip("/")

    @pytest.fixture
    def make_backend(self, s3_root: str, storage_options: dict[str, str]) -> Callable[[], Backend]:
        return lambda: load_backend("delta-s3", root=s3_root, storage_options=storage_options)

    @pytest.fixture
    def table_uri(self, s3_root: str) -> Callable[[str], str]:
        return lambda name: f"{s3_root}/{name}"

    @pytest.fixture
    def table_filesystem(self, storage_options: dict[str, str]) -> Callable[[str], tuple[Any, str]]:
        options = s3_settings(storage_options).filesystem_options
        return lambda uri: fsspec.core.url_to_fs(uri, **options)
