"""Helpers that install fake backend distributions for the duration of one test.

A fake distribution is real on-disk metadata: a ``<name>-<version>.dist-info`` folder with
``METADATA`` and ``entry_points.txt``, plus the module files it points at, in a temporary
directory put on ``sys.path``. ``importlib.metadata`` discovers it exactly as it discovers
an installed wheel, so the registry is exercised without any mocking.
"""

from __future__ import annotations

import importlib
import re
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from pointline_storage.registry import ENTRY_POINT_GROUP

#: A backend module template: a plugin with every hook, recording each call it receives.
#: ``OMIT`` names hooks to leave out; ``EXTRA_ARG`` adds a parameter the spec lacks.
FAKE_BACKEND_SOURCE = '''
from pointline_storage import (
    CompactionReport,
    PartitionCompactionResult,
    PartitionStats,
    TableInspection,
    VacuumReport,
    hookimpl,
)

FACTORY_CALLS = []


class FakeBackend:
    """An in-memory backend: records every hook call and returns real reports."""

    def __init__(self, *, root, table_paths, storage_options):
        self.root = root
        self.table_paths = table_paths
        self.storage_options = storage_options
        self.calls = []

    @hookimpl
    def compact_partitions(
        self,
        table_name,
        partitions,
        target_file_size_bytes,
        min_small_files,
        dry_run,
        continue_on_error,
        progress,
    ):
        self.calls.append(("compact_partitions", dict(
            table_name=table_name,
            partitions=partitions,
            target_file_size_bytes=target_file_size_bytes,
            min_small_files=min_small_files,
            dry_run=dry_run,
            continue_on_error=continue_on_error,
            progress=progress,
        )))
        results = tuple(
            PartitionCompactionResult(
                partition=tuple(sorted((k, str(v)) for k, v in spec.items())),
                before_file_count=3,
                after_file_count=None if dry_run else 1,
                status="would_compact" if dry_run else "compacted",
                small_file_count=3,
            )
            for spec in partitions
        )
        if progress is not None:
            for result in results:
                progress(result)
        return CompactionReport(
            table_name=table_name,
            partition_keys=tuple(sorted({k for spec in partitions for k in spec})),
            planned_partitions=len(results),
            attempted_partitions=0 if dry_run else len(results),
            succeeded_partitions=0 if dry_run else len(results),
            skipped_partitions=0,
            failed_partitions=0,
            partitions=results,
            dry_run=dry_run,
            target_file_size_bytes=target_file_size_bytes or 1024,
            min_small_files=min_small_files,
        )

    @hookimpl
    def inspect_partitions(self, table_name, partitions):
        self.calls.append(
            ("inspect_partitions", dict(table_name=table_name, partitions=partitions))
        )
        return TableInspection(
            table_name=table_name,
            partition_keys=(),
            target_file_size_bytes=1024,
            version=7,
            partitions=(PartitionStats((), 2, 2, 200, 10),),
        )

    @hookimpl
    def vacuum_table(
        self, table_name, retention_hours, dry_run, enforce_retention_duration, full
    ):
        self.calls.append(("vacuum_table", dict(
            table_name=table_name,
            retention_hours=retention_hours,
            dry_run=dry_run,
            enforce_retention_duration=enforce_retention_duration,
            full=full,
        )))
        return VacuumReport(
            table_name=table_name,
            dry_run=dry_run,
            retention_hours=retention_hours,
            enforce_retention_duration=enforce_retention_duration,
            full=full,
            deleted_count=1,
            deleted_files=("part-0.parquet",),
            version=7,
        )


class SampleWritingBackend(FakeBackend):
    @hookimpl
    def write_sample_table(self, table_name, rows, partition_by, rows_per_file):
        self.calls.append(("write_sample_table", dict(
            table_name=table_name,
            rows=rows,
            partition_by=partition_by,
            rows_per_file=rows_per_file,
        )))


def create_backend(*, root, table_paths, storage_options):
    FACTORY_CALLS.append(
        dict(root=root, table_paths=table_paths, storage_options=storage_options)
    )
    return FakeBackend(root=root, table_paths=table_paths, storage_options=storage_options)


def create_sample_writing_backend(*, root, table_paths, storage_options):
    return SampleWritingBackend(
        root=root, table_paths=table_paths, storage_options=storage_options
    )
'''


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


class FakeDistributions:
    """Writes fake distributions into one directory on ``sys.path``; undone by ``cleanup``."""

    def __init__(self, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._modules: set[str] = set()
        monkeypatch.syspath_prepend(str(directory))

    def add(
        self,
        distribution: str,
        *,
        version: str = "1.0.0",
        entry_points: Mapping[str, str],
        modules: Mapping[str, str] | None = None,
    ) -> None:
        """Install ``distribution`` declaring ``entry_points`` (name -> ``module:attr``).

        ``modules`` maps a top-level module name to its source.
        """
        dist_info = self.directory / f"{_normalise(distribution)}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n",
            encoding="utf-8",
        )
        lines = [f"[{ENTRY_POINT_GROUP}]"]
        lines += [f"{name} = {target}" for name, target in entry_points.items()]
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        for module, source in (modules or {}).items():
            (self.directory / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            self._modules.add(module)
        importlib.invalidate_caches()

    def cleanup(self) -> None:
        for module in self._modules:
            sys.modules.pop(module, None)
        importlib.invalidate_caches()
