"""Table-name validation and table location resolution."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFileSystem

from pointline_storage import InvalidTableNameError, PointlineStorageError, TableLocation
from pointline_storage.locations import resolve_table_location, validate_table_name


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "../escape",
        "a/../b",
        "a/./b",
        "a/..",
        "/abs",
        "/",
        "s3://x",
        "file:///etc",
        "C:table",
        "a\\b",
        "..\\escape",
        "a\x00b",
        "a//b",
        "a/",
        "/a/",
    ],
)
def test_validate_table_name_rejects_names_escaping_the_root(name: str) -> None:
    with pytest.raises(InvalidTableNameError) as exc_info:
        validate_table_name(name)

    assert isinstance(exc_info.value, ValueError)
    assert isinstance(exc_info.value, PointlineStorageError)
    assert repr(name) in str(exc_info.value)


@pytest.mark.parametrize("name", [None, 1, b"table", Path("table"), ["a"]])
def test_validate_table_name_rejects_non_strings(name: object) -> None:
    with pytest.raises(InvalidTableNameError, match="non-empty string"):
        validate_table_name(name)


@pytest.mark.parametrize("name", ["a", "a/b", "cn_order_events", "silver/cn.order-events"])
def test_validate_table_name_accepts_relative_names(name: str) -> None:
    assert validate_table_name(name) == name


def test_resolve_under_a_local_path_root(tmp_path: Path) -> None:
    location = resolve_table_location(str(tmp_path), "a/b")

    expected = str(tmp_path / "a" / "b")
    assert location == TableLocation(uri=expected, path=expected, fs=None)
    assert os.path.isabs(location.uri)
    assert isinstance(location.fs, LocalFileSystem)


def test_resolve_under_a_local_root_with_trailing_slash(tmp_path: Path) -> None:
    location = resolve_table_location(f"{tmp_path}/", "t")
    assert location.uri == str(tmp_path / "t")


def test_resolve_under_a_file_uri_root(tmp_path: Path) -> None:
    location = resolve_table_location(tmp_path.as_uri(), "cn_order_events")

    assert location.uri == str(tmp_path / "cn_order_events")
    assert location.path == location.uri
    assert not location.uri.startswith("file:")
    assert isinstance(location.fs, LocalFileSystem)


def test_resolve_under_a_relative_root_is_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    location = resolve_table_location("silver", "t")

    assert location.uri == str(tmp_path / "silver" / "t")
    assert os.path.isabs(location.uri)


def test_resolve_validates_the_name(tmp_path: Path) -> None:
    with pytest.raises(InvalidTableNameError):
        resolve_table_location(str(tmp_path / "root"), "../outside")


def test_table_paths_entry_is_used_as_given(tmp_path: Path) -> None:
    elsewhere = f"{tmp_path}/other/../anywhere"
    location = resolve_table_location(
        str(tmp_path / "root"), "../not-validated", table_paths={"../not-validated": elsewhere}
    )

    assert location.uri == elsewhere
    assert location.path == elsewhere


def test_table_paths_file_uri_entry(tmp_path: Path) -> None:
    target = tmp_path / "explicit" / "table"
    location = resolve_table_location(
        "memory://unrelated-root", "t", table_paths={"t": target.as_uri()}
    )

    assert location.uri == str(target)
    assert isinstance(location.fs, LocalFileSystem)


def test_table_paths_only_applies_to_its_own_names(tmp_path: Path) -> None:
    location = resolve_table_location(
        str(tmp_path / "root"), "other", table_paths={"t": str(tmp_path / "explicit")}
    )
    assert location.uri == str(tmp_path / "root" / "other")

    with pytest.raises(InvalidTableNameError):
        resolve_table_location(
            str(tmp_path / "root"), "../t", table_paths={"t": str(tmp_path / "explicit")}
        )


def test_memory_filesystem_keeps_the_protocol() -> None:
    location = resolve_table_location("memory://bucket/silver", "cn_order_events")

    assert location.uri == "memory:///bucket/silver/cn_order_events"
    assert location.path == "/bucket/silver/cn_order_events"
    assert isinstance(location.fs, MemoryFileSystem)


def test_memory_table_paths_entry_keeps_the_protocol(tmp_path: Path) -> None:
    location = resolve_table_location(
        str(tmp_path), "t", table_paths={"t": "memory://bucket/explicit"}
    )
    assert location.uri == "memory:///bucket/explicit"
    assert isinstance(location.fs, MemoryFileSystem)


def test_location_equality_ignores_the_filesystem_object(tmp_path: Path) -> None:
    first = resolve_table_location(str(tmp_path), "t")
    second = resolve_table_location(tmp_path.as_uri(), "t")
    assert first == second
    assert "fs=" not in repr(first)
