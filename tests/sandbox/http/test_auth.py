"""API keys: 401 without a valid one (except the root document), 403 beyond a limited key's reach."""

from __future__ import annotations

import pytest

from octorelease.sandbox.errors import INVALID_KEY, MISSING_KEY
from testing.sandbox import SandboxControl

LIMITED = "API-DEVONLY000000000000000000000000"


@pytest.mark.parametrize("path", ["/api", "/api/"])
def test_root_document_is_public(sandbox: SandboxControl, path: str) -> None:
    assert sandbox.call("GET", path, key=None).status_code == 200


@pytest.mark.parametrize(("key", "message"), [(None, MISSING_KEY), ("API-WRONG", INVALID_KEY)])
def test_everything_else_needs_a_valid_key(sandbox: SandboxControl, key: str | None, message: str) -> None:
    for method, path in [("GET", "/api/spaces"), ("GET", "/api/Spaces-1/projects"), ("GET", "/api/tasks/ServerTasks-1"),
                         ("POST", "/api/Spaces-1/deployments"), ("GET", "/api/users/me")]:
        response = sandbox.call(method, path, key=key)
        assert (response.status_code, response.json()) == (
            401, {"ErrorMessage": message, "Errors": [], "ParsedHelpLinks": [], "Details": None})


def test_api_key_may_come_as_a_query_parameter_and_is_not_logged(sandbox: SandboxControl) -> None:
    response = sandbox.call("GET", "/api/Spaces-1/projects", params={"apikey": sandbox.api_key}, key=None)
    assert response.status_code == 200
    assert sandbox.api_key not in str(sandbox.requests())


def test_limited_key_may_not_create_outside_its_environments(sandbox: SandboxControl) -> None:
    sandbox.add_api_key(LIMITED, ["Development"])
    refused = sandbox.call("POST", "/api/Spaces-1/deployments", key=LIMITED,
                           json={"ReleaseId": "Releases-1", "EnvironmentId": "Environments-3"})
    assert refused.status_code == 403
    assert refused.json()["ErrorMessage"] == (
        "You do not have permission to perform this action. Please contact your Octopus administrator. "
        "Missing permission: DeploymentCreate")
    allowed = sandbox.call("POST", "/api/Spaces-1/deployments", key=LIMITED,
                           json={"ReleaseId": "Releases-1", "EnvironmentId": "Environments-1"})
    assert allowed.status_code == 201


def test_limited_key_sees_only_its_environments_in_promote_to(sandbox: SandboxControl) -> None:
    sandbox.add_api_key(LIMITED, ["Development", "Staging"])
    template = sandbox.call("GET", "/api/Spaces-1/releases/Releases-1/deployments/template", key=LIMITED).json()
    assert [e["Name"] for e in template["PromoteTo"]] == ["Development", "Staging"]


def test_reset_forgets_limited_keys(sandbox: SandboxControl) -> None:
    sandbox.add_api_key(LIMITED, ["Development"])
    sandbox.reset()
    assert sandbox.call("GET", "/api/spaces", key=LIMITED).status_code == 401
