"""The engine's own exceptions become the project's errors before they reach a caller.

deltalake's exceptions (``_internal.DeltaError``, ``CommitFailedError``, ...) and pyo3's
``PanicException`` live in extension modules that cannot be imported by name: they do not
pickle, so another process (a worker pool, dask) cannot receive them, and callers cannot
catch them without importing deltalake. ``PanicException`` even derives from
``BaseException``, slipping past ``except Exception``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from pointline_storage import PointlineStorageError, StorageError

_P = ParamSpec("_P")
_R = TypeVar("_R")

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


class EngineFailure(Exception):
    """A picklable stand-in for an engine exception in a chain: its ``"TypeName: message"``
    and traceback, without the unimportable type."""


def picklable_chain(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Raise the project's errors of ``method`` with every engine exception in their
    ``__cause__``/``__context__`` chain replaced by an :class:`EngineFailure`.

    Pickling support that carries chains (tblib, which dask installs) would otherwise fail
    on the engine's exception type. The error is re-raised outside the handler, so Python
    does not chain the original back in.
    """

    @functools.wraps(method)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except PointlineStorageError as exc:
            error = exc
        _replace_engine_links(error)
        raise error

    return run


def _replace_engine_links(error: BaseException) -> None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for link in ("__cause__", "__context__"):
            linked = getattr(current, link)
            if linked is not None and is_engine_error(linked):
                stand_in = EngineFailure(engine_message(linked))
                setattr(current, link, stand_in.with_traceback(linked.__traceback__))
        current = current.__cause__ or current.__context__
