"""Case 6: one compaction of many partitions in one process vs spread over 2 dask workers
(``compact_partitions(executor=client.get_executor(), shards=2)``), on local disk and on a
local ``moto_server``, with ``partitions_per_commit`` 100 and 1; ratios from one run.

Each repetition compacts a fresh copy of one table. The cluster is started, and each
worker has loaded the backend once, before anything is timed: what is measured is the
work, its shipping and its commits. The commits of the 2-worker runs are read back from
``_delta_log`` to count those the engine had to rebase (their ``readVersion`` is older
than the version before them: another worker committed in between).

Run alone: ``uv run --group bench python -m benchmarks.case_scaleout [--repeats N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import fsspec
from distributed import Client, LocalCluster
from pointline_storage_delta.s3_options import s3_settings

from benchmarks.report import Row, render
from benchmarks.timing import interleaved
from pointline_storage import load_backend
from pointline_storage.sample import order_events
from pointline_storage.testing.s3 import MotoServer

EXCHANGES = ("sse", "szse")
DAYS = tuple(dt.date(2024, 1, 1) + dt.timedelta(days=day) for day in range(16))
FILES_PER_PARTITION = 8
ROWS_PER_FILE = 50
PARTITIONS = [
    {"exchange": exchange, "trading_date": day.isoformat()}
    for exchange in EXCHANGES
    for day in DAYS
]
BUCKET = "bench-scaleout"


def build(root: Path) -> Path:
    """The table every repetition copies: 32 partitions of 8 small files."""
    rows = order_events(
        exchanges=EXCHANGES, days=DAYS, rows_per_partition=FILES_PER_PARTITION * ROWS_PER_FILE
    )
    load_backend("delta-local", root=root).write_sample_table(
        "base", rows=rows, partition_by=("exchange", "trading_date"), rows_per_file=ROWS_PER_FILE
    )
    return root / "base"


def run(root: Path, repeats: int) -> list[Row]:
    """Time 1 process and 2 dask workers on both storages and both commit sizes."""
    base = build(root)
    rows: list[Row] = []
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
        MotoServer() as server,
    ):
        server.create_bucket(BUCKET)
        options = server.storage_options()
        fs = fsspec.filesystem("s3", **s3_settings(options).filesystem_options)
        storages: dict[str, tuple[Callable[[str], None], dict[str, str], str]] = {
            "local": (
                lambda name: shutil.copytree(base, root / name),
                {},
                str(root),
            ),
            "moto": (
                lambda name: fs.put(str(base), f"{BUCKET}/{name}", recursive=True),
                options,
                f"s3://{BUCKET}",
            ),
        }
        executor = client.get_executor()
        for storage, (copy, storage_options, where) in storages.items():
            name = "delta-local" if storage == "local" else "delta-s3"
            backend = load_backend(name, root=where, storage_options=storage_options)
            _warm_up(backend, copy, executor)
            for per_commit in (100, 1):
                rows += _compare(backend, copy, executor, storage, per_commit, repeats)
    return rows


def _warm_up(backend, copy, executor) -> None:
    # Each worker imports the engine and loads the backend on its first task.
    copy("warm")
    backend.compact_partitions(
        "warm", partitions=PARTITIONS, min_small_files=2, executor=executor, shards=2
    )


def _compare(backend, copy, executor, storage: str, per_commit: int, repeats: int) -> list[Row]:
    tables: dict[str, list[str]] = {"one": [], "two": []}

    def side(label: str, spread: bool):
        def prepare(repetition: int):
            table = f"{storage}-{per_commit}-{label}-{repetition}"
            copy(table)
            tables[label].append(table)
            extra = {"executor": executor, "shards": 2} if spread else {}
            return lambda: backend.compact_partitions(
                table,
                partitions=PARTITIONS,
                min_small_files=2,
                partitions_per_commit=per_commit,
                **extra,
            )

        return prepare

    samples = interleaved({"one": side("one", False), "two": side("two", True)}, repeats)
    rebased, commits = _rebases(backend, tables["two"])
    case = f"7 scale-out, {storage}, {len(PARTITIONS)} partitions, {per_commit}/commit"
    ratio = samples["two"].median / samples["one"].median
    return [
        Row(case, "1 process", f"{samples['one'].median:.2f} s"),
        Row(
            case,
            "2 dask workers (2 shards)",
            f"{samples['two'].median:.2f} s",
            f"{ratio:.2f}x 1 process",
        ),
        Row(case, "2 workers: commits rebased", f"{rebased} of {commits}"),
    ]


def _rebases(backend, tables: list[str]) -> tuple[int, int]:
    """Compaction commits that were rebased, and all compaction commits, in ``tables``."""
    spec = backend.spec
    rebased = commits = 0
    for table in tables:
        fs, log = _log(spec, table)
        for path in sorted(fs.glob(f"{log}/*.json")):
            version = int(path.rsplit("/", 1)[-1].split(".")[0])
            info = json.loads(fs.cat_file(path).decode().splitlines()[0]).get("commitInfo", {})
            if info.get("operation") == "OPTIMIZE":
                commits += 1
                rebased += info.get("readVersion", version - 1) < version - 1
    return rebased, commits


def _log(spec, table: str):
    options = dict(spec.storage_options)
    if not options:
        return fsspec.filesystem("file"), f"{spec.root}/{table}/_delta_log"
    fs = fsspec.filesystem("s3", **s3_settings(options).filesystem_options)
    fs.invalidate_cache()
    return fs, f"{spec.root.removeprefix('s3://')}/{table}/_delta_log"


def main() -> None:
    """Run case 7 alone and print its rows."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.case_scaleout")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pointline-bench-") as work:
        print(render(run(Path(work), options.repeats)))


if __name__ == "__main__":
    main()
