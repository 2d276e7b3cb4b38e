"""Errors in the command line's words, and the exit status each kind of error gets.

The library's messages name Python arguments (``table_paths``, ``partitions=[{}]``); on
the command line the same hint must name the options a user types.
"""

from __future__ import annotations

import re

from pointline_storage.errors import PointlineStorageError

EXIT_ERROR = 1
#: A usage error, or input the library refused as invalid (any ``ValueError`` of ours).
EXIT_USAGE = 2

# Longest phrases first: some contain others.
_PHRASES = (
    (
        "to compact_partitions (target_file_size_bytes=..., CLI --target-file-size)",
        "with --target-file-size",
    ),
    (
        "(enforce_retention_duration=False, CLI --no-enforce-retention)",
        "(--no-enforce-retention)",
    ),
    ("use table_paths for explicit locations", "name the table by its location instead"),
    ("pass partitions=[{}]", "pass --partition ''"),
    ("use [{}] for an unpartitioned table", "use --partition '' for an unpartitioned table"),
    ("target_file_size_bytes", "--target-file-size"),
    ("min_small_files", "--min-small-files"),
    ("partitions_per_commit", "--partitions-per-commit"),
    ("max_concurrent_tasks", "--max-concurrent-tasks"),
    ("max_spill_size", "--max-spill-size"),
    ("retention_hours", "--retention-hours"),
    ("lease_seconds", "--lease-seconds"),
    ("storage_options", "--storage-option"),
    ("table_paths", "--table-path"),
)


def in_cli_words(message: str) -> str:
    """Replace the library's Python names in ``message`` with the options that set them."""
    for python, cli in _PHRASES:
        # Whole names only: 'below_min_small_files' is a skip reason, not an option.
        message = re.sub(rf"(?<![\w-]){re.escape(python)}(?!\w)", cli, message)
    return message


def exit_status(error: PointlineStorageError) -> int:
    """2 for invalid input (the README's table), 1 for every other error."""
    return EXIT_USAGE if isinstance(error, ValueError) else EXIT_ERROR
