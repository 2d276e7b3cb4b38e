"""The ``Backend`` facade, driven through a fake in-memory backend loaded by entry point."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from entrypoints import FAKE_BACKEND_SOURCE, FakeDistributions

from pointline_storage import (
    Backend,
    CompactionReport,
    InvalidOptionError,
    InvalidPartitionError,
    PartitionCompactionResult,
    PartitionOptimizer,
    PointlineStorageError,
    TableInspection,
    TableVacuum,
    UnsupportedOperationError,
    UnsupportedOptionError,
    VacuumReport,
    hookimpl,
    load_backend,
)
from pointline_storage.compression import parse_compression

MODULE = "fake_memory_backend"


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDistributions]:
    installed = FakeDistributions(tmp_path / "site", monkeypatch)
    installed.add(
        "fake-memory",
        version="0.0.1",
        entry_points={
            "memory": f"{MODULE}:create_backend",
            "memory-samples": f"{MODULE}:create_sample_writing_backend",
        },
        modules={MODULE: FAKE_BACKEND_SOURCE},
    )
    yield installed
    installed.cleanup()


@pytest.fixture
def backend(dists: FakeDistributions, tmp_path: Path) -> Backend:
    return load_backend("memory", root=tmp_path / "silver")


def _calls(backend: Backend) -> list[tuple[str, dict[str, Any]]]:
    plugin = backend.plugin_manager.get_plugin(backend.name)
    assert plugin is not None
    calls: list[tuple[str, dict[str, Any]]] = plugin.calls
    return calls


class Observer:
    """Watches every hook call through hookwrappers, as a metrics plugin would."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any], object]] = []

    @hookimpl(wrapper=True)
    def compact_partitions(
        self,
        table_name,
        partitions,
        target_file_size_bytes,
        min_small_files,
        dry_run,
        continue_on_error,
        progress,
    ):
        kwargs = {
            "table_name": table_name,
            "partitions": partitions,
            "target_file_size_bytes": target_file_size_bytes,
            "min_small_files": min_small_files,
            "dry_run": dry_run,
            "continue_on_error": continue_on_error,
            "progress": progress,
        }
        result = yield
        self.seen.append(("compact_partitions", kwargs, result))
        return result

    @hookimpl(wrapper=True)
    def inspect_partitions(self, table_name, partitions):
        result = yield
        self.seen.append(
            ("inspect_partitions", {"table_name": table_name, "partitions": partitions}, result)
        )
        return result

    @hookimpl(wrapper=True)
    def vacuum_table(self, table_name, retention_hours, dry_run, enforce_retention_duration, full):
        kwargs = {
            "table_name": table_name,
            "retention_hours": retention_hours,
            "dry_run": dry_run,
            "enforce_retention_duration": enforce_retention_duration,
            "full": full,
        }
        result = yield
        self.seen.append(("vacuum_table", kwargs, result))
        return result


# --- loading -------------------------------------------------------------------------------


def test_factory_receives_keyword_options(dists: FakeDistributions, tmp_path: Path) -> None:
    backend = load_backend(
        "memory",
        root=tmp_path / "silver",
        table_paths={"special": tmp_path / "elsewhere"},
        storage_options={"region": "cn-north-1"},
    )

    assert backend.name == "memory"
    assert repr(backend) == "Backend(name='memory')"
    plugin = backend.plugin_manager.get_plugin("memory")
    assert type(plugin).__name__ == "FakeBackend"
    assert [
        {
            "root": str(tmp_path / "silver"),
            "table_paths": {"special": str(tmp_path / "elsewhere")},
            "storage_options": {"region": "cn-north-1"},
        }
    ] == sys.modules[MODULE].FACTORY_CALLS
    assert isinstance(plugin.table_paths["special"], str)


def test_loaded_backend_satisfies_the_protocols(backend: Backend) -> None:
    assert isinstance(backend, Backend)
    assert isinstance(backend, PartitionOptimizer)
    assert isinstance(backend, TableVacuum)


def test_each_load_gets_its_own_plugin_manager(dists: FakeDistributions, tmp_path: Path) -> None:
    first = load_backend("memory", root=tmp_path)
    second = load_backend("memory", root=tmp_path)
    assert first.plugin_manager is not second.plugin_manager
    first.plugin_manager.register(Observer(), name="observer")
    assert second.plugin_manager.get_plugin("observer") is None


# --- calls reach the hooks as keywords -----------------------------------------------------


def test_compact_partitions_passes_validated_keywords(backend: Backend) -> None:
    seen: list[PartitionCompactionResult] = []

    report = backend.compact_partitions(
        "cn_order_events",
        partitions=(spec for spec in [{"exchange": "sse"}, {"exchange": "szse"}]),
        target_file_size_bytes=4096,
        min_small_files=2,
        dry_run=True,
        continue_on_error=False,
        progress=seen.append,
    )

    assert isinstance(report, CompactionReport)
    assert report.table_name == "cn_order_events"
    assert report.dry_run is True
    assert [result.partition for result in report.partitions] == [
        (("exchange", "sse"),),
        (("exchange", "szse"),),
    ]
    assert list(report.partitions) == seen
    [(hook, kwargs)] = _calls(backend)
    assert hook == "compact_partitions"
    assert kwargs == {
        "table_name": "cn_order_events",
        "partitions": ({"exchange": "sse"}, {"exchange": "szse"}),
        "target_file_size_bytes": 4096,
        "min_small_files": 2,
        "dry_run": True,
        "continue_on_error": False,
        "progress": seen.append,
    }
    assert kwargs["dry_run"] is True
    assert kwargs["continue_on_error"] is False
    assert all(type(spec) is dict for spec in kwargs["partitions"])


def test_compact_partitions_defaults(backend: Backend) -> None:
    backend.compact_partitions("t", partitions=[{}])

    [(_, kwargs)] = _calls(backend)
    assert kwargs == {
        "table_name": "t",
        "partitions": ({},),
        "target_file_size_bytes": None,
        "min_small_files": 8,
        "dry_run": False,
        "continue_on_error": True,
        "progress": None,
    }


def test_inspect_partitions_passes_keywords(backend: Backend) -> None:
    everything = backend.inspect_partitions("t")
    named = backend.inspect_partitions("t", [{"d": "2024-01-02"}])

    assert isinstance(everything, TableInspection)
    assert isinstance(named, TableInspection)
    assert _calls(backend) == [
        ("inspect_partitions", {"table_name": "t", "partitions": None}),
        ("inspect_partitions", {"table_name": "t", "partitions": ({"d": "2024-01-02"},)}),
    ]


def test_vacuum_table_passes_keywords_and_safe_defaults(backend: Backend) -> None:
    default = backend.vacuum_table("t")
    explicit = backend.vacuum_table(
        "t", retention_hours=0, dry_run=False, enforce_retention_duration=False, full=True
    )

    assert isinstance(default, VacuumReport)
    assert default.dry_run is True
    assert explicit.dry_run is False
    assert _calls(backend) == [
        (
            "vacuum_table",
            {
                "table_name": "t",
                "retention_hours": 168,
                "dry_run": True,
                "enforce_retention_duration": True,
                "full": False,
            },
        ),
        (
            "vacuum_table",
            {
                "table_name": "t",
                "retention_hours": 0,
                "dry_run": False,
                "enforce_retention_duration": False,
                "full": True,
            },
        ),
    ]


