"""The border between octorelease and the wire: one httpx client with auth, timeouts,
retries (the policy is ``retry.py``'s), ``Retry-After``, error mapping and redaction.

``OctopusHttp.request`` is a short stack of one-concern layers:

* ``request``          public entry: builds the URL, decides whether the call may be retried;
* ``_send_with_retry`` retries transient failures with capped exponential backoff and jitter,
                       bounded by attempts *and* total time (stamina's shape);
* ``_send_once``       sends one request within the time left, reads at most ``MAX_BODY_BYTES``,
                       logs it in one place.

What comes back is checked before anyone reads it (``json_of``): a web page, invalid or
non-UTF-8 JSON, an oversized body or a redirect loop is a ``BadResponse`` naming the URL, not
a crash deeper down. TLS failures are not transient and are never retried.

Nothing here ever stores or formats request headers, so the API key (sent only in the
``X-Octopus-ApiKey`` header) cannot reach a message, a log line or a traceback; a server URL
that carries credentials is refused, and a redirect is followed only within the server's origin
(scheme, host and port: never to another host or port, never from https to http).
"""

from __future__ import annotations

import functools
import logging
import random
import re
import secrets
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from octorelease import errors
from octorelease.octopus.retry import (
    IDEMPOTENT_METHODS,
    MIN_ATTEMPT_SECONDS,
    TRANSIENT_STATUSES,
    RetryPolicy,
    compute_backoff,
    parse_retry_after,
)

log = logging.getLogger("octorelease.http")

#: One default for every phase but connect: Octopus can be slow to answer a busy dashboard.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

API_KEY_HEADER = "X-Octopus-ApiKey"

#: The most a single answer may hold, decompressed. The largest thing Octopus sends us is a
#: task's log (``tasks/{id}/details``), a few MB for a big deployment; 32 MiB leaves room and
#: keeps a hostile or misdirected server from filling memory.
MAX_BODY_BYTES = 32 * 1024 * 1024


#: An address copied from Octopus's web UI: the server's URL, then ``/app#/Spaces-1/...``.
_WEB_UI_ADDRESS = re.compile(r"^(?P<base>https?://[^/?#@\s]+(?:/[^?#@\s]*?)?)/app/?#", re.IGNORECASE)


def web_ui_base(url: str) -> str | None:
    """The server's URL when ``url`` is an address copied from the browser
    (``http://host/app#/Spaces-1/projects``), else None: the web UI lives under ``/app`` and
    the part after ``#`` is the page, neither of which the API wants."""
    match = _WEB_UI_ADDRESS.match(url.strip())
    return match["base"] if match else None


def normalise_server_url(url: str) -> str:
    """``https://octo.example/api/`` and ``https://octo.example`` both become the latter, and so
    does an address copied from the browser, ``https://octo.example/app#/Spaces-1``.

    A URL with credentials (``user:key@host``) or a query (``?apikey=KEY``) is refused rather
    than stripped: the key belongs in the header, and a URL is copied into logs, proxies and
    shell history. The message never repeats the refused parts."""
    url = (web_ui_base(url) or url).strip().rstrip("/")
    if url.lower().endswith("/api"):
        url = url[: -len("/api")]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — a port that is not a number raises here, not at the first request
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL):
        raise errors.InvalidInput(
            "The Octopus URL given is not a valid URL (its host or port cannot be read).",
            hint="Use e.g. --server https://octopus.example.com",
        ) from None
    if "#" in url and "@" not in parts.netloc and not parts.query and "?" not in url:
        raise errors.InvalidInput(
            f"The Octopus URL {parts.scheme}://{parts.netloc} is refused: it has a '#...' part, which "
            "is a page in a browser, not the server's address.",
            hint=f"Give the server's address alone, e.g. --server {parts.scheme}://{parts.netloc}",
        )
    if "@" in parts.netloc or parts.query or parts.fragment or "?" in url or "#" in url:
        host = parts.netloc.rpartition("@")[2]
        raise errors.InvalidInput(
            f"The Octopus URL {parts.scheme}://{host} is refused: it carries credentials or a query "
            "(user:key@, ?apikey=...), which would show in logs.",
            hint="Give the URL without them, and the key with --api-key or OCTOPUS_API_KEY.",
        )
    if not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
        raise errors.InvalidInput(
            f"The Octopus URL {url!r} is not an http(s) URL.", hint="Use e.g. --server https://octopus.example.com"
        )
    return url


