"""The deltalake knobs a compaction passes through: parallelism, memory and compression."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deltalake import WriterProperties

from pointline_storage.compression import parse_compression


@dataclass(frozen=True)
class EngineOptions:
    """Options of ``DeltaTable.optimize.compact``; ``None`` leaves the engine's default.

    Attributes:
        max_concurrent_tasks: Files rewritten in parallel (engine default: the CPU count).
        max_spill_size: Bytes held in memory before spilling (engine default: unbounded).
        compression: A codec spelling checked by the core, e.g. ``"zstd(4)"`` (engine
            default for compaction: zstd level 4).
    """

    max_concurrent_tasks: int | None = None
    max_spill_size: int | None = None
    compression: str | None = None

    def compact_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``optimize.compact``, naming only what was set.

        Unset knobs are left out rather than passed as defaults, so the engine's own
        defaults (notably its writer properties) apply exactly as for a raw call.
        """
        arguments: dict[str, Any] = {}
        if self.max_concurrent_tasks is not None:
            arguments["max_concurrent_tasks"] = self.max_concurrent_tasks
        if self.max_spill_size is not None:
            arguments["max_spill_size"] = self.max_spill_size
        properties = self.writer_properties()
        if properties is not None:
            arguments["writer_properties"] = properties
        return arguments

    def writer_properties(self) -> WriterProperties | None:
        """The engine's writer properties for ``compression`` (``None`` when unset)."""
        if self.compression is None:
            return None
        codec, level = parse_compression(self.compression)
        return WriterProperties(
            compression=codec.upper(),  # type: ignore[arg-type]
            compression_level=level,
        )
