"""The engine's own exceptions become the project's errors before they reach a caller.

deltalake's exceptions (``_internal.DeltaError``, ``CommitFailedError``, ...) and pyo3's
``PanicException`` live in extension modules that cannot be imported by name: they do not
pickle, so another process (a worker pool, dask) cannot receive them, and callers cannot
catch them without importing deltalake. ``PanicException`` even derives from
``BaseException``, slipping past ``except Exception``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pointline_storage import PointlineStorageError, StorageError

#: Modules whose exception types are the engine's (deltalake's native module and pyo3's).
ENGINE_MODULES = ("_internal", "pyo3_runtime", "deltalake")


def is_engine_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of the engine's own exception types."""
    module = type(exc).__module__
    return any(module == name or module.startswith(name + ".") for name in ENGINE_MODULES)


def engine_message(exc: BaseException) -> str:
    """``"TypeName: message"``, the engine's own words."""
    return f"{type(exc).__name__}: {exc}"


@contextmanager
def engine_errors() -> Iterator[None]:
    """Re-raise an engine exception as :class:`~pointline_storage.StorageError`, keeping
    the engine's type name and message in the text and the original as ``__cause__``."""
    try:
        yield
    except PointlineStorageError:
        raise
    except BaseException as exc:
        if not is_engine_error(exc):
            raise
        raise StorageError(f"the Delta engine failed: {engine_message(exc)}") from exc
