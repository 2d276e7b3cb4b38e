"""The in-process CLI run of ``cli_run.run``, with helpers to read its output.

``main`` is what the console script runs: it turns errors into one ``error:`` line and an
exit status, which ``CliRunner.invoke(cli, ...)`` alone would bypass.
"""

from __future__ import annotations

from dataclasses import dataclass

from cli_run import run


@dataclass(frozen=True)
class Ran:
    exit_code: int
    stdout: str
    stderr: str

    def error_line(self) -> str:
        """The one ``error:`` line on stderr (and nothing else there)."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("error: "), self.stderr
        return lines[0]

    def warnings(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("warning: ")]


def run_cli(*args: str) -> Ran:
    """Run the command line with ``args``; return its exit status and output."""
    result = run(*args)
    return Ran(result.returncode, result.stdout, result.stderr)
