"""S3 faults during a compaction: a server that stops answering mid-way, throttling and
internal errors. Whatever happens, every row stays and the report says what happened."""

from __future__ import annotations

import pyarrow as pa
from deltalake import DeltaTable
from s3_fault_proxy import FaultProxy
from test_delta_s3 import PARTITIONS, write_orders

from pointline_storage import CompactionReport, PartitionCompactionResult, load_backend
from pointline_storage.testing import sorted_rows
from pointline_storage.testing.s3 import MotoServer

#: Short timeouts, so a silent endpoint fails a partition in seconds.
IMPATIENT = {"connect_timeout": "1s", "timeout": "2s", "max_retries": "0", "retry_timeout": "3s"}


def table_state(uri: str, options: dict[str, str]) -> tuple[int, pa.Table, set[str]]:
    table = DeltaTable(uri, storage_options=options)
    paths = set(pa.table(table.get_add_actions(flatten=True))["path"].to_pylist())
    return table.version(), sorted_rows(table.to_pyarrow_table()), paths


def compact_through(
    proxy: FaultProxy, server: MotoServer, bucket: str, max_retries: str
) -> CompactionReport:
    """Compact every partition of ``orders`` with all requests going through ``proxy``."""
    backend = load_backend(
        "delta-s3",
        root=f"s3://{bucket}/silver",
        storage_options=server.storage_options(
            AWS_ENDPOINT_URL=proxy.endpoint_url, max_retries=max_retries
        ),
    )
    return backend.compact_partitions("orders", partitions=PARTITIONS, min_small_files=2)


def test_a_server_that_stops_answering_mid_compaction(
    moto_server: MotoServer, s3_bucket: str
) -> None:
    """The server is frozen (SIGSTOP) after the first partition commits, and resumed after
    the call. Freezing keeps moto's in-memory state, which a killed moto would lose with
    the table; to the client it is the same outage: connections hang, requests time out."""
    options = moto_server.storage_options(**IMPATIENT)
    uri = f"s3://{s3_bucket}/silver/orders"
    backend = load_backend("delta-s3", root=f"s3://{s3_bucket}/silver", storage_options=options)
    write_orders(backend)
    _, rows_before, _ = table_state(uri, options)

    def freeze_after_first_commit(result: PartitionCompactionResult) -> None:
        if result.status == "compacted":
            moto_server.pause()

    try:
        report = backend.compact_partitions(
            "orders",
            partitions=PARTITIONS,
            min_small_files=2,
            continue_on_error=True,
            progress=freeze_after_first_commit,
            partitions_per_commit=1,  # so the server freezes between two commits
        )
    finally:
        moto_server.resume()

    statuses = [result.status for result in report.partitions]
    assert statuses == ["compacted", "failed", "failed", "failed"]
    for failed in report.partitions[1:]:
        assert failed.error
        assert failed.files_added == failed.files_removed == 0
    _, rows_after, _ = table_state(uri, options)
    assert rows_after.equals(rows_before)

    rerun = backend.compact_partitions("orders", partitions=PARTITIONS, min_small_files=2)
    assert [result.status for result in rerun.partitions] == ["skipped"] + ["compacted"] * 3
    assert [stats.file_count for stats in backend.inspect_partitions("orders").partitions] == [
        1
    ] * 4
    _, rows_final, _ = table_state(uri, options)
    assert rows_final.equals(rows_before)


def test_throttling_and_internal_errors_are_retried_to_success(
    moto_server: MotoServer, s3_bucket: str
) -> None:
    """The first attempt of every upload and commit is answered 500, and of every listing
    503 SlowDown, before reaching the server; bounded retries carry every partition."""
    uri = f"s3://{s3_bucket}/silver/orders"
    direct = moto_server.storage_options()
    write_orders(load_backend("delta-s3", root=f"s3://{s3_bucket}/silver", storage_options=direct))
    _, rows_before, _ = table_state(uri, direct)

    seen: set[tuple[str, str]] = set()

    def first_attempts(method: str, path: str, number: int) -> int | None:
        if (method, path) in seen:
            return None
        seen.add((method, path))
        if method == "PUT":
            return 500
        return 503 if method == "GET" and "list-type=2" in path else None

    with FaultProxy(moto_server.endpoint_url, first_attempts) as proxy:
        report = compact_through(proxy, moto_server, s3_bucket, max_retries="3")
    assert {status for _, _, status in proxy.injected} == {500, 503}
    assert any(method == "PUT" for method, _, _ in proxy.injected)
    assert [result.status for result in report.partitions] == ["compacted"] * 4
    assert [result.after_file_count for result in report.partitions] == [1] * 4
    _, rows_after, _ = table_state(uri, direct)
    assert rows_after.equals(rows_before)


def test_commits_that_keep_failing_leave_the_table_as_it_was(
    moto_server: MotoServer, s3_bucket: str
) -> None:
    """Every commit (a PUT into _delta_log) is answered 500: each partition fails clearly
    after its retries, and no version, row or live file changes."""
    uri = f"s3://{s3_bucket}/silver/orders"
    direct = moto_server.storage_options()
    write_orders(load_backend("delta-s3", root=f"s3://{s3_bucket}/silver", storage_options=direct))
    before = table_state(uri, direct)

    def fail_commits(method: str, path: str, number: int) -> int | None:
        return 500 if method == "PUT" and "/_delta_log/" in path else None

    with FaultProxy(moto_server.endpoint_url, fail_commits) as proxy:
        report = compact_through(proxy, moto_server, s3_bucket, max_retries="1")
    assert proxy.injected
    assert [result.status for result in report.partitions] == ["failed"] * 4
    assert all("500" in (result.error or "") for result in report.partitions)
    assert report.version_after == report.version_before == before[0]
    after = table_state(uri, direct)
    assert after[0] == before[0]
    assert after[1].equals(before[1])
    assert after[2] == before[2]
