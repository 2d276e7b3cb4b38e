"""Keeping secrets out of messages: which storage options are secret, and redacting them.

Backends and the CLI pass engine error text through :func:`redact` before it reaches a
report, a log line or an exception, because engines and SDKs sometimes echo the request
that failed. Inside :func:`secrets_masked`, :func:`error_text` masks the block's secrets
where a report's error text is made, so no report needs rebuilding afterwards.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator, Mapping

#: An option whose name contains one of these (case-insensitively) holds a secret.
SECRET_NAME_MARKERS = ("SECRET", "TOKEN", "PASSWORD", "CREDENTIAL", "SAS_KEY", "ACCOUNT_KEY")
MASK = "***"
#: Shorter values are not masked: they would mask ordinary words and numbers.
MIN_SECRET_LENGTH = 4

_ACTIVE: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "pointline_storage_secrets", default=()
)


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


def error_text(exc: BaseException) -> str:
    """``"ExceptionType: message"``, with the secrets of every enclosing
    :func:`secrets_masked` block masked: the text a report's ``error`` field holds."""
    return redact(f"{type(exc).__name__}: {exc}", _ACTIVE.get())


@contextlib.contextmanager
def secrets_masked(secrets: Iterable[str]) -> Iterator[None]:
    """Mask ``secrets`` in the error texts made in the block (:func:`error_text`) and in
    the messages of any exception it raises."""
    secrets = tuple(secrets)
    token = _ACTIVE.set((*_ACTIVE.get(), *secrets))
    try:
        yield
    except BaseException as exc:
        redact_exception(exc, secrets)
        raise
    finally:
        _ACTIVE.reset(token)
