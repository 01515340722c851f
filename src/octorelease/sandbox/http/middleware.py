"""Cross-cutting HTTP behaviour, in one ASGI layer in front of the routes.

In order: honour ``X-HTTP-Method-Override`` (the C# client sends PUT and DELETE as POST), record
the request (method, path, query string, the names of the fields its JSON body gives, and its
status once answered; never headers, which hold the API key, nor body values, which may hold
secrets; ``Sandbox.answered`` also writes the access log line), demand the admin key on the
test controls when the sandbox has one, refuse a body over the limit (``binding.py``; by its
Content-Length, else counted as it arrives), inject the HTTP
fault ``--faults`` chose for it, if any (``faults.py``; before authentication, as a proxy or a
busy server would), demand an API key on everything under ``/api`` except ``GET /api``, and turn
any error into Octopus's envelope, so that no request ever gets a 500 with a Python traceback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from octorelease.sandbox.errors import (
    ADMIN_KEY_HEADER,
    AdminKeyRequired,
    ControlsLoopbackOnly,
    MethodNotAllowed,
    ResourceNotFound,
    SandboxError,
)
from octorelease.sandbox.http.binding import body_limit, body_too_large
from octorelease.sandbox.http.faults import HttpFault
from octorelease.sandbox.http.service import Sandbox
from octorelease.secrets import same_secret

log = logging.getLogger(__name__)

_PUBLIC = {"/api", "/api/"}
CONTROLS = "/_sandbox"
BASE_KEY = "octorelease.base"
PATH_KEY = "octorelease.path"


def envelope(error: SandboxError) -> dict[str, Any]:
    """Octopus's error body: its four fields, as every official client reads them (no help
    links or details are ever given)."""
    return {"ErrorMessage": error.message, "Errors": error.errors, "ParsedHelpLinks": [], "Details": None}


def as_sandbox_error(exc: Exception, method: str) -> SandboxError:
    """Map anything raised below to the error served for it."""
    if isinstance(exc, SandboxError):
        return exc
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        return MethodNotAllowed(method)
    if isinstance(exc, HTTPException) and exc.status_code == 404:
        return ResourceNotFound()
    log.error("the sandbox failed to handle a request", exc_info=exc)
    return SandboxError(f"The sandbox could not handle this request ({type(exc).__name__}).")


async def error_response(request: Request, exc: Exception) -> Response:
    """Starlette's handler for every exception a route raises: Octopus's envelope."""
    error = as_sandbox_error(exc, request.method)
    return JSONResponse(envelope(error), status_code=error.status)


async def send_error(send: Send, error: SandboxError, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(envelope(error)).encode()
    await send({"type": "http.response.start", "status": error.status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class InjectedFailure(SandboxError):
    """The answer of a status fault (500, 502, 503, 429), in Octopus's envelope."""

    def __init__(self, fault: HttpFault) -> None:
        super().__init__(f"The sandbox answered {fault.kind} on purpose (--faults); the request was not carried out.")
        self.status = fault.status or 500


