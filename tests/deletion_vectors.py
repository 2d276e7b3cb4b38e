"""Real deletion vectors on tables deltalake wrote, for tests.

deltalake 1.6 reads deletion vectors but never writes one (its ``delete`` rewrites files),
and Spark is far too heavy for a test suite. So this module writes what a Delta writer
writes, by the protocol (PROTOCOL.md, "Deletion Vectors"): a ``deletion_vector_<uuid>.bin``
file holding a RoaringBitmapArray of deleted row indexes, and a commit that removes a data
file and adds it back with a ``deletionVector`` descriptor. The engine then reads the table
without those rows: every test using it first checks that, so a wrong encoding fails loudly.
"""

from __future__ import annotations

import json
import struct
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Iterable
from typing import Any

_Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
#: RoaringBitmapArray magic number, and the 32-bit roaring "no run container" cookie.
_ARRAY_MAGIC = 1681511377
_NO_RUN_COOKIE = 12346


def z85(data: bytes) -> str:
    """ZeroMQ's base85 (the Delta protocol's encoding of a deletion vector's UUID)."""
    out = []
    for offset in range(0, len(data), 4):
        (number,) = struct.unpack(">I", data[offset : offset + 4])
        chunk = []
        for _ in range(5):
            number, digit = divmod(number, 85)
            chunk.append(_Z85[digit])
        out.extend(reversed(chunk))
    return "".join(out)


def roaring_bitmap_array(rows: Iterable[int]) -> bytes:
    """Serialise row indexes (each < 2**32, few per 2**16 block) as a RoaringBitmapArray."""
    values = sorted(set(rows))
    containers: dict[int, list[int]] = {}
    for value in values:
        containers.setdefault(value >> 16, []).append(value & 0xFFFF)
    keys = sorted(containers)
    bitmap = struct.pack("<II", _NO_RUN_COOKIE, len(keys))
    for key in keys:
        bitmap += struct.pack("<HH", key, len(containers[key]) - 1)
    offset = len(bitmap) + 4 * len(keys)
    for key in keys:
        bitmap += struct.pack("<I", offset)
        offset += 2 * len(containers[key])
    for key in keys:
        bitmap += struct.pack(f"<{len(containers[key])}H", *containers[key])
    # One 64-bit bucket (high word 0) holding the 32-bit bitmap.
    return struct.pack("<iqi", _ARRAY_MAGIC, 1, 0) + bitmap


def delete_rows(fs: Any, table_root: str, data_file: str, rows: Iterable[int]) -> str:
    """Mark ``rows`` (0-based positions) of ``data_file`` deleted with a deletion vector.

    Args:
        fs: An fsspec filesystem holding the table.
        table_root: The table's root as a path of ``fs``.
        data_file: The data file, as its add action names it (relative, URL-encoded).
        rows: Row positions to delete, within the file.

    Returns:
        The deletion-vector file's path relative to the table root.
    """
    root = table_root.rstrip("/")
    fs.invalidate_cache()
    commits = sorted(fs.glob(f"{root}/_delta_log/*.json"))
    version = int(commits[-1].rsplit("/", 1)[1].split(".")[0])
    add = _live_add(fs, commits, data_file)
    if add.get("deletionVector"):
        raise ValueError(f"{data_file} already has a deletion vector")
    deleted = sorted(set(rows))
    payload = roaring_bitmap_array(deleted)
    dv_id = uuid.uuid4()
    name = f"deletion_vector_{dv_id}.bin"
    with fs.open(f"{root}/{name}", "wb") as handle:
        handle.write(b"\x01")  # the file format version; the first vector starts at 1
        handle.write(struct.pack(">i", len(payload)) + payload)
        handle.write(struct.pack(">I", zlib.crc32(payload)))
    now = int(time.time() * 1000)
    remove = {
        "path": add["path"],
        "deletionTimestamp": now,
        "dataChange": True,
        "extendedFileMetadata": True,
        "partitionValues": add["partitionValues"],
        "size": add["size"],
    }
    dv_add = {
        **add,
        "modificationTime": now,
        "dataChange": True,
        "deletionVector": {
            "storageType": "u",
            "pathOrInlineDv": z85(dv_id.bytes),
            "offset": 1,
            "sizeInBytes": len(payload),
            "cardinality": len(deleted),
        },
    }
    info = {"timestamp": now, "operation": "DELETE", "operationParameters": {}}
    lines = [{"commitInfo": info}, {"remove": remove}, {"add": dv_add}]
    with fs.open(f"{root}/_delta_log/{version + 1:020}.json", "wb") as handle:
        handle.write("\n".join(json.dumps(line) for line in lines).encode() + b"\n")
    return name


def _live_add(fs: Any, commits: list[str], data_file: str) -> dict[str, Any]:
    """The latest add action of ``data_file`` (the log holds no checkpoint in tests)."""
    found: dict[str, Any] | None = None
    wanted = urllib.parse.unquote(data_file)
    for commit in commits:
        for line in fs.cat_file(commit).decode().splitlines():
            action = json.loads(line)
            for kind in ("add", "remove"):
                if kind in action and urllib.parse.unquote(action[kind]["path"]) == wanted:
                    found = action["add"] if kind == "add" else None
    if found is None:
        raise ValueError(f"{data_file} is not a live file of the table")
    return found
