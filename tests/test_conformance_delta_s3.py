"""The shipped conformance suite, run against ``delta-s3`` on a real ``moto_server``."""

from __future__ import annotations

from pointline_storage_delta.testing import DeltaS3Fixtures

from pointline_storage.testing import AbstractBackendTests


class TestDeltaS3NestedPrefix(AbstractBackendTests, DeltaS3Fixtures):
    """Every conformance test, tables under ``s3://bucket/warehouse/silver``."""

    prefix = "warehouse/silver"


class TestDeltaS3BucketRoot(AbstractBackendTests, DeltaS3Fixtures):
    """Every conformance test, tables directly under ``s3://bucket``."""

    prefix = ""
