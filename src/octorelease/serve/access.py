"""Who may read ``octorelease serve``'s history, and who may act on its runs.

The history page and ``/api/`` show projects, environments, branches, commits and task logs, so
they need a login once the service is reachable by more than its own machine. ``serve: access:``
in the handler file names who may read (``reader``) and who may also re-run a failed run and
cancel a queued one (``operator``), with every secret an ``${ENV}`` reference:

- ``tokens:`` bearer tokens for scripts (``Authorization: Bearer <token>``);
- ``users:`` HTTP basic logins, for scripts and for a browser's own prompt;
- ``proxy:`` a reverse proxy doing SSO (oauth2-proxy, Pomerium) names the user in a header; that
  header is believed only from the ``trusted`` addresses and, when ``secret`` is set, only with
  the shared secret in ``secret_header`` (both, when both are set): a forged header from anyone
  else logs nobody in.

Without ``access:`` (handler files written before it) the page and ``/api/`` answer loopback
clients only, read-only, and the service warns at start: it stays usable on the machine it runs
on, and stops showing its history to a network it never meant to.

``/hooks/`` are signed per source (``app.py``), ``/healthz`` and ``/static/`` are open, and
``/metrics`` wants ``serve: metrics_token:`` as a bearer token, or, with none, a loopback client.

Every secret is read from the variable its ``${ENV}`` reference names when the service starts
(``read_secret``, as the webhook secrets are), compared with ``secrets.same_secret`` in constant
time (each candidate, whatever matched before, so the time says nothing of which one), and none
is ever logged or echoed.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from octorelease.handler.file import HandlerFile, HandlerFileError, referenced_variable
from octorelease.pages import cross_site
from octorelease.secrets import same_secret

log = logging.getLogger("octorelease.serve")

Role = Literal["reader", "operator"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Where the app keeps who the request is from (``identity(request)``).
SCOPE_KEY = "octorelease.identity"
REALM = 'Basic realm="octorelease serve", charset="UTF-8"'
#: Paths anyone may ask for: health for load balancers, the page's own script and style.
OPEN_PREFIXES = ("/healthz", "/static/")


@dataclass(frozen=True)
class Identity:
    """Who a request is from: ``name`` as the audit line writes it, and how they logged in."""

    name: str
    role: Role
    via: Literal["token", "basic", "proxy", "loopback"]

    @property
    def operator(self) -> bool:
        return self.role == "operator"


@dataclass(frozen=True)
class NotListed:
    """A user the trusted proxy logged in whom ``access:`` does not name: who they are is known,
    so the answer is 403, not 401 (another login, or the proxy's login page, would not help)."""

    name: str


@dataclass(frozen=True)
class Proxy:
    user_header: str
    trusted: tuple[Network, ...]
    secret_header: str
    secret: str | None
    readers: frozenset[str]
    operators: frozenset[str]
    login_url: str | None


@dataclass(frozen=True)
class Access:
    """The rules, secrets resolved. ``configured`` False: no ``access:`` (loopback reads only)."""

    configured: bool = False
    tokens: Mapping[str, tuple[str, Role]] = field(default_factory=dict)  # name -> (token, role)
    users: Mapping[str, tuple[str, Role]] = field(default_factory=dict)  # name -> (password, role)
    proxy: Proxy | None = None
    metrics_token: str | None = None

    def secrets(self) -> list[str]:
        """Every secret here, for the redaction of anything the process prints."""
        found = [secret for secret, _ in (*self.tokens.values(), *self.users.values())]
        found += [s for s in (self.proxy.secret if self.proxy else None, self.metrics_token) if s]
        return found


def read_secret(handler_file: HandlerFile, loc: tuple[str | int, ...], reference: str,
                environ: Mapping[str, str]) -> str:
    """The value of the secret written as ``reference`` (``${VAR}``) at ``loc`` of the file's
    ``serve:`` section, from ``environ``; a variable unset or empty is an error at its line."""
    variable = referenced_variable(reference)
    value = environ.get(variable, "")
    if not value.strip():
        raise HandlerFileError(f"{handler_file.locate(loc)}: environment variable {variable} is not set"
                               + (" (it is empty)" if variable in environ else ""))
    return value


def _networks(handler_file: HandlerFile, written: Sequence[str]) -> tuple[Network, ...]:
    networks: list[Network] = []
    for index, text in enumerate(written):
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            where = handler_file.locate(("serve", "access", "proxy", "trusted", index))
            raise HandlerFileError(f"{where}: {text!r} is not an address or a network such as 10.0.0.0/24") from None
    return tuple(networks)


def load_access(handler_file: HandlerFile, environ: Mapping[str, str]) -> Access:
    """The access rules of the file's ``serve:`` section, every ``${ENV}`` secret read now; a
    variable unset or empty, a bad address, or a proxy trusted by nothing is an error at its line."""
    section = handler_file.serve
    metrics_token = None
    if section is not None and section.metrics_token is not None:
        metrics_token = read_secret(handler_file, ("serve", "metrics_token"), section.metrics_token, environ)
    written = section.access if section is not None else None
    if written is None:
        return Access(metrics_token=metrics_token)
    base: tuple[str | int, ...] = ("serve", "access")
    tokens = {name: (read_secret(handler_file, (*base, "tokens", name, "token"), login.token, environ), login.role)
              for name, login in written.tokens.items()}
    users = {name: (read_secret(handler_file, (*base, "users", name, "password"), login.password, environ), login.role)
             for name, login in written.users.items()}
    proxy = None
    if written.proxy is not None:
        given = written.proxy
        if not given.trusted and given.secret is None:
            raise HandlerFileError(f"{handler_file.locate((*base, 'proxy'))}: a proxy header is believed only from "
                                   "trusted addresses or with a shared secret: set trusted: or secret:")
        proxy = Proxy(
            user_header=given.user_header,
            trusted=_networks(handler_file, given.trusted),
            secret_header=given.secret_header,
            secret=None if given.secret is None else read_secret(handler_file, (*base, "proxy", "secret"), given.secret,
                                                               environ),
            readers=frozenset(name.casefold() for name in given.readers),
            operators=frozenset(name.casefold() for name in given.operators),
            login_url=given.login_url,
        )
    if not tokens and not users and proxy is None:
        raise HandlerFileError(f"{handler_file.locate(base)}: names no one who may read "
                               "(add tokens:, users: or proxy:)")
    return Access(configured=True, tokens=tokens, users=users, proxy=proxy, metrics_token=metrics_token)


def _find(given: str, logins: Mapping[str, tuple[str, Role]], name: str | None = None) -> tuple[str, Role] | None:
    """The login whose secret is ``given`` (and whose name is ``name``, for basic): every one is
    compared, so the time taken does not tell which matched or how many there are before it."""
    found = None
    for login, (secret, role) in logins.items():
        matches = same_secret(given, secret)
        if matches and (name is None or same_secret(name, login)):
            found = (login, role)
    return found


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _from_proxy(proxy: Proxy, request: Request) -> Identity | NotListed | None:
    user = request.headers.get(proxy.user_header, "").strip()
    if not user:
        return None
    host = request.client.host if request.client else None
    if proxy.trusted:
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return None
        if not any(address in network for network in proxy.trusted):
            return None
    if proxy.secret is not None and not same_secret(request.headers.get(proxy.secret_header, ""), proxy.secret):
        return None
    key = user.casefold()
    if key in proxy.operators:
        return Identity(user, "operator", "proxy")
    if "*" in proxy.readers or key in proxy.readers:
        return Identity(user, "reader", "proxy")
    return NotListed(user)


def authenticate(access: Access, request: Request) -> Identity | NotListed | None:
    """Who ``request`` is from, or None (no login, or one that does not hold); ``NotListed``: the
    proxy's user, whom ``access:`` does not name (and who sent no token or password that holds)."""
    if not access.configured:
        host = request.client.host if request.client else None
        return Identity("loopback", "reader", "loopback") if _loopback(host) else None
    proxied = None if access.proxy is None else _from_proxy(access.proxy, request)
    if isinstance(proxied, Identity):
        return proxied
    return _from_credentials(access, request) or proxied


def _from_credentials(access: Access, request: Request) -> Identity | None:
    """The bearer token's or HTTP basic login's identity, or None."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        login = _find(credentials, access.tokens)
        return None if login is None else Identity(login[0], login[1], "token")
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, colon, password = decoded.partition(":")
        login = _find(password, access.users, name) if colon else None
        return None if login is None else Identity(login[0], login[1], "basic")
    return None


def identity(request: Request) -> Identity:
    """Who the request is from; set by ``AccessGate`` before any guarded route runs."""
    found: Identity = request.scope[SCOPE_KEY]
    return found


def metrics_allowed(access: Access, request: Request) -> bool:
    if access.metrics_token is None:
        return _loopback(request.client.host if request.client else None)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and same_secret(token.strip(), access.metrics_token)


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _refusal(access: Access, request: Request) -> Response:
    """No login: 401 for the API (and the browser's basic prompt where users can log in), the
    proxy's login for a page when it has one; 403 for a non-loopback client without ``access:``."""
    if not access.configured:
        message = ("the history is served to this machine only: name who may read it in the handler file's "
                   "serve: access: section")
        if _is_api(request.url.path):
            return JSONResponse({"error": message}, status_code=403)
        return HTMLResponse(f"<!doctype html><title>Forbidden</title><p>{message}.</p>", 403)
    challenges = ["Bearer"] if access.tokens else []
    if access.users:
        challenges.append(REALM)
    headers = {"WWW-Authenticate": ", ".join(challenges)} if challenges else {}
    if _is_api(request.url.path):
        return JSONResponse({"error": "log in: a bearer token, HTTP basic, or through the proxy"}, status_code=401,
                            headers=headers)
    if access.proxy is not None and access.proxy.login_url and request.method == "GET":
        target = access.proxy.login_url.replace("{path}", quote(request.url.path + (
            f"?{request.url.query}" if request.url.query else ""), safe=""))
        return RedirectResponse(target, status_code=302)
    return HTMLResponse("<!doctype html><title>Log in</title><h1>Log in</h1>"
                        "<p>The history of octorelease serve needs a login.</p>", 401, headers=headers)


class AccessGate:
    """ASGI middleware: every path but the open ones, the signed ``/hooks/`` and ``/metrics``
    wants a login; a POST (an operator's action) wants the operator role, from this site."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/hooks/") or path.startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        answer = self._check(request, path)
        if answer is not None:
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check(self, request: Request, path: str) -> Response | None:
        if path == "/metrics":
            if metrics_allowed(self.access, request):
                return None
            return JSONResponse({"error": "/metrics wants the bearer token serve: metrics_token: names "
                                          "(without one, it answers this machine only)"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        who = authenticate(self.access, request)
        if who is None:
            return _refusal(self.access, request)
        if isinstance(who, NotListed):
            return _forbidden(request, f"{who.name} is logged in through the proxy but not listed in serve: access: "
                                       "(readers or operators)")
        request.scope[SCOPE_KEY] = who
        if request.method not in ("GET", "HEAD"):
            if not who.operator:
                return _forbidden(request, f"{who.name} may read but not act: that needs the operator role")
            if cross_site(request):
                return _forbidden(request, "an action must come from this site's own page or a script")
        return None


def _forbidden(request: Request, message: str) -> Response:
    if _is_api(request.url.path):
        return JSONResponse({"error": message}, status_code=403)
    return HTMLResponse(f"<!doctype html><title>Forbidden</title><p>{message}.</p>", 403)


def startup_warnings(access: Access, host: str) -> list[str]:
    """What ``serve`` says at start about access that may not be what the operator meant."""
    warnings = []
    if not access.configured:
        warnings.append("no serve: access: section: the history page and /api/ answer this machine only "
                        "(add access: to let a team log in)")
    local = _loopback(host) or host == "localhost"
    if access.metrics_token is None and not local:
        warnings.append("/metrics answers this machine only: set serve: metrics_token: for a remote scraper")
    return warnings


def describe(who: Identity) -> dict[str, Any]:
    """Who did it, as the audit record keeps it (never how they proved it)."""
    return {"name": who.name, "role": who.role, "via": who.via}
