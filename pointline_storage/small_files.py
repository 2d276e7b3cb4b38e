"""Which files count as *small*: the files a compaction could merge.

A file is small when it is smaller than the target size and fits together with another
file of its partition within that target. Four files of 62 MiB under a 100 MiB target
are not small: no two of them fit together, and no compaction would touch them. This is
the count ``min_small_files`` is compared with, and what reports and ``inspect`` show.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


def count_small_files(sizes: Iterable[int], target_file_size_bytes: int) -> int:
    """How many of a partition's files are small: below the target, and able to merge.

    Args:
        sizes: The size in bytes of each of the partition's files.
        target_file_size_bytes: The target size of a compaction.
    """
    below = [size for size in sizes if size < target_file_size_bytes]
    if len(below) < 2:
        return 0
    smallest, second = heapq.nsmallest(2, below)
    if smallest + second > target_file_size_bytes:
        return 0
    # A file can merge if it fits with the smallest (the smallest itself with the second,
    # and smallest + second <= target implies 2 * smallest <= target: it is counted too).
    return sum(1 for size in below if size + smallest <= target_file_size_bytes)
