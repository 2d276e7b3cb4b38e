"""Errors where users meet the storage: missing credentials name what to set, the engine's
own exceptions never escape, and every exported error survives pickle."""

from __future__ import annotations

import inspect
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from deletion_vectors import delete_rows
from deltalake import DeltaTable, write_deltalake
from fsspec.implementations.local import LocalFileSystem
from pointline_storage_delta.engine_errors import EngineFailure
from tblib import pickling_support

import pointline_storage
from pointline_storage import (
    CompactionReport,
    PointlineStorageError,
    StorageAccessError,
    StorageError,
    load_backend,
)
from pointline_storage.testing.s3 import MotoServer

#: What AWS SDKs read credentials from, besides options and these variables' keys.
_NO_CREDENTIALS_ANYWHERE = {
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _environment_without_credentials(home: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") or key == "AWS_CA_BUNDLE"
    }
    return {**environment, **_NO_CREDENTIALS_ANYWHERE, "HOME": str(home)}


def test_no_credentials_is_an_access_error_naming_what_to_set(
    moto_server: MotoServer, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in [key for key in os.environ if key.startswith("AWS_") and key != "AWS_CA_BUNDLE"]:
        monkeypatch.delenv(key)
    for key, value in {**_NO_CREDENTIALS_ANYWHERE, "HOME": str(tmp_path)}.items():
        monkeypatch.setenv(key, value)
    options = {
        key: value
        for key, value in moto_server.storage_options().items()
        if key not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    backend = load_backend("delta-s3", root=f"s3://{s3_bucket}/silver", storage_options=options)
    with pytest.raises(StorageAccessError) as caught:
        backend.inspect_partitions("orders")
    message = str(caught.value)
    assert "no S3 credentials found" in message
    assert "AWS_ACCESS_KEY_ID" in message
    assert "AWS_SECRET_ACCESS_KEY" in message

    endpoint = [f"--storage-option=AWS_ENDPOINT_URL={moto_server.endpoint_url}"]
    result = subprocess.run(
        [sys.executable, "-m", "pointline_storage.cli", "vacuum", "--backend", "delta-s3",
         "--root", f"s3://{s3_bucket}/silver", "--table", "orders", *endpoint,
         "--storage-option=AWS_ALLOW_HTTP=true", "--storage-option=AWS_REGION=us-east-1"],
        capture_output=True, text=True, timeout=120, check=False,
        env=_environment_without_credentials(tmp_path),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: no S3 credentials found")
    assert "unexpected" not in lines[0]
    assert "AWS_ACCESS_KEY_ID" in lines[0]


def test_an_engine_failure_is_a_storage_error_with_the_engines_words(tmp_path: Path) -> None:
    """A deletion vector that deletes a row past the file's end: the engine refuses to plan
    the read with its own DeltaError, which must reach the caller as ours."""
    root = tmp_path / "silver"
    rows = pa.table({"p": ["a"] * 3, "v": [1, 2, 3]})
    write_deltalake(
        str(root / "t"),
        rows,
        partition_by=["p"],
        configuration={"delta.enableDeletionVectors": "true"},
    )
    fs = LocalFileSystem()
    path = pa.table(DeltaTable(str(root / "t")).get_add_actions(flatten=True))["path"][0].as_py()
    delete_rows(fs, str(root / "t"), path, [7])
    backend = load_backend("delta-local", root=root)
    for call in (
        lambda: backend.inspect_partitions("t"),
        lambda: backend.compact_partitions("t", partitions=[{"p": "a"}]),
    ):
        with pytest.raises(StorageError) as caught:
            call()
        message = str(caught.value)
        assert "DeltaError" in message
        assert "exceeds numRecords" in message
        # The engine's exception does not pickle: a picklable stand-in keeps its words.
        cause = caught.value.__cause__
        assert isinstance(cause, EngineFailure)
        assert str(cause).startswith("DeltaError: ")
        assert cause.__traceback__ is not None
        copy = pickle.loads(pickle.dumps(caught.value))
        assert type(copy) is StorageError
        assert str(copy) == message
        # Pickling that carries the chain (tblib, as dask installs it) works too.
        pickling_support.install(caught.value)
        carried = pickle.loads(pickle.dumps(caught.value))
        assert str(carried) == message
        assert str(carried.__cause__) == str(cause)


def _exported_errors() -> list[type[BaseException]]:
    return [
        value
        for name in pointline_storage.__all__
        if isinstance(value := getattr(pointline_storage, name), type)
        and issubclass(value, BaseException)
    ]


#: Values for the keyword-only arguments an exported error may take, by name.
_ARGUMENTS = {
    "report": CompactionReport(
        table_name="t",
        partition_keys=(),
        planned_partitions=0,
        attempted_partitions=0,
        succeeded_partitions=0,
        skipped_partitions=0,
        failed_partitions=0,
        partitions=(),
    ),
    "signal_number": 15,
}


@pytest.mark.parametrize("error_type", _exported_errors(), ids=lambda error: error.__name__)
def test_every_exported_error_survives_pickle(error_type: type[BaseException]) -> None:
    assert issubclass(error_type, PointlineStorageError)
    # Exception's own __init__ has no signature to read: then nothing is keyword-only.
    initialiser = error_type.__init__
    parameters = (
        [] if initialiser is Exception.__init__ else inspect.signature(initialiser).parameters
    )
    required = [
        name
        for name in parameters
        if parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        and parameters[name].default is inspect.Parameter.empty
    ]
    missing = [name for name in required if name not in _ARGUMENTS]
    assert not missing, f"add sample values for {missing} to _ARGUMENTS"
    error = error_type(
        "what went wrong; what to do", **{name: _ARGUMENTS[name] for name in required}
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is error_type
    assert str(copy) == "what went wrong; what to do"
    for name in required:
        assert getattr(copy, name) == getattr(error, name)


def test_every_exported_error_is_found() -> None:
    names = {error.__name__ for error in _exported_errors()}
    assert {"StorageAccessError", "CompactionFailedError", "PointlineStorageError"} <= names
