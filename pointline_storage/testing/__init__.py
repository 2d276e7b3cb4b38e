"""The conformance suite every backend must pass, in the style of fsspec's abstract tests.

Opt-in, never auto-loaded. A backend's test module combines the mixins with a fixture
class that overrides the ``NotImplementedError`` fixtures of :class:`BackendFixtures`::

    import pytest

    from pointline_storage import load_backend
    from pointline_storage.testing import AbstractBackendTests, BackendFixtures

    class MyFixtures(BackendFixtures):
        @pytest.fixture
        def make_backend(self, tmp_path):
            return lambda: load_backend("my-backend", root=str(tmp_path))

        ...  # read_rows, data_files, table_version, corrupt_partition

    class TestMyBackend(AbstractBackendTests, MyFixtures):
        pass
"""

from pointline_storage.testing.compaction import AbstractCompactionTests
from pointline_storage.testing.fixtures import (
    BackendFixtures,
    interleaved_rows,
    sample_rows,
    sorted_rows,
)
from pointline_storage.testing.inspection import AbstractInspectionTests
from pointline_storage.testing.partition_types import AbstractPartitionTypeTests
from pointline_storage.testing.sorting import AbstractSortingTests
from pointline_storage.testing.table_copies import TableCopies
from pointline_storage.testing.vacuum import AbstractVacuumTests


class AbstractBackendTests(
    AbstractCompactionTests,
    AbstractInspectionTests,
    AbstractPartitionTypeTests,
    AbstractSortingTests,
    AbstractVacuumTests,
):
    """Every conformance test: compaction, inspection, typed partitions, sorted compaction
    and vacuum."""


__all__ = [
    "AbstractBackendTests",
    "AbstractCompactionTests",
    "AbstractInspectionTests",
    "AbstractPartitionTypeTests",
    "AbstractSortingTests",
    "AbstractVacuumTests",
    "BackendFixtures",
    "TableCopies",
    "interleaved_rows",
    "sample_rows",
    "sorted_rows",
]
