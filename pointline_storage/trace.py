"""An observer logging every hook call with its duration, and the switch that enables it.

Set ``POINTLINE_STORAGE_TRACE=1`` and every backend :func:`~pointline_storage.load_backend`
returns logs each call to the ``pointline_storage.trace`` logger: INFO when it returns, WARNING
when it raises. Each record carries ``hook``, ``backend``, ``table``, ``outcome`` and
``duration_seconds`` attributes for handlers that count rather than print. Only those are
logged: never the call's options, which may carry locations or credentials.

:class:`TraceObserver` is also the template for your own observer (metrics, tracing spans):
a plugin with one ``@hookimpl(wrapper=True)`` method per hook, registered on
``Backend.plugin_manager``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Generator
from typing import TypeVar

import pluggy

from pointline_storage.hookspecs import hookimpl

#: Set to ``1`` to register :class:`TraceObserver` on every backend loaded.
TRACE_VARIABLE = "POINTLINE_STORAGE_TRACE"
#: The logger every trace record goes to.
LOGGER_NAME = "pointline_storage.trace"

logger = logging.getLogger(LOGGER_NAME)

_Result = TypeVar("_Result")


class TraceObserver:
    """Logs each hook call of one backend with its outcome and duration.

    Args:
        backend: The backend's name, put in every record.
    """

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def __repr__(self) -> str:
        return f"TraceObserver(backend={self.backend!r})"

    @hookimpl(wrapper=True)
    def compact_partitions(self, table_name: str) -> Generator[None, _Result, _Result]:
        """Time ``compact_partitions``."""
        return (yield from self._timed("compact_partitions", table_name))

    @hookimpl(wrapper=True)
    def inspect_partitions(self, table_name: str) -> Generator[None, _Result, _Result]:
        """Time ``inspect_partitions``."""
        return (yield from self._timed("inspect_partitions", table_name))

    @hookimpl(wrapper=True)
    def vacuum_table(self, table_name: str) -> Generator[None, _Result, _Result]:
        """Time ``vacuum_table``."""
        return (yield from self._timed("vacuum_table", table_name))

    @hookimpl(wrapper=True)
    def write_sample_table(self, table_name: str) -> Generator[None, _Result, _Result]:
        """Time ``write_sample_table``."""
        return (yield from self._timed("write_sample_table", table_name))

    def _timed(self, hook: str, table_name: str) -> Generator[None, _Result, _Result]:
        started = time.perf_counter()
        try:
            result = yield
        except BaseException as exc:
            self._log(logging.WARNING, hook, table_name, type(exc).__name__, started)
            raise
        self._log(logging.INFO, hook, table_name, "ok", started)
        return result

    def _log(self, level: int, hook: str, table_name: str, outcome: str, started: float) -> None:
        duration = time.perf_counter() - started
        logger.log(
            level,
            "%s %s table=%r %s in %.3f s",
            self.backend,
            hook,
            table_name,
            outcome,
            duration,
            extra={
                "hook": hook,
                "backend": self.backend,
                "table": table_name,
                "outcome": outcome,
                "duration_seconds": duration,
            },
        )


def trace_enabled() -> bool:
    """Whether ``POINTLINE_STORAGE_TRACE=1`` is set."""
    return os.environ.get(TRACE_VARIABLE) == "1"


def register_if_enabled(manager: pluggy.PluginManager, backend: str) -> None:
    """Register a :class:`TraceObserver` on ``manager`` when tracing is enabled."""
    if trace_enabled():
        manager.register(TraceObserver(backend), name=f"{backend}-trace")
