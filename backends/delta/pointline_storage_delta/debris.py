"""Which unreferenced files a full vacuum may delete: only debris a Delta writer of this
table could have left, never another table's files or a team's notes.

The engine's full vacuum deletes every unreferenced file under the table root (a nested
table's log and data, a README). Here its candidates are sorted against one listing of the
table: a file is deletable only if it is a Parquet data file (or a local half-written one)
in the table's partition layout, or a deletion vector while the table has no live one,
and lies in no directory holding a table of its own. Everything else is kept and reported,
grouped by directory.

deltalake 1.6 neither exposes which files hold a table's live deletion vectors nor counts
them as referenced: its full vacuum deletes them, and the table can no longer be read. So
while any deletion vector is live, every deletion-vector file is kept.
"""

from __future__ import annotations

import re
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pointline_storage import (
    KEEP_DELETION_VECTOR,
    KEEP_NESTED_TABLE,
    KEEP_NOT_TABLE_FILE,
    KEEP_OUTSIDE_LAYOUT,
    KeptPath,
)
from pointline_storage_delta.sorted_rewrite import STAGING_PREFIX

#: How the engine's local store names a file while writing it (renamed when complete).
STAGED_NAME = re.compile(r"#\d+$")
_DELETION_VECTOR = re.compile(r"^deletion_vector_[0-9a-fA-F-]{36}\.bin$")
_ICEBERG_METADATA = re.compile(r"\.metadata\.json$")


@dataclass(frozen=True)
class Sorted:
    """Candidates split into what may be deleted and what is kept.

    Attributes:
        deletable: Candidates that are this table's debris, in the given order.
        kept: The others, one entry per directory (or file), sorted by path.
    """

    deletable: tuple[str, ...]
    kept: tuple[KeptPath, ...]


def is_sort_staging(path: str) -> bool:
    """Whether ``path`` lies in the staging directory of a sorted rewrite
    (:mod:`~pointline_storage_delta.sorted_rewrite`): all of it is this table's debris once
    the rewrite is gone, its own ``_delta_log`` included."""
    return STAGING_PREFIX in path and any(
        part.startswith(STAGING_PREFIX) for part in path.split("/")[:-1]
    )


def nested_tables(listing: Iterable[str]) -> frozenset[str]:
    """Directories below the root (``a/b/``) that hold a table of their own, from the
    relative paths of every file under the table (a sorted rewrite's staging directory is
    not one)."""
    roots = set()
    # Only paths through a ``_delta_log`` or ``metadata`` folder can mark one: testing the
    # substring first keeps this cheap on tables of millions of files.
    for path in (path for path in listing if "_delta_log/" in path or "metadata/" in path):
        parts = path.split("/")
        for depth, part in enumerate(parts[:-1]):
            delta = part == "_delta_log"
            iceberg = part == "metadata" and _ICEBERG_METADATA.search(parts[-1])
            if depth and (delta or iceberg) and not parts[depth - 1].startswith(STAGING_PREFIX):
                roots.add("/".join(parts[:depth]) + "/")
    return frozenset(roots)


def sort_candidates(
    candidates: Sequence[str],
    *,
    partition_columns: Sequence[str],
    nested: frozenset[str],
    live_deletion_vectors: bool,
) -> Sorted:
    """Split relative candidate paths into deletable debris and kept paths."""
    deletable = []
    kept: Counter[tuple[str, str]] = Counter()
    # Whether a directory is the table's is decided once per directory, not per file.
    directories: dict[str, tuple[str, str] | bool] = {}
    for path in candidates:
        if is_sort_staging(path):
            deletable.append(path)
            continue
        directory, _, name = path.rpartition("/")
        if directory not in directories:
            directories[directory] = _directory(directory, partition_columns, nested)
        verdict = directories[directory]
        if verdict is True and name.endswith(".parquet"):
            # The common case, decided without the rules below: a data file in a partition.
            deletable.append(path)
            continue
        if isinstance(verdict, tuple):
            where: tuple[str, str] | None = verdict
        else:
            where = _kept_file(
                path, name, partition_dir=verdict, live_vectors=live_deletion_vectors
            )
        if where is None:
            deletable.append(path)
        else:
            kept[where] += 1
    return Sorted(
        deletable=tuple(deletable),
        kept=tuple(
            KeptPath(path=path, reason=reason, file_count=count)
            for (path, reason), count in sorted(kept.items())
        ),
    )


def _directory(
    directory: str, partition_columns: Sequence[str], nested: frozenset[str]
) -> tuple[str, str] | bool:
    """Where and why files in ``directory`` (``""`` for the root) are kept; else whether
    it is a partition directory, where data files live (the root or a parent of one holds
    only deletion vectors)."""
    parts = directory.split("/") if directory else []
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth]) + "/"
        if prefix in nested:
            return prefix, KEEP_NESTED_TABLE
    for depth, part in enumerate(parts):
        if depth >= len(partition_columns) or _column(part) != partition_columns[depth]:
            return "/".join(parts[: depth + 1]) + "/", KEEP_OUTSIDE_LAYOUT
    return len(parts) == len(partition_columns)


def _kept_file(
    path: str, name: str, *, partition_dir: bool, live_vectors: bool
) -> tuple[str, str] | None:
    """Where and why a file of the table's layout is kept, or ``None`` if it is debris."""
    if _DELETION_VECTOR.match(name):
        return (path, KEEP_DELETION_VECTOR) if live_vectors else None
    if not partition_dir:
        return path, KEEP_OUTSIDE_LAYOUT
    if not STAGED_NAME.sub("", name).endswith(".parquet"):
        return path, KEEP_NOT_TABLE_FILE
    return None


def _column(directory: str) -> str | None:
    column, equals, _ = directory.partition("=")
    return urllib.parse.unquote(column) if equals else None
