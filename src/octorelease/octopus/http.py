"""The border between octorelease and the wire: one httpx client with auth, timeouts,
retries, ``Retry-After``, error mapping and redaction.

``OctopusHttp.request`` is a short stack of one-concern layers:

* ``request``          public entry: builds the URL, decides whether the call may be retried;
* ``_send_with_retry`` retries transient failures with capped exponential backoff and jitter,
                       bounded by attempts *and* total time (stamina's shape);
* ``_send_once``       sends one request, logs it in one place, translates httpx errors.

Nothing here ever stores or formats request headers, so the API key (sent only in the
``X-Octopus-ApiKey`` header) cannot reach a message, a log line or a traceback.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx

from octorelease.octopus import errors

log = logging.getLogger("octorelease.http")

#: One default for every phase but connect: Octopus can be slow to answer a busy dashboard.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

#: Methods whose repetition cannot create anything twice.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

#: Statuses that mean "try again later" rather than "no".
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

API_KEY_HEADER = "X-Octopus-ApiKey"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` tries in all, within ``total_seconds``, waiting
    ``min(max_wait, initial_wait * 2**retry) + uniform(0, jitter)`` between them.
    A ``Retry-After`` from the server replaces the computed wait (still capped by the total)."""

    attempts: int = 6
    total_seconds: float = 90.0
    initial_wait: float = 0.5
    max_wait: float = 15.0
    jitter: float = 0.5


def retry_policy_from_env(environ: Mapping[str, str]) -> RetryPolicy:
    """The default policy, with ``OCTORELEASE_RETRY_ATTEMPTS`` and ``OCTORELEASE_RETRY_SECONDS``
    (total time) applied when set: CI owners tune how long a flaky server is tolerated."""
    policy = RetryPolicy()
    try:
        attempts = int(environ.get("OCTORELEASE_RETRY_ATTEMPTS") or policy.attempts)
        total = float(environ.get("OCTORELEASE_RETRY_SECONDS") or policy.total_seconds)
    except ValueError:
        raise errors.InvalidInput(
            "OCTORELEASE_RETRY_ATTEMPTS must be a whole number and OCTORELEASE_RETRY_SECONDS a number of seconds."
        ) from None
    return RetryPolicy(
        attempts=max(attempts, 1),
        total_seconds=max(total, 0.0),
        initial_wait=policy.initial_wait,
        max_wait=policy.max_wait,
        jitter=policy.jitter,
    )


#: For tests: retry at once, a few times.
TESTING_RETRY_POLICY = RetryPolicy(attempts=3, total_seconds=5.0, initial_wait=0.0, max_wait=0.0, jitter=0.0)


def compute_backoff(retry_number: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry ``retry_number`` (0-based): capped exponential plus jitter.

    The exponent is clamped so that huge retry numbers cannot overflow a float."""
    exponent = min(max(retry_number, 0), 60)
    wait = min(policy.max_wait, policy.initial_wait * (2.0**exponent))
    jitter = (rng or random).uniform(0, policy.jitter) if policy.jitter > 0 else 0.0
    return float(wait + jitter)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (only the delta-seconds form; dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)


def normalise_server_url(url: str) -> str:
    """``https://octo.example/api/`` and ``https://octo.example`` both become the latter."""
    url = url.strip().rstrip("/")
    if url.lower().endswith("/api"):
        url = url[: -len("/api")]
    if not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
        raise errors.InvalidInput(
            f"The Octopus URL {url!r} is not an http(s) URL.", hint="Use e.g. --server https://octopus.example.com"
        )
    return url


def _error_text(response: httpx.Response) -> tuple[str, list[str]]:
    """Octopus's ``ErrorMessage`` and ``Errors`` from an error body (plain text is used verbatim)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:500] or response.reason_phrase or f"HTTP {response.status_code}"), []
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}", []
    message = str(body.get("ErrorMessage") or response.reason_phrase or f"HTTP {response.status_code}")
    details = [str(e) for e in body.get("Errors") or [] if e]
    return message, details


def error_for_response(method: str, path: str, response: httpx.Response) -> errors.OctoreleaseError:
    """Translate an Octopus error response into the most specific exception of our family."""
    message, details = _error_text(response)
    status = response.status_code
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


class RequestOutcomeUnknown(errors.ServerUnreachable):
    """A write was sent but its answer was lost (reset, timeout, 5xx): it may or may not have
    happened. Callers must look before they try again; we never repeat such a write blindly."""


class OctopusHttp:
    """A small synchronous Octopus client over one ``httpx.Client``.

    ``server`` may be given with or without ``/api``. ``verify`` is ``True``, ``False`` or a
    path to a CA bundle. ``transport`` and ``sleep`` are injectable for tests.
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
    ) -> None:
        self.server = normalise_server_url(server)
        if not api_key:
            raise errors.InvalidInput(
                "No API key given.", hint="Pass --api-key or set OCTOPUS_API_KEY (an Octopus API key, API-...)."
            )
        self.retry = retry
        self._sleep = sleep
        self._rng = random.Random()
        self._client = httpx.Client(
            base_url=self.server,
            headers={API_KEY_HEADER: api_key, "Accept": "application/json", "User-Agent": user_agent},
            timeout=timeout,
            verify=verify,
            transport=transport,
            follow_redirects=True,
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
        return self.request("GET", path, params=params).json()


    def post(self, path: str, json: Any = None, *, idempotent: bool = False) -> Any:
        """POST and return the JSON answer. Unless ``idempotent``, a POST is retried only when
        it provably never reached the server (connection refused) or was turned away by 429;
        a lost answer raises ``RequestOutcomeUnknown`` for the caller to check."""
        response = self.request("POST", path, json=json, idempotent=idempotent)
        return response.json() if response.content else None

    def put(self, path: str, json: Any) -> Any:
        response = self.request("PUT", path, json=json)
        return response.json() if response.content else None

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
            try:
                response = self._send_once(method, path, params, json)
            except httpx.ConnectError as exc:
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

    def _send_once(self, method: str, path: str, params: dict[str, str], json: Any) -> httpx.Response:
        started = time.monotonic()
        try:
            response = self._client.request(method, path, params=params or None, json=json)
        except httpx.HTTPError as exc:
            log.debug("%s %s -> %s", method, path, type(exc).__name__)
            raise
        log.debug("%s %s -> %s (%.0f ms)", method, path, response.status_code, (time.monotonic() - started) * 1000)
        return response


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