def test_observer_hookwrapper_sees_every_call(backend: Backend) -> None:
    observer = Observer()
    backend.plugin_manager.register(observer, name="observer")

    compacted = backend.compact_partitions("t", partitions=[{"p": "1"}], min_small_files=3)
    inspected = backend.inspect_partitions("t")
    vacuumed = backend.vacuum_table("t", retention_hours=24)

    assert [hook for hook, _, _ in observer.seen] == [
        "compact_partitions",
        "inspect_partitions",
        "vacuum_table",
    ]
    (_, compact_kwargs, compact_result), (_, inspect_kwargs, inspect_result), vacuum = observer.seen
    assert compact_kwargs == {
        "table_name": "t",
        "partitions": ({"p": "1"},),
        "target_file_size_bytes": None,
        "min_small_files": 3,
        "dry_run": False,
        "continue_on_error": True,
        "progress": None,
    }
    assert compact_result is compacted
    assert inspect_kwargs == {"table_name": "t", "partitions": None}
    assert inspect_result is inspected
    assert vacuum == (
        "vacuum_table",
        {
            "table_name": "t",
            "retention_hours": 24,
            "dry_run": True,
            "enforce_retention_duration": True,
            "full": False,
        },
        vacuumed,
    )
    assert vacuum[2] is vacuumed
    # The observer watched; the backend still did the work, once per call.
    assert [hook for hook, _ in _calls(backend)] == [
        "compact_partitions",
        "inspect_partitions",
        "vacuum_table",
    ]


def test_hook_returning_nothing_is_an_error(backend: Backend) -> None:
    class Silent:
        @hookimpl(tryfirst=True)
        def vacuum_table(self, table_name):
            return None

    backend.plugin_manager.register(Silent(), name="silent")

    # firstresult skips a None answer, so the real backend still answers...
    assert isinstance(backend.vacuum_table("t"), VacuumReport)
    # ...but with no backend answering at all, the facade refuses to return None.
    backend.plugin_manager.unregister(name=backend.name)
    with pytest.raises(PointlineStorageError, match="returned NoneType from vacuum_table"):
        backend.vacuum_table("t")


def test_hook_returning_the_wrong_type_is_an_error(backend: Backend) -> None:
    class Impostor:
        @hookimpl(tryfirst=True)
        def inspect_partitions(self, table_name):
            return {"table_name": table_name}

    backend.plugin_manager.register(Impostor(), name="impostor")

    with pytest.raises(PointlineStorageError) as exc_info:
        backend.inspect_partitions("t")

    message = str(exc_info.value)
    assert "'memory'" in message
    assert "returned dict from inspect_partitions" in message
    assert "expected TableInspection" in message


# --- validation before the hook ------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "option_name"),
    [
        ({"target_file_size_bytes": 0}, "target_file_size_bytes"),
        ({"target_file_size_bytes": -1}, "target_file_size_bytes"),
        ({"target_file_size_bytes": "1024"}, "target_file_size_bytes"),
        ({"target_file_size_bytes": 1024.0}, "target_file_size_bytes"),
        ({"target_file_size_bytes": True}, "target_file_size_bytes"),
        ({"min_small_files": -1}, "min_small_files"),
        ({"min_small_files": True}, "min_small_files"),
        ({"min_small_files": "8"}, "min_small_files"),
        ({"min_small_files": None}, "min_small_files"),
        ({"partitions_per_commit": 0}, "partitions_per_commit"),
        ({"partitions_per_commit": None}, "partitions_per_commit"),
        ({"partitions_per_commit": 2.0}, "partitions_per_commit"),
        ({"max_concurrent_tasks": 0}, "max_concurrent_tasks"),
        ({"max_concurrent_tasks": 10**6}, "max_concurrent_tasks"),
        ({"max_concurrent_tasks": "4"}, "max_concurrent_tasks"),
        ({"max_spill_size": 0}, "max_spill_size"),
        ({"max_spill_size": True}, "max_spill_size"),
        ({"compression": "zip"}, "compression must be one of"),
        ({"compression": "lz4"}, "compression must be one of"),
        ({"compression": "snappy(1)"}, "snappy takes no level"),
        ({"compression": "zstd(23)"}, "zstd compression levels range from 1 to 22"),
        ({"compression": "gzip(-1)"}, "compression must be one of"),
        ({"compression": 4}, "compression must be one of"),
    ],
)
def test_compact_rejects_bad_options_before_the_hook(
    backend: Backend, options: dict[str, Any], option_name: str
) -> None:
    with pytest.raises(InvalidOptionError, match=option_name) as exc_info:
        backend.compact_partitions("t", partitions=[{}], **options)

    assert isinstance(exc_info.value, ValueError)
    assert _calls(backend) == []


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [("zstd", ("zstd", None)), ("ZSTD( 9 )", ("zstd", 9)), ("Gzip(0)", ("gzip", 0))],
)
def test_compression_spellings_are_parsed(spelling: str, expected: tuple[str, int | None]) -> None:
    assert parse_compression(spelling) == expected


