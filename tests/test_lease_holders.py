"""Telling a dead lease holder from one that may be alive, with real processes."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pointline_storage_delta.holders import Holder, is_provably_dead, this_process


def stat_fields(pid: int) -> list[str]:
    """Fields 3 onwards of ``/proc/<pid>/stat``, read independently of the code under test."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


@pytest.fixture
def child() -> Iterator[tuple[subprocess.Popen[bytes], Holder]]:
    """A running child process and the holder record it would write."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        start = stat_fields(process.pid)[19]  # field 22: the start time
        yield process, dataclasses.replace(this_process(), pid=process.pid, start_time=int(start))
    finally:
        process.kill()
        process.wait()


def test_this_process_is_described_fully() -> None:
    here = this_process()
    assert here.boot_id
    assert here.start_time
    assert here.pid_namespace
    assert here.pid_namespace.startswith("pid:[")
    assert not is_provably_dead(here), "a live holder (even ourselves) is never dead"


def test_a_killed_child_is_dead_as_a_zombie_and_once_reaped(child: tuple[Any, Holder]) -> None:
    process, holder = child
    assert not is_provably_dead(holder)
    process.kill()
    # Not reaped yet: the pid still exists, as a zombie.
    while stat_fields(process.pid)[0] != "Z":
        pass
    assert is_provably_dead(holder)
    process.wait()
    assert is_provably_dead(holder)


def test_a_live_pid_with_another_start_time_proves_nothing() -> None:
    # Most likely a reused pid, but not provably: the lease must wait for its lapse.
    here = this_process()
    assert here.start_time is not None
    assert not is_provably_dead(dataclasses.replace(here, start_time=here.start_time + 1))
    assert not is_provably_dead(here)  # alive


@pytest.mark.parametrize(
    "change",
    [
        {"host": "another-host"},
        {"boot_id": "00000000-0000-0000-0000-000000000000"},
        {"boot_id": None},
        {"pid_namespace": "pid:[1]"},
        {"pid_namespace": None},
        {"start_time": None},
        {"pid": 0},
        {"pid": -1},
    ],
    ids=[
        "other-host",
        "other-boot",
        "no-boot-id",
        "other-pid-namespace",
        "no-namespace",
        "no-start-time",
        "pid-0",
        "negative-pid",
    ],
)
def test_nothing_is_proven_about_a_holder_elsewhere_or_unknown(
    child: tuple[Any, Holder], change: dict[str, Any]
) -> None:
    process, holder = child
    process.kill()
    process.wait()
    assert is_provably_dead(holder), "dead, when everything matches"
    assert not is_provably_dead(dataclasses.replace(holder, **change))
