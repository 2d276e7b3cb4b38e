"""The trace observer: enabled by POINTLINE_STORAGE_TRACE=1, one log record per hook call."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from entrypoints import FAKE_BACKEND_SOURCE, FakeDistributions

from pointline_storage import TableNotFoundError, UnsupportedOperationError, load_backend
from pointline_storage.sample import order_events
from pointline_storage.trace import LOGGER_NAME, TRACE_VARIABLE, TraceObserver

SECRET = "hunter2-not-for-logs"
DAY = dt.date(2024, 1, 2)


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(TRACE_VARIABLE, "1")
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)


@pytest.fixture
def memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    installed = FakeDistributions(tmp_path / "site", monkeypatch)
    installed.add(
        "fake-memory",
        entry_points={"memory": "fake_trace_backend:create_backend"},
        modules={"fake_trace_backend": FAKE_BACKEND_SOURCE},
    )
    yield
    installed.cleanup()


def trace_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER_NAME]


@pytest.mark.usefixtures("traced")
def test_each_call_is_logged_with_its_outcome_and_duration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = load_backend("delta-local", root=tmp_path)
    rows = order_events(exchanges=("sse",), days=(DAY,), rows_per_partition=4)
    backend.write_sample_table("t", rows=rows, partition_by=["exchange"], rows_per_file=2)
    backend.inspect_partitions("t")
    with pytest.raises(TableNotFoundError):
        backend.vacuum_table("missing")
    records = trace_records(caplog)
    assert [(r.hook, r.table, r.outcome, r.levelname) for r in records] == [
        ("write_sample_table", "t", "ok", "INFO"),
        ("inspect_partitions", "t", "ok", "INFO"),
        ("vacuum_table", "missing", "TableNotFoundError", "WARNING"),
    ]
    for record in records:
        assert record.backend == "delta-local"
        assert 0 <= record.duration_seconds < 60
        assert record.getMessage().startswith(f"delta-local {record.hook} table=")
        assert record.getMessage().endswith(f"{record.duration_seconds:.3f} s")


def test_no_observer_without_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(TRACE_VARIABLE, raising=False)
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    backend = load_backend("delta-local", root=tmp_path)
    with pytest.raises(TableNotFoundError):
        backend.inspect_partitions("missing")
    assert trace_records(caplog) == []
    assert not any(isinstance(p, TraceObserver) for p in backend.plugin_manager.get_plugins())


@pytest.mark.usefixtures("traced", "memory")
def test_logs_carry_no_storage_options(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    backend = load_backend("memory", root=tmp_path, storage_options={"secret": SECRET})
    backend.compact_partitions("t", partitions=[{"day": "2024-01-02"}])
    backend.vacuum_table("t")
    records = trace_records(caplog)
    assert [r.hook for r in records] == ["compact_partitions", "vacuum_table"]
    assert all(SECRET not in record.getMessage() for record in records)
    assert all(SECRET not in str(vars(record)) for record in records)


@pytest.mark.usefixtures("traced", "memory")
def test_a_wrapper_alone_does_not_make_an_optional_hook_implemented(tmp_path: Path) -> None:
    backend = load_backend("memory", root=tmp_path)
    with pytest.raises(UnsupportedOperationError):
        backend.write_sample_table(
            "t", rows=order_events(exchanges=("sse",), days=(DAY,), rows_per_partition=1)
        )


def test_the_cli_prints_the_trace_on_stderr(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pointline_storage.cli", "inspect", "--root", str(tmp_path)),
            *("--table", "missing", "--storage-option", f"secret={SECRET}"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, TRACE_VARIABLE: "1"},
        check=False,
    )
    assert result.returncode == 1
    trace_line, error_line = result.stderr.splitlines()
    assert trace_line.startswith(
        "trace: delta-local inspect_partitions table='missing' TableNotFoundError in "
    )
    assert error_line.startswith("error: ")
    assert SECRET not in result.stderr


def test_the_readmes_metrics_observer_measures_compactions(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    source = readme.split("<!-- example: metrics-observer -->\n```python\n", 1)[1]
    backend = load_backend("delta-local", root=tmp_path)
    rows = order_events(exchanges=("sse",), days=(DAY,), rows_per_partition=4)
    backend.write_sample_table("t", rows=rows, partition_by=["exchange"], rows_per_file=1)
    namespace = {"backend": backend}
    exec(source.split("```", 1)[0], namespace)
    report = backend.compact_partitions("t", partitions=[{"exchange": "sse"}], min_small_files=2)
    assert report.succeeded_partitions == 1
    backend.inspect_partitions("t")  # not observed
    metrics = namespace["metrics"]
    assert dict(metrics.calls) == {"t": 1}
    assert 0 < metrics.seconds["t"] <= report.duration_seconds + 1
