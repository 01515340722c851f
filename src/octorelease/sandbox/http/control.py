"""The test controls under ``/_sandbox`` (documented in ``estate/seed.py``): outside ``/api``, no API key,
as moto keeps its own under ``/moto-api``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from octorelease.sandbox.errors import ValidationFailed
from octorelease.sandbox.http.binding import Body, read_body
from octorelease.sandbox.http.faults import FaultSpecError
from octorelease.sandbox.http.service import SPEED_RULE, Sandbox
from octorelease.sandbox.rules.requests import Fault


async def _body(request: Request) -> Body:
    return read_body(await request.body())


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _ok() -> Response:
    return JSONResponse({"ok": True})


async def reset(request: Request) -> Response:
    body = await _body(request)
    _sandbox(request).reset(body.text("seed") or "demo")
    return _ok()


async def faults(request: Request) -> Response:
    sandbox = _sandbox(request)
    if request.method == "DELETE":
        sandbox.clear_faults()
        return _ok()
    body = await _body(request)
    sandbox.add_fault(Fault(step=body.text("step"), machine=body.text("machine"), environment=body.text("environment"),
                            message=body.text("message")))
    return _ok()


async def http_faults(request: Request) -> Response:
    sandbox = _sandbox(request)
    if request.method == "DELETE":
        sandbox.set_http_faults(None)
        return _ok()
    spec = (await _body(request)).text("spec")
    if not spec:
        raise ValidationFailed("'spec' is required, e.g. \"503:0.1,lost:0.05,seed=7\".")
    try:
        sandbox.set_http_faults(spec)
    except FaultSpecError as exc:
        raise ValidationFailed(f"'spec': {exc}") from None
    return _ok()


async def speed(request: Request) -> Response:
    body = await _body(request)
    raw = body.raw("seconds_per_step")
    if not isinstance(raw, (int, float)) or isinstance(raw, bool):
        raise ValidationFailed(SPEED_RULE)
    _sandbox(request).set_speed(float(raw))
    return _ok()


async def hold(request: Request) -> Response:
    held = (await _body(request)).raw("held")
    if not isinstance(held, bool):
        raise ValidationFailed("'held' must be true (queued tasks stay queued) or false (they start).")
    _sandbox(request).hold_tasks(held)
    return _ok()


async def api_keys(request: Request) -> Response:
    body = await _body(request)
    key = body.text("key")
    if not key:
        raise ValidationFailed("'key' is required.")
    sandbox = _sandbox(request)
    with sandbox.backend.lock:
        sandbox.backend.add_api_key(key, body.strings("environments") if body.raw("environments") is not None else None,
                                    body.strings("teams") if body.raw("teams") is not None else None)
    return _ok()


async def packages(request: Request) -> Response:
    body = await _body(request)
    package_id, version = body.text("packageId"), body.text("version")
    if not package_id or not version:
        raise ValidationFailed("'packageId' and 'version' are required.")
    sandbox = _sandbox(request)
    with sandbox.backend.lock:
        sandbox.backend.publish_package(sandbox.backend.space(body.text("space")).id, package_id, version)
    return _ok()


async def rename(request: Request) -> Response:
    body = await _body(request)
    kind, old, new = body.text("kind"), body.raw("from"), body.raw("to")
    if not kind or not isinstance(old, str) or not isinstance(new, str) or not new:
        raise ValidationFailed("'kind', 'from' and 'to' are required; 'to' is any non-empty text.")
    sandbox = _sandbox(request)
    with sandbox.backend.lock:
        sandbox.backend.rename(sandbox.backend.space(body.text("space")).id, kind, old, new)
    return _ok()


async def requests(request: Request) -> Response:
    sandbox = _sandbox(request)
    if request.method == "DELETE":
        sandbox.requests.clear()
        return _ok()
    return JSONResponse(list(sandbox.requests))


async def census(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.backend.lock:
        return JSONResponse(sandbox.backend.census())
