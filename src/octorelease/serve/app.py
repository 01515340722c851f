"""The routes of ``octorelease serve``: webhooks in, runs out; thin, as the sandbox's are.

``POST /hooks/{source}``, in this order, so that a request nobody signed costs nothing:

1. a source that is unknown, or has no secret in the handler file's ``serve:`` section: 404;
2. a body over ``MAX_BODY_BYTES``: 413 (read no further);
3. a signature that is missing or wrong (``Source.verify``): 401, nothing recorded, nothing runs;
4. a payload the source cannot read: 400; one it reads but does not act on (``Ignored``): 202,
   recorded as ignored;
5. a build event: written to the store, then answered 202 ``{"id", "url"}``; the same event
   again (its delivery, what its signature covers, or an identical body within the replay
   window: ``store.py``) is answered 202 with the first run's id, and runs no second time.

While the store cannot write (a full disk: ``StoreUnavailable``), a webhook is answered 503 with
``Retry-After`` (nothing recorded, so the CI's retry is the one that counts) and ``/healthz``
answers 503 with why; both recover by themselves once a write succeeds again.

``GET /api/runs`` (newest first; ``?limit=``, ``?before=ID``), ``GET /api/runs/{id}``,
``GET /healthz`` and ``GET /metrics`` (``metrics.py``); an operator's ``POST
/api/runs/{id}/rerun`` (a failed run) and ``POST /api/runs/{id}/cancel`` (a queued one). Who may
ask for what is ``access.py``'s, in front of every route.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from octorelease.handler.file import HandlerFile
from octorelease.serve.access import Access, AccessGate, describe, identity
from octorelease.serve.metrics import CONTENT_TYPE, Metrics
from octorelease.serve.sources.base import BadPayload, BuildEvent, Source
from octorelease.serve.store import Run, Store, StoreUnavailable
from octorelease.serve.worker import Worker, projects_of, run_values

log = logging.getLogger("octorelease.serve")

#: The largest webhook body taken. GitHub's workflow_run payloads are tens of KiB; a megabyte
#: leaves room for any CI's and refuses a flood before it is read.
MAX_BODY_BYTES = 1024 * 1024
MAX_RUNS_LISTED = 200
#: What a webhook refused while the store cannot write tells its sender to wait (seconds).
RETRY_AFTER_SECONDS = 30


@dataclass
class Service:
    """Everything the routes need: where events go, who may send them, and what ran."""

    handler_file: HandlerFile
    store: Store
    worker: Worker
    sources: Mapping[str, Source]
    #: source name -> secret; a source without one is not served.
    secrets: Mapping[str, str]
    metrics: Metrics
    #: who may read and act; the default (no ``access:``) serves loopback clients only, read-only
    access: Access = field(default_factory=Access)
    max_body_bytes: int = MAX_BODY_BYTES
    extra_routes: Sequence[BaseRoute] = field(default_factory=tuple)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than ``limit`` (said or found while reading)."""
    length = request.headers.get("content-length", "")
    if length.isascii() and length.isdigit() and int(length) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # ClientDisconnect when the body is too slow (uvicorn_thread.py)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def run_url(request: Request, run_id: int) -> str:
    return str(request.url_for("run", run_id=run_id))


