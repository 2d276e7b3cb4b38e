"""The ``store`` fixture: every reliability test runs once per storage backend."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from reliability.store import Store


@pytest.fixture(params=["delta-local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh, empty root on one backend's storage (add a param per backend)."""
    root = tmp_path / "silver"
    root.mkdir()
    return Store(
        backend_name=request.param,
        root=str(root),
        storage_options={},
        fs=fsspec.filesystem("file"),
        fs_root=str(root),
    )
