"""What the sandbox holds: its entities, in memory, written through to SQLite."""
