"""Conformance tests of ``inspect_partitions`` (behaviour 8 of the contract)."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from pointline_storage import Backend, InvalidPartitionError, TableNotFoundError
from pointline_storage.testing.checks import key
from pointline_storage.testing.fixtures import (
    SAMPLE_DATES,
    SAMPLE_EXCHANGES,
    SAMPLE_FILES_PER_PARTITION,
    DataFiles,
    ReadRows,
    TableVersion,
)


class AbstractInspectionTests:
    """Mix into a test class together with a :class:`BackendFixtures` subclass."""

    supports_table_versions: bool

    def test_inspect_all_partitions_matches_the_table(
        self,
        backend: Backend,
        sample_table: str,
        data_files: DataFiles,
        read_rows: ReadRows,
        table_version: TableVersion,
    ) -> None:
        inspection = backend.inspect_partitions(sample_table)
        files = data_files(sample_table)
        rows = read_rows(sample_table)
        assert inspection.partition_keys == ("exchange", "trading_date")
        assert [stats.partition for stats in inspection.partitions] == sorted(files)
        assert len(inspection.partitions) == len(SAMPLE_EXCHANGES) * len(SAMPLE_DATES)
        for stats in inspection.partitions:
            exchange, day = (value for _, value in stats.partition)
            mask = pc.and_(
                pc.equal(rows["exchange"], exchange),
                pc.equal(pc.cast(rows["trading_date"], "string"), day),
            )
            assert stats.file_count == len(files[stats.partition]) == SAMPLE_FILES_PER_PARTITION
            assert stats.small_file_count == stats.file_count
            assert stats.total_rows == pc.sum(pc.cast(mask, "int64")).as_py()
            assert stats.total_bytes > 0
        if self.supports_table_versions:
            assert inspection.version == table_version(sample_table)
        else:
            assert inspection.version is table_version(sample_table) is None

    def test_inspect_named_partitions(self, backend: Backend, sample_table: str) -> None:
        day1 = {"exchange": "sse", "trading_date": SAMPLE_DATES[0]}
        absent = {"exchange": "bse", "trading_date": "2024-01-02"}
        inspection = backend.inspect_partitions(sample_table, [absent, day1, day1])
        assert [stats.partition for stats in inspection.partitions] == sorted(
            [key(day1), key({"exchange": "bse", "trading_date": SAMPLE_DATES[0]})]
        )
        by_key = {stats.partition: stats for stats in inspection.partitions}
        assert by_key[key(day1)].file_count == SAMPLE_FILES_PER_PARTITION
        assert by_key[(("exchange", "bse"), ("trading_date", "2024-01-02"))].file_count == 0

    def test_inspect_reflects_compaction(self, backend: Backend, sample_table: str) -> None:
        day1 = {"exchange": "sse", "trading_date": SAMPLE_DATES[0]}
        before = backend.inspect_partitions(sample_table, [day1]).partitions[0]
        backend.compact_partitions(sample_table, partitions=[day1], min_small_files=2)
        after = backend.inspect_partitions(sample_table, [day1]).partitions[0]
        assert (before.file_count, after.file_count) == (SAMPLE_FILES_PER_PARTITION, 1)
        assert after.total_rows == before.total_rows

    def test_inspect_validates_partitions(self, backend: Backend, sample_table: str) -> None:
        with pytest.raises(InvalidPartitionError):
            backend.inspect_partitions(sample_table, [{"exchange": "sse"}])
        with pytest.raises(TableNotFoundError):
            backend.inspect_partitions("no_such_table")

    def test_needing_compaction_is_what_compaction_would_compact(
        self, backend: Backend, sample_table: str
    ) -> None:
        day1 = {"exchange": "sse", "trading_date": SAMPLE_DATES[0]}
        backend.compact_partitions(sample_table, partitions=[day1], min_small_files=2)
        inspection = backend.inspect_partitions(sample_table)
        needing = inspection.needing_compaction(min_small_files=SAMPLE_FILES_PER_PARTITION)
        others = [s.partition for s in inspection.partitions if s.partition != key(day1)]
        assert [tuple(spec.items()) for spec in needing] == others
        assert inspection.needing_compaction(min_small_files=SAMPLE_FILES_PER_PARTITION + 1) == ()
        plan = backend.compact_partitions(
            sample_table,
            partitions=needing,
            min_small_files=SAMPLE_FILES_PER_PARTITION,
            dry_run=True,
        )
        assert [result.partition for result in plan.partitions] == others
        assert {result.status for result in plan.partitions} == {"would_compact"}
        # With any threshold, the compacted partition (one file) has nothing to merge.
        assert (
            backend.inspect_partitions(sample_table).needing_compaction(min_small_files=2)
            == needing
        )
