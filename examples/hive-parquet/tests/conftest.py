"""The moto_server fixtures for the S3 conformance run (opt-in, as any project would)."""

pytest_plugins = ["pointline_storage.testing.s3"]
