"""The shipped conformance suite, run against the ``delta-local`` backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem
from pointline_storage_delta.testing import DeltaFixtures

from pointline_storage import Backend, load_backend
from pointline_storage.testing import AbstractBackendTests
from pointline_storage.testing.table_copies import TableCopies


class DeltaLocalFixtures(DeltaFixtures):
    """``delta-local`` on a fresh temporary directory; sample tables are written once per
    session and copied file by file."""

    @pytest.fixture(scope="session")
    @classmethod
    def table_copies(cls, tmp_path_factory: pytest.TempPathFactory) -> TableCopies:
        return TableCopies(LocalFileSystem(), str(tmp_path_factory.mktemp("sample-tables")))

    @pytest.fixture
    def make_backend(self, tmp_path: Path) -> Callable[[], Backend]:
        return lambda: load_backend("delta-local", root=tmp_path / "silver")

    @pytest.fixture
    def table_uri(self, tmp_path: Path) -> Callable[[str], str]:
        return lambda name: str(tmp_path / "silver" / name)


class TestDeltaLocal(AbstractBackendTests, DeltaLocalFixtures):
    """Every conformance test on local disk."""
