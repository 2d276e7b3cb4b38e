"""Run the pointline-storage conformance suite against hive-parquet on local disk."""

from pointline_storage_hive_parquet.testing import HiveParquetFixtures

from pointline_storage.testing import AbstractBackendTests


class TestHiveParquet(AbstractBackendTests, HiveParquetFixtures):
    """Every conformance test, on a fresh temporary directory per test."""
