"""Grouping planned partitions into engine calls whose filters name exactly those partitions.

``optimize.compact`` takes one conjunction of partition filters, and one call makes one
commit. ``exchange in (a, b) and trading_date in (d1, d2)`` selects the whole cross
product, so a batch of partitions must be split into cross products that hold only named
partitions: naming ``a/d1`` and ``b/d2`` must never compact ``a/d2``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pointline_storage import PartitionKey
from pointline_storage.partitions import NULL_VALUE

#: One ``(column, op, value)`` filter of a deltalake conjunction.
Filter = tuple[str, str, "str | list[str]"]
#: Per column, in column order, the values of a cross product.
Product = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Batch:
    """Partitions compacted by one engine call, hence in one commit.

    Attributes:
        partitions: Exactly the partitions the filters select, sorted.
        filters: The conjunction for ``optimize.compact`` (empty: the whole table).
    """

    partitions: tuple[PartitionKey, ...]
    filters: tuple[Filter, ...]


def make_batches(
    partitions: Sequence[PartitionKey],
    columns: tuple[str, ...],
    partitions_per_commit: int,
    *,
    filters_of: Callable[[PartitionKey], Sequence[Filter]],
) -> list[Batch]:
    """Split sorted partitions into runs of at most ``partitions_per_commit``, then each run
    into exact cross products, one batch each.

    A partition with a null value gets a batch of its own, selected by ``filters_of``: how
    the engine matches a null depends on the table, so no ``in`` list may hold one.
    """
    alone = {key for key in partitions if any(value == NULL_VALUE for _, value in key)}
    batches = [Batch(partitions=(key,), filters=tuple(filters_of(key))) for key in sorted(alone)]
    together = [key for key in partitions if key not in alone]
    for start in range(0, len(together), partitions_per_commit):
        run = [tuple(value for _, value in key) for key in together[start:][:partitions_per_commit]]
        for product in cross_products(run):
            keys = tuple(
                tuple(zip(columns, values, strict=True)) for values in itertools.product(*product)
            )
            filters = tuple(
                (column, "=", values[0]) if len(values) == 1 else (column, "in", list(values))
                for column, values in zip(columns, product, strict=True)
            )
            batches.append(Batch(partitions=keys, filters=filters))
    return batches


def single_filters(partition: PartitionKey) -> tuple[Filter, ...]:
    """The conjunction selecting exactly one partition (empty: an unpartitioned table)."""
    return tuple((column, "=", value) for column, value in partition)


def cross_products(rows: Sequence[tuple[str, ...]]) -> list[Product]:
    """Cover distinct value tuples exactly (no tuple missing, none added, none twice) by
    cross products of per-column value sets, sorted.

    The column with the most distinct values varies within a product; the rows agreeing on
    the other columns and having the same set of values in it form one product.
    """
    width = len(rows[0])
    if width <= 1:
        return [tuple(tuple(sorted({row[i] for row in rows})) for i in range(width))]
    varying = max(range(width), key=lambda i: (len({row[i] for row in rows}), i))
    values_of: dict[tuple[str, ...], set[str]] = {}
    for row in rows:
        values_of.setdefault(row[:varying] + row[varying + 1 :], set()).add(row[varying])
    rests_of: dict[frozenset[str], list[tuple[str, ...]]] = {}
    for rest, values in values_of.items():
        rests_of.setdefault(frozenset(values), []).append(rest)
    products = [
        (*product[:varying], tuple(sorted(values)), *product[varying:])
        for values, rests in rests_of.items()
        for product in cross_products(rests)
    ]
    return sorted(products)
