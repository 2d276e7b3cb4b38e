"""Case 5: case 1 on S3 (a local ``moto_server``): ``compact_partitions`` through
``delta-s3`` vs raw deltalake against the same server, on fresh uploads of one table."""

from __future__ import annotations

from pathlib import Path

import fsspec
from deltalake import DeltaTable
from pointline_storage_delta.s3_options import s3_settings

from benchmarks.case_one_partition import PARTITION, TARGET
from benchmarks.report import Row, check
from benchmarks.timing import interleaved
from pointline_storage import load_backend
from pointline_storage.testing.s3 import MotoServer

BUCKET = "bench"


def run(base: Path, repeats: int) -> list[Row]:
    """Time both sides on copies of case 1's local table uploaded to a fresh server."""
    input_bytes = sum(path.stat().st_size for path in base.rglob("*.parquet"))
    with MotoServer() as server:
        server.create_bucket(BUCKET)
        options = server.storage_options()
        fs = fsspec.filesystem("s3", **s3_settings(options).filesystem_options)

        def upload(name: str) -> str:
            # Uploading is preparation, not timed; each run gets a table of its own.
            fs.put(str(base), f"{BUCKET}/{name}", recursive=True)
            return f"s3://{BUCKET}/{name}"

        def ours(repetition: int):
            upload(f"ours-{repetition}")
            backend = load_backend("delta-s3", root=f"s3://{BUCKET}", storage_options=options)
            return lambda: backend.compact_partitions(
                f"ours-{repetition}",
                partitions=[PARTITION],
                target_file_size_bytes=TARGET,
                min_small_files=2,
            )

        def raw(repetition: int):
            uri = upload(f"raw-{repetition}")
            filters = [(column, "=", value) for column, value in PARTITION.items()]
            return lambda: DeltaTable(uri, storage_options=options).optimize.compact(
                partition_filters=filters, target_size=TARGET
            )

        samples = interleaved({"ours": ours, "raw": raw}, repeats)
    mb = input_bytes / 1e6
    ratio = samples["ours"].median / samples["raw"].median
    case = f"5 case 1 on S3 (moto_server), {mb:.0f} MB"
    return [
        Row(
            case,
            "raw optimize.compact",
            f"{samples['raw'].median:.2f} s  {mb / samples['raw'].median:.0f} MB/s",
        ),
        Row(
            case,
            "compact_partitions (delta-s3)",
            f"{samples['ours'].median:.2f} s  {mb / samples['ours'].median:.0f} MB/s",
            f"{ratio:.2f}x raw",
            "<= 1.1",
            check(ratio, at_most=1.1),
        ),
    ]
