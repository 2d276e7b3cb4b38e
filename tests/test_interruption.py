"""stop_on_signals: SIGINT and SIGTERM become a stop request while a compaction runs."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator

import pytest

from pointline_storage import (
    CompactionFailedError,
    CompactionInterruptedError,
    CompactionReport,
    StopRequest,
    stop_on_signals,
)


@pytest.fixture
def handlers() -> Iterator[dict[int, object]]:
    """The handlers of SIGINT and SIGTERM before the test, checked unchanged after it."""
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield before
    for number, handler in before.items():
        assert signal.getsignal(number) is handler
        signal.signal(number, handler)  # type: ignore[arg-type]


def wait_for_handler(request: StopRequest) -> None:
    """Python runs a handler at the next bytecode of the main thread: spin until it has."""
    while not request.requested:
        pass


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_a_stop_signal_is_recorded_and_the_handlers_restored(
    handlers: dict[int, object], number: int
) -> None:
    with stop_on_signals() as request:
        assert signal.getsignal(number) is not handlers[number]
        assert not request.requested
        os.kill(os.getpid(), number)
        wait_for_handler(request)
    assert request.signal_number == number
    assert signal.getsignal(number) is handlers[number]


def interrupt_twice() -> None:
    with stop_on_signals() as request:
        os.kill(os.getpid(), signal.SIGINT)
        wait_for_handler(request)
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10_000_000):  # the handler raises at one of these bytecodes
            pass


def test_a_second_sigint_raises_keyboard_interrupt(handlers: dict[int, object]) -> None:
    assert handlers[signal.SIGINT] is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        interrupt_twice()


def test_a_second_sigterm_ends_the_process() -> None:
    script = textwrap.dedent(
        """
        import os, signal
        from pointline_storage import stop_on_signals
        with stop_on_signals() as request:
            os.kill(os.getpid(), signal.SIGTERM)
            while not request.requested:
                pass
            print("stop requested", flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000_000):
                pass
        print("not reached", flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert done.stdout == "stop requested\n"


def test_ignored_signals_stay_ignored(handlers: dict[int, object]) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with stop_on_signals() as request:
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGTERM)
        assert not request.requested
    finally:
        signal.signal(signal.SIGTERM, handlers[signal.SIGTERM])  # type: ignore[arg-type]


def test_nothing_is_installed_outside_the_main_thread(handlers: dict[int, object]) -> None:
    seen: list[object] = []

    def run() -> None:
        with stop_on_signals() as request:
            seen.append(signal.getsignal(signal.SIGTERM))
            seen.append(request.requested)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [handlers[signal.SIGTERM], False]


def test_the_error_carries_the_report_and_signal_through_pickle() -> None:
    report = CompactionReport.from_results(
        [],
        table_name="t",
        partition_keys=(),
        dry_run=False,
        target_file_size_bytes=1,
        min_small_files=0,
        started=0.0,
    )
    error = StopRequest(signal_number=signal.SIGTERM).error(report)
    assert isinstance(error, CompactionFailedError)
    assert "stopped by SIGTERM" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is CompactionInterruptedError
    assert (str(copy), copy.report, copy.signal_number) == (str(error), report, signal.SIGTERM)
    with pytest.raises(ValueError, match="no stop"):
        StopRequest().error(report)
