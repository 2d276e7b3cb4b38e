"""Stopping a compaction at a safe point when its process is asked to end.

SIGTERM is what ``timeout``, ``kill``, systemd, Kubernetes and Airflow send, and its
default action ends Python without running ``finally`` blocks: a compaction would leave
its leases and no report. While :func:`stop_on_signals` is active, SIGINT and SIGTERM
only record a stop request; the compaction checks it between engine calls (a commit in
flight is never cut), reports the partitions it did not start as ``not_attempted``,
releases its leases and raises
:class:`~pointline_storage.errors.CompactionInterruptedError` carrying that report.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from pointline_storage.errors import CompactionInterruptedError
from pointline_storage.models import CompactionReport

#: The signals that ask a compaction to stop.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class StopRequest:
    """Whether the process was asked to stop, and by which signal.

    Attributes:
        signal_number: The first stop signal received, ``None`` while none was.
    """

    signal_number: int | None = None

    @property
    def requested(self) -> bool:
        """Whether a stop signal was received."""
        return self.signal_number is not None

    def error(self, report: CompactionReport) -> CompactionInterruptedError:
        """The error to raise, carrying ``report``, once the call has stopped.

        Raises:
            ValueError: no stop was requested.
        """
        if self.signal_number is None:
            raise ValueError("no stop was requested")
        name = signal.Signals(self.signal_number).name
        done = report.succeeded_partitions
        left = sum(result.status == "not_attempted" for result in report.partitions)
        return CompactionInterruptedError(
            f"compaction of table {report.table_name!r} stopped by {name}: {done} partitions "
            f"compacted (committed), {left} not attempted; rerun to compact the rest",
            report=report,
            signal_number=self.signal_number,
        )


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Turn SIGINT and SIGTERM into a :class:`StopRequest` while the block runs.

    Handlers are installed only in the main thread (Python runs signal handlers nowhere
    else) and only for signals not ignored (``SIG_IGN``, as ``nohup`` sets); the previous
    handlers are restored after the block. A second stop signal acts as it would without
    the block: SIGINT raises ``KeyboardInterrupt``, SIGTERM ends the process.
    """
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous: dict[int, Any] = {}

    def handle(signal_number: int, frame: FrameType | None) -> None:
        if request.signal_number is None:
            request.signal_number = signal_number
            return
        # Asked again: stop now, the way the process would have without us.
        handler = previous[signal_number]
        signal.signal(signal_number, handler)
        if callable(handler):
            handler(signal_number, frame)
        else:
            os.kill(os.getpid(), signal_number)

    for signal_number in STOP_SIGNALS:
        current = signal.getsignal(signal_number)
        if current is signal.SIG_IGN or current is None:  # None: set outside Python
            continue
        previous[signal_number] = current
        signal.signal(signal_number, handle)
    try:
        yield request
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
