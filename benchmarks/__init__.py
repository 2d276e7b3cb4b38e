"""Benchmarks of pointline-storage against raw deltalake and the I/O floor (not tests)."""
