"""Backend.spec: picklable, secrets masked in its repr; a backend refuses to pickle."""

from __future__ import annotations

import copy
import pickle

import cloudpickle  # installed with dask[distributed], which ships backends' specs with it
import pytest

from pointline_storage import Backend, BackendSpec, load_backend
from pointline_storage.redaction import MASK

SECRET = "s3cr3t-value-never-shown"


def test_spec_pickles_and_loads_an_equal_backend(tmp_path):
    backend = load_backend(
        "delta-local",
        root=tmp_path,
        table_paths={"elsewhere": tmp_path / "x"},
        storage_options={"AWS_SECRET_ACCESS_KEY": SECRET, "timeout": "5s"},
    )
    spec = backend.spec
    assert spec == BackendSpec(
        name="delta-local",
        root=str(tmp_path),
        table_paths=(("elsewhere", str(tmp_path / "x")),),
        storage_options=(("AWS_SECRET_ACCESS_KEY", SECRET), ("timeout", "5s")),
    )
    again = pickle.loads(pickle.dumps(spec))
    assert again == spec
    loaded = again.load()
    assert isinstance(loaded, Backend)
    assert loaded.spec == spec
    with pytest.raises(AttributeError):
        spec.root = "/elsewhere"  # type: ignore[misc]


def test_spec_repr_masks_secrets_and_can_drop_them(tmp_path):
    spec = load_backend(
        "delta-local", root=tmp_path, storage_options={"AWS_SECRET_ACCESS_KEY": SECRET}
    ).spec
    assert SECRET not in repr(spec)
    assert f"'AWS_SECRET_ACCESS_KEY': '{MASK}'" in repr(spec)
    bare = spec.without_secrets()
    assert bare.storage_options == ()
    assert SECRET not in pickle.dumps(bare).decode("latin-1")


def test_a_backend_refuses_to_pickle(tmp_path):
    backend = load_backend(
        "delta-local", root=tmp_path, storage_options={"AWS_SECRET_ACCESS_KEY": SECRET}
    )
    for dump in (pickle.dumps, copy.copy):
        with pytest.raises(TypeError, match=r"backend\.spec"):
            dump(backend)


def test_cloudpickle_refuses_it_too(tmp_path):
    backend = load_backend("delta-local", root=tmp_path)
    with pytest.raises(TypeError, match=r"backend\.spec"):
        cloudpickle.dumps(backend)
    with pytest.raises(TypeError, match=r"backend\.spec"):
        cloudpickle.dumps(lambda: backend.name)
