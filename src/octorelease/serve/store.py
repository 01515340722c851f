"""The history of ``octorelease serve``: every event received, and the run each one became.

The service talks to its database through :class:`Store` only, one small interface, so that a
shared database can later serve several replicas (docs/guides/serve.md, "The store"); the embedded
default is :class:`SqliteStore`, one file (``--db PATH``).

Two promises rest on it:

- An accepted event is in the store before it is answered (``accept`` commits before it
  returns), so an event answered 202 is never lost, whatever happens to the process after.
- The same event, sent twice, runs once: ``accept`` returns the first run for a second sending
  of its delivery (``(source, delivery)`` is unique).

Replays. A delivery id is the sender's word, and not every sender signs it (GitHub's
``X-GitHub-Delivery`` is a header outside the signed body), so an event is also the same as an
earlier one of its source when its ``signed_key`` (what the signature covers that names it: a
GitHub run's id, attempt and action) is, for good, or when its body is identical byte for byte
(``body_sha256``) within :data:`REPLAY_WINDOW_SECONDS`. What a replay can still do, per source, is
in the serve guide ("Replays").

A run's state moves ``queued -> running -> succeeded | failed``; an event we do not act on is
``ignored`` at once. A run found ``running`` when the service starts was cut short by a crash
and goes back to ``queued`` (``requeue_interrupted``); its ``attempts`` count says so, and its
``mark`` (what the server had before the first attempt's first write) lets the next attempt
adopt what the first one made instead of making it again (``worker.py``).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from octorelease.serve.sources.base import BuildEvent, Ignored

#: How long an identical body is the same event whatever its delivery id says: a week, longer
#: than any CI keeps a delivery to send again (GitHub: 3 days).
REPLAY_WINDOW_SECONDS = 7 * 24 * 3600

#: The largest id SQLite can hold (a signed 64-bit integer): a larger one names no run.
MAX_ID = 2**63 - 1

class StoreUnavailable(Exception):
    """The store cannot write now (a full disk, a read-only file, an I/O error): nothing was
    written. The service says so (webhooks 503 with ``Retry-After``, ``/healthz`` 503), the worker
    waits, and both go on by themselves once a write succeeds again. ``str()`` is one line;
    ``cause`` is SQLite's own words."""

    def __init__(self, message: str, cause: str = "") -> None:
        super().__init__(message)
        self.cause = cause or message


RunState = Literal["queued", "running", "succeeded", "failed", "ignored", "cancelled"]
STATES: tuple[RunState, ...] = ("queued", "running", "succeeded", "failed", "ignored", "cancelled")


@dataclass(frozen=True)
class Run:
    """One received event and what became of it; ``result`` is ``run --json``'s object so far."""

    id: int
    source: str
    delivery: str
    kind: str
    event: str | None
    status: str | None
    stage: str | None
    values: Mapping[str, str]
    state: RunState
    #: Why an ignored event was ignored, or why a run failed before any handler ran.
    reason: str | None
    #: The Octopus projects its selected handlers touch (casefolded): runs sharing one never overlap.
    projects: tuple[str, ...]
    received_at: float
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    mark: Mapping[str, Any] | None = None
    result: Mapping[str, Any] | None = None
    log: tuple[str, ...] = field(default_factory=tuple)
    #: What operators did to it: ``{"action", "by": {"name", "role", "via"}, "at", ...}`` each.
    audit: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    #: The failed run this one runs again (an operator's re-run).
    rerun_of: int | None = None


