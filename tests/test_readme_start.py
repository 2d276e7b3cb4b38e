"""The README's start works as written: the demo, then the Python snippet on what it left."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from cli_inprocess import run_cli
from deltalake import DeltaTable

from pointline_storage.testing.s3 import MotoServer

README = (Path(__file__).parent.parent / "README.md").read_text()
LOAD_LINE = re.compile(r'^backend = load_backend\("delta-local", root=".*"\)$', re.MULTILINE)


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def test_the_two_commands_are_the_whole_setup_and_test_run():
    start = section("Two commands")
    commands = [block.strip() for block in blocks(start, "bash")]
    assert commands[1:] == ["uv run pointline-storage demo", "uv run pytest"]
    getting_uv = commands[0].splitlines()
    assert getting_uv[0].startswith("git clone ")
    assert any("pipx install uv" in line for line in getting_uv)
    assert any("python3 -m venv" in line and "pip install uv" in line for line in getting_uv)
    assert any("install.sh | sh" in line for line in getting_uv)
    assert "python -m pip" not in start


@pytest.mark.parametrize("source", ["path", "bundle"])
def test_the_clone_line_works_as_written_from_a_path_or_a_bundle(tmp_path, source):
    (clone_line,) = blocks(section("Two commands"), "bash")[0].splitlines()[:1]
    repository = str(Path(__file__).parent.parent)
    if source == "bundle":
        bundle = tmp_path / "pointline-storage.bundle"
        subprocess.run(["git", "-C", repository, "bundle", "create", bundle, "HEAD"], check=True)
        repository = str(bundle)
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", f"{clone_line}\npwd"],
        cwd=tmp_path,
        env={**os.environ, "REPOSITORY": repository},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[-1] == str(tmp_path / "pointline-storage")  # and cd'd into it
    assert (tmp_path / "pointline-storage" / "pyproject.toml").is_file()


def test_the_python_snippet_works_on_the_table_the_readmes_demo_left(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the demo's default folder
    demo = run_cli("demo")
    assert demo.exit_code == 0, demo.stderr
    printed = demo.stdout.splitlines()[-1]
    assert LOAD_LINE.fullmatch(printed), printed
    assert f'root="{tmp_path}/pointline-demo-' in printed

    api = section("Python API")
    snippet, expected = blocks(api, "python")[0], blocks(api, "text")[0]
    assert len(LOAD_LINE.findall(snippet)) == 1
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(LOAD_LINE.sub(lambda _: printed, snippet), {})  # the user pasted the demo's line
    assert output.getvalue() == expected


def test_demo_takes_a_root_and_says_where_it_wrote(tmp_path):
    demo = run_cli("demo", "--root", f"{tmp_path}/here/")
    assert demo.exit_code == 0, demo.stderr
    assert demo.stdout.splitlines()[-1] == (
        f'backend = load_backend("delta-local", root="{tmp_path}/here")'
    )
    assert DeltaTable(str(tmp_path / "here" / "cn_order_events")).version() == 25
    again = run_cli("demo", "--root", str(tmp_path / "here"))
    assert again.exit_code == 1
    assert "already exists; pass another --root" in again.error_line()


def test_demo_runs_on_another_backend(
    s3_bucket: str, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
):
    for key, value in moto_server.storage_options().items():
        monkeypatch.setenv(key, value)
    root = f"s3://{s3_bucket}/demo"
    demo = run_cli("demo", "--backend", "delta-s3", "--root", root)
    assert demo.exit_code == 0, demo.stderr
    commands = [line for line in demo.stdout.splitlines() if line.startswith("$ ")]
    assert commands
    assert all(f"--backend delta-s3 --root {root} " in line for line in commands)
    assert "compacted 3 of 3 partitions" in demo.stdout
    assert demo.stdout.splitlines()[-1] == f'backend = load_backend("delta-s3", root="{root}")'


def test_demo_on_a_backend_not_installed_lists_the_installed_ones():
    demo = run_cli("demo", "--backend", "delta-cloud")
    assert demo.exit_code == 1
    line = demo.error_line()
    assert "no backend named 'delta-cloud'" in line
    assert "delta-local" in line
