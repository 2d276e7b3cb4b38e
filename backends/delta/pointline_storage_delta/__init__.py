"""Delta Lake backends for pointline-storage (``delta-local``)."""

from pointline_storage_delta.optimizer import DeltaPartitionOptimizer

__all__ = ["DeltaPartitionOptimizer"]
