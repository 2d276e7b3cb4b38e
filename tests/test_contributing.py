"""CONTRIBUTING.md's tutorial shows the hive-parquet example exactly as it is.

The example itself is installed and run against the conformance suite by
``test_hive_parquet_example.py``; together they keep the tutorial true.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).parent.parent
GUIDE = (REPO / "CONTRIBUTING.md").read_text()
EXAMPLE = REPO / "examples" / "hive-parquet"
BLOCK = re.compile(
    r"<!-- (?P<kind>file|excerpt): (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)```", re.S
)


def test_files_shown_whole_are_the_examples_files() -> None:
    shown = [match for match in BLOCK.finditer(GUIDE) if match["kind"] == "file"]
    assert [match["path"] for match in shown] == [
        "examples/hive-parquet/pyproject.toml",
        "examples/hive-parquet/pointline_storage_hive_parquet/backend.py",
        "examples/hive-parquet/pointline_storage_hive_parquet/testing.py",
        "examples/hive-parquet/tests/test_conformance.py",
        "examples/hive-parquet/tests/conftest.py",
        "examples/hive-parquet/tests/test_conformance_s3.py",
    ]
    for match in shown:
        assert match["body"] == (REPO / match["path"]).read_text(), match["path"]


def test_excerpts_are_verbatim_parts_of_the_examples_files() -> None:
    excerpts = [match for match in BLOCK.finditer(GUIDE) if match["kind"] == "excerpt"]
    assert {Path(match["path"]).name for match in excerpts} == {
        "layout.py",
        "compaction.py",
        "vacuum.py",
    }
    for match in excerpts:
        assert match["body"] in (REPO / match["path"]).read_text(), match["path"]


def test_the_file_tree_lists_every_file_of_the_example() -> None:
    tree = GUIDE.split("By the end it holds:\n\n```text\n", 1)[1].split("```", 1)[0]
    listed = {line.split()[0] for line in tree.splitlines()}
    on_disk = {
        path.relative_to(EXAMPLE).as_posix()
        for path in EXAMPLE.rglob("*")
        if path.is_file()
        and not any(
            part.startswith(".") or part == "__pycache__"
            for part in path.relative_to(EXAMPLE).parts
        )
        and path.name != "py.typed"
    }
    assert listed == on_disk
