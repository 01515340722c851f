"""Drive ``octorelease serve`` from tests and benchmarks: start it against a sandbox, sign and
send webhooks over real HTTP, and wait for runs with a deadline (never a fixed sleep)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from octorelease.cli.exit_codes import exit_code_for
from octorelease.handler.file import load_handler_file
from octorelease.serve import pages
from octorelease.serve.access import load_access
from octorelease.serve.resume import Connection
from octorelease.serve.server import ServeServer, make_service, webhook_secrets
from octorelease.serve.sources import SOURCES, Source
from testing.children import finish, spawn

SECRET = "serve-test-secret"
SIGNATURE_HEADER = "X-Octorelease-Signature-256"
FINISHED = ("succeeded", "failed", "ignored")


def sign(body: bytes, secret: str = SECRET) -> str:
    """The generic route's signature header value: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_sources() -> dict[str, Source]:
    """The sources the service serves, and ``other``: one it knows but has no secret for."""
    return {**SOURCES, "other": SOURCES["generic"]}


test_sources.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


class ServeClient:
    """An HTTP client for a running service: send webhooks, read runs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def send(self, doc: Any = None, *, body: bytes | None = None, source: str = "generic",
             secret: str | None = SECRET, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """POST a webhook: ``doc`` as JSON (or ``body`` as is), signed with ``secret`` (None: unsigned)."""
        content = body if body is not None else json.dumps(doc).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        if secret is not None:
            sent[SIGNATURE_HEADER] = sign(content, secret)
        return self.http.post(f"/hooks/{source}", content=content, headers=sent)

    def event(self, delivery: str, *, event: str = "build-completed", status: str | None = "success",
              **values: str) -> dict[str, Any]:
        """Send one signed build event; its 202 answer."""
        response = self.send({"event": event, "status": status, "delivery": delivery, "values": values})
        assert response.status_code == 202, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def runs(self) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.http.get("/api/runs").json()["runs"]
        return runs

    def run(self, run_id: int) -> dict[str, Any]:
        response = self.http.get(f"/api/runs/{run_id}")
        response.raise_for_status()
        doc: dict[str, Any] = response.json()
        return doc

    def wait(self, run_id: int, states: tuple[str, ...] = FINISHED, timeout: float = 30) -> dict[str, Any]:
        """Poll the run until its state is one of ``states``."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run["state"] in states:
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"run {run_id} is {run['state']} after {timeout} s, not {states}: {run}")
            time.sleep(0.02)

    def close(self) -> None:
        self.http.close()


class ServeUnderTest(ServeClient):
    """A running service in this process (its own thread), and a client for it."""

    def __init__(self, server: ServeServer) -> None:
        super().__init__(server.url)
        self.server = server

    def close(self) -> None:
        super().close()
        self.server.stop()


def start_serve(handler_file: Path, sandbox: Any, db_path: Path, *, max_parallel: int = 4,
                sources: Mapping[str, Source] | None = None,
                environ: Mapping[str, str] | None = None) -> ServeUnderTest:
    """The service for ``handler_file`` against the sandbox, listening on a free port."""
    env = {"OCTOPUS_URL": sandbox.url, "OCTOPUS_API_KEY": sandbox.api_key,
           "OCTORELEASE_WEBHOOK_SECRET": SECRET, **(environ or {})}
    loaded = load_handler_file(handler_file, env)
    served = dict(sources if sources is not None else test_sources())
    secrets = webhook_secrets(loaded, served, env)
    connection = Connection(sandbox.url, sandbox.api_key, loaded.space)
    service = make_service(loaded, connection, sources=served, secrets=secrets, db_path=str(db_path),
                           code_for=exit_code_for, max_parallel=max_parallel,
                           extra_routes=pages.routes(), access=load_access(loaded, env))
    return ServeUnderTest(ServeServer(service, port=0).start())


#: A handler file for the service's tests: Web is released to Development and promoted to Test,
#: Worker's release is deployed to Test; both on a successful build of main.
HANDLERS = """\
server: ${OCTOPUS_URL}
api_key: ${OCTOPUS_API_KEY}
serve:
  secrets:
    generic: ${OCTORELEASE_WEBHOOK_SECRET}
handlers:
  - name: Ship Web
    project: Web
    on: {event: build-completed, status: success}
    conditions: ["{build.branch} == main"]
    create: {version: "1.5.{build.number}", packages: {"Deploy web": "1.2.0"}, deploy_to: [Development]}
    promote: {from: Development, to: [Test]}
  - name: Ship Worker
    project: Worker
    on: {event: build-completed, status: success}
    conditions: ["{build.branch} == release"]
    deploy: {to: [Test], release: "2.0.0"}
    log_messages: false
"""


def _limit(descriptors: int) -> Any:
    def limit() -> None:  # in the child, before exec
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, hard))

    return limit


class ServeProcess:
    """``octorelease serve`` in a child process, as a user runs it; ``kill()`` is kill -9."""

    def __init__(self, handler_file: Path, sandbox: Any, db_path: Path | str, *extra: str,
                 max_descriptors: int | None = None, environ: Mapping[str, str] | None = None) -> None:
        """``max_descriptors``: the child's RLIMIT_NOFILE (soft), as a small server or a busy host has;
        ``environ``: more variables for it (the secrets a handler file's ``serve: access:`` names)."""
        env = {**os.environ, "OCTOPUS_URL": sandbox.url, "OCTOPUS_API_KEY": sandbox.api_key,
               "OCTORELEASE_WEBHOOK_SECRET": SECRET, "NO_COLOR": "1", **(environ or {})}
        command = [sys.executable, "-m", "octorelease.cli", "serve", str(handler_file), "--port", "0",
                   "--db", str(db_path), *extra]
        self.process: subprocess.Popen[str] = spawn(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            before_exec=None if max_descriptors is None else _limit(max_descriptors))
        line = self.process.stdout.readline() if self.process.stdout else ""
        if "listening on " not in line:
            self.process.kill()
            raise AssertionError(f"octorelease serve did not start: {line}{self.process.communicate()}")
        self.url = line.rsplit(" ", 1)[1].strip()
        self.client = ServeClient(self.url)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as a crash or the OOM killer would."""
        self.process.kill()
        finish(self.process, 10)
        self.client.close()

    def stop(self) -> tuple[int, str]:
        """SIGTERM, as a service manager stops it: its exit code and stderr."""
        self.process.terminate()
        _, err = finish(self.process, 20)
        self.client.close()
        return self.process.returncode, err


def fail_writes(store: Any, failing: bool = True) -> None:
    """Make every write of a service's SQLite store fail, as a full disk does, or work again.

    SQLite's ``query_only`` refuses every write on the store's own connection with
    ``attempt to write a readonly database`` while reads go on: the store's real code path meets
    a real SQLite refusal, as it does when the disk is full (``max_page_count`` shows that one
    too, but only once the pages free in the file are used up)."""
    with store._lock:
        store._db.execute(f"PRAGMA query_only = {'ON' if failing else 'OFF'}")
