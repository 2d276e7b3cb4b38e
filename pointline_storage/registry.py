"""Backend discovery through the ``pointline_storage.backends`` entry-point group.

Built-in backends are found exactly as a third party's are: no table of backends lives in
the core. Listing reads distribution metadata only; nothing is imported until a backend is
loaded by name.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from pointline_storage.errors import BackendLoadError, BackendNotFoundError
from pointline_storage.models import BackendInfo

ENTRY_POINT_GROUP = "pointline_storage.backends"

#: What an entry point names: a callable taking ``root``, ``table_paths`` and
#: ``storage_options`` as keywords and returning an object carrying the hook implementations.
BackendFactory = Callable[..., object]


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, _dist(ep)))


def _dist(ep: EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "<unknown distribution>"


def available_backends() -> tuple[BackendInfo, ...]:
    """List installed backends by name, distribution and version, importing none of them."""
    return tuple(
        BackendInfo(
            name=ep.name,
            distribution=_dist(ep),
            version=ep.dist.version if ep.dist is not None else "unknown",
            target=ep.value,
        )
        for ep in _entry_points()
    )


def find_entry_point(name: str) -> EntryPoint:
    """Return the entry point of the backend called ``name``.

    Raises:
        BackendNotFoundError: no installed distribution declares it.
        BackendLoadError: more than one distribution declares it.
    """
    matches = [ep for ep in _entry_points() if ep.name == name]
    if not matches:
        installed = sorted({ep.name for ep in _entry_points()})
        raise BackendNotFoundError(
            f"no backend named {name!r} is installed; installed backends: "
            f"{', '.join(installed) or 'none'} (entry-point group {ENTRY_POINT_GROUP!r})"
        )
    if len(matches) > 1:
        owners = ", ".join(f"{_dist(ep)} ({ep.value})" for ep in matches)
        raise BackendLoadError(
            f"backend name {name!r} is declared by more than one distribution: {owners}; "
            "uninstall all but one"
        )
    return matches[0]


def load_factory(entry_point: EntryPoint) -> BackendFactory:
    """Import the factory an entry point names.

    Raises:
        BackendLoadError: the import fails or the target is not callable; the error names
            the entry point and its distribution and chains the original error.
    """
    where = f"backend {entry_point.name!r} ({entry_point.value}) from {_dist(entry_point)}"
    try:
        factory = entry_point.load()
    except (Exception, SystemExit) as exc:  # a plugin calling sys.exit on import is broken too
        raise BackendLoadError(f"could not import {where}: {type(exc).__name__}: {exc}") from exc
    if not callable(factory):
        raise BackendLoadError(f"{where} is not callable: got {type(factory).__name__}")
    return factory  # type: ignore[no-any-return]
