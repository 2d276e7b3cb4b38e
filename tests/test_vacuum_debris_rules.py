"""Which unreferenced paths a full vacuum may delete, rule by rule (the storage-level
behaviour is in reliability/test_vacuum_debris.py)."""

from __future__ import annotations

from pointline_storage_delta.debris import nested_tables, sort_candidates

from pointline_storage import (
    KEEP_DELETION_VECTOR,
    KEEP_NESTED_TABLE,
    KEEP_NOT_TABLE_FILE,
    KEEP_OUTSIDE_LAYOUT,
    KeptPath,
)

VECTOR = "deletion_vector_0f6a0b8e-6c1e-4e4b-9b8e-1c2d3e4f5a6b.bin"
COLUMNS = ("exchange", "day")


def sort(candidates, *, columns=COLUMNS, listing=(), live_vectors=False):
    return sort_candidates(
        candidates,
        partition_columns=columns,
        nested=nested_tables([*listing, *candidates]),
        live_deletion_vectors=live_vectors,
    )


def test_data_files_in_the_partition_layout_and_vectors_are_debris() -> None:
    candidates = [
        "exchange=sse/day=2024-01-02/part-0.parquet",
        "exchange=sse/day=2024-01-02/part-1.zstd.parquet",
        "exchange=sse/day=2024-01-02/part-2.parquet#3",  # half-written, local
        "exchange=a%3Db/day=2024-01-02/part-3.parquet",
        VECTOR,
        f"exchange=sse/{VECTOR}",
    ]
    decided = sort(candidates)
    assert decided.deletable == tuple(candidates)
    assert decided.kept == ()


def test_everything_else_is_kept_grouped_where_it_leaves_the_layout() -> None:
    decided = sort(
        [
            "part-0.parquet",  # at the root of a partitioned table
            "exchange=sse/part-1.parquet",  # one level short
            "exchange=sse/day=2024-01-02/extra/part-2.parquet",  # one level too deep
            "day=2024-01-02/exchange=sse/part-3.parquet",  # columns in the wrong order
            "day=2024-01-03/exchange=sse/part-4.parquet",
            "notes/readme.txt",
            "exchange=sse/day=2024-01-02/notes.txt",
            "exchange=sse/day=2024-01-02/part-5.parquet.crc",
        ]
    )
    assert decided.deletable == ()
    assert decided.kept == (
        KeptPath("day=2024-01-02/", KEEP_OUTSIDE_LAYOUT),
        KeptPath("day=2024-01-03/", KEEP_OUTSIDE_LAYOUT),
        KeptPath("exchange=sse/day=2024-01-02/extra/", KEEP_OUTSIDE_LAYOUT),
        KeptPath("exchange=sse/day=2024-01-02/notes.txt", KEEP_NOT_TABLE_FILE),
        KeptPath("exchange=sse/day=2024-01-02/part-5.parquet.crc", KEEP_NOT_TABLE_FILE),
        KeptPath("exchange=sse/part-1.parquet", KEEP_OUTSIDE_LAYOUT),
        KeptPath("notes/", KEEP_OUTSIDE_LAYOUT),
        KeptPath("part-0.parquet", KEEP_OUTSIDE_LAYOUT),
    )


def test_a_table_nested_anywhere_is_kept_whole_even_where_our_files_would_be() -> None:
    listing = [
        "exchange=sse/_delta_log/00000000000000000000.json",  # a Delta table at a partition
        "team/ice/metadata/v3.metadata.json",  # an Iceberg table deeper down
    ]
    decided = sort(
        [
            "exchange=sse/day=2024-01-02/part-0.parquet",
            "exchange=sse/_delta_log/00000000000000000000.json",
            "team/ice/data/file.parquet",
            "team/other.parquet",
            "exchange=szse/day=2024-01-02/part-1.parquet",
        ],
        listing=listing,
    )
    assert decided.deletable == ("exchange=szse/day=2024-01-02/part-1.parquet",)
    assert decided.kept == (
        KeptPath("exchange=sse/", KEEP_NESTED_TABLE, 2),
        KeptPath("team/", KEEP_OUTSIDE_LAYOUT),
        KeptPath("team/ice/", KEEP_NESTED_TABLE),
    )


def test_the_tables_own_log_does_not_make_it_nested() -> None:
    assert nested_tables(["_delta_log/00000000000000000000.json", "metadata/v1.metadata.json"]) == (
        frozenset()
    )


def test_an_unpartitioned_table_keeps_data_files_only_at_its_root() -> None:
    decided = sort(["part-0.parquet", "sub/part-1.parquet", VECTOR], columns=())
    assert decided.deletable == ("part-0.parquet", VECTOR)
    assert decided.kept == (KeptPath("sub/", KEEP_OUTSIDE_LAYOUT),)


def test_vectors_are_kept_while_any_is_live() -> None:
    decided = sort([VECTOR, "exchange=sse/day=2024-01-02/part-0.parquet"], live_vectors=True)
    assert decided.deletable == ("exchange=sse/day=2024-01-02/part-0.parquet",)
    assert decided.kept == (KeptPath(VECTOR, KEEP_DELETION_VECTOR),)
