"""``delta-s3`` against a real ``moto_server``: errors before writing, tables at a bucket
root, and the S3 behaviour Delta commits rely on."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator

import botocore.exceptions
import pytest
from deltalake import DeltaTable

from pointline_storage import (
    Backend,
    InvalidOptionError,
    StorageAccessError,
    StorageUnreachableError,
    TableNotFoundError,
    load_backend,
)
from pointline_storage.sample import order_events
from pointline_storage.testing import sorted_rows
from pointline_storage.testing.s3 import MotoServer

ROWS = order_events(
    exchanges=("sse", "szse"),
    days=(dt.date(2024, 1, 2), dt.date(2024, 1, 3)),
    rows_per_partition=40,
)
PARTITIONS = [
    {"exchange": exchange, "trading_date": day}
    for exchange in ("sse", "szse")
    for day in ("2024-01-02", "2024-01-03")
]


def write_orders(backend: Backend, name: str = "orders") -> str:
    """Four partitions of four small files each."""
    backend.write_sample_table(
        name, rows=ROWS, partition_by=("exchange", "trading_date"), rows_per_file=10
    )
    return name


def object_keys(server: MotoServer, bucket: str) -> set[str]:
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_the_server_honours_conditional_writes(moto_server: MotoServer, s3_bucket: str) -> None:
    """Canary: Delta commits on S3 rely on ``If-None-Match: *`` refusing an existing key."""
    client = moto_server.client()
    client.put_object(Bucket=s3_bucket, Key="_delta_log/0.json", Body=b"first", IfNoneMatch="*")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        client.put_object(
            Bucket=s3_bucket, Key="_delta_log/0.json", Body=b"second", IfNoneMatch="*"
        )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    body = client.get_object(Bucket=s3_bucket, Key="_delta_log/0.json")["Body"].read()
    assert body == b"first"


def test_a_table_at_the_bucket_root(moto_server: MotoServer, s3_bucket: str) -> None:
    options = moto_server.storage_options()
    backend = load_backend(
        "delta-s3",
        root=f"s3://{s3_bucket}/unused",
        table_paths={"orders": f"s3://{s3_bucket}"},
        storage_options=options,
    )
    write_orders(backend)
    assert any(key.startswith("_delta_log/") for key in object_keys(moto_server, s3_bucket))
    before = sorted_rows(
        DeltaTable(f"s3://{s3_bucket}", storage_options=options).to_pyarrow_table()
    )
    small_files = {key for key in object_keys(moto_server, s3_bucket) if key.endswith(".parquet")}

    report = backend.compact_partitions("orders", partitions=PARTITIONS, min_small_files=2)
    assert [result.status for result in report.partitions] == ["compacted"] * 4
    assert [result.after_file_count for result in report.partitions] == [1] * 4
    table = DeltaTable(f"s3://{s3_bucket}", storage_options=options)
    assert sorted_rows(table.to_pyarrow_table()).equals(before)

    vacuum = backend.vacuum_table(
        "orders", retention_hours=0, enforce_retention_duration=False, dry_run=False
    )
    assert set(vacuum.deleted_files) == small_files  # exactly the files compaction replaced
    remaining = {key for key in object_keys(moto_server, s3_bucket) if key.endswith(".parquet")}
    assert remaining == {action["path"] for action in _actions(table)}
    assert not remaining & set(vacuum.deleted_files)


def _actions(table: DeltaTable) -> list[dict[str, object]]:
    import pyarrow as pa

    return pa.table(table.get_add_actions(flatten=True)).select(["path"]).to_pylist()


@pytest.mark.parametrize("root", ["/tmp/silver", "file:///tmp/silver", "s3://", "gs://bucket"])
def test_roots_that_are_not_s3_are_refused(root: str) -> None:
    with pytest.raises(InvalidOptionError, match="delta-s3 needs s3://bucket"):
        load_backend("delta-s3", root=root)


def test_a_missing_bucket_is_named(moto_server: MotoServer, s3_bucket: str) -> None:
    backend = load_backend(
        "delta-s3", root="s3://no-such-bucket/silver", storage_options=moto_server.storage_options()
    )
    with pytest.raises(TableNotFoundError) as caught:
        backend.compact_partitions("orders", partitions=PARTITIONS)
    message = str(caught.value)
    assert "bucket 'no-such-bucket' does not exist" in message
    assert moto_server.endpoint_url in message
    buckets = [b["Name"] for b in moto_server.client().list_buckets()["Buckets"]]
    assert buckets == [s3_bucket]


def test_a_path_without_a_delta_table_is_named(moto_server: MotoServer, s3_bucket: str) -> None:
    moto_server.client().put_object(Bucket=s3_bucket, Key="silver/orders/part-0.parquet", Body=b"x")
    backend = load_backend(
        "delta-s3", root=f"s3://{s3_bucket}/silver", storage_options=moto_server.storage_options()
    )
    with pytest.raises(TableNotFoundError, match="holds no Delta table"):
        backend.vacuum_table("orders", dry_run=False)
    with pytest.raises(TableNotFoundError, match="does not exist"):
        backend.inspect_partitions("other")
    assert object_keys(moto_server, s3_bucket) == {"silver/orders/part-0.parquet"}


@pytest.fixture(scope="module")
def checking_server() -> Iterator[MotoServer]:
    """A server that checks credentials: only its one user's keys are valid."""
    with MotoServer(check_credentials=True) as server:
        server.create_bucket("guarded")
        backend = load_backend(
            "delta-s3", root="s3://guarded/silver", storage_options=server.storage_options()
        )
        write_orders(backend)
        yield server


@pytest.mark.parametrize("wrong", ["secret", "key"])
def test_wrong_credentials_are_refused_before_anything_is_written(
    checking_server: MotoServer, wrong: str
) -> None:
    before = object_keys(checking_server, "guarded")
    bad_secret = "wrong-secret-0123456789abcdef"
    overrides = {"AWS_SECRET_ACCESS_KEY": bad_secret}
    if wrong == "key":
        overrides["AWS_ACCESS_KEY_ID"] = "AKIAUNKNOWNKEY000000"
    backend = load_backend(
        "delta-s3",
        root="s3://guarded/silver",
        storage_options=checking_server.storage_options(**overrides),
    )
    with pytest.raises(StorageAccessError) as caught:
        backend.compact_partitions("orders", partitions=PARTITIONS)
    message = str(caught.value)
    assert checking_server.endpoint_url in message
    assert "AWS_SECRET_ACCESS_KEY" in message  # says what to check
    assert bad_secret not in message
    assert checking_server.secret_access_key not in message
    assert object_keys(checking_server, "guarded") == before


def _silent_endpoint() -> socket.socket:
    """A socket that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    return listener


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_an_endpoint_that_does_not_answer_fails_fast_and_is_named(
    moto_server: MotoServer, kind: str
) -> None:
    listener = _silent_endpoint()
    port = listener.getsockname()[1]
    if kind == "refused":
        listener.close()
    endpoint = f"http://127.0.0.1:{port}"
    options = moto_server.storage_options(
        AWS_ENDPOINT_URL=endpoint, connect_timeout="1s", timeout="1s", max_retries="1"
    )
    backend = load_backend("delta-s3", root="s3://bucket/silver", storage_options=options)
    started = time.monotonic()
    try:
        with pytest.raises(StorageUnreachableError) as caught:
            backend.inspect_partitions("orders")
    finally:
        listener.close()
    assert time.monotonic() - started < 15
    message = str(caught.value)
    assert f"S3 endpoint {endpoint} did not answer" in message
    assert "max_retries=1" in message
    assert moto_server.secret_access_key not in message