class Store(Protocol):
    """What the service needs of a database; every method is one transaction."""

    def accept(self, event: BuildEvent, projects: Sequence[str]) -> tuple[Run, bool]:
        """Record a build event as a queued run; ``(run, True)`` if new, ``(first run, False)``
        for an event seen before (its delivery, signed key, or body within the replay window).
        Durable when it returns."""
        ...

    def ignore(self, ignored: Ignored) -> tuple[Run, bool]:
        """Record an event we do not act on, with why; a repeated delivery as for ``accept``."""
        ...

    def get(self, run_id: int) -> Run | None: ...

    def recent(self, limit: int = 50, before: int | None = None) -> list[Run]:
        """The newest runs first (``before``: only runs with a smaller id, to page back)."""
        ...

    def queued(self) -> list[Run]:
        """The runs waiting for the worker, oldest first."""
        ...

    def start(self, run_id: int) -> Run:
        """``queued -> running``: one more attempt, started now. A run no longer queued (an
        operator cancelled it meanwhile) is returned as it is, not started."""
        ...

    def cancel(self, run_id: int, by: Mapping[str, Any]) -> tuple[Run | None, bool]:
        """``queued -> cancelled``, recording who; ``(run, False)`` when it was not queued (then
        nothing changes), ``(None, False)`` when there is no such run."""
        ...

    def rerun(self, run_id: int, by: Mapping[str, Any]) -> tuple[Run | None, Run | None]:
        """A failed run's event queued again as a new run (a fresh mark: nothing of the failed
        attempt is adopted), recorded on both with who; ``(run, None)`` when it had not failed."""
        ...

    def set_mark(self, run_id: int, mark: Mapping[str, Any]) -> None:
        """Remember what the server had before the run's first write (see ``worker.py``)."""
        ...

    def progress(self, run_id: int, result: Mapping[str, Any], log: Sequence[str]) -> None:
        """A running run's result and log so far (for the page, while it runs)."""
        ...

    def finish(self, run_id: int, state: RunState, result: Mapping[str, Any] | None,
               log: Sequence[str], reason: str | None = None) -> Run:
        """``running -> succeeded | failed``, with the final result."""
        ...

    def requeue_interrupted(self) -> list[Run]:
        """At start-up: runs left ``running`` by a process that died go back to ``queued``."""
        ...

    def counts(self) -> dict[str, int]:
        """How many runs are in each state (``/metrics``)."""
        ...

    def cannot_write(self) -> str | None:
        """None while the store can write; after a write failed (``StoreUnavailable``), it tries a
        small write now and says why it still cannot, or None when it can again."""
        ...

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    delivery TEXT NOT NULL,
    kind TEXT NOT NULL,
    event TEXT,
    status TEXT,
    stage TEXT,
    build_values TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    projects TEXT NOT NULL,
    received_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    mark TEXT,
    result TEXT,
    log TEXT,
    signed_key TEXT,
    body_sha256 TEXT,
    audit TEXT,
    rerun_of INTEGER,
    UNIQUE (source, delivery)
);
CREATE INDEX IF NOT EXISTS runs_by_state ON runs (state, id);
"""

#: How large the run is that a write probe writes (and deletes in the same transaction): larger
#: than most webhooks' runs, so a store with room for it has room for them.
_PROBE_BYTES = 4096
#: The probe's id: below every run's, and not counted by AUTOINCREMENT, so no run id is used up.
_PROBE_ID = -1

#: Columns added since the first schema: a database made before gets them, empty, when opened.
_ADDED_COLUMNS = {"signed_key": "TEXT", "body_sha256": "TEXT", "audit": "TEXT", "rerun_of": "INTEGER"}
_ADDED_INDEXES = """
CREATE INDEX IF NOT EXISTS runs_by_signed_key ON runs (source, signed_key);
CREATE INDEX IF NOT EXISTS runs_by_body ON runs (source, body_sha256, received_at);
"""


class SqliteStore:
    """:class:`Store` in one SQLite file (``:memory:`` for a throwaway one).

    One connection behind a lock serves the web handlers and the worker threads alike: every
    statement is a few milliseconds, and SQLite allows one writer at a time anyway. WAL mode
    with ``synchronous=NORMAL`` keeps a committed run through a killed process (only a power
    cut could take the last commits back).
    """

    def __init__(self, path: str = ":memory:", *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock  # what "now" is: the replay window is measured with it (tests move it)
        self._lock = threading.Lock()
        #: Why the last write failed, until one succeeds again (``cannot_write``).
        self._unavailable: str | None = None
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        except sqlite3.Error as error:  # a directory, a missing parent, no permission
            raise StoreUnavailable(f"the history database {path} cannot be opened: {error}", str(error)) from error
        try:
            self._open()
        except (sqlite3.Error, StoreUnavailable) as error:  # read-only, not a database
            self._db.close()
            cause = str(error.__cause__ or error)
            raise StoreUnavailable(f"the history database {path} cannot be opened: {cause}", cause) from error

    def _open(self) -> None:
        self._db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        with self._transaction() as db:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            present = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in present:
                    db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
            for statement in filter(str.strip, _ADDED_INDEXES.split(";")):
                db.execute(statement)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. SQLite's own refusal to write (``database or disk is full``,
        ``attempt to write a readonly database``, ``disk I/O error``) becomes ``StoreUnavailable``,
        with everything of the transaction rolled back; any other error is a bug and stays one."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as error:
                self._unavailable = f"the history database {self.path} cannot be written: {error}"
                raise StoreUnavailable(self._unavailable, str(error)) from error
            self._unavailable = None

    def _insert(self, fields: Mapping[str, Any]) -> tuple[Run, bool]:
        with self._transaction() as db:
            found = self._same_event(db, fields)
            if found is not None:
                return _run(found), False
            names = ", ".join(fields)
            marks = ", ".join("?" for _ in fields)
            cursor = db.execute(f"INSERT INTO runs ({names}) VALUES ({marks})", tuple(map(_text, fields.values())))
            row = db.execute("SELECT * FROM runs WHERE id = ?", (cursor.lastrowid,)).fetchone()
            return _run(row), True

    def _same_event(self, db: sqlite3.Connection, fields: Mapping[str, Any]) -> sqlite3.Row | None:
        """The first run of this event: the same delivery, the same signed key, or the same body
        within the replay window (an empty key matches nothing: it is stored as NULL)."""
        row: sqlite3.Row | None = db.execute(
            "SELECT * FROM runs WHERE source = :source AND (delivery = :delivery OR signed_key = :signed_key"
            " OR (body_sha256 = :body_sha256 AND received_at >= :since)) ORDER BY id LIMIT 1",
            {"source": _text(fields["source"]), "delivery": _text(fields["delivery"]),
             "signed_key": fields["signed_key"], "body_sha256": fields["body_sha256"],
             "since": fields["received_at"] - REPLAY_WINDOW_SECONDS},
        ).fetchone()
        return row

    def accept(self, event: BuildEvent, projects: Sequence[str]) -> tuple[Run, bool]:
        return self._insert({
            "source": event.source,
            "delivery": event.delivery or f"(none) {uuid.uuid4()}",
            "kind": event.kind,
            "event": event.event,
            "status": event.status,
            "stage": event.stage,
            "build_values": json.dumps(dict(event.values)),
            "state": "queued",
            "projects": json.dumps(sorted(set(projects))),
            "received_at": self._clock(),
            "signed_key": event.signed_key or None,
            "body_sha256": event.body_sha256 or None,
        })

    def ignore(self, ignored: Ignored) -> tuple[Run, bool]:
        now = self._clock()
        return self._insert({
            "source": ignored.source,
            "delivery": ignored.delivery or f"(none) {uuid.uuid4()}",
            "kind": ignored.kind,
            "build_values": "{}",
            "state": "ignored",
            "reason": ignored.reason,
            "projects": "[]",
            "received_at": now,
            "finished_at": now,
            "signed_key": ignored.signed_key or None,
            "body_sha256": ignored.body_sha256 or None,
        })

    def _one(self, run_id: int) -> Run | None:
        if not 0 < run_id <= MAX_ID:  # a route takes any digits; SQLite's integers stop at 2**63 - 1
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else _run(row)

    def get(self, run_id: int) -> Run | None:
        return self._one(run_id)

    def recent(self, limit: int = 50, before: int | None = None) -> list[Run]:
        below = max(0, min(before, MAX_ID)) if before else MAX_ID  # any whole number: SQLite's stop at 2**63 - 1
        with self._lock:
            cursor = self._db.execute("SELECT * FROM runs WHERE id < ? ORDER BY id DESC LIMIT ?", (below, limit))
            rows = cursor.fetchall()
        return [_run(row) for row in rows]

    def queued(self) -> list[Run]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM runs WHERE state = 'queued' ORDER BY id").fetchall()
        return [_run(row) for row in rows]

    def _update(self, run_id: int, sql: str, *args: Any) -> Run:
        with self._transaction() as db:
            db.execute(f"UPDATE runs SET {sql} WHERE id = ?", (*map(_text, args), run_id))
            return _run(db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())

    def start(self, run_id: int) -> Run:
        with self._transaction() as db:
            db.execute("UPDATE runs SET state = 'running', attempts = attempts + 1, started_at = ?"
                       " WHERE id = ? AND state = 'queued'", (self._clock(), run_id))
            return _run(db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())

    def _audited(self, row: sqlite3.Row, entry: Mapping[str, Any]) -> str:
        return json.dumps([*(_json(row["audit"]) or []), {**entry, "at": self._clock()}])

    def cancel(self, run_id: int, by: Mapping[str, Any]) -> tuple[Run | None, bool]:
        if not 0 < run_id <= MAX_ID:
            return None, False
        with self._transaction() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or row["state"] != "queued":
                return (None if row is None else _run(row)), False
            db.execute("UPDATE runs SET state = 'cancelled', finished_at = ?, reason = ?, audit = ? WHERE id = ?",
                       (self._clock(), _text(f"cancelled by {by['name']}"),
                        self._audited(row, {"action": "cancel", "by": dict(by)}), run_id))
            return _run(db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()), True

    def rerun(self, run_id: int, by: Mapping[str, Any]) -> tuple[Run | None, Run | None]:
        if not 0 < run_id <= MAX_ID:
            return None, None
        with self._transaction() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None or row["state"] != "failed":
                return (None if row is None else _run(row)), None
            entry = {"action": "rerun", "by": dict(by)}
            cursor = db.execute(
                "INSERT INTO runs (source, delivery, kind, event, status, stage, build_values, state, projects,"
                " received_at, mark, rerun_of, audit) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                (row["source"], f"{row['delivery']} (re-run {uuid.uuid4()})", row["kind"], row["event"],
                 row["status"], row["stage"], row["build_values"], row["projects"], self._clock(), row["mark"], run_id,
                 json.dumps([{**entry, "at": self._clock()}])))
            new_id = cursor.lastrowid
            db.execute("UPDATE runs SET audit = ? WHERE id = ?",
                       (self._audited(row, {**entry, "run": new_id}), run_id))
            original = _run(db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone())
            return original, _run(db.execute("SELECT * FROM runs WHERE id = ?", (new_id,)).fetchone())

    def set_mark(self, run_id: int, mark: Mapping[str, Any]) -> None:
        self._update(run_id, "mark = ?", json.dumps(dict(mark)))

    def progress(self, run_id: int, result: Mapping[str, Any], log: Sequence[str]) -> None:
        self._update(run_id, "result = ?, log = ?", json.dumps(dict(result)), json.dumps(list(log)))

    def finish(self, run_id: int, state: RunState, result: Mapping[str, Any] | None,
               log: Sequence[str], reason: str | None = None) -> Run:
        return self._update(
            run_id,
            "state = ?, result = ?, log = ?, reason = ?, finished_at = ?",
            state,
            None if result is None else json.dumps(dict(result)),
            json.dumps(list(log)),
            reason,
            self._clock(),
        )

    def requeue_interrupted(self) -> list[Run]:
        with self._transaction() as db:
            rows = db.execute("SELECT * FROM runs WHERE state = 'running' ORDER BY id").fetchall()
            db.execute("UPDATE runs SET state = 'queued' WHERE state = 'running'")
        return [_run(row) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM runs GROUP BY state").fetchall()
        counted: dict[str, int] = dict.fromkeys(STATES, 0)
        counted.update({str(state): int(count) for state, count in rows})
        return counted

    def cannot_write(self) -> str | None:
        if self._unavailable is None:
            return None
        try:  # a run as a webhook makes one, committed: a full disk refuses the commit, a full file the insert
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO runs (id, source, delivery, kind, build_values, state, projects, received_at)"
                    " VALUES (?, '(probe)', '(probe)', 'probe', ?, 'ignored', '[]', ?)",
                    (_PROBE_ID, json.dumps({"probe": "x" * _PROBE_BYTES}), self._clock()),
                )
                db.execute("DELETE FROM runs WHERE id = ?", (_PROBE_ID,))
        except StoreUnavailable as unavailable:
            return str(unavailable)
        return None

    def close(self) -> None:
        with self._lock:
            self._db.close()


#: A surrogate code point standing alone: JSON's ``"\ud800"`` decodes to one, and no UTF-8
#: (SQLite's text, an HTTP answer, a page) can hold it. The sources refuse one in a webhook; what
#: comes otherwise (an Octopus answer in a result, a run's reason) is kept as U+FFFD, so that one
#: odd run can never break a write, the API or the history pages.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: How ``json.dumps`` writes a surrogate (an escape): only a document holding one needs cleaning.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _text(value: Any) -> Any:
    """A text column's value as UTF-8 can hold it (other values as they are)."""
    return _LONE_SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    if isinstance(value, dict):
        return {_text(key): _cleaned(item) for key, item in value.items()}
    return value


def _json(text: str | None) -> Any:
    """A JSON column read back, any lone surrogate in it replaced (``_LONE_SURROGATE``)."""
    if not text:
        return None
    value = json.loads(text)
    return _cleaned(value) if _ESCAPED_SURROGATE.search(text) else value


def _run(row: sqlite3.Row) -> Run:
    return Run(
        id=int(row["id"]),
        source=row["source"],
        delivery=row["delivery"],
        kind=row["kind"],
        event=row["event"],
        status=row["status"],
        stage=row["stage"],
        values=_json(row["build_values"]),
        state=row["state"],
        reason=row["reason"],
        projects=tuple(_json(row["projects"])),
        received_at=float(row["received_at"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        attempts=int(row["attempts"]),
        mark=_json(row["mark"]),
        result=_json(row["result"]),
        log=tuple(_json(row["log"]) or ()),
        audit=tuple(_json(row["audit"]) or ()),
        rerun_of=row["rerun_of"],
    )