@pytest.mark.parametrize("retention_hours", [-1, -168, False, True, "168", 1.5, None])
def test_vacuum_rejects_bad_retention_before_the_hook(
    backend: Backend, retention_hours: object
) -> None:
    with pytest.raises(InvalidOptionError, match="retention_hours") as exc_info:
        backend.vacuum_table("t", retention_hours=retention_hours)  # type: ignore[arg-type]

    assert isinstance(exc_info.value, ValueError)
    assert _calls(backend) == []


def test_boundary_values_are_accepted(backend: Backend) -> None:
    backend.compact_partitions("t", partitions=[{}], target_file_size_bytes=1, min_small_files=0)
    backend.vacuum_table("t", retention_hours=0)

    assert [(hook, kwargs.get("min_small_files")) for hook, kwargs in _calls(backend)] == [
        ("compact_partitions", 0),
        ("vacuum_table", None),
    ]


@pytest.mark.parametrize(
    ("partitions", "message"),
    [
        ([], "no partitions named"),
        ((), "no partitions named"),
        ({"exchange": "sse"}, "must be a list of mappings"),
        ({}, "must be a list of mappings"),
        ("exchange=sse", "must be a list of mappings"),
        (b"exchange=sse", "must be a list of mappings"),
        (None, "must be a list of mappings"),
        (42, "must be a list of mappings"),
        (["exchange=sse"], "each partition must be a mapping"),
        ([{"exchange": "sse"}, ("exchange", "szse")], "each partition must be a mapping"),
        ([None], "each partition must be a mapping"),
    ],
)
def test_compact_rejects_bad_partitions_before_the_hook(
    backend: Backend, partitions: object, message: str
) -> None:
    with pytest.raises(InvalidPartitionError, match=message) as exc_info:
        backend.compact_partitions("t", partitions=partitions)  # type: ignore[arg-type]

    assert isinstance(exc_info.value, ValueError)
    assert _calls(backend) == []


@pytest.mark.parametrize(
    "partitions", [[], {"exchange": "sse"}, "exchange=sse", [["exchange", "sse"]]]
)
def test_inspect_rejects_bad_partitions_before_the_hook(
    backend: Backend, partitions: object
) -> None:
    with pytest.raises(InvalidPartitionError):
        backend.inspect_partitions("t", partitions)  # type: ignore[arg-type]

    assert _calls(backend) == []


# --- the optional sample-table hook --------------------------------------------------------


def test_write_sample_table_unsupported(backend: Backend) -> None:
    rows = pa.table({"x": [1, 2]})

    with pytest.raises(UnsupportedOperationError, match="'memory'") as exc_info:
        backend.write_sample_table("t", rows=rows)

    assert isinstance(exc_info.value, NotImplementedError)
    assert isinstance(exc_info.value, PointlineStorageError)
    assert _calls(backend) == []


