"""Starting, watching and killing worker processes (see :mod:`reliability.workers`)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reliability.store import Store

TESTS_DIR = Path(__file__).parent.parent


def job_partitions(specs: Iterable[Mapping[str, object]]) -> list[dict[str, str]]:
    """Partition specs as a worker job carries them (JSON)."""
    return [{"exchange": str(s["exchange"]), "day": str(s["day"])} for s in specs]


class Worker:
    """One worker process; its stdout events are read by a thread as they come."""

    def __init__(self, store: Store, job: Mapping[str, Any]) -> None:
        env = store.worker_env()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
        # Lives as long as the worker: closed with this object, not at the end of a block.
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reliability.workers", json.dumps(job)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.events: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(json.loads(line))
        self._queue.put(None)

    def wait_for(self, event: str, timeout: float = 60.0) -> dict[str, Any]:
        """Block until the worker reports ``event``; return that event."""
        while True:
            try:
                message = self._queue.get(timeout=timeout)
            except queue.Empty:
                self.kill()
                raise AssertionError(f"no {event!r} within {timeout} s: {self.stderr()}") from None
            if message is None:
                raise AssertionError(f"worker ended before {event!r}: {self.stderr()}")
            self.events.append(message)
            if message["event"] == event:
                return message

    def finish(self, timeout: float = 120.0) -> list[dict[str, Any]]:
        """Wait for a clean exit; return every event the worker reported."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"worker still running after {timeout} s") from None
        self._drain()
        assert code == 0, f"worker exited {code}: {self.stderr()}"
        return self.events

    def finish_killed(self, timeout: float = 120.0) -> list[dict[str, Any]]:
        """Wait for a worker that kills itself; return what it reported before."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"worker still running after {timeout} s") from None
        self._drain()
        assert code in (0, -signal.SIGKILL), f"worker exited {code}: {self.stderr()}"
        return self.events

    def kill(self) -> list[dict[str, Any]]:
        """SIGKILL the worker (no cleanup runs); return what it reported before."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._drain()
        return self.events

    def _drain(self) -> None:
        while (message := self._queue.get(timeout=30)) is not None:
            self.events.append(message)
        self._queue.put(None)  # later drains end at once

    def stderr(self) -> str:
        """What the worker printed on stderr so far (its last 2,000 characters)."""
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]
