"""Serving ``octorelease serve``: build the service from a handler file, and run it over HTTP.

``ServeServer`` binds its socket before uvicorn starts (``uvicorn_thread.py``), so ``port=0``
gets a free port whose number is known at once; ``start()`` runs it in a thread (tests,
benchmarks) and returns when it listens, ``run()`` serves in the calling thread until SIGINT or
SIGTERM (the command line).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from octorelease.errors import CodeFor
from octorelease.handler.file import HandlerFile, HandlerFileError
from octorelease.serve.access import Access, read_secret
from octorelease.serve.app import Service, build_app
from octorelease.serve.metrics import Metrics
from octorelease.serve.resume import Connection
from octorelease.serve.sources.base import Source
from octorelease.serve.store import DEFAULT_LEASE_SECONDS, SqliteStore, Store
from octorelease.serve.worker import DEFAULT_MAX_PARALLEL, DEFAULT_POLL_SECONDS, Worker
from octorelease.uvicorn_thread import UvicornThread

DEFAULT_PORT = 8070
DEFAULT_DB = "octorelease-serve.db"


def webhook_secrets(handler_file: HandlerFile, sources: Mapping[str, Source],
                    environ: Mapping[str, str]) -> dict[str, str]:
    """Each configured source's secret, read from the variable the file names; a source we do not
    know, a variable that is not set or is empty, or no source at all is an error at its line."""
    section = handler_file.serve
    if section is None or not section.secrets:
        raise HandlerFileError(
            f"{handler_file.locate(('serve',))}: no webhook secret is configured, so no source would be served "
            "(add serve: secrets: {generic: ${OCTORELEASE_WEBHOOK_SECRET}})"
        )
    secrets: dict[str, str] = {}
    for source, reference in section.secrets.items():
        if source not in sources:
            raise HandlerFileError(f"{handler_file.locate(('serve', 'secrets', source))}: unknown source {source!r}; "
                                   f"known: {', '.join(sorted(sources))}")
        secrets[source] = read_secret(handler_file, ("serve", "secrets", source), reference, environ)
    return secrets


def is_database_url(db: str) -> bool:
    """``--db`` names a PostgreSQL database (a URL), not an SQLite file."""
    return db.startswith(("postgresql://", "postgres://"))


def open_store(db: str, *, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> Store:
    """The store ``--db`` names: a ``postgresql://`` URL (several replicas may share it), else an
    SQLite file (one replica). ``StoreUnavailable`` when it cannot be opened."""
    if is_database_url(db):
        from octorelease.serve.store_postgres import PostgresStore  # psycopg only when asked for

        return PostgresStore(db, lease_seconds=lease_seconds)
    return SqliteStore(db, lease_seconds=lease_seconds)


def make_service(handler_file: HandlerFile, connection: Connection, *, sources: Mapping[str, Source],
                 secrets: Mapping[str, str], db_path: str, code_for: CodeFor,
                 max_parallel: int = DEFAULT_MAX_PARALLEL, extra_routes: Any = (),
                 access: Access | None = None, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                 poll_seconds: float = DEFAULT_POLL_SECONDS) -> Service:
    """The service, its store opened (created when new, its schema brought up to date) and its
    worker not started yet. ``db_path``: an SQLite file or a ``postgresql://`` URL."""
    store = open_store(db_path, lease_seconds=lease_seconds)
    metrics = Metrics(store, sorted(secrets))
    worker = Worker(store, handler_file, connection, code_for=code_for,
                    max_parallel=max_parallel, on_handler_started=metrics.handler_started, on_finished=metrics.finished,
                    poll_seconds=poll_seconds)
    return Service(handler_file=handler_file, store=store, worker=worker, sources=sources, secrets=secrets,
                   metrics=metrics, extra_routes=tuple(extra_routes), access=access or Access())


class ServeServer:
    """The service listening on ``host:port`` (``port=0``: any free port)."""

    def __init__(self, service: Service, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.service = service
        self._http = UvicornThread(build_app(service), host, port, name="octorelease-serve", lifespan="on",
                                   on_force_exit=service.worker.hurry)
        self.port: int = self._http.port

    @property
    def url(self) -> str:
        return self._http.url

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM (a second SIGINT: at once, the runs under way left to
        resume), then stop the worker; runs it could not finish within a few seconds resume at the
        next start. A stop asked for is not a
        failure: exit 0, not uvicorn's SIGTERM raised again."""
        import signal

        def stop(signum: int, frame: object) -> None:
            self._http.ask_to_stop()

        previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._http.run_here()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._close()

    def start(self) -> ServeServer:
        """Serve in a thread (tests, benchmarks); return once listening."""
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop(timeout=15)
        self._close()

    def _close(self) -> None:
        self._http.socket.close()
        if not self.service.worker.busy:  # a run still going keeps the store; the process ends anyway
            self.service.store.close()

    def __enter__(self) -> ServeServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def default_db_path() -> str:
    return os.path.join(os.getcwd(), DEFAULT_DB)


def database(handler_file: HandlerFile, flag: str | None, environ: Mapping[str, str]) -> str:
    """Where the history is: ``--db``, else the handler file's ``serve: db:`` (a ``${ENV}``
    reference, read now: a URL with a password stays out of the file), else the default file."""
    if flag:
        return flag
    section = handler_file.serve
    if section is None or section.db is None:
        return default_db_path()
    return read_secret(handler_file, ("serve", "db"), section.db, environ).strip()
