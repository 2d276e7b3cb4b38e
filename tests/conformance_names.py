"""Test names of the shipped conformance suite, and of a pytest run's verbose output."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SUITE_MODULE = """
from pointline_storage.testing import AbstractBackendTests, BackendFixtures


class TestSuite(AbstractBackendTests, BackendFixtures):
    pass
"""


def outcomes(pytest_output: str, *, test_class: str = "") -> dict[str, str]:
    """``{test_x[param]: PASSED, ...}`` from the lines of ``pytest -v`` output.

    With ``test_class``, only the tests of that class.
    """
    owner = rf"\S*::{re.escape(test_class)}" if test_class else r"\S*"
    pattern = re.compile(rf"^{owner}::(test\S*) ([A-Z]+)\b")
    return dict(
        match.groups() for line in pytest_output.splitlines() if (match := pattern.match(line))
    )


def collected(pytest_output: str) -> set[str]:
    """``test_x[param]`` of each ``path::Class::test_x[param]`` line of ``--collect-only -q``."""
    pattern = re.compile(r"^\S*::(test\S*)$")
    return {match.group(1) for line in pytest_output.splitlines() if (match := pattern.match(line))}


def suite_test_names(directory: Path) -> set[str]:
    """Every test the conformance suite gives a backend, as pytest collects them."""
    module = directory / "test_suite_names.py"
    module.write_text(SUITE_MODULE)
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", module],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    )
    names = collected(listing.stdout)
    assert len(names) >= 20, listing.stdout
    return names
