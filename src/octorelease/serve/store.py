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
import os
import re
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
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
    #: The replica running it, or that ran it last (``Store.owner``), and till when its lease holds.
    owner: str | None = None
    lease_until: float | None = None


class Store(Protocol):
    """What the service needs of a database; every method is one transaction.

    One store object is one replica: ``owner`` names it in the runs it claims, and its claims
    hold a lease (``lease_seconds``) that its worker renews (``heartbeat``) while they run."""

    owner: str
    lease_seconds: float

    def where(self) -> str:
        """The database as a log line may name it (a URL's password left out)."""
        ...

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

    def claim(self, limit: int) -> list[Run]:
        """``queued -> running`` for up to ``limit`` runs that may start now, oldest first, each
        one more attempt, owned by this replica under a fresh lease. A run may start when no
        earlier run that is queued or running shares an Octopus project with it: one project's
        runs go one at a time in arrival order, whichever replica claims them."""
        ...

    def heartbeat(self, run_ids: Collection[int]) -> set[int]:
        """Renew this replica's leases on ``run_ids``; the ids it still owns (not: another replica
        took over a run whose lease ran out)."""
        ...

    def requeue_expired(self, keep: Collection[int]) -> list[Run]:
        """Runs whose lease ran out (their replica died, or lost the database for longer than a
        lease) go back to ``queued`` (all but ``keep``, this replica's own under way)."""
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
        """``running -> succeeded | failed``, with the final result, if this replica still owns
        the run; the run as it is now either way (owned by another: its result is that one's)."""
        ...

    def requeue_interrupted(self) -> list[Run]:
        """At start-up: runs left ``running`` by a process that died go back to ``queued`` (one
        file, one replica: all of them; a shared database: those whose lease ran out)."""
        ...

    def counts(self) -> dict[str, int]:
        """How many runs are in each state (``/metrics``)."""
        ...

    def cannot_write(self) -> str | None:
        """None while the store can write; else why not, in one line (``/healthz``)."""
        ...

    def close(self) -> None: ...


class Db(Protocol):
    """A connection inside one transaction, as the shared SQL uses it (``?`` placeholders)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...


#: What a lease lasts unless renewed: a replica renews its own every third of it, so a dead one's
#: runs are taken over within a lease and a third (``docs/guides/serve-for-a-team.md``).
DEFAULT_LEASE_SECONDS = 30.0


def replica_name() -> str:
    """This process as a run's ``owner`` says it: host, process id and a few random letters (a
    restarted process on the same host is another replica)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


#: How many unfinished runs a claim reads at a time, oldest first: it stops reading once it has
#: chosen enough, so a long queue costs a claim no more than the runs ahead of what it takes.
CLAIM_WINDOW = 100


def may_start(db: Db, limit: int) -> list[int]:
    """The queued runs that may start now, oldest first, at most ``limit``: each needs every
    earlier unfinished (queued or running) run to share no project with it."""
    held: set[str] = set()
    chosen: list[int] = []
    after = 0
    while len(chosen) < limit:
        rows = db.execute("SELECT id, state, projects FROM runs WHERE state IN ('queued', 'running') AND id > ?"
                          " ORDER BY id LIMIT ?", (after, CLAIM_WINDOW)).fetchall()
        for row in rows:
            projects = set(json.loads(row["projects"]))
            if row["state"] == "queued" and not projects & held and len(chosen) < limit:
                chosen.append(int(row["id"]))
            held |= projects
        if len(rows) < CLAIM_WINDOW:
            break
        after = int(rows[-1]["id"])
    return chosen


