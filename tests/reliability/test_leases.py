"""Partition leases: a compaction holds each partition it rewrites, alone.

Leases are read and written here with the table's filesystem directly; foreign leases
are written the way another process would write them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import fsspec
import pytest
from deltalake import DeltaTable
from pointline_storage_delta import leases
from pointline_storage_delta.holders import Holder, this_process
from pointline_storage_delta.leases import LEASE_ROOT, LEASE_SECONDS_ENV, Lease, lease_path

from pointline_storage import CompactionFailedError, InvalidOptionError, PartitionCompactionResult
from pointline_storage.testing.checks import assert_report_consistent, key
from pointline_storage.testing.s3 import TEST_REGION, MotoServer
from reliability.processes import Worker, job_partitions
from reliability.store import ALL_PARTITIONS, Store, as_rows, directory, write_table

PARTITIONS = ALL_PARTITIONS[:3]
LEASED_OUT = "PartitionLeasedError: another compaction holds partition"


@pytest.fixture(params=["delta-local", "delta-s3"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh, empty root on local disk or on S3 (a ``moto_server`` bucket)."""
    if request.param == "delta-local":
        root = tmp_path / "silver"
        root.mkdir()
        return Store("delta-local", str(root), {}, fsspec.filesystem("file"), str(root))
    server: MotoServer = request.getfixturevalue("moto_server")
    bucket: str = request.getfixturevalue("s3_bucket")
    fs = fsspec.filesystem(
        "s3",
        key=server.access_key_id,
        secret=server.secret_access_key,
        client_kwargs={"endpoint_url": server.endpoint_url, "region_name": TEST_REGION},
        skip_instance_cache=True,
    )
    return Store(
        "delta-s3", f"s3://{bucket}/silver", server.storage_options(), fs, f"{bucket}/silver"
    )


def lease_files(store: Store) -> dict[str, dict[str, Any]]:
    """Every lease file of table ``t`` (path below the table -> its content)."""
    base = f"{store.fs_root}/t/"
    store.fs.invalidate_cache()
    return {
        path[len(base) :]: json.loads(store.fs.cat_file(path))
        for path in store.fs.find(base + LEASE_ROOT)
    }


def put_lease(
    store: Store, spec: dict[str, object], *, expires_in: float, holder: Holder | None = None
) -> str:
    """Write another process's lease of one partition; return its path below the table."""
    path = lease_path(f"{store.fs_root}/t", key(spec), 7)
    now = time.time()
    lease = Lease(
        path,
        "their-id",
        holder or Holder(host="their-host", pid=4242),
        key(spec),
        now,
        now + expires_in,
    )
    store.fs.makedirs(path.rpartition("/")[0], exist_ok=True)
    store.fs.pipe_file(lease.path, lease.to_json())
    return lease.path[len(f"{store.fs_root}/t/") :]


