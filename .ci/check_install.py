#!/usr/bin/env python3
"""CI: follow the README's Install line in a fresh venv, with pip only.

Creates a venv with ``python3 -m venv``, runs the first line of the README's Install
section with that venv's pip from the repository root, then runs ``pointline-storage
backends --json`` from another folder and requires ``delta-local`` and ``delta-s3`` ok.
pip's own cache keeps a second run from downloading the dependencies again.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXPECTED_BACKENDS = ("delta-local", "delta-s3")


def install_line(readme: str) -> str:
    """The first command of the README's Install section; it must be a ``pip install``."""
    match = re.search(r"^## Install\b.*?^```bash\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    if match is None:
        raise SystemExit("README.md has no '## Install' section with a bash block")
    first = match.group(1).splitlines()[0].split("  #")[0].strip()
    if not first.startswith("pip install "):
        raise SystemExit(f"the README's Install line is not a pip install: {first!r}")
    return first


def main() -> None:
    started = time.perf_counter()
    line = install_line((REPO / "README.md").read_text())
    with tempfile.TemporaryDirectory(prefix="pointline-install-") as scratch:
        venv = Path(scratch) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        print(f"$ {line}  (fresh venv {venv}, from {REPO})", flush=True)
        pip_args = shlex.split(line)[1:]
        subprocess.run(
            [str(venv / "bin" / "pip"), *pip_args, "--quiet", "--disable-pip-version-check"],
            cwd=REPO,
            check=True,
        )
        listed = subprocess.run(
            [str(venv / "bin" / "pointline-storage"), "backends", "--json"],
            cwd=scratch,  # not the repository: the installed command must stand alone
            capture_output=True,
            text=True,
            check=True,
        )
    status = {entry["name"]: entry["status"] for entry in json.loads(listed.stdout)}
    print(f"installed backends: {status}")
    broken = [name for name in EXPECTED_BACKENDS if status.get(name) != "ok"]
    if broken:
        raise SystemExit(f"after the README's Install line, not ok: {broken}")
    print(f"install check passed in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