async def receive_hook(request: Request) -> Response:
    service: Service = request.app.state.service
    name = request.path_params["source"]
    source = service.sources.get(name)
    secret = service.secrets.get(name)
    if source is None or not secret:
        service.metrics.event(name if source is not None else "(unknown)", "not_served")
        return _error(404, f"no source {name!r} is served here "
                           "(a source needs a secret in the handler file's serve: section)")
    try:
        body = await _read_body(request, service.max_body_bytes)
    except ClientDisconnect:  # gone, or cut for sending too slowly: nobody to answer
        service.metrics.event(name, "bad_payload")
        return Response(status_code=400)
    if body is None:
        service.metrics.event(name, "too_large")
        return _error(413, f"the body is larger than {service.max_body_bytes} bytes")
    if not source.verify(request.headers, body, secret):
        service.metrics.event(name, "unauthorized")
        return _error(401, "the request's signature is missing or wrong")
    try:
        parsed = source.parse(request.headers, body)
    except BadPayload as exc:
        service.metrics.event(name, "bad_payload")
        return _error(400, str(exc))
    parsed = dataclasses.replace(parsed, body_sha256=hashlib.sha256(body).hexdigest())
    try:
        if isinstance(parsed, BuildEvent):
            values = run_values(parsed.source, parsed.values, parsed.stage)
            projects = projects_of(service.handler_file, parsed.event, parsed.status, parsed.stage, values)
            run, new = await run_in_threadpool(service.store.accept, parsed, projects)
            if new:
                service.worker.notify()
            result = "accepted" if new else "duplicate"
        else:
            run, new = await run_in_threadpool(service.store.ignore, parsed)
            result = "ignored" if new else "duplicate"
    except StoreUnavailable as unavailable:
        service.metrics.event(name, "unavailable")
        return JSONResponse({"error": f"{unavailable}: nothing was recorded; send it again later"}, status_code=503,
                            headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    service.metrics.event(name, result)
    doc: dict[str, Any] = {"id": run.id, "url": run_url(request, run.id), "state": run.state}
    if not new:
        doc["duplicate"] = True
    return JSONResponse(doc, status_code=202, headers={"Location": doc["url"]})


def run_json(run: Run, url: str, *, full: bool = True) -> dict[str, Any]:
    """A run as ``/api/runs`` shows it: the event, the state, and ``run --json``'s handlers."""
    result = run.result or {}
    doc: dict[str, Any] = {
        "id": run.id,
        "url": url,
        "source": run.source,
        "delivery": run.delivery,
        "kind": run.kind,
        "event": run.event,
        "status": run.status,
        "stage": run.stage,
        "values": dict(run.values),
        "state": run.state,
        "reason": run.reason,
        "received_at": run.received_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": (round(run.finished_at - run.started_at, 3)
                             if run.finished_at is not None and run.started_at is not None else None),
        "attempts": run.attempts,
        "handlers": result.get("handlers", []),
        "error": result.get("error"),
        "rerun_of": run.rerun_of,
        "audit": [dict(entry) for entry in run.audit],
        "pending_interruptions": _waiting(run, result),
        "replica": run.owner,
    }
    if full:
        doc["log"] = list(run.log)
    return doc


