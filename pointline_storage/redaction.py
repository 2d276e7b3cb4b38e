"""Keeping secrets out of messages: which storage options are secret, and redacting them.

Backends and the CLI pass engine error text through :func:`redact` before it reaches a
report, a log line or an exception, because engines and SDKs sometimes echo the request
that failed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping

#: An option whose name contains one of these (case-insensitively) holds a secret.
SECRET_NAME_MARKERS = ("SECRET", "TOKEN", "PASSWORD", "CREDENTIAL", "SAS_KEY", "ACCOUNT_KEY")
MASK = "***"
#: Shorter values are not masked: they would mask ordinary words and numbers.
MIN_SECRET_LENGTH = 4


def is_secret_name(name: str) -> bool:
    """Whether an option of this name holds a secret (secret keys, tokens, passwords)."""
    upper = name.upper()
    return any(marker in upper for marker in SECRET_NAME_MARKERS)


def secret_values(options: Mapping[str, object]) -> frozenset[str]:
    """The values of the secret options in ``options``."""
    return frozenset(
        value
        for name, value in options.items()
        if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH and is_secret_name(name)
    )


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret replaced by ``***``."""
    # Longest first, so a secret containing another is masked whole.
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_exception(exc: BaseException, secrets: Iterable[str]) -> None:
    """Mask secrets, in place, in the messages of ``exc`` and of the exceptions it chains."""
    secrets = tuple(secrets)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and secrets:
        seen.add(id(current))
        current.args = tuple(
            redact(arg, secrets) if isinstance(arg, str) else arg for arg in current.args
        )
        current = current.__cause__ or current.__context__


@contextlib.contextmanager
def secrets_masked(secrets: Iterable[str]) -> Iterator[None]:
    """Re-raise any exception from the block with ``secrets`` masked in its messages."""
    try:
        yield
    except BaseException as exc:
        redact_exception(exc, secrets)
        raise
