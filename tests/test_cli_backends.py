"""``pointline-storage backends`` with broken backends installed: each is shown, none breaks it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_run import run
from entrypoints import FakeDistributions


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory of deliberately broken backend distributions."""
    installed = FakeDistributions(tmp_path / "site", monkeypatch)
    installed.add(
        "raises-on-import",
        version="0.3.0",
        entry_points={"raises": "raises_on_import:create_backend"},
        modules={"raises_on_import": 'raise RuntimeError("needs libfoo 2, found 1")\n'},
    )
    installed.add(
        "exits-on-import",
        entry_points={"exits": "exits_on_import:create_backend"},
        modules={"exits_on_import": "raise SystemExit(4)\n"},
    )
    installed.add(
        "not-callable",
        entry_points={"constant": "not_callable:create_backend"},
        modules={"not_callable": "create_backend = 42\n"},
    )
    for owner in ("twin-a", "twin-b"):
        installed.add(owner, entry_points={"twin": "not_callable:create_backend"})
    yield installed.directory
    installed.cleanup()


def backends(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pointline-storage backends`` with ``site`` on the path (in-process)."""
    return run("backends", *args)


def test_broken_backends_are_listed_with_their_reason(site: Path) -> None:
    result = backends(site)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert result.stdout.splitlines()[0].split() == ["NAME", "DISTRIBUTION", "VERSION", "STATUS"]
    assert set(lines) == {"constant", "delta-local", "delta-s3", "exits", "raises", "twin"}
    assert lines["delta-local"].split()[1:] == ["pointline-storage-delta", "0.1.0", "ok"]
    assert lines["delta-s3"].split()[1:] == ["pointline-storage-delta", "0.1.0", "ok"]
    assert lines["raises"].split()[1:5] == ["raises-on-import", "0.3.0", "broken:", "could"]
    assert "RuntimeError: needs libfoo 2, found 1" in lines["raises"]
    assert "SystemExit: 4" in lines["exits"]
    assert "is not callable: got int" in lines["constant"]
    assert "declared by more than one distribution: twin-a" in lines["twin"]


def test_broken_backends_in_json(site: Path) -> None:
    result = backends(site, "--json")
    assert result.returncode == 0, result.stderr
    entries = {(item["name"], item["distribution"]): item for item in json.loads(result.stdout)}
    assert entries[("delta-local", "pointline-storage-delta")]["status"] == "ok"
    assert entries[("delta-local", "pointline-storage-delta")]["error"] is None
    raises = entries[("raises", "raises-on-import")]
    assert (raises["status"], raises["version"]) == ("broken", "0.3.0")
    assert "needs libfoo 2" in raises["error"]
    assert {entries[("twin", owner)]["status"] for owner in ("twin-a", "twin-b")} == {"broken"}
