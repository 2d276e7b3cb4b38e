"""Reliability and safety tests: concurrency, crashes, vacuum safety, hostile input,
properties. Each runs on every store the ``store`` fixture yields."""
