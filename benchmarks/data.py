"""Vectorised market-data rows and cheap construction of large benchmark tables.

``pointline_storage.sample.order_events`` builds rows in a Python loop, which is right for
the demo and the tests but far too slow for the millions of rows a benchmark needs; this
module builds the same schema with pyarrow compute kernels.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

from pointline_storage.sample import ORDER_EVENT_SCHEMA

SESSION_OPEN = dt.time(9, 30)


def order_events(
    *, exchanges: Sequence[str], days: Sequence[dt.date], rows_per_partition: int, seed: int
) -> pa.Table:
    """``rows_per_partition`` order events per exchange and day, partition after partition.

    Same columns as ``pointline_storage.sample.order_events``: timestamps advance through
    the session, prices walk in ticks, quantities are round lots; deterministic per seed.
    """
    partitions = len(exchanges) * len(days)
    count = partitions * rows_per_partition
    noise = [pc.random(count, initializer=seed + offset) for offset in range(4)]
    row = pa.array(range(count), pa.int64())
    partition_of = pc.divide(row, rows_per_partition)  # integer division
    position = pc.subtract(row, pc.multiply(partition_of, rows_per_partition))
    day_of = [day for _ in exchanges for day in days]
    exchange = pa.array([name for name in exchanges for _ in days]).take(partition_of)
    day = pa.array(day_of, pa.date32()).take(partition_of)
    opens = pa.array(
        [dt.datetime.combine(value, SESSION_OPEN) for value in day_of], pa.timestamp("us")
    ).take(partition_of)
    # A steady clock (mean gap 1 s) keeps ts increasing within a partition without a scan.
    jitter = pc.cast(pc.floor(pc.multiply(noise[0], 900_000)), pa.int64())
    micros = pc.add(pc.multiply(position, 1_000_000), jitter)
    ts = pc.add(opens, pc.cast(micros, pa.duration("us")))
    ticks = pc.subtract(pc.floor(pc.multiply(noise[1], 400)), 200)
    price = pc.round(pc.add(10.0, pc.multiply(ticks, 0.01)), 2)
    lots = pc.cast(pc.floor(pc.multiply(noise[2], 49)), pa.int64())
    qty = pc.multiply(pc.add(lots, 1), 100)
    side = pc.if_else(pc.less(noise[3], 0.5), "B", "S")
    day_number = pc.cast(pc.strftime(pc.cast(day, pa.timestamp("s")), "%Y%m%d"), pa.int64())
    order_id = pc.add(pc.multiply(day_number, 1_000_000), position)
    columns = [exchange, day, ts, order_id, price, qty, side]
    return pa.Table.from_arrays(columns, schema=ORDER_EVENT_SCHEMA)


def write_appends(uri: str, chunks: Sequence[pa.Table], storage_options: dict[str, str]) -> None:
    """Write each chunk as one append: one new file per partition the chunk touches."""
    table: str | DeltaTable = uri
    for chunk in chunks:
        write_deltalake(
            table,
            chunk,
            mode="append",
            partition_by=["exchange", "trading_date"],
            storage_options=storage_options or None,
        )
        # Reusing the loaded table saves replaying the whole log before every append.
        table = (
            table
            if isinstance(table, DeltaTable)
            else DeltaTable(uri, storage_options=storage_options or None)
        )


def fresh_copy(source: Path, target: Path) -> Path:
    """A new, independent table with the same files, made cheaply with hard links.

    Compaction only ever adds files and log entries, never changes one, so linked data
    files are safe to share; the log is copied.
    """
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(
        source, target, copy_function=os.link, ignore=shutil.ignore_patterns("_delta_log")
    )
    shutil.copytree(source / "_delta_log", target / "_delta_log")
    return target
