"""Backend discovery and loading through real entry points of real (fake) distributions."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from entrypoints import FAKE_BACKEND_SOURCE, FakeDistributions

from pointline_storage import (
    ENTRY_POINT_GROUP,
    BackendInfo,
    BackendLoadError,
    BackendNotFoundError,
    InvalidOptionError,
    PointlineStorageError,
    available_backends,
    load_backend,
)
from pointline_storage.registry import find_entry_point

EXPLODING_MODULE = """
raise RuntimeError("backend module exploded on import")
"""


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDistributions]:
    installed = FakeDistributions(tmp_path / "site", monkeypatch)
    yield installed
    installed.cleanup()


def _load(name: str, root: Path) -> object:
    return load_backend(name, root=root)


# --- listing -------------------------------------------------------------------------------


def test_available_backends_lists_delta_local_with_its_distribution_and_version() -> None:
    backends = {info.name: info for info in available_backends()}

    assert backends["delta-local"] == BackendInfo(
        name="delta-local",
        distribution="pointline-storage-delta",
        version=version("pointline-storage-delta"),
        target="pointline_storage_delta.local:create_backend",
    )


def test_available_backends_does_not_import_the_delta_backend() -> None:
    # A fresh interpreter: other tests in this process may already have imported it.
    code = textwrap.dedent(
        """
        import sys
        from pointline_storage import available_backends
        names = [info.name for info in available_backends()]
        assert "delta-local" in names, names
        leaked = sorted(m for m in sys.modules if m.startswith("pointline_storage_delta"))
        assert not leaked, leaked
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_available_backends_lists_a_backend_without_importing_it(
    dists: FakeDistributions,
) -> None:
    dists.add(
        "fake-exploding",
        version="3.2.1",
        entry_points={"exploding": "fake_exploding_mod:create_backend"},
        modules={"fake_exploding_mod": EXPLODING_MODULE},
    )

    backends = {info.name: info for info in available_backends()}

    assert backends["exploding"] == BackendInfo(
        name="exploding",
        distribution="fake-exploding",
        version="3.2.1",
        target="fake_exploding_mod:create_backend",
    )
    assert "fake_exploding_mod" not in sys.modules


def test_available_backends_is_sorted_by_name(dists: FakeDistributions) -> None:
    dists.add("fake-zeta", entry_points={"zzz-backend": "fake_zeta:create_backend"})
    dists.add("fake-alpha", entry_points={"aaa-backend": "fake_alpha:create_backend"})
    dists.add(
        "fake-multi",
        entry_points={"mmm-two": "fake_multi:b", "mmm-one": "fake_multi:a"},
    )

    names = [info.name for info in available_backends()]

    assert names == sorted(names)
    assert {"aaa-backend", "mmm-one", "mmm-two", "zzz-backend", "delta-local"} <= set(names)
    assert available_backends() == available_backends()


def test_backend_info_to_dict() -> None:
    info = BackendInfo(name="n", distribution="d", version="1", target="m:f")
    assert info.to_dict() == {"name": "n", "distribution": "d", "version": "1", "target": "m:f"}


# --- not found -----------------------------------------------------------------------------


def test_unknown_backend_raises_not_found_listing_installed_names(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add("fake-listed", entry_points={"listed-backend": "fake_listed:create_backend"})

    with pytest.raises(BackendNotFoundError) as exc_info:
        _load("no-such-backend", tmp_path)

    error = exc_info.value
    assert isinstance(error, LookupError)
    assert isinstance(error, PointlineStorageError)
    message = str(error)
    assert "'no-such-backend'" in message
    assert "delta-local" in message
    assert "listed-backend" in message
    assert ENTRY_POINT_GROUP in message


def test_find_entry_point_returns_the_declared_target() -> None:
    entry_point = find_entry_point("delta-local")
    assert entry_point.value == "pointline_storage_delta.local:create_backend"
    assert entry_point.group == ENTRY_POINT_GROUP


def test_empty_root_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidOptionError, match="root"):
        load_backend("delta-local", root="")


# --- load failures -------------------------------------------------------------------------


