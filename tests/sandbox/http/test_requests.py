"""Requests are read the way Octopus reads them, and no input, however bad, gets a 500."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from octorelease.sandbox.http.middleware import Gate
from octorelease.sandbox.http.server import SandboxServer
from testing.sandbox import SandboxControl


def test_bodies_bind_case_insensitively_and_ignore_unknown_fields(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1", json={
        "spaceId": "Spaces-1", "spaceIdOrName": "Default", "projectName": "Web", "releaseVersion": "1.0.0",
        "environmentNames": ["Staging"], "forcePackageDownload": True, "somethingNew": {"x": 1}})
    assert response.status_code == 200, response.text
    deployment_id = response.json()["DeploymentServerTasks"][0]["DeploymentId"]
    assert sandbox.get(f"/api/Spaces-1/deployments/{deployment_id}")["ForcePackageDownload"] is True


def test_dotnet_booleans_in_queries(sandbox: SandboxControl) -> None:
    for value in ("True", "true", "TRUE"):
        items = sandbox.get("/api/Spaces-1/dashboard/dynamic", projects="Projects-1",
                            environments="Environments-1", includePrevious=value)["Items"]
        assert len(items) == 2


def test_method_override_turns_a_post_into_a_put(sandbox: SandboxControl) -> None:
    current = sandbox.get("/api/Spaces-1/projects/Projects-1/variables")
    response = sandbox.call("POST", "/api/Spaces-1/projects/Projects-1/variables", json=current,
                            headers={"X-HTTP-Method-Override": "PUT"})
    assert response.status_code == 200
    assert response.json()["Version"] == current["Version"] + 1
    assert sandbox.requests()[-1]["method"] == "PUT"


def test_every_api_request_is_recorded_without_headers(sandbox: SandboxControl) -> None:
    sandbox.get("/api/Spaces-1/machines", roles="web", take=2)
    assert sandbox.requests() == [{"method": "GET", "path": "/api/Spaces-1/machines", "query": "roles=web&take=2",
                                   "status": 200}]
    sandbox.clear_requests()
    assert sandbox.requests() == []


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("GET", "/api/nothing/here", None, 404),
    ("GET", "/api/Spaces-1/projects/Projects-99", None, 404),
    ("GET", "/api/Spaces-9/projects", None, 404),
    ("GET", "/api/tasks/ServerTasks-999", None, 404),
    ("DELETE", "/api/Spaces-1/projects", None, 405),
    ("GET", "/api/Spaces-1/machines?take=abc", None, 400),
    ("GET", "/api/Spaces-1/machines?skip=-1", None, 400),
    ("GET", "/api/Spaces-1/machines?isDisabled=perhaps", None, 400),
    ("POST", "/api/Spaces-1/deployments", b"{not json", 400),
    ("POST", "/api/Spaces-1/deployments", b"[1, 2]", 400),
    ("POST", "/api/Spaces-1/deployments", b"{}", 400),
    ("POST", "/api/Spaces-1/deployments", b'{"ReleaseId": 5, "EnvironmentId": ["x"]}', 400),
    ("POST", "/api/Spaces-1/deployments", b'{"ReleaseId": "Releases-1", "EnvironmentId": "Environments-3", '
                                          b'"QueueTime": "tomorrow"}', 400),
    ("POST", "/api/Spaces-1/deployments", b'{"ReleaseId": "Releases-1", "EnvironmentId": "Environments-3", '
                                          b'"FormValues": [1]}', 400),
    ("POST", "/api/Spaces-1/releases/create/v1", b'{"ProjectName": null}', 400),
    ("POST", "/api/Spaces-1/releases/create/v1", b'{"ProjectName": "Web", "Packages": ["nocolon"]}', 400),
    ("POST", "/api/Spaces-1/deployments/create/untenanted/v1", b'{"EnvironmentNames": {"a": 1}}', 400),
    ("PUT", "/api/Spaces-1/projects/Projects-1/variables", b'{"Variables": [{"Name": ""}]}', 400),
    ("PUT", "/api/Spaces-1/projects/Projects-1/variables", b'{"Variables": "x"}', 400),
    ("POST", "/api/tasks/ServerTasks-1/cancel", b"garbage", 400),
])
def test_bad_requests_get_an_octopus_error_never_a_500(sandbox: SandboxControl, method: str, path: str,
                                                       body: bytes | None, status: int) -> None:
    response = sandbox.call(method, path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert set(response.json()) == {"ErrorMessage", "Errors", "ParsedHelpLinks", "Details"}


def test_control_endpoints_refuse_bad_input_politely(sandbox: SandboxControl) -> None:
    assert sandbox.call("POST", "/_sandbox/reset", json={"seed": "nope"}, key=None).status_code == 400
    assert sandbox.call("POST", "/_sandbox/speed", json={"seconds_per_step": "fast"}, key=None).status_code == 400
    assert sandbox.call("POST", "/_sandbox/api-keys", json={}, key=None).status_code == 400


def test_an_unexpected_error_is_served_as_a_500_envelope_without_a_traceback(sandbox_server: SandboxServer) -> None:
    async def broken_app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("internal detail")

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=Gate(broken_app, sandbox_server.sandbox))
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            return await client.get("/_sandbox/anything")

    response = asyncio.run(call())
    assert response.status_code == 500
    assert response.json() == {"ErrorMessage": "The sandbox could not handle this request (RuntimeError).",
                               "Errors": [], "ParsedHelpLinks": [], "Details": None}
    assert "internal detail" not in response.text
