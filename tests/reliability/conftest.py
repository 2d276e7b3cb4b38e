"""The ``store`` fixture: every reliability test runs once per storage backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from pointline_storage.testing.s3 import MotoServer
from reliability.store import Store, filesystem


@pytest.fixture(params=["delta-local", "delta-s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh, empty root on one backend's storage: a temporary directory, or a fresh
    bucket of the session's moto_server."""
    if request.param == "delta-local":
        return request.getfixturevalue("local_store")  # type: ignore[no-any-return]
    server: MotoServer = request.getfixturevalue("moto_server")
    root = f"s3://{request.getfixturevalue('s3_bucket')}/silver"
    fs, fs_root = filesystem(root, server.storage_options())
    return Store(
        backend_name="delta-s3",
        root=root,
        storage_options=server.storage_options(),
        fs=fs,
        fs_root=fs_root,
        rounds=1,
        writer_pause=0.2,
    )


@pytest.fixture
def local_store(tmp_path: Path) -> Store:
    """A fresh, empty temporary directory served by delta-local."""
    root = tmp_path / "silver"
    root.mkdir()
    fs, fs_root = filesystem(str(root), {})
    return Store(
        backend_name="delta-local", root=str(root), storage_options={}, fs=fs, fs_root=fs_root
    )