def test_import_failure_raises_backend_load_error_naming_everything(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add(
        "fake-exploding",
        entry_points={"exploding": "fake_exploding_mod:create_backend"},
        modules={"fake_exploding_mod": EXPLODING_MODULE},
    )

    with pytest.raises(BackendLoadError) as exc_info:
        _load("exploding", tmp_path)

    message = str(exc_info.value)
    assert "'exploding'" in message
    assert "fake_exploding_mod:create_backend" in message
    assert "fake-exploding" in message
    assert "backend module exploded on import" in message
    cause = exc_info.value.__cause__
    assert type(cause) is RuntimeError
    assert str(cause) == "backend module exploded on import"


def test_missing_module_raises_backend_load_error(dists: FakeDistributions, tmp_path: Path) -> None:
    dists.add("fake-ghost", entry_points={"ghost": "fake_ghost_module_absent:create_backend"})

    with pytest.raises(BackendLoadError, match="fake-ghost") as exc_info:
        _load("ghost", tmp_path)

    assert isinstance(exc_info.value.__cause__, ModuleNotFoundError)


def test_missing_attribute_raises_backend_load_error(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add(
        "fake-noattr",
        entry_points={"noattr": "fake_noattr:does_not_exist"},
        modules={"fake_noattr": "VALUE = 1\n"},
    )

    with pytest.raises(BackendLoadError, match="fake_noattr:does_not_exist") as exc_info:
        _load("noattr", tmp_path)

    assert isinstance(exc_info.value.__cause__, AttributeError)


def test_target_not_callable_raises_backend_load_error(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add(
        "fake-notcallable",
        entry_points={"notcallable": "fake_notcallable:VALUE"},
        modules={"fake_notcallable": "VALUE = 42\n"},
    )

    with pytest.raises(BackendLoadError, match="not callable") as exc_info:
        _load("notcallable", tmp_path)

    message = str(exc_info.value)
    assert "'notcallable'" in message
    assert "fake_notcallable:VALUE" in message
    assert "fake-notcallable" in message
    assert "int" in message


def test_factory_raising_plain_exception_is_wrapped_and_chained(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add(
        "fake-badfactory",
        entry_points={"badfactory": "fake_badfactory:create_backend"},
        modules={
            "fake_badfactory": """
            def create_backend(*, root, table_paths, storage_options):
                raise KeyError("credentials missing")
            """
        },
    )

    with pytest.raises(BackendLoadError) as exc_info:
        _load("badfactory", tmp_path)

    message = str(exc_info.value)
    assert "'badfactory'" in message
    assert "fake_badfactory:create_backend" in message
    assert "KeyError" in message
    assert "credentials missing" in message
    assert type(exc_info.value.__cause__) is KeyError


def test_factory_raising_pointline_error_passes_through(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add(
        "fake-strictfactory",
        entry_points={"strictfactory": "fake_strictfactory:create_backend"},
        modules={
            "fake_strictfactory": """
            from pointline_storage import InvalidOptionError

            def create_backend(*, root, table_paths, storage_options):
                raise InvalidOptionError(f"root {root!r} is not supported")
            """
        },
    )

    with pytest.raises(InvalidOptionError) as exc_info:
        _load("strictfactory", tmp_path)

    assert type(exc_info.value) is InvalidOptionError
    assert str(exc_info.value) == f"root {str(tmp_path)!r} is not supported"


def test_delta_local_rejects_non_local_root_with_its_own_error() -> None:
    with pytest.raises(InvalidOptionError, match="local"):
        load_backend("delta-local", root="memory://bucket/silver")


def test_plugin_missing_a_required_hook_raises_backend_load_error(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add(
        "fake-partial",
        entry_points={"partial": "fake_partial:create_backend"},
        modules={
            "fake_partial": FAKE_BACKEND_SOURCE
            + """

class NoVacuum:
    compact_partitions = FakeBackend.compact_partitions
    inspect_partitions = FakeBackend.inspect_partitions


def create_backend(*, root, table_paths, storage_options):
    return NoVacuum()
"""
        },
    )

    with pytest.raises(BackendLoadError, match="vacuum_table") as exc_info:
        _load("partial", tmp_path)

    assert "'partial'" in str(exc_info.value)
    assert "compact_partitions" not in str(exc_info.value)


def test_plugin_with_no_hooks_names_every_missing_hook(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add(
        "fake-empty",
        entry_points={"empty": "fake_empty:create_backend"},
        modules={"fake_empty": "def create_backend(**options):\n    return object()\n"},
    )

    with pytest.raises(BackendLoadError) as exc_info:
        _load("empty", tmp_path)

    for hook in ("compact_partitions", "inspect_partitions", "vacuum_table"):
        assert hook in str(exc_info.value)


def test_hookimpl_with_argument_not_in_spec_raises_backend_load_error(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add(
        "fake-wrongargs",
        entry_points={"wrongargs": "fake_wrongargs:create_backend"},
        modules={
            "fake_wrongargs": FAKE_BACKEND_SOURCE
            + """

class WrongArgs(FakeBackend):
    @hookimpl
    def vacuum_table(self, table_name, retention_hours, dry_run, full, retention_days):
        raise AssertionError("never called")


def create_backend(*, root, table_paths, storage_options):
    return WrongArgs(root=root, table_paths=table_paths, storage_options=storage_options)
"""
        },
    )

    with pytest.raises(BackendLoadError, match="retention_days") as exc_info:
        _load("wrongargs", tmp_path)

    assert "'wrongargs'" in str(exc_info.value)
    assert exc_info.value.__cause__ is not None


def test_same_name_from_two_distributions_is_a_clear_error(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add(
        "fake-first",
        entry_points={"twice": "fake_first:create_backend"},
        modules={"fake_first": FAKE_BACKEND_SOURCE},
    )
    dists.add(
        "fake-second",
        entry_points={"twice": "fake_second:create_backend"},
        modules={"fake_second": FAKE_BACKEND_SOURCE},
    )

    with pytest.raises(BackendLoadError) as exc_info:
        _load("twice", tmp_path)

    message = str(exc_info.value)
    assert "'twice'" in message
    assert "fake-first (fake_first:create_backend)" in message
    assert "fake-second (fake_second:create_backend)" in message
    assert "fake_first" not in sys.modules
    assert "fake_second" not in sys.modules


def test_hookimpl_naming_no_hook_raises_backend_load_error(
    dists: FakeDistributions, tmp_path: Path
) -> None:
    dists.add(
        "fake-typo",
        entry_points={"typo": "fake_typo:create_backend"},
        modules={
            "fake_typo": FAKE_BACKEND_SOURCE
            + """

class Typo(FakeBackend):
    @hookimpl
    def write_sample_tables(self, table_name, rows, partition_by, rows_per_file):
        raise AssertionError("never called")


def create_backend(*, root, table_paths, storage_options):
    return Typo(root=root, table_paths=table_paths, storage_options=storage_options)
"""
        },
    )

    with pytest.raises(BackendLoadError, match="write_sample_tables") as exc_info:
        _load("typo", tmp_path)

    assert "'typo'" in str(exc_info.value)
