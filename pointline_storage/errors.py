"""The error hierarchy: every error a caller can cause derives from PointlineStorageError.

Errors caused by invalid input also derive from ValueError, and "not found" errors from
LookupError, so callers can catch them either way.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pointline_storage.models import CompactionReport


class PointlineStorageError(Exception):
    """Base class of every error raised by pointline-storage and its backends."""


class BackendNotFoundError(PointlineStorageError, LookupError):
    """No installed backend has the requested name."""


class BackendLoadError(PointlineStorageError):
    """A backend's entry point exists but could not be imported or constructed."""


class InvalidOptionError(PointlineStorageError, ValueError):
    """An option has a value outside its allowed range."""


class UnsupportedOptionError(InvalidOptionError):
    """An option was set that the backend cannot honour (its hook does not take it)."""


class InvalidTableNameError(PointlineStorageError, ValueError):
    """A table name is empty or would escape the backend's root."""


class TableNotFoundError(PointlineStorageError, LookupError):
    """The table location does not exist or holds no table of the backend's format."""


class InvalidPartitionError(PointlineStorageError, ValueError):
    """A partition spec does not match the table's partition columns or their types."""


class RetentionTooShortError(PointlineStorageError, ValueError):
    """A vacuum retention is shorter than the table allows while enforcement is on."""


class CompactionFailedError(PointlineStorageError):
    """A partition failed with ``continue_on_error=False``.

    ``report`` holds what happened up to the failure: partitions listed as compacted
    before it stay committed.
    """

    def __init__(self, message: str, *, report: CompactionReport) -> None:
        super().__init__(message)
        self.report = report

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy rebuild an exception as cls(*args): pass the keyword-only report.
        return (functools.partial(type(self), report=self.report), self.args, self.__dict__)


class CompactionInterruptedError(CompactionFailedError):
    """SIGINT or SIGTERM stopped a compaction at a safe point (between engine calls).

    ``report`` lists the partitions committed before the stop as ``compacted`` and those
    not started as ``not_attempted``; the call's leases were released, so an immediate
    rerun compacts the rest. ``signal_number`` is the signal received; the command line
    exits with ``128 + signal_number`` (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, message: str, *, report: CompactionReport, signal_number: int) -> None:
        super().__init__(message, report=report)
        self.signal_number = signal_number

    def __reduce__(self) -> tuple[Any, ...]:
        rebuild = functools.partial(
            type(self), report=self.report, signal_number=self.signal_number
        )
        return (rebuild, self.args, self.__dict__)


class StorageError(PointlineStorageError):
    """The storage engine could not read or write a table (e.g. a corrupt log).

    The original engine error is chained as ``__cause__``.
    """


class StorageAccessError(StorageError):
    """The storage refused the credentials or the request (wrong keys, no permission)."""


class StorageUnreachableError(StorageError):
    """The storage endpoint did not answer within the configured timeout and retries."""


class UnsupportedOperationError(PointlineStorageError, NotImplementedError):
    """The backend does not implement an optional operation."""
