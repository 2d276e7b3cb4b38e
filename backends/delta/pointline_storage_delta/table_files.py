"""Listing and deleting a table's files: one listing of the whole table, the sizes of
given files, deletes in S3's batches of 1,000 keys.

On local disk this uses ``os.scandir``, ``os.stat`` and ``os.remove`` directly, and on S3
plain ``ListObjectsV2`` pages: fsspec's local ``ls`` and ``find`` call ``info`` per entry,
and cost more than the engine's whole vacuum of 10,000 files; s3fs's ``find`` costs
several times the plain pages (measured with ``benchmarks/case_vacuum.py``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fsspec.implementations.local import LocalFileSystem

from pointline_storage import StorageAccessError, StorageError, TableLocation

#: Keys S3's DeleteObjects takes in one request.
S3_BATCH = 1000


@dataclass(frozen=True)
class FileInfo:
    """A file's size in bytes and modification time (seconds since the epoch, or ``None``
    where the storage does not say in a listing)."""

    size: int
    mtime: float | None


def list_table(
    location: TableLocation, *, stop: threading.Event | None = None
) -> dict[str, FileInfo]:
    """Every file under the table, by path relative to its root.

    A set ``stop`` ends the listing early (between directories, or between S3 pages) with
    what it found so far: the caller no longer needs it.
    """
    root = _root(location)
    stop = stop or threading.Event()
    if isinstance(location.fs, LocalFileSystem):
        return dict(_walk(root, "", stop))
    if hasattr(location.fs, "call_s3"):
        return _list_s3(location.fs, root, stop)
    found = location.fs.find(root, detail=True)
    return {
        name[len(root) :]: FileInfo(int(info.get("size") or 0), None)
        for name, info in found.items()
        if name.startswith(root) and info.get("type", "file") == "file"
    }


def existing_sizes(paths: Iterable[str], location: TableLocation) -> dict[str, int]:
    """Sizes of those of ``paths`` (relative) that exist: one ``stat`` each on local disk,
    else one listing per directory (on object stores :func:`list_table` is cheaper)."""
    root = _root(location)
    sizes: dict[str, int] = {}
    if isinstance(location.fs, LocalFileSystem):
        for path in paths:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                sizes[path] = os.stat(root + path).st_size
        return sizes
    for directory in sorted({path.rpartition("/")[0] for path in paths}):
        try:
            entries = location.fs.ls(root + directory, detail=True)
        except FileNotFoundError:
            continue
        for entry in entries:
            name = entry["name"]
            if entry.get("type") == "file" and name.startswith(root):
                sizes[name[len(root) :]] = int(entry.get("size") or 0)
    return sizes


def delete(paths: list[str], location: TableLocation) -> None:
    """Delete files (relative paths); ones already gone (another vacuum) are no error.

    Raises:
        StorageAccessError: the storage refused a delete.
        StorageError: a file could not be deleted for another reason.
    """
    root = _root(location)
    fs = location.fs
    if hasattr(fs, "call_s3"):
        _delete_s3(fs, root, paths)
        return
    remove = os.remove if isinstance(fs, LocalFileSystem) else fs.rm_file
    for path in paths:
        try:
            remove(root + path)
        except FileNotFoundError:
            pass
        except PermissionError as exc:
            raise StorageAccessError(f"vacuum may not delete {path}: {exc}") from exc
        except OSError as exc:
            raise StorageError(f"vacuum could not delete {path}: {exc}") from exc


def _delete_s3(fs: Any, root: str, paths: list[str]) -> None:
    # s3fs's rm() sends the same DeleteObjects requests but drops their per-key errors.
    bucket, _, prefix = root.partition("/")
    for offset in range(0, len(paths), S3_BATCH):
        batch = paths[offset : offset + S3_BATCH]
        objects = [{"Key": prefix + path} for path in batch]
        try:
            answer = fs.call_s3(
                "delete_objects", Bucket=bucket, Delete={"Objects": objects, "Quiet": True}
            )
        except PermissionError as exc:
            raise StorageAccessError(f"vacuum may not delete files under {root}: {exc}") from exc
        except OSError as exc:
            raise StorageError(f"vacuum could not delete files under {root}: {exc}") from exc
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            error = StorageAccessError if first.get("Code") == "AccessDenied" else StorageError
            raise error(
                f"vacuum could not delete {len(errors)} of {len(batch)} files, e.g. "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )
    fs.invalidate_cache()


def _list_s3(fs: Any, root: str, stop: threading.Event) -> dict[str, FileInfo]:
    # s3fs's find() costs several times these plain ListObjectsV2 pages.
    bucket, _, prefix = root.partition("/")
    found = {}
    token: dict[str, str] = {}
    while True:
        try:
            page = fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=prefix, **token)
        except PermissionError as exc:
            raise StorageAccessError(f"vacuum may not list {root}: {exc}") from exc
        except OSError as exc:
            raise StorageError(f"vacuum could not list {root}: {exc}") from exc
        for entry in page.get("Contents", []):
            modified = entry.get("LastModified")
            found[entry["Key"][len(prefix) :]] = FileInfo(
                int(entry.get("Size") or 0), modified.timestamp() if modified else None
            )
        if not page.get("IsTruncated") or stop.is_set():
            return found
        token = {"ContinuationToken": page["NextContinuationToken"]}


def _root(location: TableLocation) -> str:
    return location.path.rstrip("/") + "/"


def _walk(root: str, prefix: str, stop: threading.Event) -> Iterator[tuple[str, FileInfo]]:
    pending = [prefix]
    while pending and not stop.is_set():
        directory = pending.pop()
        try:
            with os.scandir(root + directory) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(directory + entry.name + "/")
                    elif entry.is_file(follow_symlinks=False):
                        stat = entry.stat(follow_symlinks=False)
                        yield directory + entry.name, FileInfo(stat.st_size, stat.st_mtime)
        except (FileNotFoundError, NotADirectoryError):
            continue
