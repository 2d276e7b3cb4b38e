"""Test-suite configuration: make the fixture helper modules in tests/ importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# The moto_server fixtures for the S3 runs (opt-in, as any project would).
pytest_plugins = ["pointline_storage.testing.s3"]
