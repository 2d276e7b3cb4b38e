"""Secrets are masked in messages and in chained exceptions."""

from __future__ import annotations

import pytest

from pointline_storage import StorageError, redact, secret_values
from pointline_storage.redaction import secrets_masked


def test_secret_values_are_picked_by_option_name() -> None:
    options = {
        "AWS_SECRET_ACCESS_KEY": "s3cr3t-value",
        "aws_session_token": "token-value",
        "AZURE_STORAGE_ACCOUNT_KEY": "account-key",
        "password": "hunter22",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_REGION": "us-east-1",
        "TOKEN": "abc",  # too short to mask without masking ordinary words
    }
    assert secret_values(options) == {"s3cr3t-value", "token-value", "account-key", "hunter22"}


def test_redact_masks_every_occurrence_longest_first() -> None:
    text = "key=abcdef and again abcdef, prefix abc"
    assert redact(text, {"abcdef", "abcd"}) == "key=*** and again ***, prefix abc"


def _fail_with_secret() -> None:
    with secrets_masked({"s3cr3t-value"}):
        try:
            raise OSError("request signed with s3cr3t-value failed")
        except OSError as exc:
            raise StorageError("cannot read: s3cr3t-value") from exc


def test_exceptions_and_their_causes_are_masked() -> None:
    with pytest.raises(StorageError) as caught:
        _fail_with_secret()
    assert str(caught.value) == "cannot read: ***"
    assert str(caught.value.__cause__) == "request signed with *** failed"
