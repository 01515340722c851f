"""Who may look at the sandbox's pages, act from them, and see its own controls.

The pages show what ``/api`` shows, so they ask what it asks, as a browser can give it: from this
machine, nothing (the link a pipeline prints opens at once); from elsewhere, a key of this
sandbox, given once in the sign-in form and kept in a cookie that only these pages receive.
An API key acts as its own user (a limited key stays limited); on loopback, or with the admin
key, the pages act as the sandbox's API key's user, as ``octorelease`` run on this machine would.

The controls (speed, faults, reset, the request log) follow ``/_sandbox``'s rule,
``middleware.controls_allowed``: the admin key when the sandbox has one, else this machine only.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from starlette.requests import Request

from octorelease.sandbox.errors import ADMIN_KEY_HEADER, SandboxError
from octorelease.sandbox.http.middleware import client_host, controls_allowed, is_loopback_address
from octorelease.sandbox.http.service import Sandbox
from octorelease.sandbox.state.state import UNLIMITED, Caller
from octorelease.secrets import same_secret

#: The cookie that holds the key given in the sign-in form (HttpOnly, SameSite=Strict, /app only).
KEY_COOKIE = "octorelease-sandbox-key"


@dataclass(frozen=True)
class Visitor:
    """Someone the pages answer: whose rules apply when they act, and whether they see the controls."""

    caller: Caller
    controls: bool
    #: how they got in: "loopback", "api key" or "admin key" (the page says so)
    how: str


def given_key(request: Request) -> str | None:
    """A key the request carries: the sign-in cookie, else a header a script may send."""
    return (unquote(request.cookies.get(KEY_COOKIE, "")) or request.headers.get(ADMIN_KEY_HEADER)
            or request.headers.get("x-octopus-apikey") or None)


def is_admin_key(sandbox: Sandbox, key: str | None) -> bool:
    return key is not None and sandbox.admin_key is not None and same_secret(key, sandbox.admin_key)


def api_caller(sandbox: Sandbox, key: str | None) -> Caller | None:
    """The caller an API key stands for, or None for no key or one the sandbox does not know."""
    if not key:
        return None
    try:
        with sandbox.backend.lock:
            return sandbox.backend.authenticate(key, sandbox.api_key)
    except SandboxError:
        return None


def visitor(request: Request, sandbox: Sandbox) -> Visitor | None:
    """Who the request is from, or None when the pages must ask for a key first."""
    key = given_key(request)
    host = client_host(request.scope)
    controls = controls_allowed(sandbox, host, key)
    caller = api_caller(sandbox, key)
    if caller is not None:
        return Visitor(caller, controls, "api key")
    if is_admin_key(sandbox, key):
        return Visitor(UNLIMITED, controls, "admin key")
    if is_loopback_address(host):
        return Visitor(UNLIMITED, controls, "loopback")
    return None
