"""A promotion to several environments creates them in the order that keeps its plan valid,
and when the server still refuses one after others were created, it says exactly which."""

from __future__ import annotations

from typing import Any

import httpx

from octorelease import Octopus
from octorelease.octopus.http import API_KEY_HEADER, OctopusHttp
from octorelease.octopus.retry import TESTING_RETRY_POLICY
from testing.sandbox import SandboxControl

TEST, STAGING = "Environments-2", "Environments-3"


def deployments_to(sandbox: SandboxControl, environment_id: str) -> list[dict[str, Any]]:
    items = sandbox.get("/api/Spaces-1/deployments", environments=environment_id, take=100)["Items"]
    return [d for d in items if d["ProjectId"] == "Projects-1"]


def test_redeploying_an_earlier_phase_with_a_later_one_creates_the_later_first_and_succeeds(sandbox, octorelease):
    first = octorelease("promote", "--project", "Web", "--from", "Development", "--to", "Test")
    assert first.code == 0, first.err
    run = octorelease(
        "promote", "--project", "Web", "--from", "Development", "--to", "Test", "--to", "Staging",
        "--force-redeploy", "--json",
    )
    assert run.code == 0, run.everything
    assert [d["environment"] for d in run.json["deployments"]] == ["Test", "Staging"]  # as asked
    assert all(d["state"] == "Success" for d in run.json["deployments"])
    assert len(deployments_to(sandbox, TEST)) == 3  # the seed's, the first promotion's, the redeploy
    assert len(deployments_to(sandbox, STAGING)) == 1
    (staging,) = deployments_to(sandbox, STAGING)
    test_redeploy = deployments_to(sandbox, TEST)[0]
    assert staging["Created"] <= test_redeploy["Created"]  # the later phase was created first


class LosesPermissionForTest(httpx.BaseTransport):
    """Forwards to the sandbox; from the second ``POST /deployments`` on, the requests carry a key
    that may deploy to Staging only, as if the permission were taken away mid-run."""

    def __init__(self, limited_key: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.limited_key = limited_key
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/deployments"):
            self.posts += 1
            if self.posts > 1:
                request.headers[API_KEY_HEADER] = self.limited_key
        return self.inner.handle_request(request)


def test_a_target_refused_after_others_were_created_names_what_was_created_and_what_not(
    sandbox: SandboxControl,
) -> None:
    sandbox.add_api_key("API-STAGINGONLY0000000000000000", ["Staging"])
    octopus = Octopus(sandbox.url, sandbox.api_key)
    octopus.http = OctopusHttp(sandbox.url, sandbox.api_key, retry=TESTING_RETRY_POLICY,
                               transport=LosesPermissionForTest("API-STAGINGONLY0000000000000000"))
    octopus.promote("Web", source="Development", to=["Test"])
    result = octopus.promote("Web", source="Development", to=["Test", "Staging"], force_redeploy=True,
                             wait=None)
    assert result.error is not None
    message = result.error.message
    assert "Created: Staging (" in message and "Not created: Test" in message, message
    doc = result.to_dict(lambda e: 4)
    assert [d["environment"] for d in doc["deployments"]] == ["Staging"]
    assert doc["deployments"][0]["deployment_id"] == deployments_to(sandbox, STAGING)[0]["Id"]
    assert [n["environment"] for n in doc["not_created"]] == ["Test"]
    assert "403" in doc["not_created"][0]["reason"] or "denied" in doc["not_created"][0]["reason"].lower()
