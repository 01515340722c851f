"""The sandbox: an Octopus-compatible HTTP server backed by SQLite."""
