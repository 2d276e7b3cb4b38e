"""The hive-parquet example, installed as a user would, passes the conformance suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conformance_names import outcomes, suite_test_names

EXAMPLE = Path(__file__).parent.parent / "examples" / "hive-parquet"


def install(package: Path, site: Path) -> dict[str, str]:
    """Install ``package`` (without dependencies: they are this environment's) into
    ``site``; return the environment that sees it."""
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to install the example as a user would"
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(package)],
        check=True,
    )
    return {**os.environ, "PYTHONPATH": str(site)}


def test_the_installed_example_passes_the_conformance_suite(tmp_path: Path) -> None:
    env = install(EXAMPLE, tmp_path / "site")
    # The tests run from a copy, so only the installed package can be imported.
    shutil.copytree(EXAMPLE / "tests", tmp_path / "run" / "tests")
    # The example's suite runs twice, on local disk (TestHiveParquet) and on S3
    # (TestHiveParquetS3): each is its own code path. The listing and the suite's names
    # are made meanwhile, on the other core.
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path / "run",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        listing = subprocess.run(
            [sys.executable, "-m", "pointline_storage.cli", "backends"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        suite = suite_test_names(tmp_path)
        stdout, stderr = run.communicate()
    finally:
        run.kill()
        run.wait()
    rows = [line.split() for line in listing.stdout.splitlines()]
    assert ["hive-parquet", "pointline-storage-hive-parquet", "0.1.0", "ok"] in rows

    assert run.returncode == 0, stdout[-3000:] + stderr[-3000:]
    results = outcomes(stdout)
    assert set(results.values()) == {"PASSED"}
    assert set(outcomes(stdout, test_class="TestHiveParquet")) == suite
    assert set(outcomes(stdout, test_class="TestHiveParquetS3")) == suite
    assert set(results) >= {
        "test_vacuum_deletes_only_leftovers_older_than_the_retention",
        "test_typed_and_percent_encoded_partitions_are_read_from_the_layout",
    }
