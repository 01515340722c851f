"""SQLite persistence: every entity is one JSON document, written inside a transaction.

The models keep their state in memory and write each change through to this store, so reads
cost nothing and a restart loses nothing. The schema is created atomically (built in a temporary
file and moved into place, as pre-commit's store does), so an interrupted first start cannot leave
half a schema. ``meta.seeded`` is written in the same transaction as the seed data: a database
without it is new, whatever the file system says.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from octorelease.sandbox.state.entities import ENTITY_TYPES, Entity

SCHEMA = """
CREATE TABLE documents (kind TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, key));
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_TYPES = {cls.KIND: cls for cls in ENTITY_TYPES}


def _create_atomically(path: Path) -> None:
    """Build the schema in a temporary file beside ``path``, then move it into place."""
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with contextlib.closing(sqlite3.connect(tmp)) as db:
            db.executescript(SCHEMA)
            db.commit()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class Store:
    """One SQLite connection shared by the server's threads, guarded by a lock."""

    def __init__(self, path: str | None) -> None:
        if path is None:
            self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            self._db.executescript(SCHEMA)
        else:
            file = Path(path)
            if not file.exists():
                file.parent.mkdir(parents=True, exist_ok=True)
                _create_atomically(file)
            self._db = sqlite3.connect(file, check_same_thread=False, isolation_level=None)
            # WAL with NORMAL sync: a commit survives a crash of the process, and a task's many
            # small writes do not each wait for the disk
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        self._depth = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes; nested uses join the outermost transaction, which commits or rolls back."""
        with self._lock:
            if self._depth == 0:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("COMMIT")

    def save(self, *entities: Entity) -> None:
        with self.transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO documents (kind, key, body) VALUES (?, ?, ?)",
                [(e.KIND, e.key, e.model_dump_json()) for e in entities],
            )

    def delete(self, *entities: Entity) -> None:
        with self.transaction():
            self._db.executemany("DELETE FROM documents WHERE kind = ? AND key = ?",
                                 [(e.KIND, e.key) for e in entities])

    def load(self) -> list[Entity]:
        """Every stored entity, in the order of their numeric ids within each kind."""
        with self._lock:
            rows = self._db.execute("SELECT kind, body FROM documents").fetchall()
        return [_TYPES[kind].model_validate_json(body) for kind, body in rows if kind in _TYPES]

    def is_seeded(self) -> bool:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'seeded'").fetchone()
        return row is not None

    def mark_seeded(self, seed: str) -> None:
        with self.transaction():
            self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('seeded', ?)", (seed,))

    def wipe(self) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM documents")
            self._db.execute("DELETE FROM meta")

    def close(self) -> None:
        with self._lock:
            self._db.close()
