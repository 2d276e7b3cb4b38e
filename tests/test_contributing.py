"""CONTRIBUTING.md's tutorial, followed from the page alone.

Only what the page shows is used: each ``<!-- file: PATH -->`` block is written into an
empty folder, and the ``<!-- commands -->`` block is run there as one shell script, with
``CORE`` set to this checkout as the page asks, and no ``VIRTUAL_ENV`` (so ``uv pip``
installs into the folder's own ``.venv``, never into this test's environment), without
changing a command. uv takes the wheels ``uv sync`` already cached; it may still ask the
package index for its pages, which a fresh machine has not cached (offline, the page's
install failed there).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from conformance_names import suite_test_names

REPO = Path(__file__).parent.parent
GUIDE = (REPO / "CONTRIBUTING.md").read_text()
FILES = re.compile(r"<!-- file: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)```", re.S)
COMMANDS = re.compile(r"<!-- commands -->\n```bash\n(?P<script>.*?)```", re.S)
SHOWN_OUTPUT = re.compile(r"The run ends with:\n\n```text\n(?P<output>.*?)```", re.S)


def follow_the_page(folder: Path) -> subprocess.CompletedProcess[str]:
    for block in FILES.finditer(GUIDE):
        path = folder / block["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block["body"])
    (script,) = (block["script"] for block in COMMANDS.finditer(GUIDE))
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "the page installs with uv"
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV"}}
    env.update(CORE=str(REPO), PATH=f"{Path(uv).parent}{os.pathsep}{env['PATH']}")
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_tutorial_backend_passes_the_whole_suite_from_the_page_alone(tmp_path: Path) -> None:
    folder = tmp_path / "pointline-storage-minimal"
    folder.mkdir()
    run = follow_the_page(folder)
    assert run.returncode == 0, run.stdout + run.stderr
    shown = sorted(block["path"] for block in FILES.finditer(GUIDE))
    assert shown == ["pointline_storage_minimal.py", "pyproject.toml", "tests/test_conformance.py"]
    lines = run.stdout.splitlines()
    # The whole suite ran and passed, and the page shows what its commands print.
    suite = len(suite_test_names(tmp_path))
    assert re.fullmatch(rf"{suite} passed in [\d.]+s", lines[-3]), run.stdout
    assert [line.split() for line in lines[-2:]] == [
        ["NAME", "DISTRIBUTION", "VERSION", "STATUS"],
        ["minimal", "pointline-storage-minimal", "0.1.0", "ok"],
    ]
    (shown_output,) = (block["output"] for block in SHOWN_OUTPUT.finditer(GUIDE))
    assert _untimed(shown_output) == _untimed("\n".join(lines[-4:]) + "\n")


def _untimed(text: str) -> str:
    return re.sub(r"in [\d.]+s", "in ...s", text)


def test_the_tutorial_says_how_long_the_backend_is() -> None:
    (backend,) = (b["body"] for b in FILES.finditer(GUIDE) if b["path"].endswith("minimal.py"))
    claimed = re.search(r"The backend is (\d+) lines", GUIDE)
    assert claimed
    assert int(claimed[1]) == len(backend.splitlines())


def test_the_tutorial_links_files_that_exist() -> None:
    links = re.findall(r"\]\(((?:examples|pointline_storage)/[^)#]+)\)", GUIDE)
    assert links
    for link in links:
        assert (REPO / link).exists(), link