class SqlStore:
    """What both databases share: the SQL of every :class:`Store` method (``?`` placeholders,
    nothing either dialect lacks). A subclass opens transactions and says how to lock."""

    owner: str
    lease_seconds: float
    _clock: Callable[[], float]

    def _transaction(self) -> AbstractContextManager[Db]:
        """One write transaction; the database's refusal becomes ``StoreUnavailable``."""
        raise NotImplementedError

    def _reading(self) -> AbstractContextManager[Db]:
        """A read (its own transaction or none)."""
        raise NotImplementedError

    def _inserted(self, db: Db, sql: str, params: Sequence[Any]) -> int:
        """Run an ``INSERT`` into ``runs``; the new run's id."""
        raise NotImplementedError

    def _now(self, db: Db) -> float:
        """What time it is for leases: one clock for every replica."""
        return self._clock()

    def _serialise(self, db: Db, key: str) -> None:
        """Hold, until the transaction ends, a lock every replica takes for ``key`` (accepting one
        source's events; claiming): one file needs none, its writes are one at a time already."""

    def _lock_queued(self, db: Db, run_ids: Sequence[int]) -> list[int]:
        """The runs of ``run_ids`` still queued, locked for this transaction, oldest first."""
        marks = ", ".join("?" for _ in run_ids)
        rows = db.execute(f"SELECT id FROM runs WHERE id IN ({marks}) AND state = 'queued' ORDER BY id",
                          run_ids).fetchall()
        return [int(row["id"]) for row in rows]

    def where(self) -> str:
        raise NotImplementedError

    # -- events in -------------------------------------------------------------------------------

    def _insert(self, fields: Mapping[str, Any]) -> tuple[Run, bool]:
        with self._transaction() as db:
            # the same body is looked for and written by one replica at a time (a replay within the
            # window); a delivery or signed key sent twice at once meets the unique keys instead
            self._serialise(db, f"accept {fields['source']} {fields['body_sha256']}")
            found = self._same_event(db, fields)
            if found is not None:
                return _run(found), False
            names = ", ".join(fields)
            marks = ", ".join("?" for _ in fields)
            run_id = self._inserted(db, f"INSERT INTO runs ({names}) VALUES ({marks})",
                                    tuple(map(_text, fields.values())))
            return _run(self._row(db, run_id)), True

    @staticmethod
    def _row(db: Db, run_id: int) -> Any:
        return db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()

    def _same_event(self, db: Db, fields: Mapping[str, Any]) -> Any:
        """The first run of this event: the same delivery, the same signed key, or the same body
        within the replay window (an empty key matches nothing: it is stored as NULL)."""
        return db.execute(
            "SELECT * FROM runs WHERE source = ? AND (delivery = ? OR signed_key = ?"
            " OR (body_sha256 = ? AND received_at >= ?)) ORDER BY id LIMIT 1",
            (_text(fields["source"]), _text(fields["delivery"]), fields["signed_key"], fields["body_sha256"],
             fields["received_at"] - REPLAY_WINDOW_SECONDS),
        ).fetchone()

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

    # -- reading ---------------------------------------------------------------------------------

    def get(self, run_id: int) -> Run | None:
        if not 0 < run_id <= MAX_ID:  # a route takes any digits; the databases' integers stop at 2**63 - 1
            return None
        with self._reading() as db:
            row = self._row(db, run_id)
        return None if row is None else _run(row)

    def recent(self, limit: int = 50, before: int | None = None) -> list[Run]:
        below = max(0, min(before, MAX_ID)) if before else MAX_ID  # any whole number: the database's stop at 2**63 - 1
        with self._reading() as db:
            rows = db.execute("SELECT * FROM runs WHERE id < ? ORDER BY id DESC LIMIT ?", (below, limit)).fetchall()
        return [_run(row) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._reading() as db:
            rows = db.execute("SELECT state, COUNT(*) AS n FROM runs GROUP BY state").fetchall()
        counted: dict[str, int] = dict.fromkeys(STATES, 0)
        counted.update({str(row["state"]): int(row["n"]) for row in rows})
        return counted

    # -- the worker's side -----------------------------------------------------------------------

    def claim(self, limit: int) -> list[Run]:
        if limit <= 0:
            return []
        with self._reading() as db:  # most ticks find nothing to start: that costs no write
            if not may_start(db, limit):
                return []
        with self._transaction() as db:
            self._serialise(db, "claim")  # one replica decides at a time, from what all of them committed
            chosen = may_start(db, limit)
            claimed = self._lock_queued(db, chosen) if chosen else []
            now = self._now(db)
            for run_id in claimed:
                db.execute("UPDATE runs SET state = 'running', attempts = attempts + 1, started_at = ?, owner = ?,"
                           " lease_until = ? WHERE id = ? AND state = 'queued'",
                           (self._clock(), self.owner, now + self.lease_seconds, run_id))
            return [_run(self._row(db, run_id)) for run_id in claimed]

    def heartbeat(self, run_ids: Collection[int]) -> set[int]:
        if not run_ids:
            return set()
        held: set[int] = set()
        with self._transaction() as db:
            until = self._now(db) + self.lease_seconds
            for run_id in sorted(run_ids):
                row = db.execute("SELECT owner, state FROM runs WHERE id = ?", (run_id,)).fetchone()
                if row is None or row["owner"] != self.owner:
                    continue
                held.add(run_id)  # a run it finished a moment ago is still its own
                db.execute("UPDATE runs SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'running'",
                           (until, run_id, self.owner))
        return held

    def requeue_expired(self, keep: Collection[int]) -> list[Run]:
        with self._reading() as db:
            now = self._now(db)
            rows = db.execute("SELECT id, owner FROM runs WHERE state = 'running' AND lease_until < ? ORDER BY id",
                              (now,)).fetchall()
        expired = [int(row["id"]) for row in rows if not (row["owner"] == self.owner and int(row["id"]) in keep)]
        return self._requeue(expired, now) if expired else []

    def _requeue(self, run_ids: Sequence[int], expired_before: float | None) -> list[Run]:
        """Put these running runs back in the queue (only with a lease older than ``expired_before``,
        when given: a replica may have renewed one since it was read)."""
        requeued = []
        expired = "" if expired_before is None else " AND lease_until < ?"
        with self._transaction() as db:
            for run_id in run_ids:
                row = self._row(db, run_id)
                # the UPDATE says again what was read: another replica may have requeued (or claimed) it since
                cursor = db.execute("UPDATE runs SET state = 'queued', owner = NULL, lease_until = NULL"
                                    f" WHERE id = ? AND state = 'running'{expired}",
                                    (run_id,) if expired_before is None else (run_id, expired_before))
                if cursor.rowcount == 1:
                    requeued.append(_run(row))
        return requeued

    def _owned_update(self, run_id: int, sql: str, *args: Any) -> Run:
        """``UPDATE runs SET sql`` for a run this replica still owns; the run as it is then."""
        with self._transaction() as db:
            db.execute(f"UPDATE runs SET {sql} WHERE id = ? AND owner = ?", (*map(_text, args), run_id, self.owner))
            return _run(self._row(db, run_id))

    def set_mark(self, run_id: int, mark: Mapping[str, Any]) -> None:
        self._owned_update(run_id, "mark = ?", json.dumps(dict(mark)))

    def progress(self, run_id: int, result: Mapping[str, Any], log: Sequence[str]) -> None:
        self._owned_update(run_id, "result = ?, log = ?", json.dumps(dict(result)), json.dumps(list(log)))

    def finish(self, run_id: int, state: RunState, result: Mapping[str, Any] | None,
               log: Sequence[str], reason: str | None = None) -> Run:
        return self._owned_update(
            run_id,
            "state = ?, result = ?, log = ?, reason = ?, finished_at = ?, lease_until = NULL",
            state,
            None if result is None else json.dumps(dict(result)),
            json.dumps(list(log)),
            reason,
            self._clock(),
        )

    # -- operators -------------------------------------------------------------------------------

    def _audited(self, row: Any, entry: Mapping[str, Any]) -> str:
        return json.dumps([*(_json(row["audit"]) or []), {**entry, "at": self._clock()}])

    def cancel(self, run_id: int, by: Mapping[str, Any]) -> tuple[Run | None, bool]:
        if not 0 < run_id <= MAX_ID:
            return None, False
        with self._transaction() as db:
            row = self._row(db, run_id)
            if row is None or row["state"] != "queued":
                return (None if row is None else _run(row)), False
            db.execute("UPDATE runs SET state = 'cancelled', finished_at = ?, reason = ?, audit = ?"
                       " WHERE id = ? AND state = 'queued'",
                       (self._clock(), _text(f"cancelled by {by['name']}"),
                        self._audited(row, {"action": "cancel", "by": dict(by)}), run_id))
            after = _run(self._row(db, run_id))
            return after, after.state == "cancelled"

    def rerun(self, run_id: int, by: Mapping[str, Any]) -> tuple[Run | None, Run | None]:
        if not 0 < run_id <= MAX_ID:
            return None, None
        with self._transaction() as db:
            row = self._row(db, run_id)
            if row is None or row["state"] != "failed":
                return (None if row is None else _run(row)), None
            entry = {"action": "rerun", "by": dict(by)}
            new_id = self._inserted(
                db,
                "INSERT INTO runs (source, delivery, kind, event, status, stage, build_values, state, projects,"
                " received_at, mark, rerun_of, audit) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                (row["source"], f"{row['delivery']} (re-run {uuid.uuid4()})", row["kind"], row["event"],
                 row["status"], row["stage"], row["build_values"], row["projects"], self._clock(), row["mark"], run_id,
                 json.dumps([{**entry, "at": self._clock()}])))
            db.execute("UPDATE runs SET audit = ? WHERE id = ?",
                       (self._audited(row, {**entry, "run": new_id}), run_id))
            return _run(self._row(db, run_id)), _run(self._row(db, new_id))


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
    owner TEXT,
    lease_until REAL,
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
_ADDED_COLUMNS = {"signed_key": "TEXT", "body_sha256": "TEXT", "audit": "TEXT", "rerun_of": "INTEGER",
                  "owner": "TEXT", "lease_until": "REAL"}
