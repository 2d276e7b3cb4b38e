"""The ``delta-local`` backend: Delta tables on local disk."""

from __future__ import annotations

from collections.abc import Mapping

import fsspec

from pointline_storage import InvalidOptionError
from pointline_storage_delta.optimizer import DeltaPartitionOptimizer

LOCAL_PROTOCOLS = (None, "file", "local")


def create_backend(
    *, root: str, table_paths: Mapping[str, str], storage_options: Mapping[str, str]
) -> DeltaPartitionOptimizer:
    """Entry point of ``delta-local``: tables below ``root`` (a path or ``file://`` URI)."""
    for location in (root, *table_paths.values()):
        # Only look at the protocol: building a remote filesystem may need its package.
        protocol, _ = fsspec.core.split_protocol(location)
        if protocol not in LOCAL_PROTOCOLS:
            raise InvalidOptionError(
                f"delta-local works on local paths, got {location!r}; "
                "use the backend for that storage instead"
            )
    return DeltaPartitionOptimizer(
        silver_root=root, table_paths=table_paths, storage_options=storage_options
    )
