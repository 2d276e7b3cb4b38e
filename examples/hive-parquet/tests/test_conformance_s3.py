"""Run the pointline-storage conformance suite against hive-parquet on S3 (moto_server)."""

import pytest
from pointline_storage_hive_parquet.testing import HiveParquetFixtures

from pointline_storage.testing import AbstractBackendTests
from pointline_storage.testing.s3 import MotoServer


class TestHiveParquetS3(AbstractBackendTests, HiveParquetFixtures):
    """Every conformance test, on a fresh bucket of a real moto_server."""

    @pytest.fixture
    def root_url(self, s3_bucket: str) -> str:
        return f"s3://{s3_bucket}/warehouse"

    @pytest.fixture
    def storage_options(self, moto_server: MotoServer) -> dict[str, str]:
        return {
            "endpoint_url": moto_server.endpoint_url,
            "key": moto_server.access_key_id,
            "secret": moto_server.secret_access_key,
        }
