"""The HTTP border: retries, Retry-After, error mapping, and never repeating a write blindly.

The sandbox cannot easily stage a reset in the middle of a POST, so these few tests use
httpx.MockTransport; everything else runs against the sandbox."""

from __future__ import annotations

import httpx
import pytest

from octorelease import errors
from octorelease.octopus.http import OctopusHttp, RequestOutcomeUnknown, normalise_server_url
from octorelease.octopus.retry import TESTING_RETRY_POLICY, RetryPolicy, compute_backoff


def client(handler, policy=TESTING_RETRY_POLICY, sleeps=None):
    return OctopusHttp(
        "http://octopus.test/api/", "API-KEY123", transport=httpx.MockTransport(handler), retry=policy,
        sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
    )


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(initial_wait=1, max_wait=8, jitter=0)
    assert [compute_backoff(n, policy) for n in range(5)] == [1, 2, 4, 8, 8]
    assert compute_backoff(10_000, policy) == 8


def test_server_url_is_accepted_with_or_without_api():
    assert normalise_server_url("https://o.example/api/") == "https://o.example"
    assert normalise_server_url("https://o.example") == "https://o.example"
    with pytest.raises(errors.InvalidInput):
        normalise_server_url("o.example")


def test_get_is_retried_on_503_and_honours_retry_after():
    answers = iter([httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200, json={"ok": 1})])
    sleeps: list[float] = []
    http = client(lambda request: next(answers), sleeps=sleeps)
    assert http.get("/api/spaces") == {"ok": 1}
    assert sleeps == [2.0]


def test_transient_errors_outlasting_retries_raise_unreachable():
    http = client(lambda request: httpx.Response(502, json={"ErrorMessage": "Bad gateway"}))
    with pytest.raises(errors.ServerUnreachable, match="gave up after 3 attempts"):
        http.get("/api/spaces")


def test_a_post_whose_answer_is_lost_is_not_repeated():
    calls = []

    def reset(request):
        calls.append(request.method)
        raise httpx.ReadError("connection reset", request=request)

    http = client(reset)
    with pytest.raises(RequestOutcomeUnknown):
        http.post("/api/Spaces-1/deployments", {"ReleaseId": "Releases-1"})
    assert calls == ["POST"]


def test_a_post_refused_by_connection_is_retried():
    calls = []

    def refuse_then_accept(request):
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx.ConnectError("Connection refused", request=request)
        return httpx.Response(201, json={"Id": "Deployments-1"})

    assert client(refuse_then_accept).post("/api/Spaces-1/deployments", {}) == {"Id": "Deployments-1"}
    assert calls == ["POST", "POST"]


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, errors.AuthenticationFailed), (403, errors.PermissionDenied), (404, errors.NotFound),
     (400, errors.OctopusRejected), (409, errors.OctopusRejected)],
)
def test_error_statuses_map_to_the_family(status, error):
    body = {"ErrorMessage": "There was a problem with your request.", "Errors": ["Version exists"]}
    http = client(lambda request: httpx.Response(status, json=body))
    with pytest.raises(error):
        http.get("/api/x")


def test_validation_errors_show_octopus_reasons():
    body = {"ErrorMessage": "There was a problem with your request.", "Errors": ["Package version 7.7.7 not found"]}
    http = client(lambda request: httpx.Response(400, json=body))
    with pytest.raises(errors.OctopusRejected, match=r"Package version 7\.7\.7 not found"):
        http.post("/api/x", {})


def test_the_api_key_travels_only_in_the_header():
    seen = {}

    def record(request):
        seen["url"] = str(request.url)
        seen["key"] = request.headers.get("X-Octopus-ApiKey")
        return httpx.Response(200, json={})

    http = client(record)
    http.get("/api/spaces")
    assert seen["key"] == "API-KEY123"
    assert "API-KEY123" not in seen["url"]
    assert "API-KEY123" not in repr(http)


def test_clients_verifying_with_the_default_cas_share_one_tls_context_made_once() -> None:
    """Loading the CAs costs about 0.1 s of CPU; a service making a client per run paid it each time."""
    from octorelease.octopus.http import ssl_context_for

    first, second = OctopusHttp("https://a.example", "API-X"), OctopusHttp("https://b.example", "API-Y")
    try:
        assert ssl_context_for(True) is ssl_context_for(True)
        assert first._client._transport._pool._ssl_context is second._client._transport._pool._ssl_context
    finally:
        first.close()
        second.close()
