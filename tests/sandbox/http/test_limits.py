"""Hostile requests to the sandbox: huge or deeply nested bodies, odd keys, and who may use the controls.

Each refusal is a 400 or 401 in Octopus's error envelope (never a 500 with a Python error
name), and nothing is created.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from octorelease.sandbox.errors import ADMIN_KEY_HEADER, INVALID_KEY
from octorelease.sandbox.http.binding import MAX_BODY_BYTES, MAX_JSON_DEPTH
from octorelease.sandbox.http.server import SandboxServer
from testing.sandbox import SandboxControl

RELEASES = "/api/Spaces-1/releases"
A_RELEASE = {"ProjectId": "Projects-1", "Version": "9.9.9"}


def versions(sandbox: SandboxControl) -> list[str]:
    return [r["Version"] for r in sandbox.get(RELEASES, take=1000)["Items"]]


def assert_refused(response: httpx.Response, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"ErrorMessage", "Errors", "ParsedHelpLinks", "Details"}
    assert reason in json.dumps(body), body


def test_a_body_over_the_limit_is_a_400_and_creates_nothing(sandbox: SandboxControl) -> None:
    before = versions(sandbox)
    big = {**A_RELEASE, "ReleaseNotes": "x" * MAX_BODY_BYTES}
    assert_refused(sandbox.call("POST", RELEASES, json=big), 400, f"larger than {MAX_BODY_BYTES // 1024} KiB")
    assert versions(sandbox) == before


def test_a_chunked_body_over_the_limit_is_a_400_too(sandbox: SandboxControl) -> None:
    """Without Content-Length the body is counted as it arrives, never held whole."""

    def chunks() -> Iterator[bytes]:
        yield b'{"ProjectId": "Projects-1", "Version": "9.9.9", "ReleaseNotes": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    before = versions(sandbox)
    response = sandbox.call("POST", RELEASES, content=chunks(), headers={"Content-Type": "application/json"})
    assert_refused(response, 400, f"larger than {MAX_BODY_BYTES // 1024} KiB")
    assert versions(sandbox) == before


def test_a_body_just_under_the_limit_is_served(sandbox: SandboxControl) -> None:
    notes = "x" * (MAX_BODY_BYTES - 200)
    response = sandbox.call("POST", RELEASES, json={**A_RELEASE, "ReleaseNotes": notes})
    assert response.status_code == 201, response.text
    assert "9.9.9" in versions(sandbox)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_json_nested_too_deep_is_a_400(sandbox: SandboxControl, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = f'{{"ProjectId": "Projects-1", "Version": "9.9.9", "ReleaseNotes": {nested}}}'.encode()
    before = versions(sandbox)
    response = sandbox.call("POST", RELEASES, content=body, headers={"Content-Type": "application/json"})
    assert_refused(response, 400, f"nested more than {MAX_JSON_DEPTH} levels")
    assert versions(sandbox) == before


def test_the_controls_refuse_a_huge_body_too(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/_sandbox/reset", content=b" " * (MAX_BODY_BYTES + 1))
    assert_refused(response, 400, "larger than")


@pytest.mark.parametrize("key", ["API-ÉCLAIR", "API-" + "\u00ff" * 40, "API-SANDBOX"])
def test_any_wrong_key_is_a_401_even_one_not_in_ascii(sandbox: SandboxControl, key: str) -> None:
    """Keys are compared in constant time (``hmac.compare_digest``), which refuses non-ASCII str."""
    response = sandbox.call("GET", "/api/Spaces-1/projects", headers={"X-Octopus-ApiKey": key.encode()}, key=None)
    assert (response.status_code, response.json()["ErrorMessage"]) == (401, INVALID_KEY)


def test_a_limited_key_still_works_when_compared_in_constant_time(sandbox: SandboxControl) -> None:
    sandbox.add_api_key("API-LIMITED0000000000000000000000", ["Development"])
    assert sandbox.call("GET", "/api/Spaces-1/projects", key="API-LIMITED0000000000000000000000").status_code == 200
    assert sandbox.call("GET", "/api/Spaces-1/projects", key="API-LIMITED000000000000000000000").status_code == 401


# -- the controls' admin key ----------------------------------------------------------------------


def test_controls_on_loopback_need_no_admin_key_by_default(sandbox: SandboxControl) -> None:
    assert sandbox.server.sandbox.admin_key is None
    assert sandbox.call("POST", "/_sandbox/speed", json={"seconds_per_step": 0.005}, key=None).status_code == 200


def test_a_sandbox_on_every_interface_makes_up_an_admin_key_and_demands_it() -> None:
    with SandboxServer(host="0.0.0.0", port=0, speed=0.005) as server:
        admin_key = server.sandbox.admin_key
        assert admin_key is not None and len(admin_key) >= 24
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
            refused = client.post("/_sandbox/reset", json={"seed": "empty"})
            assert_refused(refused, 401, ADMIN_KEY_HEADER)
            wrong = client.post("/_sandbox/reset", json={"seed": "empty"}, headers={ADMIN_KEY_HEADER: "nope"})
            assert_refused(wrong, 401, ADMIN_KEY_HEADER)
            projects = client.get("/api/Spaces-1/projects", headers={"X-Octopus-ApiKey": server.api_key})
            assert projects.json()["TotalResults"] > 0  # the reset above did not happen
            allowed = client.post("/_sandbox/reset", json={"seed": "empty"}, headers={ADMIN_KEY_HEADER: admin_key})
            assert allowed.status_code == 200
            # the API itself still takes the API key, not the admin key
            assert client.get("/api/Spaces-1/projects", headers={"X-Octopus-ApiKey": admin_key}).status_code == 401


def test_an_admin_key_given_on_loopback_is_demanded_there_too() -> None:
    with SandboxServer(port=0, admin_key="ADMIN-SECRET") as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/_sandbox/requests").status_code == 401
        assert client.get("/_sandbox/requests", headers={ADMIN_KEY_HEADER: "ADMIN-SECRET"}).status_code == 200


def test_the_sandbox_command_prints_the_admin_key_it_demands(spawn) -> None:
    """``octorelease sandbox --host 0.0.0.0`` run as a user runs it; the key comes from the environment."""
    env = {**os.environ, "OCTORELEASE_SANDBOX_ADMIN_KEY": "ADMIN-FROM-ENV"}
    process = spawn([sys.executable, "-m", "octorelease.cli", "sandbox", "--host", "0.0.0.0", "--port", "0"],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert process.stdout is not None
        printed: list[str] = []
        deadline = time.monotonic() + 30
        while not printed or not printed[-1].startswith("Press Ctrl-C"):
            assert time.monotonic() < deadline, printed
            printed.append(process.stdout.readline().rstrip("\n"))
            assert printed[-1] or process.poll() is None, printed
        assert "Admin key for /_sandbox (header X-Sandbox-Admin-Key): ADMIN-FROM-ENV" in printed
        port = printed[0].rsplit(":", 1)[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/_sandbox/requests").status_code == 401
            assert client.get("/_sandbox/requests", headers={ADMIN_KEY_HEADER: "ADMIN-FROM-ENV"}).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
