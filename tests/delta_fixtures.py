"""Fixtures binding the conformance suite to the Delta backends."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from pointline_storage import Backend, PartitionKey, canonical_value, load_backend
from pointline_storage.testing import BackendFixtures


def partition_key(values: Mapping[str, object], columns: list[str]) -> PartitionKey:
    """A partition's canonical key from typed values, as the engine stores them."""
    return tuple((column, canonical_value(values[column], "other")) for column in columns)


class DeltaLocalFixtures(BackendFixtures):
    """The ``delta-local`` backend on a fresh temporary directory."""

    @pytest.fixture
    def root(self, tmp_path: Path) -> Path:
        return tmp_path / "silver"

    @pytest.fixture
    def make_backend(self, root: Path) -> Callable[[], Backend]:
        return lambda: load_backend("delta-local", root=root)

    @pytest.fixture
    def table_uri(self, root: Path) -> Callable[[str], str]:
        return lambda table_name: str(root / table_name)

    @pytest.fixture
    def read_rows(self, table_uri: Callable[[str], str]) -> Callable[[str], pa.Table]:
        return lambda table_name: DeltaTable(table_uri(table_name)).to_pyarrow_table()

    @pytest.fixture
    def table_version(self, table_uri: Callable[[str], str]) -> Callable[[str], int]:
        return lambda table_name: DeltaTable(table_uri(table_name)).version()

    @pytest.fixture
    def data_files(
        self, table_uri: Callable[[str], str]
    ) -> Callable[[str], dict[PartitionKey, frozenset[str]]]:
        def files(table_name: str) -> dict[PartitionKey, frozenset[str]]:
            table = DeltaTable(table_uri(table_name))
            columns = table.metadata().partition_columns
            grouped: dict[PartitionKey, set[str]] = {}
            for action in pa.table(table.get_add_actions(flatten=True)).to_pylist():
                values = {column: action[f"partition.{column}"] for column in columns}
                grouped.setdefault(partition_key(values, columns), set()).add(action["path"])
            return {partition: frozenset(paths) for partition, paths in grouped.items()}

        return files

    @pytest.fixture
    def corrupt_partition(
        self, table_uri: Callable[[str], str], data_files: Callable[[str], dict]
    ) -> Callable[[str, Mapping[str, object]], None]:
        def corrupt(table_name: str, spec: Mapping[str, object]) -> None:
            wanted = partition_key(spec, list(spec))
            victim = sorted(data_files(table_name)[wanted])[0]
            Path(table_uri(table_name), victim).write_bytes(b"not a parquet file")

        return corrupt
