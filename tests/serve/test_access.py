"""Who may read ``octorelease serve``'s history and act on its runs (``serve: access:``), over
real HTTP: bearer tokens, HTTP basic, a trusted proxy's header (and a forged one), the open and
the guarded routes, ``/metrics``, and an operator's re-run and cancel with their audit."""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.serve.conftest import StartServe

from octorelease.handler.file import HandlerFileError, load_handler_file
from octorelease.serve.access import load_access
from testing.sandbox import SandboxControl
from testing.serve import HANDLERS, ServeProcess, ServeUnderTest

READER_TOKEN = "reader-token-0123456789"
OPERATOR_TOKEN = "operator-token-9876543210"
ALICE_PASSWORD = "alice-password-secret"
PROXY_SECRET = "proxy-shared-secret"
METRICS_TOKEN = "metrics-token-abcdef"
ENVIRON = {"READER_TOKEN": READER_TOKEN, "OPERATOR_TOKEN": OPERATOR_TOKEN, "ALICE_PASSWORD": ALICE_PASSWORD,
           "PROXY_SECRET": PROXY_SECRET, "METRICS_TOKEN": METRICS_TOKEN}
SERVE_SECTION = "serve:\n  secrets:\n    generic: ${OCTORELEASE_WEBHOOK_SECRET}\n"


def with_access(access: str) -> str:
    """``HANDLERS`` with ``access`` (YAML lines under ``serve:``, indented two spaces) added."""
    return HANDLERS.replace(SERVE_SECTION, SERVE_SECTION + access, 1)


ACCESS = with_access("""\
  metrics_token: ${METRICS_TOKEN}
  access:
    tokens:
      dashboard: {token: "${READER_TOKEN}"}
      release-bot: {token: "${OPERATOR_TOKEN}", role: operator}
    users:
      alice: {password: "${ALICE_PASSWORD}", role: operator}
    proxy:
      user_header: X-Forwarded-Email
      trusted: [127.0.0.1/32]
      operators: [ops@example.com]
      login_url: https://sso.example.com/oauth2/start?rd={path}
""")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def guarded(start: StartServe) -> ServeUnderTest:
    return start(ACCESS, environ=ENVIRON)


