"""Conformance-suite fixtures for ``hive-parquet``, on any fsspec filesystem.

The checks read the tables with pyarrow's own Hive dataset discovery, not through the
backend, so the suite can catch the backend lying. Override ``root_url`` and
``storage_options`` to run the suite on other storage::

    class S3Fixtures(HiveParquetFixtures):
        @pytest.fixture
        def root_url(self, bucket):
            return f"s3://{bucket}/warehouse"

        @pytest.fixture
        def storage_options(self, s3_endpoint):
            return {"endpoint_url": s3_endpoint, "key": "...", "secret": "..."}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from pointline_storage import Backend, PartitionKey, load_backend, render_stored_value
from pointline_storage.testing import BackendFixtures

#: The entry-point name the fixtures load.
BACKEND_NAME = "hive-parquet"


class HiveParquetFixtures(BackendFixtures):
    """Fixtures for ``hive-parquet`` tables below ``root_url`` (default: a temporary dir)."""

    supports_table_versions = False
    vacuum_removes_superseded_files = False
    # Directory names carry no type: timestamps and decimals are read as strings.
    supports_timestamp_partitions = False
    supports_decimal_partitions = False
    supports_partitions_per_commit = False

    @pytest.fixture
    def root_url(self, tmp_path: Path) -> str:
        """Where this test's tables live: an empty directory or prefix, new per test."""
        return str(tmp_path / "warehouse")

    @pytest.fixture
    def storage_options(self) -> dict[str, str]:
        """fsspec options reaching ``root_url`` (none for local disk)."""
        return {}

    @pytest.fixture
    def make_backend(self, root_url: str, storage_options: dict[str, str]) -> Callable[[], Backend]:
        return lambda: load_backend(BACKEND_NAME, root=root_url, storage_options=storage_options)

    @pytest.fixture
    def table_dataset(
        self, root_url: str, storage_options: dict[str, str]
    ) -> Callable[[str], tuple[ds.FileSystemDataset, str]]:
        """Return a function opening a table as a pyarrow Hive dataset, with its root path."""

        def open_dataset(name: str) -> tuple[ds.FileSystemDataset, str]:
            fs, root = fsspec.core.url_to_fs(f"{root_url.rstrip('/')}/{name}", **storage_options)
            fs.invalidate_cache()
            dataset = ds.dataset(root, filesystem=fs, format="parquet", partitioning="hive")
            return dataset, root.rstrip("/")

        return open_dataset

    @pytest.fixture
    def read_rows(
        self, table_dataset: Callable[[str], tuple[ds.FileSystemDataset, str]]
    ) -> Callable[[str], pa.Table]:
        return lambda name: table_dataset(name)[0].to_table()

    @pytest.fixture
    def table_version(self) -> Callable[[str], None]:
        return lambda name: None

    @pytest.fixture
    def data_files(
        self, table_dataset: Callable[[str], tuple[ds.FileSystemDataset, str]]
    ) -> Callable[[str], dict[PartitionKey, frozenset[str]]]:
        def files(name: str) -> dict[PartitionKey, frozenset[str]]:
            dataset, root = table_dataset(name)
            columns = dataset.partitioning.schema.names if dataset.partitioning else []
            grouped: dict[PartitionKey, set[str]] = {}
            for fragment in dataset.get_fragments():
                values: dict[str, Any] = ds.get_partition_keys(fragment.partition_expression)
                key = tuple((column, render_stored_value(values.get(column))) for column in columns)
                grouped.setdefault(key, set()).add(fragment.path[len(root) + 1 :])
            return {key: frozenset(paths) for key, paths in grouped.items()}

        return files

    @pytest.fixture
    def corrupt_partition(
        self,
        table_dataset: Callable[[str], tuple[ds.FileSystemDataset, str]],
        data_files: Callable[[str], dict[PartitionKey, frozenset[str]]],
    ) -> Callable[[str, Mapping[str, object]], None]:
        def corrupt(name: str, spec: Mapping[str, object]) -> None:
            dataset, root = table_dataset(name)
            key = tuple((column, render_stored_value(value)) for column, value in spec.items())
            victim = sorted(data_files(name)[key])[0]
            with dataset.filesystem.open_output_stream(f"{root}/{victim}") as handle:
                handle.write(b"not a parquet file")

        return corrupt