def check_api_key(api_key: str) -> None:
    """Refuse a key that cannot be an Octopus API key before it reaches a header: missing or
    blank, or with characters a header cannot carry (non-ASCII, line breaks, other controls),
    which would otherwise fail deep in the transport. The message never repeats the key."""
    if not api_key.strip():
        raise errors.InvalidInput(
            "No API key given.", hint="Pass --api-key or set OCTOPUS_API_KEY (an Octopus API key, API-...)."
        )
    if not api_key.isascii() or not api_key.isprintable() or api_key != api_key.strip():
        raise errors.InvalidInput(
            "The API key given is not a valid Octopus API key: it has spaces, line breaks, control "
            "characters or letters outside ASCII.",
            hint="Copy the key again (API-...) into --api-key or OCTOPUS_API_KEY.",
        )


def ssl_context_for(verify: bool | str) -> bool | ssl.SSLContext:
    """What httpx needs for ``verify``; a CA bundle is loaded now, so a missing or unreadable
    file is a usage error (exit 2) before any request rather than a crash at the first one.
    Verifying with the default CAs shares one context per process (``_default_ssl_context``)."""
    if verify is True:
        return _default_ssl_context()
    if not isinstance(verify, str):
        return verify
    import os

    if not os.path.isfile(verify):
        raise errors.InvalidInput(
            f"The CA bundle {verify} does not exist (or is not a file).",
            hint="Give --ca-bundle / OCTOPUS_CA_BUNDLE the PEM file of the CA that signed the server's certificate.",
        )
    try:
        return ssl.create_default_context(cafile=verify)
    except (ssl.SSLError, ValueError, OSError) as exc:
        reason = str(getattr(exc, "reason", None) or "not a valid PEM file").replace("_", " ").lower()
        raise errors.InvalidInput(
            f"The CA bundle {verify} holds no usable CA certificate ({reason}).",
            hint="Give --ca-bundle / OCTOPUS_CA_BUNDLE a PEM file of CA certificates (-----BEGIN CERTIFICATE-----).",
        ) from None


@functools.lru_cache(maxsize=1)
def _default_ssl_context() -> ssl.SSLContext:
    """httpx's own default context (certifi's CAs, ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as read
    when first needed), made once: loading the CAs costs about 0.1 s of CPU, which every client
    paid before, each run of ``octorelease serve`` included. A context may serve many clients
    and threads."""
    return httpx.create_ssl_context()


def _status_line(response: httpx.Response) -> str:
    return f"{response.status_code} {response.reason_phrase}".strip()


def _not_json(response: httpx.Response) -> str | None:
    """Why an error body is not Octopus's JSON error (a web page, plain text), or None."""
    if _is_html(response):
        return "a web page"
    try:
        body = response.json()
    except ValueError:
        return "a body that is not JSON" if response.content.strip() else None
    return None if isinstance(body, dict) else "JSON that is not an Octopus error"


def _is_html(response: httpx.Response) -> bool:
    content_type = response.headers.get("Content-Type", "").lower()
    return "html" in content_type or response.content.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))


def _error_text(response: httpx.Response) -> tuple[str, list[str]]:
    """Octopus's ``ErrorMessage`` and ``Errors`` from an error body; for anything else (a proxy's
    HTML page, plain text) only the status line, so the message stays one line."""
    try:
        body = None if _is_html(response) else response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        what = _not_json(response)
        return _status_line(response) + (f" (with {what})" if what else ""), []
    message = str(body.get("ErrorMessage") or response.reason_phrase or f"HTTP {response.status_code}")
    details = [str(e) for e in body.get("Errors") or [] if e]
    return message, details


