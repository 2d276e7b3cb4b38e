"""Resolving delta-s3 storage options: deltalake keys, environment fallback, validation."""

from __future__ import annotations

import pytest
from pointline_storage_delta.s3_options import DEFAULT_TIMEOUTS, s3_settings

from pointline_storage import InvalidOptionError

KEYS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "very-secret-value"}


def test_options_translate_to_deltalake_and_s3fs() -> None:
    settings = s3_settings(
        {
            **KEYS,
            "AWS_SESSION_TOKEN": "session-token-value",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
            "AWS_ALLOW_HTTP": "true",
            "AWS_REGION": "eu-west-1",
            "connect_timeout": "2s",
            "timeout": "500ms",
            "max_retries": "1",
        },
        environ={},
    )
    assert settings.delta_options == {
        **KEYS,
        "AWS_SESSION_TOKEN": "session-token-value",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_ALLOW_HTTP": "true",
        "AWS_REGION": "eu-west-1",
        "connect_timeout": "2s",
        "timeout": "500ms",
        "max_retries": "1",
        "retry_timeout": DEFAULT_TIMEOUTS["retry_timeout"],
    }
    assert settings.filesystem_options == {
        "key": "AKIDEXAMPLE",
        "secret": "very-secret-value",
        "token": "session-token-value",
        "endpoint_url": "http://127.0.0.1:9000",
        "client_kwargs": {"region_name": "eu-west-1"},
        "use_listings_cache": False,
        "config_kwargs": {
            "connect_timeout": 2.0,
            "read_timeout": 0.5,
            "retries": {"max_attempts": 2, "mode": "standard"},
        },
    }
    assert settings.describe_endpoint() == "http://127.0.0.1:9000"


def test_missing_options_fall_back_to_the_environment() -> None:
    environ = {
        **KEYS,
        "AWS_DEFAULT_REGION": "ap-south-1",
        "AWS_ENDPOINT_URL": "https://s3.example.com",
        "AWS_SESSION_TOKEN": "",  # empty variables count as unset
    }
    settings = s3_settings({"AWS_REGION": "us-west-2"}, environ=environ)
    assert settings.delta_options["AWS_ACCESS_KEY_ID"] == "AKIDEXAMPLE"
    assert settings.delta_options["AWS_REGION"] == "us-west-2"  # the caller's option wins
    assert settings.endpoint == "https://s3.example.com"
    assert "AWS_SESSION_TOKEN" not in settings.delta_options
    assert "token" not in settings.filesystem_options


def test_no_credentials_leave_the_sdk_default_chain_alone() -> None:
    settings = s3_settings({}, environ={})
    assert "key" not in settings.filesystem_options
    assert "AWS_ACCESS_KEY_ID" not in settings.delta_options
    assert settings.describe_endpoint() == "AWS S3 (default region)"


def test_lower_case_and_short_spellings_are_one_option() -> None:
    settings = s3_settings(
        {"aws_access_key_id": "AKIDEXAMPLE", "secret_access_key": "s3cr3t-value", "region": "eu"},
        environ={},
    )
    assert settings.delta_options["AWS_ACCESS_KEY_ID"] == "AKIDEXAMPLE"
    assert settings.delta_options["AWS_SECRET_ACCESS_KEY"] == "s3cr3t-value"
    assert settings.region == "eu"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"AWS_REGION": "a", "aws_region": "b"}, "given twice"),
        ({"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE"}, "AWS_SECRET_ACCESS_KEY is not"),
        ({"AWS_SECRET_ACCESS_KEY": "very-secret-value"}, "AWS_ACCESS_KEY_ID is not"),
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}, "AWS_ALLOW_HTTP=true"),
        ({"AWS_ENDPOINT_URL": "127.0.0.1:9000"}, "must be an http(s) URL"),
        ({"connect_timeout": "soon"}, "positive duration"),
        ({"timeout": "0s"}, "positive duration"),
        ({"max_retries": "-1"}, "non-negative integer"),
        ({"AWS_REGION": 1}, "must be strings"),
    ],
)
def test_bad_options_are_clear_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidOptionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        s3_settings(options, environ={})  # type: ignore[arg-type]


def test_secrets_stay_out_of_the_repr() -> None:
    settings = s3_settings({**KEYS, "AWS_SESSION_TOKEN": "session-token-value"}, environ={})
    assert "very-secret-value" not in repr(settings)
    assert "session-token-value" not in repr(settings)
