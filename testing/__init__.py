"""Helpers for octorelease's tests (kept out of ``tests/`` so that any test module can import them)."""
