"""Where the command line runs a compaction: here, on ``--workers N`` local spawn
processes, or on the dask cluster of ``--dask-scheduler ADDRESS``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any

import click

from pointline_storage.errors import PointlineStorageError


@contextmanager
def executor_for(workers: int | None, dask_scheduler: str | None) -> Iterator[Executor | None]:
    """The executor ``--workers`` or ``--dask-scheduler`` name (``None``: run here).

    Raises:
        click.UsageError: both are given.
        PointlineStorageError: ``--dask-scheduler`` without dask.distributed installed.
    """
    if workers is not None and dask_scheduler is not None:
        raise click.UsageError("give --workers or --dask-scheduler, not both")
    if workers is not None:
        from pointline_storage.scaleout import spawn_pool

        with spawn_pool(workers) as pool:
            yield pool
    elif dask_scheduler is not None:
        try:
            from distributed import Client
        except ImportError as exc:
            raise PointlineStorageError(
                "--dask-scheduler needs dask.distributed: install pointline-storage[dask]"
            ) from exc
        with Client(dask_scheduler) as client:  # type: ignore[no-untyped-call]
            yield client.get_executor()
    else:
        yield None


def executor_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--workers`` and ``--dask-scheduler``, for commands that compact."""
    function = click.option(
        "--dask-scheduler",
        default=None,
        metavar="ADDRESS",
        help="Spread the work over the dask cluster of this scheduler (tcp://host:8786); "
        "needs pointline-storage[dask]. Its workers load the backend themselves.",
    )(function)
    return click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help="Spread the work over N local worker processes (one shard each).",
    )(function)
