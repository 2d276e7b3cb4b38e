"""Table locations: a backend root plus a table name, resolved with fsspec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from pointline_storage.errors import InvalidTableNameError


@dataclass(frozen=True)
class TableLocation:
    """Where a table lives.

    Attributes:
        uri: What the engine opens: a plain absolute path for local storage, else a URI.
        path: The same location as a path of ``fs``.
        fs: The fsspec filesystem holding the table.
    """

    uri: str
    path: str
    fs: Any = field(repr=False, compare=False)


def validate_table_name(table_name: object) -> str:
    """Return ``table_name`` if it names a location inside the root, else raise.

    A name is one or more ``/``-separated segments; it may not be empty, absolute, carry a
    URL scheme, contain NUL bytes or backslashes, or use ``.``/``..`` segments.

    Raises:
        InvalidTableNameError: the name is not a string or would escape the root.
    """
    if not isinstance(table_name, str) or not table_name:
        raise InvalidTableNameError(f"table name must be a non-empty string, got {table_name!r}")
    problem = None
    if "\x00" in table_name:
        problem = "contains a NUL byte"
    elif "\\" in table_name:
        problem = "contains a backslash"
    elif ":" in table_name:
        problem = "contains ':' (a URL scheme or drive); use table_paths for explicit locations"
    elif table_name.startswith("/"):
        problem = "is absolute; use table_paths for explicit locations"
    elif any(part in {"", ".", ".."} for part in table_name.split("/")):
        problem = "has an empty, '.' or '..' path segment"
    if problem:
        raise InvalidTableNameError(f"invalid table name {table_name!r}: it {problem}")
    return table_name


def resolve_table_location(
    root: str,
    table_name: str,
    *,
    table_paths: Mapping[str, str] | None = None,
    fs_options: Mapping[str, Any] | None = None,
) -> TableLocation:
    """Resolve a table name to its location.

    An entry of ``table_paths`` is the caller's own configuration and is used as given
    (it may point anywhere); any other name is validated and placed under ``root``.

    Raises:
        InvalidTableNameError: the name would escape the root.
    """
    explicit = (table_paths or {}).get(table_name)
    if explicit is not None:
        return _location(str(explicit), fs_options)
    validate_table_name(table_name)
    root_location = _location(root, fs_options)
    return _location_from(root_location.fs, f"{root_location.path.rstrip('/')}/{table_name}")


def _location(url: str, fs_options: Mapping[str, Any] | None) -> TableLocation:
    fs, path = fsspec.core.url_to_fs(url, **dict(fs_options or {}))
    return _location_from(fs, path)


def _location_from(fs: Any, path: str) -> TableLocation:
    uri = path if isinstance(fs, LocalFileSystem) else fs.unstrip_protocol(path)
    return TableLocation(uri=uri, path=path, fs=fs)
