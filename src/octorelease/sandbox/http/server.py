"""Serving the sandbox over HTTP: in a background thread for tests and the demo, or until Ctrl-C.

``SandboxServer`` binds its socket before uvicorn starts (``uvicorn_thread.py``), so ``port=0``
gets a free port whose number is known at once, and ``start()`` returns only when uvicorn is
listening.
"""

from __future__ import annotations

import ipaddress
import secrets
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from octorelease.sandbox.errors import ADMIN_KEY_HEADER, SandboxError
from octorelease.sandbox.estate.seed import Seed
from octorelease.sandbox.http import urls
from octorelease.sandbox.http.middleware import Gate, error_response
from octorelease.sandbox.http.service import DEFAULT_API_KEY, Sandbox
from octorelease.uvicorn_thread import UvicornThread

__all__ = ["DEFAULT_API_KEY", "SandboxServer", "build_app", "serve"]


def build_app(sandbox: Sandbox) -> Any:
    """The ASGI app: the Octopus API, the test controls and the web pages, behind the ``Gate`` middleware."""
    handlers: Any = {SandboxError: error_response, HTTPException: error_response, Exception: error_response}
    app = Starlette(routes=[*urls.CONTROL_ROUTES, *urls.APP_ROUTES, *urls.ROUTES], exception_handlers=handlers)
    app.state.sandbox = sandbox
    return Gate(app, sandbox)


def _print_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host`` (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a name: it may resolve to any interface
        return False


class SandboxServer:
    """A sandbox listening on ``host:port`` (``port=0``: any free port) in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, db_path: str | None = None,
                 seed: Seed = "demo", api_key: str | None = None, speed: float = 1.0,
                 faults: str | None = None, access_log: Callable[[str], None] | None = None,
                 admin_key: str | None = None, skipped: list[str] | None = None) -> None:
        if admin_key is None and not is_loopback(host):
            admin_key = secrets.token_urlsafe(24)  # reachable by others: the controls reset everything
        self.sandbox = Sandbox(db_path=db_path, seed=seed, api_key=api_key, speed=speed, faults=faults,
                               access_log=access_log, admin_key=admin_key, skipped=skipped)
        self.host = host
        self._http = UvicornThread(build_app(self.sandbox), host, port, name="sandbox-http")
        self.port: int = self._http.port

    @property
    def url(self) -> str:
        return self._http.url

    @property
    def api_key(self) -> str:
        return self.sandbox.api_key

    def start(self) -> SandboxServer:
        """Start the task runner and uvicorn; return once the server accepts connections."""
        self.sandbox.start()
        self._http.start()
        return self

    def stop(self) -> None:
        """Stop serving, stop the task runner, close the database."""
        self._http.stop()
        self.sandbox.close()

    def wait(self) -> None:
        """Block until the server thread ends (it ends only when stopped)."""
        self._http.wait()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve(*, host: str = "127.0.0.1", port: int = 8065, db_path: str | None = None, seed: Seed = "demo",
          api_key: str | None = None, speed: float = 1.0, faults: str | None = None,
          access_log: bool = False, admin_key: str | None = None, skipped: list[str] | None = None) -> None:
    """Run a sandbox until Ctrl-C; print its URL, API key and admin key (if any) first (Ctrl-C ends it
    without a traceback).

    ``faults`` is a ``--faults`` spec (``faults.py``); a bad one raises ``FaultSpecError``.
    ``access_log`` prints one line per request on stderr (``octorelease sandbox -v``).
    ``skipped``: seed leniently, and say which parts of the history the rules refused."""
    server = SandboxServer(host=host, port=port, db_path=db_path, seed=seed, api_key=api_key, speed=speed,
                           faults=faults, access_log=_print_line if access_log else None,
                           admin_key=admin_key, skipped=skipped)
    for line in skipped or []:
        print(f"Left out of the history (the sandbox's rules refuse it): {line}", file=sys.stderr, flush=True)
    server.start()
    print(f"Octopus sandbox listening on {server.url}", flush=True)
    print(f"API key: {server.api_key}", flush=True)
    if server.sandbox.admin_key is not None:
        print(f"Admin key for /_sandbox (header {ADMIN_KEY_HEADER}): {server.sandbox.admin_key}", flush=True)
    if faults:
        print(f"Failing /api requests on purpose: {faults}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        print("Stopping the sandbox...", file=sys.stderr, flush=True)
    finally:
        server.stop()