def dead_holder() -> Holder:
    """A process of this host that has exited, as its lease would record it."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    stat = Path(f"/proc/{process.pid}/stat").read_text().rpartition(")")[2].split()
    holder = dataclasses.replace(this_process(), pid=process.pid, start_time=int(stat[19]))
    process.kill()
    process.wait()
    return holder


def run_cli(store: Store, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``pointline-storage`` command on table ``t`` of the store, in a new process."""
    options = [f"--storage-option={k}={v}" for k, v in store.storage_options.items()]
    command = ["--backend", store.backend_name, "--root", store.root, "--table", "t", *options]
    return subprocess.run(
        [sys.executable, "-m", "pointline_storage.cli", args[0], *command, *args[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def dt_seconds(iso: str) -> float:
    """A lease file's ISO-8601 time as seconds since the epoch."""
    return dt.datetime.fromisoformat(iso).timestamp()


def statuses(results: list[PartitionCompactionResult]) -> dict[Any, str]:
    return {result.partition: result.status for result in results}


def test_a_live_lease_blocks_its_partition_and_nothing_else(any_store: Store) -> None:
    store = any_store
    expected = as_rows(write_table(store, "t", files_per_partition=3, partitions=PARTITIONS))
    backend = store.backend()
    theirs = put_lease(store, PARTITIONS[1], expires_in=3600)
    seen: list[PartitionCompactionResult] = []

    report = backend.compact_partitions(
        "t", partitions=PARTITIONS, min_small_files=2, progress=seen.append
    )
    assert_report_consistent(report)
    contested = key(PARTITIONS[1])
    assert statuses(list(report.partitions)) == {
        key(PARTITIONS[0]): "compacted",
        contested: "failed",
        key(PARTITIONS[2]): "compacted",
    }
    assert sorted(result.partition for result in seen) == sorted(map(key, PARTITIONS))
    (failed,) = [result for result in report.partitions if result.status == "failed"]
    error = failed.error or ""
    assert error.startswith(LEASED_OUT), error
    holder = json.loads(store.fs.cat_file(f"{store.fs_root}/t/{theirs}"))
    for detail in ("their-id", "their-host", "4242", holder["expires"], theirs):
        assert detail in error
    assert (failed.before_file_count, failed.rows_before) == (3, 15)
    assert store.rows("t") == expected
    assert sum(path.startswith(directory(PARTITIONS[1])) for path in store.live_files("t")) == 3
    assert list(lease_files(store)) == [theirs], "ours were released, theirs kept"

    # Stopping at the first failure: nothing is compacted at all.
    expected += as_rows(write_table(store, "t", files_per_partition=2, partitions=PARTITIONS))
    version = store.open("t").version()
    seen.clear()
    with pytest.raises(CompactionFailedError, match=LEASED_OUT) as stopped:
        backend.compact_partitions(
            "t",
            partitions=PARTITIONS,
            min_small_files=2,
            continue_on_error=False,
            progress=seen.append,
        )
    assert_report_consistent(stopped.value.report)
    assert statuses(list(stopped.value.report.partitions)) == {
        key(PARTITIONS[0]): "not_attempted",
        contested: "failed",
        key(PARTITIONS[2]): "not_attempted",
    }
    assert sorted(result.partition for result in seen) == sorted(map(key, PARTITIONS))
    assert store.open("t").version() == version
    assert store.rows("t") == expected
    assert list(lease_files(store)) == [theirs]


def test_an_expired_lease_is_taken_over_renewed_while_held_and_cleaned_up(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = any_store
    expected = as_rows(write_table(store, "t", files_per_partition=3, partitions=PARTITIONS))
    backend = store.backend()
    put_lease(store, PARTITIONS[1], expires_in=-1)
    monkeypatch.setenv(LEASE_SECONDS_ENV, "0.8")
    held: list[dict[str, dict[str, Any]]] = []

    def outlive_the_lease_lifetime(result: PartitionCompactionResult) -> None:
        if not held:
            time.sleep(1.2)  # longer than a lease lasts: only renewal keeps it
            held.append(lease_files(store))

    report = backend.compact_partitions(
        "t", partitions=PARTITIONS, min_small_files=2, progress=outlive_the_lease_lifetime
    )
    assert [result.status for result in report.partitions] == ["compacted"] * 3
    (during,) = held
    assert len(during) == len(PARTITIONS), "one lease per partition, the expired one deleted"
    for lease in during.values():
        assert lease["pid"] != 4242
        assert time.time() - 1.0 < dt_seconds(lease["expires"]), "renewed while held"
    assert lease_files(store) == {}, "released"
    assert store.rows("t") == expected


@pytest.mark.parametrize(
    ("any_store", "full"),
    [("delta-local", False), ("delta-local", True), ("delta-s3", True)],
    ids=["local-lite", "local-full", "s3-full"],
    indirect=["any_store"],
)
def test_vacuum_keeps_the_leases_of_a_running_compaction(any_store: Store, full: bool) -> None:
    store = any_store
    expected = as_rows(write_table(store, "t", files_per_partition=3, partitions=PARTITIONS))
    backend = store.backend()
    options = {"retention_hours": 0, "enforce_retention_duration": False, "full": full}
    found: list[Any] = []

    def vacuum_mid_compaction(result: PartitionCompactionResult) -> None:
        if found:
            return
        leases = lease_files(store)
        engine = DeltaTable(store.uri("t"), storage_options=dict(store.storage_options) or None)
        found.append(engine.vacuum(dry_run=True, **options))
        found.append(backend.vacuum_table("t", dry_run=False, **options).deleted_files)
        assert lease_files(store) == leases
        assert len(leases) == len(PARTITIONS)

    backend.compact_partitions(
        "t", partitions=PARTITIONS, min_small_files=2, progress=vacuum_mid_compaction
    )
    engine_listed, deleted = found
    assert deleted, "the vacuum did delete files: the first partition's compacted ones"
    assert not [path for path in [*engine_listed, *deleted] if "_pointline" in path]
    assert store.rows("t") == expected


def test_a_killed_compaction_on_this_host_is_taken_over_at_once(local_store: Store) -> None:
    # Local disk: the kill is timed by a new file appearing (see test_crashes.py).
    store = local_store
    expected = as_rows(write_table(store, "t", files_per_partition=3, partitions=PARTITIONS))
    job = {
        "do": "compact",
        "table": "t",
        "partitions": job_partitions(PARTITIONS),
        "die_in": directory(PARTITIONS[0]),
    }
    worker = Worker(store, job)
    events = worker.finish_killed()
    assert events[-1]["event"] != "report", "the worker was killed mid-compaction"
    left = lease_files(store)
    assert len(left) == len(PARTITIONS)
    assert {lease["pid"] for lease in left.values()} == {worker.process.pid}
    lapse = min(dt_seconds(lease["expires"]) for lease in left.values())

    rerun = store.backend().compact_partitions("t", partitions=PARTITIONS, min_small_files=2)
    assert time.time() < lapse, "taken over long before the killed run's leases lapse"
    assert [result.status for result in rerun.partitions] == ["compacted"] * 3
    assert store.fs.ls(f"{store.fs_root}/t/{LEASE_ROOT}") == [], "nothing left behind"
    assert store.rows("t") == expected


def test_a_sigkilled_holder_is_taken_over_at_once_on_every_store(store: Store) -> None:
    """SIGKILL while the worker holds its leases (after its first commit, in its progress
    callback): a rerun at once compacts the rest."""
    expected = as_rows(write_table(store, "t", files_per_partition=3, partitions=PARTITIONS))
    job = {
        "do": "compact",
        "table": "t",
        "partitions": job_partitions(PARTITIONS),
        "partitions_per_commit": 1,
        "hold": str(Path(tempfile.mkdtemp()) / "never"),
    }
    worker = Worker(store, job)
    worker.wait_for("holding")
    worker.kill()
    left = lease_files(store)
    assert {lease["pid"] for lease in left.values()} == {worker.process.pid}
    assert len(left) == len(PARTITIONS)

    rerun = store.backend().compact_partitions("t", partitions=PARTITIONS, min_small_files=2)
    assert time.time() < min(dt_seconds(lease["expires"]) for lease in left.values())
    assert [result.status for result in rerun.partitions] == ["skipped", "compacted", "compacted"]
    assert lease_files(store) == {}
    assert store.rows("t") == expected
    assert len(store.live_files("t")) == len(PARTITIONS)


def test_a_dead_holders_lease_is_taken_over_at_once_on_every_store(any_store: Store) -> None:
    """On an object store the taker first waits a moment, in case the store is still
    completing the dead holder's last request."""
    store = any_store
    expected = as_rows(write_table(store, "t", files_per_partition=3, partitions=PARTITIONS))
    theirs = put_lease(store, PARTITIONS[1], expires_in=3600, holder=dead_holder())
    started = time.monotonic()
    report = store.backend().compact_partitions("t", partitions=PARTITIONS, min_small_files=2)
    elapsed = time.monotonic() - started
    assert [result.status for result in report.partitions] == ["compacted"] * 3
    if store.backend_name == "delta-s3":
        assert elapsed >= leases.DEAD_HOLDER_GRACE_SECONDS
    assert theirs not in lease_files(store)
    assert lease_files(store) == {}
    assert store.rows("t") == expected


def test_a_live_holder_on_this_host_still_blocks(store: Store) -> None:
    expected = as_rows(write_table(store, "t", files_per_partition=3, partitions=PARTITIONS))
    barrier = Path(tempfile.mkdtemp()) / "go"
    job = {
        "do": "compact",
        "table": "t",
        "partitions": job_partitions(PARTITIONS),
        "hold": str(barrier),
    }
    worker = Worker(store, job)
    try:
        worker.wait_for("holding")
        held = lease_files(store)
        assert {lease["pid"] for lease in held.values()} == {worker.process.pid}
        blocked = store.backend().compact_partitions("t", partitions=PARTITIONS, min_small_files=2)
        assert [result.status for result in blocked.partitions] == ["failed"] * 3
        assert all(f"pid {worker.process.pid}" in (r.error or "") for r in blocked.partitions)
        assert lease_files(store) == held, "a live holder's leases are never taken over"
    finally:
        barrier.touch()
    (report,) = [event for event in worker.finish() if event["event"] == "report"]
    assert report["report"]["succeeded_partitions"] == 3
    assert lease_files(store) == {}
    assert store.rows("t") == expected


def test_a_renewal_never_shows_a_half_written_lease(local_store: Store) -> None:
    """The cause of a reader's JSONDecodeError: a renewal rewriting the file in place."""
    store = local_store
    table_path = f"{store.fs_root}/t"
    store.fs.makedirs(table_path, exist_ok=True)
    renewals: set[str] = set()
    reads = 0
    with leases.leased(store.fs, table_path, [key(PARTITIONS[0])], seconds=0.02) as taken:
        (lease,) = taken.held.values()
        while len(renewals) < 50:  # renewed every 5 ms
            renewals.add(json.loads(store.fs.cat_file(lease.path))["expires"])
            reads += 1
    assert reads >= 50
    assert store.fs.ls(f"{table_path}/{LEASE_ROOT}") == [], "no temporary file left"


def test_takers_and_releasers_of_one_partition_never_overlap(local_store: Store) -> None:
    """Takers and releasers of one partition at once: each taker either holds the
    partition alone or is refused, and nothing is left behind."""
    store = local_store
    table_path = f"{store.fs_root}/t"
    store.fs.makedirs(table_path, exist_ok=True)
    holding: list[int] = []
    overlaps: list[list[int]] = []
    taken_count: list[int] = []
    errors: list[BaseException] = []

    def take_and_release(number: int) -> None:
        held = 0
        deadline = time.monotonic() + 120
        try:
            while held < 10 and time.monotonic() < deadline:
                with leases.leased(store.fs, table_path, [key(PARTITIONS[0])]) as taken:
                    if taken.held:
                        holding.append(number)
                        if len(holding) > 1:
                            overlaps.append(list(holding))
                        time.sleep(0.001)  # widen the window another holder would show in
                        holding.remove(number)
                        held += 1
                        taken_count.append(number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take_and_release, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert overlaps == []
    assert sorted(taken_count) == sorted(list(range(4)) * 10), "each held it 10 times"
    assert store.fs.ls(f"{table_path}/{LEASE_ROOT}") == [], "nothing left behind"


def test_nothing_piles_up_under_the_lease_folder(any_store: Store) -> None:
    """All of a table's leases share one folder: a run leaves no file or folder per
    partition (in an earlier layout, one empty folder per partition stayed)."""
    store = any_store
    write_table(store, "t", files_per_partition=2, partitions=ALL_PARTITIONS)
    store.backend().compact_partitions("t", partitions=ALL_PARTITIONS, min_small_files=2)
    store.fs.invalidate_cache()
    root = f"{store.fs_root}/t/{LEASE_ROOT}"
    left = store.fs.find(f"{store.fs_root}/t/_pointline", withdirs=True)
    assert set(left) <= {root, root.rpartition("/")[0]}, "at most the lease folder itself"


@pytest.mark.parametrize(
    ("environment", "lease_seconds", "message"),
    [
        ("ten minutes", None, LEASE_SECONDS_ENV),
        (None, 0, "lease_seconds must be positive"),
        (None, float("nan"), "lease_seconds must be positive"),
        (None, True, "lease_seconds must be a number"),
        (None, "600", "lease_seconds must be a number"),
    ],
    ids=["variable", "zero", "nan", "bool", "string"],
)
def test_an_invalid_lease_lifetime_is_refused_before_anything_is_written(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    environment: str | None,
    lease_seconds: Any,
    message: str,
) -> None:
    write_table(store, "t", files_per_partition=2, partitions=PARTITIONS)
    backend = store.backend()
    version = store.open("t").version()
    if environment is not None:
        monkeypatch.setenv(LEASE_SECONDS_ENV, environment)
    with pytest.raises(InvalidOptionError, match=message):
        backend.compact_partitions(
            "t", partitions=PARTITIONS, min_small_files=2, lease_seconds=lease_seconds
        )
    assert store.open("t").version() == version
    assert not store.fs.exists(f"{store.fs_root}/t/_pointline")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("0", "0.0 is not in the range x>0"),
        ("inf", "--lease-seconds must be positive and finite, got inf"),
    ],
    ids=["zero", "infinite"],
)
def test_the_compact_command_checks_its_lease_lifetime(
    local_store: Store, given: str, message: str
) -> None:
    """Zero is refused by the option, infinity by the library (so the option reaches it)."""
    store = local_store
    write_table(store, "t", files_per_partition=2, partitions=PARTITIONS)
    version = store.open("t").version()
    spec = PARTITIONS[0]
    done = run_cli(
        store,
        "compact",
        f"--partition=exchange={spec['exchange']},day={spec['day']}",
        f"--lease-seconds={given}",
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert store.open("t").version() == version
    assert not store.fs.exists(f"{store.fs_root}/t/_pointline")


def test_the_lease_lifetime_is_a_parameter_over_the_variable(
    local_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = local_store
    write_table(store, "t", files_per_partition=2, partitions=PARTITIONS)
    monkeypatch.setenv(LEASE_SECONDS_ENV, "5")
    lifetimes: list[float] = []

    def measure(result: PartitionCompactionResult) -> None:
        if not lifetimes:
            lifetimes.extend(
                dt_seconds(lease["expires"]) - dt_seconds(lease["created"])
                for lease in lease_files(store).values()
            )

    store.backend().compact_partitions(
        "t", partitions=PARTITIONS, min_small_files=2, lease_seconds=123.5, progress=measure
    )
    assert lifetimes == [pytest.approx(123.5, abs=0.002)] * len(PARTITIONS)


def test_the_leases_command_lists_them_and_releases_only_the_stale(any_store: Store) -> None:
    store = any_store
    write_table(store, "t", files_per_partition=2, partitions=PARTITIONS)
    live = put_lease(store, PARTITIONS[0], expires_in=3600)
    expired = put_lease(store, PARTITIONS[1], expires_in=-1)
    dead = put_lease(store, PARTITIONS[2], expires_in=3600, holder=dead_holder())

    listed = run_cli(store, "leases", "--json")
    assert listed.returncode == 0, listed.stderr
    payload = json.loads(listed.stdout)
    assert payload["table_name"] == "t"
    assert [(lease["path"], lease["state"]) for lease in payload["leases"]] == sorted(
        [(live, "live"), (expired, "expired"), (dead, "dead")],
        key=lambda item: key(PARTITIONS[[live, expired, dead].index(item[0])]),
    )
    first = next(lease for lease in payload["leases"] if lease["path"] == live)
    assert first["partition"] == {"exchange": "sse", "day": str(PARTITIONS[0]["day"])}
    assert (first["owner"], first["host"], first["pid"]) == ("their-id", "their-host", 4242)
    assert first["expires"] == lease_files(store)[live]["expires"]
    assert not any(lease["released"] for lease in payload["leases"])
    assert set(lease_files(store)) == {live, expired, dead}, "listing deletes nothing"

    released = run_cli(store, "leases", "--release-stale")
    assert released.returncode == 0, released.stderr
    lines = released.stdout.splitlines()
    assert lines[0].split() == ["PARTITION", "STATE", "HOLDER", "HOST", "PID", "EXPIRES"]
    assert "dead (released)" in released.stdout
    assert "expired (released)" in released.stdout
    assert lines[-1] == (
        "table 't': 3 leases (1 live, 1 dead, 1 expired); released 2 stale leases, kept 1 live"
    )
    assert list(lease_files(store)) == [live]

    # The live lease still blocks its partition; the released ones block nothing.
    report = store.backend().compact_partitions("t", partitions=PARTITIONS, min_small_files=2)
    assert statuses(list(report.partitions)) == {
        key(PARTITIONS[0]): "failed",
        key(PARTITIONS[1]): "compacted",
        key(PARTITIONS[2]): "compacted",
    }


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_a_signalled_compaction_stops_after_its_commit_and_releases_its_leases(
    store: Store, signal_number: int
) -> None:
    """The signal lands while the first partition's result is being reported (the
    worker's progress callback holds until the test opens a barrier): that partition
    stays committed, the others are not attempted, and a rerun at once compacts them."""
    expected = as_rows(write_table(store, "t", files_per_partition=3, partitions=PARTITIONS))
    barrier = Path(tempfile.mkdtemp()) / "go"
    job = {
        "do": "compact",
        "table": "t",
        "partitions": job_partitions(PARTITIONS),
        "partitions_per_commit": 1,
        "hold": str(barrier),
    }
    worker = Worker(store, job)
    worker.wait_for("holding")
    assert len(lease_files(store)) == len(PARTITIONS)
    os.kill(worker.process.pid, signal_number)
    barrier.touch()
    stopped = worker.wait_for("interrupted")
    worker.finish()
    assert stopped["signal"] == signal_number
    report = stopped["report"]
    assert [result["status"] for result in report["partitions"]] == [
        "compacted",
        "not_attempted",
        "not_attempted",
    ]
    assert report["succeeded_partitions"] == 1
    assert report["attempted_partitions"] == 1
    assert lease_files(store) == {}, "released"
    assert store.rows("t") == expected

    rerun = store.backend().compact_partitions("t", partitions=PARTITIONS, min_small_files=2)
    assert rerun.failed_partitions == 0
    assert [result.status for result in rerun.partitions] == ["skipped", "compacted", "compacted"]
    assert store.rows("t") == expected
    assert len(store.live_files("t")) == len(PARTITIONS)


@pytest.mark.parametrize(
    ("signal_number", "exit_code"),
    [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
    ids=["TERM", "INT"],
)
def test_the_compact_command_prints_the_partial_report_when_signalled(
    local_store: Store, signal_number: int, exit_code: int
) -> None:
    """Local disk: the signal is timed by the command's lease files appearing, before its
    first of eight commits."""
    store = local_store
    expected = as_rows(write_table(store, "t", files_per_partition=3))
    given = [f"--partition=exchange={p['exchange']},day={p['day']}" for p in ALL_PARTITIONS]
    command = [sys.executable, "-m", "pointline_storage.cli", "compact", "--root", store.root]
    command += ["--table", "t", "--min-small-files=2", "--partitions-per-commit=1", *given]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    leases_root = f"{store.fs_root}/t/{LEASE_ROOT}"
    deadline = time.monotonic() + 120
    while not (store.fs.exists(leases_root) and store.fs.find(leases_root)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no lease file within 120 s"
    os.kill(process.pid, signal_number)
    out, err = process.communicate(timeout=120)

    assert process.returncode == exit_code, (out, err)
    name = signal.Signals(signal_number).name
    (error,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert f"stopped by {name}" in error
    rows = [line.split()[1] for line in out.splitlines()[1:-1]]
    assert len(rows) == len(ALL_PARTITIONS)
    assert set(rows) <= {"compacted", "not"}, out  # "not attempted"
    assert "not" in rows, "the stop came before the last commit"
    notes = [line for line in out.splitlines() if " not attempted " in line]
    assert all(line.endswith(f"stopped by {name}") for line in notes), out
    assert out.splitlines()[-1].startswith(f"compacted {rows.count('compacted')} of 8 partitions")
    assert lease_files(store) == {}, "released"
    assert store.rows("t") == expected

    rerun = store.backend().compact_partitions("t", partitions=ALL_PARTITIONS, min_small_files=2)
    assert rerun.failed_partitions == 0
    assert rerun.succeeded_partitions == rows.count("not")
    assert len(store.live_files("t")) == len(ALL_PARTITIONS)
