"""Run ``pointline_storage.cli.main`` in-process under click's CliRunner isolation.

``main`` is what the console script runs: it turns errors into one ``error:`` line and an
exit status, which ``CliRunner.invoke(cli, ...)`` alone would bypass.
"""

from __future__ import annotations

from dataclasses import dataclass

from click.testing import CliRunner

from pointline_storage.cli import main


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
    with CliRunner().isolation() as (stdout, stderr, _):
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        else:  # main always exits; reaching here would be a bug of its own
            code = -1
        return Ran(code, stdout.getvalue().decode(), stderr.getvalue().decode())
