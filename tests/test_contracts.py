"""The Protocols in contracts.py match the facade exactly, so neither can drift."""

from __future__ import annotations

import inspect

import pytest

from pointline_storage import Backend, PartitionOptimizer, TableVacuum


def _methods(protocol: type) -> list[str]:
    return [name for name in vars(protocol) if not name.startswith("_")]


@pytest.mark.parametrize("protocol", [PartitionOptimizer, TableVacuum])
def test_protocol_signatures_equal_the_facade(protocol):
    methods = _methods(protocol)
    assert methods, f"{protocol.__name__} declares no method"
    for name in methods:
        declared = inspect.signature(getattr(protocol, name))
        facade = inspect.signature(getattr(Backend, name))
        assert str(declared) == str(facade), name


def test_every_public_facade_operation_is_in_a_protocol():
    declared = {name for p in (PartitionOptimizer, TableVacuum) for name in _methods(p)}
    operations = {"compact_partitions", "inspect_partitions", "vacuum_table"}
    assert operations <= declared
    assert all(callable(getattr(Backend, name)) for name in operations)
