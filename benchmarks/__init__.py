"""Benchmarks against measured floors: ``python benchmarks/run.py [--quick] [--database-url URL]``."""
