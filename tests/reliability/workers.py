"""Worker processes for the reliability tests: ``python -m reliability.workers JOB``.

``JOB`` is a JSON object with a ``"do"`` key; the store comes from the environment
(:data:`reliability.store.STORE_ENV`). A worker reports on stdout, one JSON object per
line, flushed at once, so the test process sees what was committed before a kill.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import threading
import time
from typing import Any

import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake
from deltalake.transaction import AddAction

from pointline_storage import CompactionInterruptedError, load_backend
from reliability.store import PARTITION_BY, SCHEMA, STORE_ENV, filesystem, rows_for


def say(**message: Any) -> None:
    """Report one event to the test process."""
    print(json.dumps(message, default=str), flush=True)


def wait_for(path: str | None, timeout: float = 60.0) -> None:
    """Block until ``path`` exists (a barrier the test process opens)."""
    deadline = time.monotonic() + timeout
    while path and not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.005)


def specs(job: dict[str, Any]) -> list[dict[str, object]]:
    """The job's partitions, with dates parsed back from JSON."""
    return [
        {"exchange": p["exchange"], "day": dt.date.fromisoformat(p["day"])}
        for p in job["partitions"]
    ]


def append(settings: dict[str, Any], job: dict[str, Any]) -> None:
    """Append small batches, cycling over the partitions, until the stop file appears."""
    uri = f"{settings['root'].rstrip('/')}/{job['table']}"
    parts = specs(job)
    say(event="started")
    number = 0
    while not os.path.exists(job["stop"]) and number < job.get("max_commits", 10_000):
        part = parts[number % len(parts)]
        ids = [f"{job['writer']}-{number}-{i}" for i in range(job.get("rows", 3))]
        try:
            write_deltalake(
                uri,
                rows_for(part["exchange"], part["day"], ids),
                mode="append",
                partition_by=PARTITION_BY,
                storage_options=settings["storage_options"] or None,
            )
        except Exception as exc:  # reported; the test decides whether it is allowed
            say(event="error", ids=ids, error=f"{type(exc).__name__}: {exc}")
        else:
            say(event="committed", ids=ids, exchange=part["exchange"], day=part["day"])
        number += 1
        time.sleep(job.get("pause", 0.0))  # leave the machine's cores to the code under test
    say(event="done")


def backend(settings: dict[str, Any]) -> Any:
    """The backend under test, loaded in this process."""
    return load_backend(
        settings["backend"], root=settings["root"], storage_options=settings["storage_options"]
    )


def die_on_new_file(folder: str, storage_options: dict[str, str]) -> None:
    """SIGKILL this process the moment a new file appears in ``folder``: the engine runs
    without the GIL, so this thread sees the file while the engine is still writing or
    committing it, much sooner than another process could."""
    fs, path = filesystem(folder, storage_options)
    before = set(fs.ls(path, detail=False))

    def watch() -> None:
        while set(fs.ls(path, detail=False)) <= before:
            time.sleep(0.0002)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def compact(settings: dict[str, Any], job: dict[str, Any]) -> None:
    """Compact the job's partitions, reporting each partition as it finishes; with
    ``die_in``, die as a new file appears in that folder of the table; with ``hold``,
    wait after the first partition until that file exists."""
    loaded = backend(settings)
    wait_for(job.get("start"))
    if "die_in" in job:
        die_on_new_file(
            f"{settings['root'].rstrip('/')}/{job['table']}/{job['die_in']}",
            settings["storage_options"],
        )
    say(event="started")

    def progress(result: Any) -> None:
        say(event="partition", status=result.status)
        if "hold" in job and not os.path.exists(job["hold"]):
            say(event="holding")  # its leases stay live until the test opens the barrier
            wait_for(job["hold"])

    try:
        report = loaded.compact_partitions(
            job["table"],
            partitions=specs(job),
            min_small_files=job.get("min_small_files", 2),
            partitions_per_commit=job.get("partitions_per_commit", 100),
            progress=progress,
        )
    except CompactionInterruptedError as exc:
        say(event="interrupted", signal=exc.signal_number, report=exc.report.to_dict())
    else:
        say(event="report", report=report.to_dict())


def vacuum(settings: dict[str, Any], job: dict[str, Any]) -> None:
    """Vacuum the table with the job's options."""
    loaded = backend(settings)
    wait_for(job.get("start"))
    say(event="started")
    report = loaded.vacuum_table(job["table"], **job["options"])
    say(event="report", report=report.to_dict())


def overwrite(settings: dict[str, Any], job: dict[str, Any]) -> None:
    """Replace one partition's rows with the job's ids (a conflicting writer)."""
    (part,) = specs(job)
    write_deltalake(
        f"{settings['root'].rstrip('/')}/{job['table']}",
        rows_for(part["exchange"], part["day"], job["ids"]),
        mode="overwrite",
        predicate=f"exchange = '{part['exchange']}' AND day = '{part['day']}'",
        storage_options=settings["storage_options"] or None,
    )
    say(event="committed", ids=job["ids"])


def delete(settings: dict[str, Any], job: dict[str, Any]) -> None:
    """Delete the rows matching the job's predicate (a conflicting writer)."""
    table = DeltaTable(
        f"{settings['root'].rstrip('/')}/{job['table']}",
        storage_options=settings["storage_options"] or None,
    )
    metrics = table.delete(job["predicate"])
    say(event="deleted", rows=metrics["num_deleted_rows"])


def in_flight(settings: dict[str, Any], job: dict[str, Any]) -> None:
    """Write a data file, wait for the go file, then commit it: a slow writer's file is
    untracked (and young) while it waits."""
    (part,) = specs(job)
    root = f"{settings['root'].rstrip('/')}/{job['table']}"
    fs, path = filesystem(root, settings["storage_options"])
    relative = f"exchange={part['exchange']}/day={part['day']}/in-flight-{job['writer']}.parquet"
    rows = rows_for(part["exchange"], part["day"], job["ids"])
    with fs.open(f"{path}/{relative}", "wb") as handle:
        pq.write_table(rows.drop_columns(PARTITION_BY), handle)
    say(event="written", path=relative)
    wait_for(job["go"])
    size = fs.size(f"{path}/{relative}")
    table = DeltaTable(root, storage_options=settings["storage_options"] or None)
    action = AddAction(
        relative,
        size,
        {"exchange": part["exchange"], "day": str(part["day"])},
        int(time.time() * 1000),
        True,
        json.dumps({"numRecords": rows.num_rows}),
    )
    table.create_write_transaction([action], "append", SCHEMA, partition_by=PARTITION_BY)
    say(event="committed", ids=job["ids"])


JOBS = {
    "append": append,
    "compact": compact,
    "vacuum": vacuum,
    "overwrite": overwrite,
    "delete": delete,
    "in_flight": in_flight,
}


def main() -> None:
    """Run the job given as the first argument."""
    job = json.loads(sys.argv[1])
    settings = json.loads(os.environ[STORE_ENV])
    JOBS[job["do"]](settings, job)


if __name__ == "__main__":
    main()