def error_for_response(method: str, path: str, response: httpx.Response) -> errors.OctoreleaseError:
    """Translate an Octopus error response into the most specific exception of our family.

    Octopus always explains a refusal in JSON; a 404 or 400 with a web page comes from something
    else on that URL (a web server, a proxy), so it is a ``BadResponse`` naming the URL."""
    message, details = _error_text(response)
    status = response.status_code
    not_json = _not_json(response)
    if not_json and status not in (401, 403) and status not in TRANSIENT_STATUSES and status < 500:
        return errors.BadResponse(
            f"{method} {_url_of(response)} answered {_status_line(response)} with {not_json}, not an Octopus error.",
            hint=NOT_OCTOPUS_HINT,
        )
    one_line = "; ".join(details) if details else message
    if status == 401:
        return errors.AuthenticationFailed(
            f"Octopus refused the API key (401): {message}",
            hint="Check --api-key / OCTOPUS_API_KEY, and that the key belongs to this server.",
        )
    if status == 403:
        return errors.PermissionDenied(f"Octopus denied the request (403): {one_line}")
    if status == 404:
        return errors.NotFound(one_line, status=status, method=method, path=path, errors=details)
    if status in TRANSIENT_STATUSES or status >= 500:
        return errors.ServerUnreachable(f"Octopus answered {status} to {method} {path}: {one_line}")
    return errors.OctopusRejected(one_line, status=status, method=method, path=path, errors=details)


#: The hint for every answer that is not Octopus's.
NOT_OCTOPUS_HINT = "Check --server / OCTOPUS_URL: it should be the Octopus server's address (with or without /api)."


def _url_of(response: httpx.Response) -> str:
    """The URL that answered, without its query (for messages)."""
    url = response.request.url
    return f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}{url.path}"


def json_of(method: str, response: httpx.Response) -> Any:
    """The JSON of a successful answer, or a ``BadResponse`` saying what it was instead."""
    def bad(what: str) -> errors.BadResponse:
        return errors.BadResponse(f"{method} {_url_of(response)} answered {what}.", hint=NOT_OCTOPUS_HINT)

    if "html" in response.headers.get("Content-Type", "").lower():
        return_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        raise bad(f"a web page ({return_type}), not Octopus JSON")
    try:
        return response.json()
    except UnicodeDecodeError:
        raise bad("bytes that are not UTF-8, not Octopus JSON") from None
    except ValueError as exc:
        raise bad(f"invalid JSON ({_first_line(str(exc))}; cut short?)") from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


class RequestOutcomeUnknown(errors.ServerUnreachable):
    """A write was sent but its answer was lost (reset, timeout, 5xx): it may or may not have
    happened. Callers must look before they try again; we never repeat such a write blindly."""


