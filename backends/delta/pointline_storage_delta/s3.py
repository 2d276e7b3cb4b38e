"""The ``delta-s3`` backend: Delta tables on S3 and S3-compatible stores.

It runs the same Delta engine as ``delta-local``; only locations, credentials and the
translation of storage failures into clear errors live here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import botocore.exceptions
import fsspec

from pointline_storage import (
    InvalidOptionError,
    StorageAccessError,
    StorageUnreachableError,
    TableLocation,
    TableNotFoundError,
)
from pointline_storage_delta.optimizer import DeltaPartitionOptimizer
from pointline_storage_delta.s3_options import S3Settings, s3_settings
from pointline_storage_delta.snapshot import DeltaSnapshot, open_snapshot

S3_PROTOCOLS = ("s3", "s3a")
#: What botocore and aiohttp raise when an endpoint refuses, drops or never answers.
_UNREACHABLE = (
    botocore.exceptions.ConnectionError,
    botocore.exceptions.HTTPClientError,
    asyncio.TimeoutError,
    fsspec.exceptions.FSTimeoutError,
)


def create_backend(
    *, root: str, table_paths: Mapping[str, str], storage_options: Mapping[str, str]
) -> DeltaS3Optimizer:
    """Entry point of ``delta-s3``: tables below ``root`` (``s3://bucket[/prefix]``).

    ``storage_options`` take deltalake's keys (``AWS_ENDPOINT_URL``, ``AWS_REGION``,
    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``,
    ``AWS_ALLOW_HTTP``, ``connect_timeout``, ``timeout``, ``max_retries``,
    ``retry_timeout``); missing ones fall back to the standard AWS environment variables.
    """
    for location in (root, *table_paths.values()):
        protocol, path = fsspec.core.split_protocol(location)
        if protocol not in S3_PROTOCOLS or not path.strip("/"):
            raise InvalidOptionError(
                f"delta-s3 needs s3://bucket[/prefix] locations, got {location!r}"
            )
    return DeltaS3Optimizer(
        silver_root=root, table_paths=table_paths, settings=s3_settings(storage_options)
    )


class DeltaS3Optimizer(DeltaPartitionOptimizer):
    """The Delta engine on S3; storage failures become errors naming the endpoint.

    Args:
        silver_root: ``s3://bucket[/prefix]`` under which tables live.
        table_paths: Explicit ``s3://`` locations for some table names.
        settings: Resolved options (see :func:`~pointline_storage_delta.s3_options.s3_settings`).
    """

    def __init__(
        self, *, silver_root: str, table_paths: Mapping[str, str], settings: S3Settings
    ) -> None:
        super().__init__(
            silver_root=silver_root,
            table_paths=table_paths,
            storage_options=settings.delta_options,
            filesystem_options=settings.filesystem_options,
        )
        self.settings = settings

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(silver_root={self.silver_root!r}, "
            f"endpoint={self.settings.describe_endpoint()!r})"
        )

    def locate(self, table_name: str) -> TableLocation:
        """Resolve a table name to its ``s3://`` location (validating the name)."""
        location = super().locate(table_name)
        # botocore already retries max_retries times; s3fs's own loop would multiply that.
        location.fs.retries = 1
        return location

    def open(self, table_name: str) -> tuple[TableLocation, DeltaSnapshot]:
        """Load the latest version, telling a missing bucket, refused credentials and a
        silent endpoint apart before the engine runs."""
        location = self.locate(table_name)
        with self._storage_errors(location):
            try:
                return location, open_snapshot(location, table_name, self._storage_options)
            except TableNotFoundError:
                bucket = location.path.split("/", 1)[0]
                if not location.fs.exists(bucket):
                    raise TableNotFoundError(
                        f"table {table_name!r} not found: bucket {bucket!r} does not exist "
                        f"at {self.settings.describe_endpoint()}"
                    ) from None
                raise

    @contextmanager
    def _storage_errors(self, location: TableLocation) -> Iterator[None]:
        endpoint = self.settings.describe_endpoint()
        try:
            yield
        except botocore.exceptions.NoCredentialsError as exc:
            raise StorageAccessError(
                f"no S3 credentials found for {location.uri} at {endpoint}: set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for "
                "temporary keys), as storage options or environment variables, or "
                "AWS_PROFILE for a profile of ~/.aws/credentials"
            ) from exc
        except PermissionError as exc:
            raise StorageAccessError(
                f"{endpoint} refused access to {location.uri}: {exc} "
                "(check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, "
                "and the permissions they grant)"
            ) from exc
        except _UNREACHABLE as exc:
            options = self.settings.delta_options
            raise StorageUnreachableError(
                f"S3 endpoint {endpoint} did not answer for {location.uri} "
                f"(connect_timeout={options['connect_timeout']}, timeout={options['timeout']}, "
                f"max_retries={options['max_retries']}; raise them with storage options "
                f"if the endpoint is slow): {type(exc).__name__}"
            ) from exc
