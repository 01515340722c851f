"""A POST whose answer is lost is never repeated blindly.

Here the loss is staged on the client's side: a transport wrapper forwards the request to the
real sandbox over HTTP and then loses the answer, as a reset would. ``test_reliability.py`` has
the sandbox itself lose answers and drop connections (``--faults``)."""

from __future__ import annotations

from typing import Any

import httpx

from octorelease import Octopus
from octorelease.octopus.http import OctopusHttp
from octorelease.octopus.retry import TESTING_RETRY_POLICY


class LosesFirstAnswer(httpx.BaseTransport):
    """Forwards everything to the sandbox; the first matching POST is carried out but its
    answer never arrives."""

    def __init__(self, path_suffix: str, *, forward: bool = True) -> None:
        self.inner = httpx.HTTPTransport()
        self.path_suffix = path_suffix
        self.forward = forward
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith(self.path_suffix) and not self.lost:
            self.lost += 1
            if self.forward:
                self.inner.handle_request(request).read()
            raise httpx.ReadError("connection reset by peer", request=request)
        return self.inner.handle_request(request)


def octopus_over(sandbox: Any, transport: httpx.BaseTransport) -> Octopus:
    octopus = Octopus(sandbox.url, sandbox.api_key)
    octopus.http = OctopusHttp(sandbox.url, sandbox.api_key, transport=transport, retry=TESTING_RETRY_POLICY)
    return octopus


def deployments_to(sandbox: Any, environment_id: str) -> list[dict[str, Any]]:
    items = sandbox.get("/api/Spaces-1/deployments", environments=environment_id, take=100)["Items"]
    return [d for d in items if d["EnvironmentId"] == environment_id]


def test_a_deployment_created_before_its_answer_was_lost_is_adopted_not_duplicated(sandbox):
    transport = LosesFirstAnswer("/deployments")
    result = octopus_over(sandbox, transport).promote("Web", source="Test", to=["Staging"])
    assert transport.lost == 1
    assert result.ok, result.error
    (created,) = deployments_to(sandbox, "Environments-3")
    assert result.deployments[0].deployment_id == created["Id"]
    assert result.deployments[0].state == "Success"


def test_a_deployment_that_never_reached_the_server_is_created_once(sandbox):
    transport = LosesFirstAnswer("/deployments", forward=False)
    result = octopus_over(sandbox, transport).promote("Web", source="Test", to=["Staging"])
    assert transport.lost == 1
    assert result.ok, result.error
    assert len(deployments_to(sandbox, "Environments-3")) == 1


def test_a_release_created_before_its_answer_was_lost_is_adopted(sandbox):
    transport = LosesFirstAnswer("/releases/create/v1")
    result = octopus_over(sandbox, transport).create("Web", version="1.5.0", default_package_version="1.3.0")
    assert result.ok, result.error
    versions = [r["Version"] for r in sandbox.get("/api/Spaces-1/projects/Projects-1/releases", take=100)["Items"]]
    assert versions.count("1.5.0") == 1
    assert result.release is not None and result.release.name == "1.5.0"


class AnotherRunCreatesFirst(httpx.BaseTransport):
    """At our POST of release ``version``, another run creates that version (with its own notes)
    and our POST's answer is lost before it reaches the server (``lose=False``: our POST reaches
    the server, which refuses it as a duplicate)."""

    def __init__(self, sandbox: Any, version: str, *, lose: bool = True) -> None:
        self.inner = httpx.HTTPTransport()
        self.sandbox = sandbox
        self.version = version
        self.lose = lose

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/releases/create/v1"):
            self.sandbox.post("/api/Spaces-1/releases/create/v1", {
                "ProjectName": "Web", "ReleaseVersion": self.version, "PackageVersion": "1.3.0",
                "ReleaseNotes": "made by the other run", "SpaceId": "Spaces-1", "SpaceIdOrName": "Spaces-1"})
            if self.lose:
                raise httpx.ReadError("connection reset by peer", request=request)
        return self.inner.handle_request(request)


def test_a_release_made_by_another_run_after_our_post_was_lost_is_not_reported_as_ours(sandbox):
    octopus = octopus_over(sandbox, AnotherRunCreatesFirst(sandbox, "1.5.0"))
    result = octopus.create("Web", version="1.5.0", default_package_version="1.3.0", notes="ours")
    assert result.error is not None
    assert "created meanwhile by another run" in result.error.message
    (made,) = [r for r in sandbox.get("/api/Spaces-1/projects/Projects-1/releases", take=100)["Items"]
               if r["Version"] == "1.5.0"]
    assert made["ReleaseNotes"] == "made by the other run"


def test_with_ignore_existing_a_release_made_by_another_run_is_used_and_said_not_ours(sandbox):
    octopus = octopus_over(sandbox, AnotherRunCreatesFirst(sandbox, "1.5.0"))
    result = octopus.create("Web", version="1.5.0", default_package_version="1.3.0", notes="ours",
                            ignore_existing=True)
    assert result.ok, result.error
    assert result.release_created is False
    assert any("another run created it meanwhile" in m for m in result.messages)
