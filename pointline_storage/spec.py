"""``BackendSpec``: what a worker needs to load the same backend, and nothing live.

A loaded ``Backend`` holds a plugin manager, open filesystems and credentials; it refuses
to pickle. Its ``spec`` pickles (and serialises as plain values), and ``spec.load()`` in
the worker gives an equal backend there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pointline_storage.redaction import MASK, is_secret_name

if TYPE_CHECKING:
    from pointline_storage.backend import Backend


@dataclass(frozen=True, repr=False)
class BackendSpec:
    """How to load a backend: the arguments ``load_backend`` was called with.

    Attributes:
        name: The backend's entry-point name.
        root: Where its tables live.
        table_paths: Explicit table locations, as sorted ``(name, location)`` pairs.
        storage_options: Connection options, as sorted ``(name, value)`` pairs. They may
            hold secrets: the repr masks them, but a pickled spec carries them. To let
            workers take credentials from their own environment instead, ship
            :meth:`without_secrets`.
    """

    name: str
    root: str
    table_paths: tuple[tuple[str, str], ...] = ()
    storage_options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        name: str,
        *,
        root: str,
        table_paths: Mapping[str, str],
        storage_options: Mapping[str, str],
    ) -> BackendSpec:
        """A spec of these ``load_backend`` arguments."""
        return cls(
            name=name,
            root=root,
            table_paths=tuple(sorted(table_paths.items())),
            storage_options=tuple(sorted(storage_options.items())),
        )

    def __repr__(self) -> str:
        options = {
            option: MASK if is_secret_name(option) else value
            for option, value in self.storage_options
        }
        return (
            f"BackendSpec(name={self.name!r}, root={self.root!r}, "
            f"table_paths={dict(self.table_paths)!r}, storage_options={options!r})"
        )

    def load(self) -> Backend:
        """Load the backend this spec describes (``load_backend`` with its arguments)."""
        from pointline_storage.backend import load_backend

        return load_backend(
            self.name,
            root=self.root,
            table_paths=dict(self.table_paths),
            storage_options=dict(self.storage_options),
        )

    def without_secrets(self) -> BackendSpec:
        """This spec without its secret storage options (secret keys, tokens, passwords).

        Ship this one when workers have credentials of their own: a backend whose options
        lack a secret takes it from the worker's environment (for ``delta-s3``, the
        standard ``AWS_*`` variables).
        """
        return BackendSpec(
            name=self.name,
            root=self.root,
            table_paths=self.table_paths,
            storage_options=tuple(
                (option, value)
                for option, value in self.storage_options
                if not is_secret_name(option)
            ),
        )
