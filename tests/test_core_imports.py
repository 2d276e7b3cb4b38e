"""The core stays engine-free: importing it, its CLI or listing backends loads no engine."""

import subprocess
import sys

ENGINE_MODULES = ("deltalake", "s3fs", "pointline_storage_delta")


def test_the_core_imports_no_engine_or_backend() -> None:
    script = (
        "import sys, pointline_storage, pointline_storage.cli, pointline_storage.testing\n"
        "pointline_storage.available_backends()\n"
        f"print([m for m in {ENGINE_MODULES!r} if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_importing_the_package_loads_no_pyarrow() -> None:
    # Reports import pyarrow only in to_arrow(): a caller that never converts a report
    # should not pay for it.
    script = "import sys, pointline_storage\nprint('pyarrow' in sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