def get(service: ServeUnderTest, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.get(service.url + path, headers=dict(headers or {}), follow_redirects=False, timeout=10)


def post(service: ServeUnderTest, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.post(service.url + path, headers=dict(headers or {}), follow_redirects=False, timeout=10)


def test_without_a_login_the_api_is_401_and_the_page_sends_the_browser_to_the_proxys_login(
    guarded: ServeUnderTest
) -> None:
    for path in ("/api/runs", "/api/runs/1"):
        response = get(guarded, path)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == 'Bearer, Basic realm="octorelease serve", charset="UTF-8"'
        assert "log in" in response.json()["error"]
    page = get(guarded, "/runs/3?fragment=1")
    assert page.status_code == 302
    assert page.headers["Location"] == "https://sso.example.com/oauth2/start?rd=%2Fruns%2F3%3Ffragment%3D1"
    assert post(guarded, "/api/runs/1/cancel").status_code == 401


def test_without_a_proxy_login_url_the_page_is_401_with_the_browsers_basic_prompt(start: StartServe) -> None:
    service = start(with_access("  access:\n    users:\n      alice: {password: '${ALICE_PASSWORD}'}\n"),
                    environ=ENVIRON)
    page = get(service, "/")
    assert page.status_code == 401 and "needs a login" in page.text
    assert page.headers["WWW-Authenticate"] == 'Basic realm="octorelease serve", charset="UTF-8"'
    assert get(service, "/", basic("alice", ALICE_PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (bearer(READER_TOKEN), 200),
        (bearer(OPERATOR_TOKEN), 200),
        (bearer(READER_TOKEN + "x"), 401),
        (bearer(READER_TOKEN[:-1]), 401),
        ({"Authorization": "Bearer"}, 401),
        (bearer(ALICE_PASSWORD), 401),  # a password is not a token
        (basic("alice", ALICE_PASSWORD), 200),
        (basic("ALICE", ALICE_PASSWORD), 401),
        (basic("bob", ALICE_PASSWORD), 401),
        (basic("alice", ALICE_PASSWORD + "!"), 401),
        (basic("dashboard", READER_TOKEN), 401),  # a token is not a password
        ({"Authorization": "Basic not-base64!"}, 401),
        ({"Authorization": f"Token {READER_TOKEN}"}, 401),
        ({"X-Forwarded-Email": "someone@example.com"}, 200),  # from 127.0.0.1: the trusted proxy
    ],
    ids=["reader token", "operator token", "token too long", "token too short", "empty token",
         "password as token", "basic", "basic user case", "basic wrong user", "basic wrong password",
         "token as password", "basic malformed", "unknown scheme", "trusted proxy header"],
)
def test_each_login_reads_the_api_and_the_page_and_a_wrong_one_reads_nothing(
    guarded: ServeUnderTest, headers: dict[str, str], status: int
) -> None:
    assert get(guarded, "/api/runs", headers).status_code == status
    page = get(guarded, "/", headers)
    assert page.status_code == (200 if status == 200 else 302)


def test_the_open_routes_need_no_login_and_webhooks_still_need_their_signature(guarded: ServeUnderTest) -> None:
    assert get(guarded, "/healthz").json()["ok"] is True
    assert get(guarded, "/static/style.css").status_code == 200
    accepted = guarded.send({"event": "build-completed", "status": "success", "delivery": "open-1",
                             "values": {"branch": "feature", "number": "1"}})
    assert accepted.status_code == 202
    assert guarded.send({"event": "build-completed", "delivery": "x"}, secret="wrong").status_code == 401


def untrusted_address() -> str | None:
    """An address of this machine that is not loopback, for a client the service must not trust."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only the route is chosen
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_a_proxy_header_is_believed_only_from_a_trusted_address_or_with_the_shared_secret(
    start: StartServe
) -> None:
    elsewhere = start(with_access("  access:\n    proxy:\n      trusted: [10.20.30.0/24]\n"), environ=ENVIRON)
    forged = get(elsewhere, "/api/runs", {"X-Forwarded-User": "admin"})  # from 127.0.0.1, not 10.20.30.x
    assert forged.status_code == 401
    assert get(elsewhere, "/", {"X-Forwarded-User": "admin"}).status_code == 401

    shared = start(with_access("  access:\n    proxy:\n      secret: ${PROXY_SECRET}\n      readers: [ann, bo]\n"),
                   environ=ENVIRON)
    assert get(shared, "/api/runs", {"X-Forwarded-User": "ann"}).status_code == 401  # no secret
    wrong = {"X-Forwarded-User": "ann", "X-Octorelease-Proxy-Secret": PROXY_SECRET + "x"}
    assert get(shared, "/api/runs", wrong).status_code == 401
    right = {"X-Forwarded-User": "Ann", "X-Octorelease-Proxy-Secret": PROXY_SECRET}
    assert get(shared, "/api/runs", right).status_code == 200  # names compare without case
    assert get(shared, "/api/runs", {**right, "X-Forwarded-User": "eve"}).status_code == 403  # not a reader


def test_a_proxy_user_not_listed_is_logged_in_but_forbidden_not_asked_to_log_in(start: StartServe) -> None:
    shared = start(with_access("  access:\n    proxy:\n      secret: ${PROXY_SECRET}\n      readers: [ann]\n"
                               "      login_url: https://sso.example.com/oauth2/start?rd={path}\n"), environ=ENVIRON)
    eve = {"X-Forwarded-User": "eve", "X-Octorelease-Proxy-Secret": PROXY_SECRET}
    api = get(shared, "/api/runs", eve)
    assert api.status_code == 403
    assert "eve" in api.json()["error"] and "not listed" in api.json()["error"]
    assert "WWW-Authenticate" not in api.headers  # no login would help: the proxy already said who
    page = get(shared, "/", eve)
    assert page.status_code == 403  # not the proxy's login again, which would send eve round in a loop
    assert "location" not in page.headers
    assert get(shared, "/api/runs", {**eve, "X-Forwarded-User": "ann"}).status_code == 200
    forged = {"X-Forwarded-User": "eve", "X-Octorelease-Proxy-Secret": "wrong"}
    assert get(shared, "/api/runs", forged).status_code == 401  # the header is not believed: nobody logged in


def test_without_access_the_history_answers_this_machine_only(sandbox: SandboxControl, tmp_path: Path) -> None:
    address = untrusted_address()
    if address is None:
        pytest.skip("this machine has no address but loopback to come from")
    handlers = tmp_path / "open.yml"
    handlers.write_text(HANDLERS, encoding="utf-8")
    process = ServeProcess(handlers, sandbox, tmp_path / "open.db", "--host", "0.0.0.0")
    try:
        port = process.url.rsplit(":", 1)[1]
        assert httpx.get(f"http://127.0.0.1:{port}/api/runs", timeout=10).status_code == 200
        remote = f"http://{address}:{port}"
        refused = httpx.get(remote + "/api/runs", timeout=10)
        assert refused.status_code == 403 and "serve: access:" in refused.json()["error"]
        assert httpx.get(remote + "/", timeout=10).status_code == 403
        assert httpx.get(remote + "/metrics", timeout=10).status_code == 401
        assert httpx.get(remote + "/healthz", timeout=10).status_code == 200
        assert httpx.post(f"http://127.0.0.1:{port}/api/runs/1/cancel", timeout=10).status_code == 403
    finally:
        code, err = process.stop()
    assert code == 0
    assert "Warning: no serve: access: section: the history page and /api/ answer this machine only" in err
    assert "Warning: /metrics answers this machine only" in err


def test_metrics_want_their_own_token_and_no_other(guarded: ServeUnderTest, start: StartServe) -> None:
    assert get(guarded, "/metrics").status_code == 401
    assert get(guarded, "/metrics", bearer(READER_TOKEN)).status_code == 401
    assert get(guarded, "/metrics", basic("alice", ALICE_PASSWORD)).status_code == 401
    scraped = get(guarded, "/metrics", bearer(METRICS_TOKEN))
    assert scraped.status_code == 200 and "octorelease_serve_runs" in scraped.text
    assert get(start(), "/metrics").status_code == 200  # no token configured: loopback is enough


@pytest.fixture
def audit_lines(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger="octorelease.serve"):
        yield caplog


def wait_state(service: ServeUnderTest, run_id: int, state: str) -> dict[str, Any]:
    return service.wait(run_id, (state,), timeout=60)


def test_an_operator_cancels_a_queued_run_which_then_never_runs_and_the_audit_says_who(
    guarded: ServeUnderTest, sandbox: SandboxControl, audit_lines: pytest.LogCaptureFixture
) -> None:
    guarded.http.headers.update(bearer(READER_TOKEN))
    sandbox.set_speed(2.0)  # the first run for Web keeps the second queued behind it
    first = guarded.event("cancel-1", branch="main", number="21")["id"]
    second = guarded.event("cancel-2", branch="main", number="22")["id"]
    wait_state(guarded, first, "running")
    assert guarded.run(second)["state"] == "queued"

    refused = post(guarded, f"/api/runs/{second}/cancel", bearer(READER_TOKEN))
    assert refused.status_code == 403 and "operator" in refused.json()["error"]
    running = post(guarded, f"/api/runs/{first}/cancel", bearer(OPERATOR_TOKEN))
    assert running.status_code == 409 and "only a queued run" in running.json()["error"]
    assert post(guarded, "/api/runs/999/cancel", bearer(OPERATOR_TOKEN)).status_code == 404

    cancelled = post(guarded, f"/api/runs/{second}/cancel", bearer(OPERATOR_TOKEN))
    assert cancelled.status_code == 200, cancelled.text
    doc = cancelled.json()
    assert doc["state"] == "cancelled" and doc["reason"] == "cancelled by release-bot"
    assert [(a["action"], a["by"]) for a in doc["audit"]] == [
        ("cancel", {"name": "release-bot", "role": "operator", "via": "token"})]
    assert post(guarded, f"/api/runs/{second}/cancel", bearer(OPERATOR_TOKEN)).status_code == 409

    sandbox.set_speed(0.01)
    assert guarded.wait(first)["state"] == "succeeded"
    after = guarded.run(second)
    assert after["state"] == "cancelled" and after["attempts"] == 0
    lines = [r.getMessage() for r in audit_lines.records if r.getMessage().startswith("audit: ")]
    assert lines == [f"audit: release-bot (operator, token) cancelled run {second}"]
    assert not any(token in audit_lines.text for token in (READER_TOKEN, OPERATOR_TOKEN))


def test_an_operator_reruns_a_failed_run_from_the_page_and_both_runs_say_who(
    guarded: ServeUnderTest, sandbox: SandboxControl, audit_lines: pytest.LogCaptureFixture
) -> None:
    guarded.http.headers.update(bearer(READER_TOKEN))
    sandbox.fail(step="Smoke test", environment="Development")
    failed = guarded.wait(guarded.event("rerun-1", branch="main", number="31")["id"])
    assert failed["state"] == "failed"
    sandbox.clear_faults()
    alice = basic("alice", ALICE_PASSWORD)

    page = get(guarded, f"/runs/{failed['id']}", alice)
    assert f'action="/runs/{failed["id"]}/rerun"' in page.text and ">Re-run</button>" in page.text
    assert "Re-run</button>" not in get(guarded, f"/runs/{failed['id']}", bearer(READER_TOKEN)).text
    cross_site = post(guarded, f"/runs/{failed['id']}/rerun", {**alice, "Origin": "https://evil.example",
                                                                 "Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    assert post(guarded, f"/runs/{failed['id']}/rerun", {**alice, "Origin": "https://evil.example"}).status_code == 403
    assert len(guarded.runs()) == 1  # refused: nothing queued

    clicked = post(guarded, f"/runs/{failed['id']}/rerun", {**alice, "Origin": guarded.url,
                                                             "Sec-Fetch-Site": "same-origin"})
    assert clicked.status_code == 303
    new_id = int(clicked.headers["Location"].rsplit("/", 1)[1])
    assert new_id != failed["id"]
    rerun = guarded.wait(new_id)
    assert rerun["state"] == "succeeded", rerun["error"]["message"]
    assert rerun["rerun_of"] == failed["id"] and rerun["attempts"] == 1
    create = next(h for h in rerun["handlers"] if h["name"] == "Ship Web")["actions"][0]
    assert create["release"]["version"] == "1.5.31" and create["created"] is False  # the failed run's, used
    assert [d["state"] for d in create["deployments"]] == ["Success"]  # the failed deployment, made again
    assert f"A re-run of run {failed['id']}" in "\n".join(rerun["log"])
    original = guarded.run(failed["id"])
    assert original["state"] == "failed"
    assert [(a["action"], a["by"]["name"], a["run"]) for a in original["audit"]] == [("rerun", "alice", new_id)]
    assert "alice re-ran this run as" in get(guarded, f"/runs/{failed['id']}", alice).text
    assert post(guarded, f"/api/runs/{new_id}/rerun", alice).status_code == 409  # it succeeded
    lines = [r.getMessage() for r in audit_lines.records if r.getMessage().startswith("audit: ")]
    assert lines == [f"audit: alice (operator, basic) re-ran run {failed['id']} as run {new_id}"]
    assert ALICE_PASSWORD not in audit_lines.text


def test_a_proxy_user_named_an_operator_may_act_and_others_only_read(
    guarded: ServeUnderTest, sandbox: SandboxControl
) -> None:
    sandbox.fail(step="Smoke test", environment="Development")
    failed = guarded.event("proxy-1", branch="main", number="41")["id"]
    guarded.http.headers.update({"X-Forwarded-Email": "dev@example.com"})
    assert guarded.wait(failed)["state"] == "failed"
    assert post(guarded, f"/api/runs/{failed}/rerun", {"X-Forwarded-Email": "dev@example.com"}).status_code == 403
    acted = post(guarded, f"/api/runs/{failed}/rerun", {"X-Forwarded-Email": "OPS@example.com"})
    assert acted.status_code == 200
    assert acted.json()["audit"][0]["by"] == {"name": "OPS@example.com", "role": "operator", "via": "proxy"}


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ("  access:\n    tokens:\n      bot: {token: literal-token-value}\n",
         "handlers.yml:8: serve.access.tokens.bot.token: write a reference such as ${BOT_TOKEN}, not the secret"),
        ("  access:\n    users:\n      al: {password: hunter2}\n",
         "handlers.yml:8: serve.access.users.al.password: write a reference such as ${AL_PASSWORD}"),
        ("  metrics_token: plain\n", "handlers.yml:6: serve.metrics_token: write a reference such as"),
        ("  access:\n    tokens:\n      bot: {token: '${NOT_SET_ANYWHERE}'}\n",
         "handlers.yml:8: serve.access.tokens.bot.token: environment variable NOT_SET_ANYWHERE is not set"),
        ("  access:\n    proxy:\n      user_header: X-User\n",
         "handlers.yml:7: serve.access.proxy: a proxy header is believed only from trusted addresses or with"),
        ("  access:\n    proxy:\n      trusted: [10.0.0.0/33]\n",
         "handlers.yml:8: serve.access.proxy.trusted[0]: '10.0.0.0/33' is not an address or a network"),
        ("  access: {}\n", "handlers.yml:6: serve.access: names no one who may read"),
        ("  access:\n    tokens:\n      bot: {token: '${READER_TOKEN}', role: admin}\n",
         "handlers.yml:8: serve.access.tokens.bot.role"),
    ],
    ids=["literal token", "literal password", "literal metrics token", "unset variable", "proxy trusting nothing",
         "bad network", "no one", "unknown role"],
)
def test_a_wrong_access_section_is_one_line_at_its_place_and_never_repeats_a_secret(
    tmp_path: Path, section: str, words: str
) -> None:
    path = tmp_path / "handlers.yml"
    path.write_text(with_access(section), encoding="utf-8")
    environ = {"OCTOPUS_URL": "http://x", "OCTOPUS_API_KEY": "API-X", "OCTORELEASE_WEBHOOK_SECRET": "s", **ENVIRON}
    with pytest.raises(HandlerFileError) as raised:
        load_access(load_handler_file(path, environ), environ)
    message = str(raised.value).replace(str(tmp_path) + "/", "")
    assert words in message and "\n" not in message
    assert not any(secret in message for secret in ("literal-token-value", "hunter2", "plain", READER_TOKEN))
