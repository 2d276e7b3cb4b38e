"""The README's Install line names every distribution of this repository it needs by folder.

None of them is on a package index, so a requirement on one that the line does not give
as a folder fails in a fresh venv (``pip install ".[delta]"`` did). ``.ci/check_install.py``
runs the line for real in a fresh venv; this checks the line against the metadata of the
distributions the folders hold, as installed here.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
from importlib.metadata import Distribution, distributions
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parent.parent


def check_install_module():
    spec = importlib.util.spec_from_file_location("check_install", REPO / ".ci/check_install.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def project_distributions() -> dict[Path, Distribution]:
    """This repository's distributions installed here, by the folder they come from."""
    found = {}
    for dist in distributions():
        direct = dist.read_text("direct_url.json")
        url = json.loads(direct)["url"] if direct else ""
        if url.startswith("file://") and Path(url.removeprefix("file://")).is_relative_to(REPO):
            found[Path(url.removeprefix("file://")).resolve()] = dist
    return found


def test_the_install_line_is_pip_and_names_every_project_requirement_by_folder():
    line = check_install_module().install_line((REPO / "README.md").read_text())
    assert line == "pip install . ./backends/delta"
    folders = [(REPO / arg).resolve() for arg in shlex.split(line)[2:]]
    by_folder = project_distributions()
    given = {by_folder[folder].metadata["Name"]: by_folder[folder] for folder in folders}
    assert set(given) == {"pointline-storage", "pointline-storage-delta"}
    ours = {dist.metadata["Name"] for dist in by_folder.values()}
    for dist in given.values():
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.name in ours and (
                requirement.marker is None or requirement.marker.evaluate({"extra": ""})
            ):
                assert requirement.name in given, f"{text} is on no index"
    backends = {
        entry.name
        for dist in given.values()
        for entry in dist.entry_points
        if entry.group == "pointline_storage.backends"
    }
    assert backends == {"delta-local", "delta-s3"}


def test_ci_runs_the_install_check():
    ci = (REPO / ".ci/run").read_text()
    assert "python3 .ci/check_install.py" in ci
    assert ci.index("check_install.py") < ci.index("uv run pytest")
