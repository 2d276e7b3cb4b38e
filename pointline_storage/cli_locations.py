"""Which table a command works on: a location alone, or ``--root`` and ``--table``.

``pointline-storage inspect /data/silver/t`` and ``inspect --root /data/silver --table t``
name the same table; so do ``s3://bucket/silver/t`` and ``--root s3://bucket/silver
--table t`` with ``--backend delta-s3``. A trailing ``/`` and a leading ``./`` are
accepted wherever a path is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import fsspec


class TableChoiceError(ValueError):
    """The command line names no table, or names it twice."""


@dataclass(frozen=True)
class TableChoice:
    """What to pass ``load_backend`` and the calls for the table the user named."""

    root: str
    table_name: str
    table_paths: dict[str, str]


def choose_table(
    *,
    location: str | None,
    root: str | None,
    table: str | None,
    table_paths: dict[str, str],
) -> TableChoice:
    """The table named by ``location``, else by ``root`` and ``table``.

    A location is opened as given and reported under its last path segment.

    Raises:
        TableChoiceError: neither form, both forms, or half of the second.
    """
    if location is not None:
        if root is not None or table is not None:
            raise TableChoiceError(
                "name the table either by its LOCATION or by --root and --table, not both"
            )
        protocol, _ = fsspec.core.split_protocol(location)
        # A local path is made absolute so that '.', './t/' and 't' all get their name.
        path = _without_trailing_slash(location) if protocol else os.path.abspath(location)
        name = path.rstrip("/").rpartition("/")[2] or path
        return TableChoice(root=path, table_name=name, table_paths={**table_paths, name: path})
    if root is None or table is None:
        missing = "--table" if root is not None else "--root" if table is not None else None
        raise TableChoiceError(
            f"missing {missing}; name the table by --root and --table, or by its LOCATION"
            if missing
            else "name a table: its LOCATION (a path or URI), or --root and --table"
        )
    name = _without_trailing_slash(table)
    while name.startswith("./"):
        name = name[2:]
    return TableChoice(root=root, table_name=name, table_paths=table_paths)


def _without_trailing_slash(text: str) -> str:
    stripped = text.rstrip("/")
    return stripped if stripped and not stripped.endswith(":") else text
