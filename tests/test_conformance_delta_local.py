"""The shipped conformance suite, run against the ``delta-local`` backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pointline_storage_delta.testing import DeltaFixtures

from pointline_storage import Backend, load_backend
from pointline_storage.testing import AbstractBackendTests


class DeltaLocalFixtures(DeltaFixtures):
    """``delta-local`` on a fresh temporary directory."""

    @pytest.fixture
    def make_backend(self, tmp_path: Path) -> Callable[[], Backend]:
        return lambda: load_backend("delta-local", root=tmp_path / "silver")

    @pytest.fixture
    def table_uri(self, tmp_path: Path) -> Callable[[str], str]:
        return lambda name: str(tmp_path / "silver" / name)


class TestDeltaLocal(AbstractBackendTests, DeltaLocalFixtures):
    """Every conformance test on local disk."""
