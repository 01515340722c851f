"""The sandbox's own controls on its pages (speed, a fault, reset, the request log): shown and
usable where ``/_sandbox`` is (on this machine, or with the admin key when the sandbox has one),
and neither shown nor usable from anywhere else. "Another machine" is a request a proxy on this
machine forwards, which uvicorn gives with the client's own address (``X-Forwarded-For``).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from octorelease.sandbox.errors import ADMIN_KEY_HEADER
from octorelease.sandbox.http.app.access import KEY_COOKIE
from octorelease.sandbox.http.server import SandboxServer
from octorelease.sandbox.rules.requests import Fault
from testing.sandbox import SandboxControl

ELSEWHERE = {"X-Forwarded-For": "203.0.113.9"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ADMIN_KEY = "ADMIN-PAGES-0123456789abcdef"
CONTROLS_LINK = 'id="controls-link"'


def post(sandbox: SandboxControl, path: str, body: str = "", **headers: str) -> httpx.Response:
    return sandbox.call("POST", path, key=None, content=body.encode(), headers={**FORM, **headers})


def test_on_this_machine_the_controls_are_shown_and_do_what_sandbox_does(sandbox: SandboxControl) -> None:
    served = sandbox.server.sandbox
    assert CONTROLS_LINK in sandbox.call("GET", "/app", key=None).text
    assert post(sandbox, "/app/sandbox/speed", "seconds=0.02").headers["location"] == "/app/sandbox"
    assert served.runner.speed == 0.02
    post(sandbox, "/app/sandbox/faults", "environment=Test&step=Smoke+test&message=Rehearsed+outage")
    assert served.backend.faults == [Fault(step="Smoke test", environment="Test", message="Rehearsed outage")]
    failed = sandbox.wait_for_task(sandbox.deploy("Releases-2", "Environments-2")["TaskId"])
    assert failed["State"] == "Failed"
    shown = sandbox.call("GET", "/app/sandbox", key=None).text
    assert "Smoke test fails in Test: Rehearsed outage" in shown
    assert "<td>POST</td><td><code>/api/Spaces-1/deployments</code></td><td class=\"\">201</td>" in shown
    post(sandbox, "/app/sandbox/faults-clear")
    assert served.backend.faults == []
    post(sandbox, "/app/sandbox/reset")
    assert sandbox.call("GET", f"/api/tasks/{failed['Id']}").status_code == 404  # back to the demo
    assert served.runner.speed == 0.02  # a reset keeps the speed, as /_sandbox/reset does


@pytest.mark.parametrize("control", ["speed", "faults", "faults-clear", "reset", "requests-clear"])
def test_another_machine_without_the_admin_key_sees_no_controls_and_cannot_use_them(
    sandbox: SandboxControl, control: str
) -> None:
    signed_in = {**ELSEWHERE, "Cookie": f"{KEY_COOKIE}={sandbox.api_key}"}
    assert "Sign in to the sandbox" in sandbox.call("GET", "/app", key=None, headers=ELSEWHERE).text
    dashboard = sandbox.call("GET", "/app", key=None, headers=signed_in)
    assert dashboard.status_code == 200 and CONTROLS_LINK not in dashboard.text
    assert sandbox.call("GET", "/app/sandbox", key=None, headers=signed_in).status_code == 403
    census = sandbox.census()
    refused = post(sandbox, f"/app/sandbox/{control}", "seconds=3&environment=Test", **signed_in)
    assert refused.status_code == 403 and "this machine only, or with its admin key" in refused.text
    assert sandbox.census() == census and sandbox.server.sandbox.runner.speed != 3
    assert sandbox.server.sandbox.backend.faults == []
    # /_sandbox follows the same rule
    answer = sandbox.call("POST", "/_sandbox/speed", key=None, json={"seconds_per_step": 3}, headers=ELSEWHERE)
    assert answer.status_code == 403 and "--admin-key" in answer.json()["ErrorMessage"]


@pytest.fixture
def guarded() -> Iterator[httpx.Client]:
    """A sandbox with an admin key, which its controls then demand on this machine too."""
    with SandboxServer(port=0, speed=0.005, admin_key=ADMIN_KEY) as server, \
            httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def test_with_an_admin_key_the_controls_want_it_even_on_this_machine(guarded: httpx.Client) -> None:
    assert CONTROLS_LINK not in guarded.get("/app").text
    assert guarded.get("/app/sandbox").status_code == 403
    assert CONTROLS_LINK in guarded.get("/app", headers={ADMIN_KEY_HEADER: ADMIN_KEY}).text
    wrong = guarded.post("/app/sign-in", data={"key": "ADMIN-wrong", "next": "/app/sandbox"})
    assert wrong.status_code == 401 and "not a key of this sandbox" in wrong.text
    signed = guarded.post("/app/sign-in", data={"key": ADMIN_KEY, "next": "/app/sandbox"})
    assert signed.status_code == 303 and signed.headers["location"] == "/app/sandbox"
    assert signed.headers["set-cookie"] == f"{KEY_COOKIE}={ADMIN_KEY}; Path=/app; HttpOnly; SameSite=Strict"
    shown = guarded.get("/app/sandbox")  # the client keeps the cookie, as a browser does
    assert shown.status_code == 200 and "Request log" in shown.text


@pytest.mark.parametrize("target", ["//evil.example/app", "https://evil.example/app/", "/api/Spaces-1", "/app/\\x"])
def test_signing_in_goes_back_only_to_a_page_of_the_sandbox(sandbox: SandboxControl, target: str) -> None:
    answer = post(sandbox, "/app/sign-in", urlencode({"key": sandbox.api_key, "next": target}), **ELSEWHERE)
    assert answer.status_code == 303 and answer.headers["location"] == "/app/"


def test_a_control_another_site_sent_is_refused(sandbox: SandboxControl) -> None:
    refused = post(sandbox, "/app/sandbox/speed", "seconds=3", **{"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403 and sandbox.server.sandbox.runner.speed != 3
