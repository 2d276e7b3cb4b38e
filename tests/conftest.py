"""Test-suite configuration: make the fixture helper modules in tests/ importable, and
give SIGINT its interactive meaning."""

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# The moto_server fixtures for the S3 runs (opt-in, as any project would).
pytest_plugins = ["pointline_storage.testing.s3"]

# A suite started in the background (``cmd &`` without job control, ``nohup``) inherits
# SIGINT ignored, and so would every process it starts; the library then rightly leaves
# SIGINT alone, and the tests of what Ctrl-C does could not run. They test a terminal's
# SIGINT: give this process (and so its children) Python's interactive handler.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
