"""The shipped conformance suite, run against the ``delta-local`` backend."""

from delta_fixtures import DeltaLocalFixtures

from pointline_storage.testing import AbstractBackendTests


class TestDeltaLocal(AbstractBackendTests, DeltaLocalFixtures):
    """Every conformance test on local disk."""
