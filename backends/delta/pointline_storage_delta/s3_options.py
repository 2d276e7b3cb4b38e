"""S3 storage options: deltalake's keys in; what deltalake and s3fs each need, out.

Callers configure ``delta-s3`` with deltalake's option keys (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ...). Missing ones fall back to the standard AWS environment
variables, here and only here, so deltalake and s3fs see the same endpoint, region and
credentials. Timeouts and retries get bounded defaults: an endpoint that does not answer
must fail a call in seconds, not after the engine's default three minutes of retries.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pointline_storage import InvalidOptionError

#: Spellings deltalake accepts, mapped to the one used here.
ALIASES = {
    "ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID",
    "SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY",
    "SESSION_TOKEN": "AWS_SESSION_TOKEN",
    "TOKEN": "AWS_SESSION_TOKEN",
    "AWS_TOKEN": "AWS_SESSION_TOKEN",
    "ENDPOINT_URL": "AWS_ENDPOINT_URL",
    "ENDPOINT": "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT": "AWS_ENDPOINT_URL",
    "REGION": "AWS_REGION",
    "AWS_DEFAULT_REGION": "AWS_REGION",
    "ALLOW_HTTP": "AWS_ALLOW_HTTP",
    "TIMEOUT": "timeout",
    "CONNECT_TIMEOUT": "connect_timeout",
    "MAX_RETRIES": "max_retries",
    "RETRY_TIMEOUT": "retry_timeout",
}
#: Environment variables read for options the caller did not give, in order of preference.
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": ("AWS_ACCESS_KEY_ID",),
    "AWS_SECRET_ACCESS_KEY": ("AWS_SECRET_ACCESS_KEY",),
    "AWS_SESSION_TOKEN": ("AWS_SESSION_TOKEN",),
    "AWS_REGION": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "AWS_ENDPOINT_URL": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    "AWS_ALLOW_HTTP": ("AWS_ALLOW_HTTP",),
}
#: Bounded defaults (deltalake's duration syntax); callers override them with the same keys.
DEFAULT_TIMEOUTS = {
    "connect_timeout": "5s",
    "timeout": "60s",
    "max_retries": "3",
    "retry_timeout": "60s",
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|m|min|mins|h)?\s*$")
_SECONDS_PER_UNIT = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "h": 3600,
}


@dataclass(frozen=True)
class S3Settings:
    """Resolved S3 settings for one backend instance; secrets never appear in its repr.

    Attributes:
        delta_options: Storage options for deltalake.
        filesystem_options: Keyword arguments for ``s3fs.S3FileSystem``.
        endpoint: The endpoint URL, or ``None`` for AWS's own.
        region: The region, if known.
    """

    delta_options: dict[str, str] = field(repr=False)
    filesystem_options: dict[str, Any] = field(repr=False)
    endpoint: str | None
    region: str | None

    def describe_endpoint(self) -> str:
        """The endpoint for error messages: its URL, or AWS S3 and the region."""
        if self.endpoint:
            return self.endpoint
        return f"AWS S3 ({self.region or 'default region'})"


def s3_settings(
    storage_options: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> S3Settings:
    """Resolve storage options, with AWS environment variables for the missing ones.

    Raises:
        InvalidOptionError: an option is malformed, given twice under two spellings,
            credentials are incomplete, or an ``http://`` endpoint is not explicitly
            allowed with ``AWS_ALLOW_HTTP=true``.
    """
    options = _normalized(storage_options)
    environ = os.environ if environ is None else environ
    for key, variables in ENVIRONMENT.items():
        if key not in options:
            found = next((environ[name] for name in variables if environ.get(name)), None)
            if found is not None:
                options[key] = found
    for key, default in DEFAULT_TIMEOUTS.items():
        options.setdefault(key, default)

    connect_timeout = _seconds("connect_timeout", options["connect_timeout"])
    timeout = _seconds("timeout", options["timeout"])
    _seconds("retry_timeout", options["retry_timeout"])
    max_retries = _count("max_retries", options["max_retries"])
    has_key, has_secret = "AWS_ACCESS_KEY_ID" in options, "AWS_SECRET_ACCESS_KEY" in options
    if has_key != has_secret:
        given, missing = (
            ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
            if has_key
            else ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")
        )
        raise InvalidOptionError(
            f"incomplete S3 credentials: {given} is set but {missing} is not "
            "(set both, as storage options or environment variables, or neither)"
        )
    endpoint = options.get("AWS_ENDPOINT_URL")
    if endpoint is not None:
        _check_endpoint(endpoint, options.get("AWS_ALLOW_HTTP", "false"))
    region = options.get("AWS_REGION")

    filesystem: dict[str, Any] = {
        # Listings must not be cached: deltalake writes behind s3fs's back.
        "use_listings_cache": False,
        "config_kwargs": {
            "connect_timeout": connect_timeout,
            "read_timeout": timeout,
            "retries": {"max_attempts": max_retries + 1, "mode": "standard"},
        },
    }
    if has_key:
        filesystem["key"] = options["AWS_ACCESS_KEY_ID"]
        filesystem["secret"] = options["AWS_SECRET_ACCESS_KEY"]
        if "AWS_SESSION_TOKEN" in options:
            filesystem["token"] = options["AWS_SESSION_TOKEN"]
    if endpoint is not None:
        filesystem["endpoint_url"] = endpoint
    if region is not None:
        filesystem["client_kwargs"] = {"region_name": region}
    return S3Settings(
        delta_options=options, filesystem_options=filesystem, endpoint=endpoint, region=region
    )


def _normalized(storage_options: Mapping[str, str]) -> dict[str, str]:
    options: dict[str, str] = {}
    given_as: dict[str, str] = {}
    for name, value in storage_options.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidOptionError(
                f"storage option names and values must be strings, got {name!r} "
                f"with a {type(value).__name__} value"
            )
        upper = name.upper()
        key = ALIASES.get(upper, upper if upper.startswith("AWS_") else name)
        if key in options and options[key] != value:
            raise InvalidOptionError(
                f"storage option {key} is given twice with different values "
                f"(as {given_as[key]!r} and {name!r}); give it once"
            )
        options[key], given_as[key] = value, name
    return options


def _seconds(name: str, value: str) -> float:
    match = _DURATION.match(value)
    if match is None or float(match.group(1)) <= 0:
        raise InvalidOptionError(
            f"storage option {name} must be a positive duration such as '5s', '500ms' or "
            f"'2m', got {value!r}"
        )
    return float(match.group(1)) * _SECONDS_PER_UNIT[match.group(2) or "s"]


def _count(name: str, value: str) -> int:
    if not value.strip().isdigit():
        raise InvalidOptionError(
            f"storage option {name} must be a non-negative integer, got {value!r}"
        )
    return int(value)


def _check_endpoint(endpoint: str, allow_http: str) -> None:
    parsed = urllib.parse.urlsplit(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidOptionError(
            f"AWS_ENDPOINT_URL must be an http(s) URL such as 'https://s3.example.com', "
            f"got {endpoint!r}"
        )
    if parsed.scheme == "http" and allow_http.strip().lower() != "true":
        raise InvalidOptionError(
            f"endpoint {endpoint} uses plain http, which sends requests unencrypted; "
            "set AWS_ALLOW_HTTP=true to allow it"
        )