async def drop_connection(receive: Receive, send: Send) -> None:
    """Close the client's connection without an answer, so it sees a transport error.

    ASGI has no message for this, so we abort uvicorn's transport (``send`` is its request
    cycle's bound method, which holds the transport), then wait until uvicorn has noticed the
    disconnection: returning earlier would make it answer a 500 on the dead connection."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise RuntimeError("dropping a connection needs the sandbox to be served by uvicorn")
    transport.abort()
    await asyncio.wait_for(_until_disconnected(receive), timeout=5)


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _ignore(message: Message) -> None:
    """The ``send`` of a request whose answer is to be lost."""


class Gate:
    """The ASGI layer described above; ``sandbox`` supplies the keys and keeps the request log."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        override = headers.get("x-http-method-override", "").strip().upper()
        if scope["method"] == "POST" and override in ("PUT", "DELETE", "PATCH"):
            scope = {**scope, "method": override}
        path = scope["path"]
        root = str(scope.get("root_path", "")).rstrip("/")
        local = path.removeprefix(root) if root else path
        # routes read these (mounts rewrite root_path): the base of every Link, the path as sent
        scope = {**scope, BASE_KEY: root, PATH_KEY: path}
        started = False
        status: int | None = None  # what was answered, for the request log and the access log
        reply: Send = send  # where the answer goes: nowhere when it is to be lost
        began = time.perf_counter()
        query = scope.get("query_string", b"").decode("latin-1")
        is_api = local == "/api" or local.startswith("/api/")
        faults = self.sandbox.http_faults
        fault = faults.decide(scope["method"], local) if faults is not None and is_api else None
        entry = self.sandbox.record(scope["method"], local, _redacted(query), fault.kind if fault else None)

        async def tracking_send(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
            await reply(message)

        try:
            refusal = self._refusal(local, headers, client_host(scope))
            if refusal is not None:
                status = refusal.status
                await send_error(send, refusal)
                return
            if fault is not None and await _answered_by(fault, receive, send):
                status = fault.status
                return
            if fault is not None and fault.kind == "lost":
                reply = _ignore
            if is_api and not (scope["method"] == "GET" and local in _PUBLIC):
                key = headers.get("x-octopus-apikey") or _query_key(query)
                caller = self.sandbox.backend.authenticate(key, self.sandbox.api_key)
                scope = {**scope, "state": {**scope.get("state", {}), "caller": caller}}
            bounded = _bounded(receive, body_limit(local))
            if scope["method"] in _WRITES and is_api:
                bounded = await _noting_fields(bounded, entry)
            await self.app(scope, bounded, tracking_send)
        except Exception as exc:  # the envelope, never a traceback
            if not started:  # else the app's own handler has already served (and logged) it
                error = as_sandbox_error(exc, scope["method"])
                status = error.status
                await send_error(reply, error)
        finally:
            self.sandbox.answered(entry, status, time.perf_counter() - began)
        if reply is _ignore:  # carried out (or refused), and now the answer is lost
            await drop_connection(receive, send)

    def _refusal(self, local: str, headers: dict[str, str], client: str | None) -> SandboxError | None:
        """What refuses this request before anything else: a test control the caller may not use
        (``controls_allowed``), or a body that says it is over the limit."""
        if local.startswith(CONTROLS) and not controls_allowed(self.sandbox, client,
                                                              headers.get(ADMIN_KEY_HEADER.lower())):
            return AdminKeyRequired() if self.sandbox.admin_key is not None else ControlsLoopbackOnly()
        declared, limit = headers.get("content-length", "").strip(), body_limit(local)
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            return body_too_large(limit)
        return None


def client_host(scope: Scope) -> str | None:
    """The address the request came from (uvicorn gives a trusted local proxy's forwarded one)."""
    client = scope.get("client")
    return str(client[0]) if client else None


def is_loopback_address(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def controls_allowed(sandbox: Sandbox, client: str | None, admin_key: str | None) -> bool:
    """Whether a caller may use the sandbox's own controls (``/_sandbox`` and the pages' controls):
    with the admin key, when the sandbox has one; without one, from this machine only. A sandbox
    with no admin key listens on loopback, but a proxy on the same machine may forward others'
    requests, which uvicorn then gives with their own address."""
    if sandbox.admin_key is not None:
        return admin_key is not None and same_secret(admin_key, sandbox.admin_key)
    return is_loopback_address(client)


#: methods whose JSON body the request log describes (by field names: the conformance test checks
#: them against the fields the real server requires, tests/conformance/routes.yaml)
_WRITES = frozenset({"POST", "PUT"})


async def _noting_fields(receive: Receive, entry: dict[str, Any]) -> Receive:
    """Read the whole body (``receive`` bounds it), note in the request log ``entry`` the
    top-level fields its JSON gives a value (``entry["fields"]``), and return a ``receive`` that
    hands the same body to the route, whether or not the route reads it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    entry["fields"] = _given_fields(body)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _given_fields(body: bytes) -> list[str] | None:
    """The names of a JSON object body's fields that hold a value; None for no JSON object."""
    try:
        document = json.loads(body) if body.strip() else None
    except (ValueError, RecursionError):  # the route refuses it with its own 400
        return None
    if not isinstance(document, dict):
        return None
    return sorted(str(name) for name, value in document.items() if value is not None)


def _bounded(receive: Receive, limit: int) -> Receive:
    """``receive`` that refuses a body once it passes ``limit``, counted as it arrives (a
    chunked body declares no length), so no body over the limit is ever held whole."""
    received = 0

    async def bounded_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise body_too_large(limit)
        return message

    return bounded_receive


async def _answered_by(fault: HttpFault, receive: Receive, send: Send) -> bool:
    """Carry out the part of ``fault`` that comes before the request is handled; ``True`` when
    that was all (the request is not to be carried out)."""
    if fault.status is not None:
        retry_after = fault.retry_after
        headers = [(b"retry-after", retry_after.encode())] if retry_after is not None else []
        await send_error(send, InjectedFailure(fault), headers)
        return True
    if fault.kind == "reset":
        await drop_connection(receive, send)
        return True
    if fault.kind == "slow":
        await asyncio.sleep(fault.seconds or 0.0)
    return False


def _redacted(query: str) -> str:
    """The query string with any ``apikey`` value masked, so the request log never holds a key."""
    if "apikey" not in query.lower():
        return query
    return urlencode([(k, "[redacted]" if k.lower() == "apikey" else v) for k, v in parse_qsl(query, True)])


def _query_key(query: str) -> str | None:
    for name, value in parse_qsl(query):
        if name.lower() == "apikey":
            return value
    return None
