"""Deterministic market-data rows (order events) for the demo, the tests and benchmarks."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

#: The columns of an order event, in order.
ORDER_EVENT_SCHEMA = pa.schema(
    [
        ("exchange", pa.string()),
        ("trading_date", pa.date32()),
        ("ts", pa.timestamp("us")),
        ("order_id", pa.int64()),
        ("price", pa.float64()),
        ("qty", pa.int64()),
        ("side", pa.string()),
    ]
)


def order_events(
    *,
    exchanges: Sequence[str],
    days: Sequence[dt.date],
    rows_per_partition: int,
    seed: int = 7,
) -> pa.Table:
    """``rows_per_partition`` order events for every exchange and trading day.

    Prices follow a random walk in ticks, timestamps advance through the session; the
    same arguments always give the same rows.
    """
    rng = random.Random(seed)
    columns: dict[str, list[Any]] = {name: [] for name in ORDER_EVENT_SCHEMA.names}
    for position, exchange in enumerate(exchanges):
        for day in days:
            clock = dt.datetime.combine(day, dt.time(9, 30))
            price = round(10.52 - 2.35 * position, 2)
            for number in range(rows_per_partition):
                clock += dt.timedelta(microseconds=rng.randrange(5_000, 2_000_000))
                price = max(0.01, round(price + rng.choice((-0.01, 0.0, 0.0, 0.01)), 2))
                columns["exchange"].append(exchange)
                columns["trading_date"].append(day)
                columns["ts"].append(clock)
                columns["order_id"].append(int(day.strftime("%Y%m%d")) * 1_000_000 + number)
                columns["price"].append(price)
                columns["qty"].append(100 * rng.randrange(1, 50))
                columns["side"].append(rng.choice("BS"))
    return pa.table(columns, schema=ORDER_EVENT_SCHEMA)
