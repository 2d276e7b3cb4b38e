"""``delta-s3`` and ``delta-local`` give the same reports for the same work: the same
table, the same calls, field for field (only durations and random file names differ)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_delta_s3 import PARTITIONS, write_orders

from pointline_storage import Backend, load_backend
from pointline_storage.testing.s3 import MotoServer


def comparable(report: Any) -> dict[str, Any]:
    data = report.to_dict()
    data.pop("duration_seconds", None)
    if "deleted_files" in data:
        # Data files get random names; where they sit is what must match.
        data["deleted_files"] = sorted(path.rsplit("/", 1)[0] for path in data["deleted_files"])
    return data


def session(backend: Backend) -> list[dict[str, Any]]:
    write_orders(backend)
    named = [*PARTITIONS[:3], {"exchange": "bse", "trading_date": "2024-01-02"}]
    return [
        comparable(report)
        for report in (
            backend.inspect_partitions("orders"),
            backend.compact_partitions("orders", partitions=named, dry_run=True, min_small_files=2),
            backend.compact_partitions("orders", partitions=named, min_small_files=5),
            backend.compact_partitions("orders", partitions=named, min_small_files=2),
            backend.compact_partitions("orders", partitions=named, min_small_files=2),
            backend.inspect_partitions("orders", partitions=named),
            backend.vacuum_table("orders", retention_hours=0, enforce_retention_duration=False),
            backend.vacuum_table(
                "orders", retention_hours=0, enforce_retention_duration=False, dry_run=False
            ),
            backend.vacuum_table("orders", retention_hours=0, enforce_retention_duration=False),
        )
    ]


def test_the_same_work_gives_the_same_reports(
    tmp_path: Path, moto_server: MotoServer, s3_bucket: str
) -> None:
    local = session(load_backend("delta-local", root=tmp_path / "silver"))
    s3 = session(
        load_backend(
            "delta-s3",
            root=f"s3://{s3_bucket}/silver",
            storage_options=moto_server.storage_options(),
        )
    )
    assert s3 == local
    statuses = [[p["status"] for p in report["partitions"]] for report in local[1:5]]
    assert statuses == [
        ["skipped", "would_compact", "would_compact", "would_compact"],
        ["skipped", "skipped", "skipped", "skipped"],
        ["skipped", "compacted", "compacted", "compacted"],
        ["skipped", "skipped", "skipped", "skipped"],
    ]
    assert local[7]["deleted_count"] == 12