def test_write_sample_table_reaches_a_backend_that_has_it(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    backend = load_backend("memory-samples", root=tmp_path)
    rows = pa.table({"x": [1, 2], "p": ["a", "b"]})

    result = backend.write_sample_table("t", rows=rows, partition_by=["p"], rows_per_file=2)

    assert result is None
    assert _calls(backend) == [
        (
            "write_sample_table",
            {"table_name": "t", "rows": rows, "partition_by": ("p",), "rows_per_file": 2},
        )
    ]


@pytest.mark.parametrize("partition_by", ["exchange", b"exchange"])
def test_write_sample_table_rejects_a_single_string_partition_by(
    dists: FakeDistributions, tmp_path: Path, partition_by: object
) -> None:
    backend = load_backend("memory-samples", root=tmp_path)

    with pytest.raises(InvalidOptionError, match="partition_by"):
        backend.write_sample_table(
            "t",
            rows=pa.table({"exchange": ["sse"]}),
            partition_by=partition_by,  # type: ignore[arg-type]
        )

    assert _calls(backend) == []


@pytest.mark.parametrize("rows_per_file", [0, -1, True, "1"])
def test_write_sample_table_rejects_bad_rows_per_file(
    dists: FakeDistributions, tmp_path: Path, rows_per_file: object
) -> None:
    backend = load_backend("memory-samples", root=tmp_path)

    with pytest.raises(InvalidOptionError, match="rows_per_file"):
        backend.write_sample_table(
            "t",
            rows=pa.table({"x": [1]}),
            rows_per_file=rows_per_file,  # type: ignore[arg-type]
        )

    assert _calls(backend) == []


@pytest.mark.parametrize("flag", ["dry_run", "enforce_retention_duration", "full"])
@pytest.mark.parametrize("value", [None, 0, 1, "False", "true"])
def test_vacuum_flags_must_be_real_booleans(backend: Backend, flag: str, value: object) -> None:
    # A missing setting (None) must never become dry_run=False, a real deletion.
    with pytest.raises(InvalidOptionError, match=flag):
        backend.vacuum_table("cn_order_events", **{flag: value})
    assert _calls(backend) == []


@pytest.mark.parametrize("flag", ["dry_run", "continue_on_error"])
def test_compaction_flags_must_be_real_booleans(backend: Backend, flag: str) -> None:
    with pytest.raises(InvalidOptionError, match=flag):
        backend.compact_partitions("t", partitions=[{"exchange": "sse"}], **{flag: None})
    assert _calls(backend) == []


def test_a_target_size_beyond_int64_is_refused(backend: Backend) -> None:
    with pytest.raises(InvalidOptionError, match="must be <="):
        backend.compact_partitions(
            "t", partitions=[{"exchange": "sse"}], target_file_size_bytes=2**63
        )
    assert _calls(backend) == []


def test_a_retention_beyond_a_century_is_refused(backend: Backend) -> None:
    with pytest.raises(InvalidOptionError, match="must be <="):
        backend.vacuum_table("t", retention_hours=10**9)
    assert _calls(backend) == []


# --- options a backend's hook does not take are refused, never dropped ----------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("compression", "zstd(9)"),
        ("partitions_per_commit", 1),
        ("max_concurrent_tasks", 2),
        ("max_spill_size", 1024),
    ],
)
def test_an_option_the_hook_does_not_take_is_refused_before_the_hook(
    backend: Backend, option: str, value: object
) -> None:
    # The fake backend's hook takes only the seed's seven parameters.
    with pytest.raises(UnsupportedOptionError) as caught:
        backend.compact_partitions("t", partitions=[{}], **{option: value})  # type: ignore[arg-type]

    message = str(caught.value)
    assert option in message
    assert "'memory'" in message
    assert isinstance(caught.value, InvalidOptionError)
    assert _calls(backend) == []


def test_options_left_at_their_defaults_pass_a_hook_without_them(backend: Backend) -> None:
    backend.compact_partitions(
        "t",
        partitions=[{}],
        partitions_per_commit=100,
        max_concurrent_tasks=None,
        max_spill_size=None,
        compression=None,
    )

    [(hook, kwargs)] = _calls(backend)
    assert hook == "compact_partitions"
    assert "compression" not in kwargs
    assert "partitions_per_commit" not in kwargs