class OctopusHttp:
    """A small synchronous Octopus client over one ``httpx.Client``.

    ``server`` may be given with or without ``/api``. ``verify`` is ``True``, ``False`` or a
    path to a CA bundle. ``transport`` and ``sleep`` are injectable for tests. Every request,
    its retries included, ends within ``retry.total_seconds``: each attempt's timeout is cut
    to the time left.
    """

    def __init__(
        self,
        server: str,
        api_key: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "octorelease",
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.server = normalise_server_url(server)
        check_api_key(api_key)
        self.retry = retry
        self.timeout = timeout
        self.max_body_bytes = max_body_bytes
        self._sleep = sleep
        self._rng = random.Random()
        self._origin = _origin(httpx.URL(self.server))
        #: This connection's run, as the markers of the deployments it makes name it
        #: (``actions/twins.py``): its own deployments are known by it even after a lost answer.
        self.run_id = secrets.token_hex(6)
        self._client = httpx.Client(
            base_url=self.server,
            headers={API_KEY_HEADER: api_key, "Accept": "application/json", "User-Agent": user_agent},
            timeout=timeout,
            verify=ssl_context_for(verify),
            transport=transport,
            follow_redirects=True,
            event_hooks={"request": [self._refuse_other_origins]},
        )

    def __repr__(self) -> str:
        return f"OctopusHttp({self.server!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OctopusHttp:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public verbs -------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a JSON document (retried on transient failures)."""
        return json_of("GET", self.request("GET", path, params=params))

    def get_object(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET a JSON object: a list, ``null`` or a string there is a ``BadResponse``."""
        return self.expect_object(self.get(path, params), "GET", path)

    def expect_object(self, doc: Any, method: str, path: str) -> dict[str, Any]:
        """``doc`` if it is a JSON object; otherwise a ``BadResponse`` naming the URL."""
        if isinstance(doc, dict):
            return doc
        what = "null" if doc is None else f"a JSON {type(doc).__name__.replace('dict', 'object')}"
        raise errors.BadResponse(
            f"{method} {self.server}{path} answered {what} where Octopus sends an object.", hint=NOT_OCTOPUS_HINT
        )

    def post(self, path: str, json: Any = None, *, idempotent: bool = False) -> Any:
        """POST and return the JSON answer. Unless ``idempotent``, a POST is retried only when
        it provably never reached the server (connection refused) or was turned away by 429;
        a lost answer raises ``RequestOutcomeUnknown`` for the caller to check."""
        response = self.request("POST", path, json=json, idempotent=idempotent)
        return json_of("POST", response) if response.content else None

    def put(self, path: str, json: Any) -> Any:
        response = self.request("PUT", path, json=json)
        return json_of("PUT", response) if response.content else None

    @contextmanager
    def brief(self, seconds: float) -> Iterator[None]:
        """Within this block a request gets about ``seconds`` in all, retries included: for the
        last words of an interrupted run, which a CI system kills a few seconds later."""
        saved = self.retry, self._client.timeout
        self.retry = replace(self.retry, attempts=2, total_seconds=seconds, max_wait=seconds / 4)
        self._client.timeout = httpx.Timeout(seconds / 2)
        try:
            yield
        finally:
            self.retry, self._client.timeout = saved

    def pause_before_retry(self, retry_number: int) -> None:
        """Wait as the retry policy says before retry ``retry_number`` (0-based): for callers that
        repeat a write themselves, once they have made sure it did not happen."""
        self._sleep(compute_backoff(retry_number, self.retry, self._rng))

    # -- the stack ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        method = method.upper()
        path = path if path.startswith("/") else "/" + path
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        clean_params = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        response = self._send_with_retry(method, path, clean_params, json, idempotent)
        if response.status_code >= 400:
            raise error_for_response(method, path, response)
        return response

    def _send_with_retry(
        self, method: str, path: str, params: dict[str, str], json: Any, idempotent: bool
    ) -> httpx.Response:
        started = time.monotonic()
        retry_number = 0
        while True:
            wait: float | None
            left = self.retry.total_seconds - (time.monotonic() - started)
            try:
                response = self._send_once(method, path, params, json, max(left, MIN_ATTEMPT_SECONDS))
            except httpx.TooManyRedirects:
                raise errors.BadResponse(
                    f"{method} {self.server}{path} was redirected in a loop (more than 20 redirects).",
                    hint=NOT_OCTOPUS_HINT,
                ) from None
            except httpx.ConnectError as exc:
                tls = _tls_failure(exc)
                if tls is not None:
                    raise tls_error(self.server, tls) from None
                # Nothing reached the server: safe to repeat for any method.
                failure: errors.OctoreleaseError = errors.ServerUnreachable(
                    f"Cannot reach Octopus at {self.server}: {_describe(exc)}",
                    hint="Check --server / OCTOPUS_URL and that the server is running.",
                )
                wait = None
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                if not idempotent:
                    raise RequestOutcomeUnknown(
                        f"The connection to {self.server} failed during {method} {path} ({_describe(exc)}); "
                        "the request may or may not have been carried out."
                    ) from None
                failure = errors.ServerUnreachable(
                    f"Octopus at {self.server} did not answer {method} {path}: {_describe(exc)}"
                )
                wait = None
            else:
                if response.status_code not in TRANSIENT_STATUSES:
                    return response
                if not idempotent and response.status_code != 429:
                    raise RequestOutcomeUnknown(str(error_for_response(method, path, response)))
                failure = error_for_response(method, path, response)
                wait = parse_retry_after(response.headers.get("Retry-After"))

            if wait is None:
                wait = compute_backoff(retry_number, self.retry, self._rng)
            elapsed = time.monotonic() - started
            if retry_number + 1 >= self.retry.attempts or elapsed + wait > self.retry.total_seconds:
                if retry_number > 0:
                    failure.message += f" (gave up after {retry_number + 1} attempts in {elapsed:.0f}s)"
                raise failure from None
            log.info("retrying %s %s in %.1fs after: %s", method, path, wait, failure)
            self._sleep(wait)
            retry_number += 1

    def _send_once(self, method: str, path: str, params: dict[str, str], json: Any, seconds: float) -> httpx.Response:
        """One request that ends within ``seconds`` (each phase's timeout cut to it, and the body
        read against the same deadline), its body read into memory up to ``max_body_bytes``."""
        started = time.monotonic()
        deadline = started + seconds
        timeout = httpx.Timeout(
            connect=_cut(self.timeout.connect, seconds),
            read=_cut(self.timeout.read, seconds),
            write=_cut(self.timeout.write, seconds),
            pool=_cut(self.timeout.pool, seconds),
        )
        try:
            request = self._client.build_request(method, path, params=params or None, json=json, timeout=timeout)
        except httpx.InvalidURL as exc:  # a name or version too long, or unsendable, for a URL
            raise errors.InvalidInput(
                f"A value given cannot be sent in a URL to Octopus: {_first_line(str(exc))}.",
                hint="Check the names and versions given: Octopus names are at most a few hundred characters.",
            ) from None
        try:
            streamed = self._client.send(request, stream=True)
            try:
                response = self._read_body(streamed, method, deadline)
            finally:
                streamed.close()
        except httpx.HTTPError as exc:
            log.debug("%s %s -> %s", method, path, type(exc).__name__)
            raise
        log.debug("%s %s -> %s (%.0f ms)", method, path, response.status_code, (time.monotonic() - started) * 1000)
        return response

    def _read_body(self, streamed: httpx.Response, method: str, deadline: float) -> httpx.Response:
        """The answer with its body in memory: at most ``max_body_bytes`` (decompressed), and
        only until ``deadline`` (a server that trickles a byte at a time is a timeout)."""
        too_large = errors.BadResponse(
            f"{method} {_url_of(streamed)} answered more than {self.max_body_bytes // (1024 * 1024)} MiB, "
            "more than Octopus sends.",
            hint=NOT_OCTOPUS_HINT,
        )
        declared = streamed.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes and "Content-Encoding" not in streamed.headers:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        for chunk in streamed.iter_bytes():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise too_large
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the answer took longer than the time left", request=streamed.request)
            chunks.append(chunk)
        # A fresh response over the bytes read: they are decompressed already, so drop the headers
        # that describe the wire encoding.
        headers = [(k, v) for k, v in streamed.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(streamed.status_code, headers=headers, content=b"".join(chunks),
                              request=streamed.request, extensions=streamed.extensions)

    def _refuse_other_origins(self, request: httpx.Request) -> None:
        """An event hook on every request, redirects included: the API key travels in a header
        that httpx keeps across redirects, so a redirect is followed only within the server's
        origin (scheme, host and port): never to another host, nor to another port of the same
        host (another service), nor from https to http (the key in clear)."""
        origin = _origin(request.url)
        if origin == self._origin:
            return
        scheme, host, _ = self._origin
        what = ("another host" if origin[1] != host
                else "from https to http" if scheme == "https" and origin[0] == "http"
                else "another scheme" if origin[0] != scheme else "another port")
        target = f"{request.url.scheme}://{request.url.netloc.decode()}"
        raise errors.BadResponse(
            f"{self.server} redirected to {target} ({what}); octorelease does not send the API key there.",
            hint=f"If the server has moved, use --server {target}",
        )


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """A URL's origin: scheme, host and port, the scheme's default port written out."""
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def _cut(seconds: float | None, limit: float) -> float:
    """A phase timeout no longer than ``limit`` (``None``, no timeout, becomes ``limit``)."""
    return limit if seconds is None else min(seconds, limit)


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind a connection failure, if that is what it was (httpx wraps it twice)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def tls_error(server: str, failure: ssl.SSLError) -> errors.ServerUnreachable:
    """A TLS failure is not transient: retrying cannot fix a certificate, so it fails at once."""
    if isinstance(failure, ssl.SSLCertVerificationError):
        reason = failure.verify_message or failure.reason or "verification failed"
        return errors.ServerUnreachable(
            f"The TLS certificate of {server} could not be verified: {reason}.",
            hint="Give the CA that signed it with --ca-bundle FILE (or OCTOPUS_CA_BUNDLE); "
            "--insecure turns verification off (not recommended).",
        )
    return errors.ServerUnreachable(
        f"The TLS handshake with {server} failed: {failure.reason or failure}.",
        hint="Check that the server speaks HTTPS on that port (http:// or https:// in --server?); "
        "--ca-bundle FILE gives a CA, --insecure turns verification off.",
    )


def _query_value(value: Any) -> str:
    """Octopus takes lists as comma-separated values and booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(v) for v in value)
    return str(value)


def _describe(exc: BaseException) -> str:
    """A short human description of a transport error, without request details."""
    text = str(exc).strip()
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    return text or type(exc).__name__
