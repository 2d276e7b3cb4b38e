"""Secrets given to ``delta-s3`` never show: not in a report, a repr, an exception (with its
chain), a log line, nor anything the CLI prints."""

from __future__ import annotations

import json
import logging
import traceback

import pytest
from cli_run import run as run_cli
from test_delta_s3 import PARTITIONS, write_orders

from pointline_storage import CompactionFailedError, PointlineStorageError, load_backend
from pointline_storage.testing.s3 import MotoServer

SECRET = "SECRET-wJalrXUtnFEMI-K7MDENG-bPxRfiCY"
TOKEN = "TOKEN-FwoGZXIvYXdzEBYaDHqa0AP-session"


def assert_hidden(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert TOKEN not in text


def full_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


@pytest.fixture
def secret_options(moto_server: MotoServer) -> dict[str, str]:
    # This server accepts any credentials, so the secrets reach every request.
    return moto_server.storage_options(AWS_SECRET_ACCESS_KEY=SECRET, AWS_SESSION_TOKEN=TOKEN)


def test_reports_reprs_and_logs_hide_secrets(
    s3_bucket: str, secret_options: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="pointline_storage")
    backend = load_backend(
        "delta-s3", root=f"s3://{s3_bucket}/silver", storage_options=secret_options
    )
    write_orders(backend)
    inspection = backend.inspect_partitions("orders")
    compaction = backend.compact_partitions("orders", partitions=PARTITIONS, min_small_files=2)
    vacuum = backend.vacuum_table("orders", retention_hours=0, enforce_retention_duration=False)
    assert compaction.succeeded_partitions == 4
    plugins = [repr(plugin) for plugin in backend.plugin_manager.get_plugins()]
    assert any("DeltaS3Optimizer" in text for text in plugins)
    assert_hidden(
        repr(backend),
        *plugins,
        *(repr(report) for report in (inspection, compaction, vacuum)),
        *(json.dumps(report.to_dict()) for report in (inspection, compaction, vacuum)),
        caplog.text,
    )


def test_errors_hide_secrets(
    moto_server: MotoServer, s3_bucket: str, secret_options: dict[str, str]
) -> None:
    backend = load_backend(
        "delta-s3", root=f"s3://{s3_bucket}/silver", storage_options=secret_options
    )
    write_orders(backend)
    moto_server.client().put_object(
        Bucket=s3_bucket,
        Key="silver/orders/_delta_log/00000000000000000001.json",
        Body=b'{"add": {"path": 1}}',
    )
    unreadable = load_backend(
        "delta-s3", root=f"s3://{s3_bucket}/silver", storage_options=secret_options
    )
    unreachable = load_backend(
        "delta-s3",
        root=f"s3://{s3_bucket}/silver",
        storage_options={
            **secret_options,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "max_retries": "0",
        },
    )
    missing_bucket = load_backend(
        "delta-s3", root="s3://no-such-bucket", storage_options=secret_options
    )
    errors = []
    for attempt in (
        lambda: unreadable.inspect_partitions("orders"),
        lambda: unreachable.compact_partitions("orders", partitions=PARTITIONS),
        lambda: missing_bucket.vacuum_table("orders"),
    ):
        with pytest.raises(PointlineStorageError) as caught:
            attempt()
        errors.append(caught.value)
    assert "cannot read table 'orders'" in str(errors[0])
    assert_hidden(*(full_text(error) for error in errors))


def test_a_failed_partition_report_hides_secrets(
    moto_server: MotoServer, s3_bucket: str, secret_options: dict[str, str]
) -> None:
    backend = load_backend(
        "delta-s3", root=f"s3://{s3_bucket}/silver", storage_options=secret_options
    )
    write_orders(backend)
    # A data file whose content quotes the secret: the engine's parse error may echo it.
    listing = moto_server.client().list_objects_v2(
        Bucket=s3_bucket, Prefix="silver/orders/exchange=sse/trading_date=2024-01-02/"
    )
    victim = sorted(item["Key"] for item in listing["Contents"])[0]
    moto_server.client().put_object(Bucket=s3_bucket, Key=victim, Body=SECRET.encode() * 4)
    with pytest.raises(CompactionFailedError) as caught:
        backend.compact_partitions(
            "orders", partitions=PARTITIONS, min_small_files=2, continue_on_error=False
        )
    failed = [result for result in caught.value.report.partitions if result.status == "failed"]
    assert len(failed) == 1
    assert_hidden(
        full_text(caught.value), json.dumps(caught.value.report.to_dict()), repr(failed[0])
    )


def test_the_cli_works_on_s3_and_hides_secrets(
    moto_server: MotoServer, s3_bucket: str, secret_options: dict[str, str]
) -> None:
    root = f"s3://{s3_bucket}/silver"
    write_orders(load_backend("delta-s3", root=root, storage_options=secret_options))
    partition = ["--partition", "exchange=sse,trading_date=2024-01-02"]
    given = [
        arg
        for key, value in secret_options.items()
        for arg in ("--storage-option", f"{key}={value}")
    ]
    compact = run_cli(
        "compact", "--backend", "delta-s3", "--root", root, "--table", "orders",
        "--min-small-files", "2", "--json", *partition, *given,
    )  # fmt: skip
    assert compact.returncode == 0, compact.stderr
    report = json.loads(compact.stdout)
    assert [p["status"] for p in report["partitions"]] == ["compacted"]
    assert report["partitions"][0]["after_file_count"] == 1

    # The same through the standard AWS environment variables, with no option given.
    environment = {
        "AWS_ENDPOINT_URL": moto_server.endpoint_url,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": secret_options["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    inspect = run_cli(
        "inspect", "--backend", "delta-s3", "--root", root, "--table", "orders", env=environment
    )
    assert inspect.returncode == 0, inspect.stderr
    assert "exchange=sse" in inspect.stdout

    failing = run_cli(
        "vacuum", "--backend", "delta-s3", "--root", "s3://no-such-bucket", "--table", "orders",
        *given,
    )  # fmt: skip
    assert failing.returncode == 1
    assert "bucket 'no-such-bucket' does not exist" in failing.stderr
    unreachable = run_cli(
        "inspect", "--backend", "delta-s3", "--root", root, "--table", "orders",
        "--storage-option", "max_retries=0", "--storage-option", "connect_timeout=1s",
        env={**environment, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
    )  # fmt: skip
    assert unreachable.returncode == 1
    assert "did not answer" in unreachable.stderr
    for result in (compact, inspect, failing, unreachable):
        assert_hidden(result.stdout, result.stderr)


def test_a_secret_echoed_by_a_message_is_masked(
    s3_bucket: str, secret_options: dict[str, str]
) -> None:
    """Whatever text carries a secret (here a location), the backend masks it."""
    backend = load_backend(
        "delta-s3",
        root=f"s3://{s3_bucket}/silver",
        table_paths={"orders": f"s3://{s3_bucket}/{SECRET}"},
        storage_options=secret_options,
    )
    with pytest.raises(PointlineStorageError) as caught:
        backend.inspect_partitions("orders")
    assert f"s3://{s3_bucket}/*** does not exist" in str(caught.value)
    assert_hidden(full_text(caught.value))