_ADDED_INDEXES = """
CREATE INDEX IF NOT EXISTS runs_by_signed_key ON runs (source, signed_key);
CREATE INDEX IF NOT EXISTS runs_by_body ON runs (source, body_sha256, received_at);
"""


class SqliteStore(SqlStore):
    """:class:`Store` in one SQLite file (``:memory:`` for a throwaway one), for one replica.

    One connection behind a lock serves the web handlers and the worker threads alike: every
    statement is a few milliseconds, and SQLite allows one writer at a time anyway. WAL mode
    with ``synchronous=NORMAL`` keeps a committed run through a killed process (only a power
    cut could take the last commits back).
    """

    def __init__(self, path: str = ":memory:", *, clock: Callable[[], float] = time.time,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        self.path = path
        self._clock = clock  # what "now" is: the replay window is measured with it (tests move it)
        self.owner = replica_name()
        self.lease_seconds = lease_seconds
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

    def where(self) -> str:
        return self.path

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

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def _inserted(self, db: Db, sql: str, params: Sequence[Any]) -> int:
        return int(db.execute(sql, params).lastrowid)

    def requeue_interrupted(self) -> list[Run]:
        with self._reading() as db:
            rows = db.execute("SELECT id FROM runs WHERE state = 'running' ORDER BY id").fetchall()
        return self._requeue([int(row["id"]) for row in rows], None)

    def cannot_write(self) -> str | None:
        """None while the store can write; after a write failed (``StoreUnavailable``), it tries a
        small write now and says why it still cannot, or None when it can again."""
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


def _run(row: Any) -> Run:
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
        owner=row["owner"],
        lease_until=row["lease_until"],
    )
