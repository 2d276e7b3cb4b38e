"""Two ways to run the ``pointline-storage`` command line in tests.

``run`` calls ``pointline_storage.cli.main`` in this process through click's ``CliRunner``
isolation (its own stdin, stdout, stderr and environment): what the commands print and
their exit status, in milliseconds. ``run_process`` starts the installed console script,
for what only a real process shows (the entry point, exit codes, tracebacks, env set-up).
Both give a ``subprocess.CompletedProcess``, so a test reads either the same way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pointline_storage.cli import main

#: The console script ``[project.scripts]`` installs next to this interpreter.
CONSOLE_SCRIPT = "pointline-storage"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in-process, as ``main`` runs it in a process: exit status, stdout and
    stderr kept apart. ``env`` overrides environment variables for the call."""
    code: int | str | None = 0
    with CliRunner().isolation(env=env) as (stdout, stderr, _):
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code
        sys.stdout.flush()
        sys.stderr.flush()
        out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    returncode = code if isinstance(code, int) else 0 if code is None else 1
    return subprocess.CompletedProcess(["pointline-storage", *args], returncode, out, err)


def console_script() -> str:
    """The installed ``pointline-storage`` executable of this environment."""
    here = Path(sys.executable).parent / CONSOLE_SCRIPT
    found = str(here) if here.exists() else shutil.which(CONSOLE_SCRIPT)
    assert found, f"the {CONSOLE_SCRIPT} console script is not installed"
    return found


def run_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed console script in a fresh process, capturing text output."""
    return subprocess.run(
        [console_script(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )
