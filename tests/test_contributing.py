"""CONTRIBUTING.md's minimal backend, built from the file itself, installed, and run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).parent.parent / "CONTRIBUTING.md"
FILE_BLOCK = re.compile(r"<!-- file: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)```", re.DOTALL)


def test_the_guides_backend_passes_the_conformance_suite(tmp_path: Path) -> None:
    package = tmp_path / "pointline-storage-delta-suffixed"
    blocks = FILE_BLOCK.findall(GUIDE.read_text())
    assert [path for path, _ in blocks] == [
        "pyproject.toml",
        "delta_suffixed.py",
        "tests/test_conformance.py",
    ]
    for path, body in blocks:
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text(body)
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to install the example as a user would"
    site = tmp_path / "site"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(package)],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    listing = subprocess.run(
        [sys.executable, "-c", "import pointline_storage as p; print(p.available_backends())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "delta-suffixed" in listing.stdout
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests"],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert _test_names(run.stdout, "PASSED") == _conformance_tests_here()


def _test_names(pytest_output: str, outcome: str = "") -> set[str]:
    """``test_x[param]`` of each ``path::Class::test_x[param]`` followed by ``outcome``."""
    ending = rf" {outcome}\b" if outcome else "$"
    pattern = re.compile(rf"^\S*::(test\S*){ending}")
    return {match.group(1) for line in pytest_output.splitlines() if (match := pattern.match(line))}


def _conformance_tests_here() -> set[str]:
    """The conformance tests this repository runs against delta-local."""
    suite = Path(__file__).parent / "test_conformance_delta_local.py"
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", suite],
        capture_output=True,
        text=True,
        check=True,
    )
    names = _test_names(listing.stdout)
    assert len(names) >= 20
    return names