def _waiting(run: Run, result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What the run's deployments wait for a person for: while it runs, what its progress says
    (``worker.waiting_entry``), with how long each has waited until now; once it ended, what its
    deployments still waited for then (``--on-interruption fail`` ends a run so)."""
    if run.state == "running":
        now = time.time()
        return [{**entry, "waited_seconds": round(max(now - entry["asked_at"], 0.0), 1)
                 if isinstance(entry.get("asked_at"), (int, float)) else None}
                for entry in _dicts(result.get("pending_interruptions"))]
    return [{**asked, "deployment": _label(deployment)}
            for handler in _dicts(result.get("handlers")) for action in _dicts(handler.get("actions"))
            for deployment in _dicts(action.get("deployments"))
            for asked in _dicts(deployment.get("pending_interruptions"))]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _label(deployment: Mapping[str, Any]) -> str:
    environment, tenant = deployment.get("environment"), deployment.get("tenant")
    return f"{environment} ({tenant})" if tenant else str(environment)


async def list_runs(request: Request) -> Response:
    service: Service = request.app.state.service
    try:
        limit = min(MAX_RUNS_LISTED, max(1, int(request.query_params.get("limit", "50"))))
        before = int(request.query_params["before"]) if "before" in request.query_params else None
    except ValueError:
        return _error(400, "limit and before must be whole numbers")
    runs = await run_in_threadpool(service.store.recent, limit, before)
    return JSONResponse({"runs": [run_json(run, run_url(request, run.id), full=False) for run in runs]})


async def get_run(request: Request) -> Response:
    service: Service = request.app.state.service
    run_id = request.path_params["run_id"]
    run = await run_in_threadpool(service.store.get, run_id)
    if run is None:
        return _error(404, f"no run {run_id}")
    return JSONResponse(run_json(run, run_url(request, run.id)))


async def operate(request: Request, action: str) -> tuple[int, dict[str, Any]]:
    """An operator's ``rerun`` or ``cancel`` of the run in the path: the status and the answer.
    Each one done is logged with who did it, and kept in the run's ``audit``."""
    service: Service = request.app.state.service
    run_id: int = request.path_params["run_id"]
    who = identity(request)
    try:
        if action == "cancel":
            run, done = await run_in_threadpool(service.store.cancel, run_id, describe(who))
            new = run if done else None
        else:
            run, new = await run_in_threadpool(service.store.rerun, run_id, describe(who))
    except StoreUnavailable as unavailable:
        return 503, {"error": f"{unavailable}: nothing was done; try again later"}
    if run is None:
        return 404, {"error": f"no run {run_id}"}
    if new is None:
        wanted = "queued" if action == "cancel" else "failed"
        return 409, {"error": f"run {run_id} is {run.state}: only a {wanted} run can be "
                              f"{'cancelled' if action == 'cancel' else 're-run'}"}
    if action == "rerun":
        service.worker.notify()
    log.warning("audit: %s (%s, %s) %s run %s%s", who.name, who.role, who.via,
                "cancelled" if action == "cancel" else "re-ran", run_id,
                f" as run {new.id}" if action == "rerun" else "")
    return 200, run_json(new, run_url(request, new.id))


async def rerun(request: Request) -> Response:
    status, doc = await operate(request, "rerun")
    return JSONResponse(doc, status_code=status)


async def cancel(request: Request) -> Response:
    status, doc = await operate(request, "cancel")
    return JSONResponse(doc, status_code=status)


async def healthz(request: Request) -> Response:
    """200 while the service can take events; 503, with why, while its store cannot write (or
    cannot be reached at all: then without the counts)."""
    service: Service = request.app.state.service
    problem = await run_in_threadpool(service.store.cannot_write)
    doc: dict[str, Any] = {"ok": problem is None}
    try:
        counts = await run_in_threadpool(service.store.counts)
        doc.update(queued=counts["queued"], running=counts["running"])
    except StoreUnavailable as unavailable:
        problem = problem or str(unavailable)
        doc["ok"] = False
    if problem is not None:
        doc["error"] = problem
    return JSONResponse(doc, status_code=200 if problem is None else 503,
                        headers={} if problem is None else {"Retry-After": str(RETRY_AFTER_SECONDS)})


async def metrics(request: Request) -> Response:
    service: Service = request.app.state.service
    body = await run_in_threadpool(service.metrics.render)
    return Response(body, media_type=CONTENT_TYPE)


async def store_unavailable(request: Request, exc: Exception) -> Response:
    """A read the store could not answer (a database that cannot be reached): 503, not 500."""
    return JSONResponse({"error": f"{exc}: try again later"}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def build_app(service: Service) -> Starlette:
    """The ASGI app; its lifespan starts the worker (resuming what a crash cut short) and stops it."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service.worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(service.worker.stop)

    routes: list[BaseRoute] = [
        Route("/hooks/{source}", receive_hook, methods=["POST"]),
        Route("/api/runs", list_runs, methods=["GET"]),
        Route("/api/runs/{run_id:int}", get_run, methods=["GET"], name="run"),
        Route("/api/runs/{run_id:int}/rerun", rerun, methods=["POST"]),
        Route("/api/runs/{run_id:int}/cancel", cancel, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *service.extra_routes,
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(AccessGate, access=service.access)],
                    exception_handlers={StoreUnavailable: store_unavailable})
    app.state.service = service
    return app
