"""The sandbox is as strict as the real Octopus Server where the server's reference says so.

Sources: OctopusDeploy/docs ``src/pages/docs/api/_generated/`` (routes, their "also reachable at"
aliases, answer fields), the official clients' error models (go-octopusdeploy ``APIError``,
api-client.ts), and OctopusDeploy/Issues for the server's own words. Each refusal here was run
once with a fault written into the sandbox on purpose, to see it fail.
"""

from __future__ import annotations

from typing import Any

import pytest

from testing import conformance
from testing.sandbox import SandboxControl

ENVELOPE = {"ErrorMessage", "Errors", "ParsedHelpLinks", "Details"}
RELEASE_EXISTS = ("Release '1.0.0' already exists for this project. Please use a different version, or look at "
                  "using a mask to auto-increment the number.")
UNTENANTED = {"ProjectName": "Web", "ReleaseVersion": "1.2.0", "EnvironmentNames": ["Development"],
              "SpaceId": "Spaces-1", "SpaceIdOrName": "Spaces-1"}


def deployments_of(sandbox: SandboxControl, release_id: str) -> int:
    return int(sandbox.get(f"/api/Spaces-1/releases/{release_id}/deployments")["TotalResults"])


@pytest.mark.parametrize("path", ["/api/deployments/create/untenanted/v1", "/api/deployments/create/tenanted/v1"])
def test_executions_deployments_have_no_unscoped_alias(sandbox: SandboxControl, path: str) -> None:
    """deployments.md: only ``/api/{spaceId}/...`` and ``/api/spaces/{spaceIdentifier}/...``."""
    before = deployments_of(sandbox, "Releases-3")
    response = sandbox.call("POST", path, json={**UNTENANTED, "EnvironmentName": "Development", "Tenants": ["*"]})
    assert response.status_code == 404, response.text
    assert set(response.json()) == ENVELOPE
    assert deployments_of(sandbox, "Releases-3") == before


@pytest.mark.parametrize("prefix", ["/api/Spaces-1", "/api/spaces/Spaces-1"])
def test_executions_deployments_answer_at_their_documented_paths(sandbox: SandboxControl, prefix: str) -> None:
    response = sandbox.call("POST", f"{prefix}/deployments/create/untenanted/v1", json=UNTENANTED)
    assert response.status_code == 200, response.text
    assert [set(d) for d in response.json()["DeploymentServerTasks"]] == [{"DeploymentId", "ServerTaskId"}]


@pytest.mark.parametrize("prefix", ["/api/Spaces-1", "/api/spaces/Spaces-1", "/api"])
def test_executions_release_creation_answers_at_its_three_documented_paths(sandbox: SandboxControl,
                                                                           prefix: str) -> None:
    response = sandbox.call("POST", f"{prefix}/releases/create/v1",
                            json={"ProjectName": "Web", "SpaceId": "Spaces-1", "SpaceIdOrName": "Spaces-1"})
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"ReleaseId", "ReleaseVersion"}


@pytest.mark.parametrize(("path", "body"), [
    ("/api/Spaces-1/releases/create/v1", {"ProjectName": "Web", "ReleaseVersion": "1.0.0"}),
    ("/api/Spaces-1/releases", {"ProjectId": "Projects-1", "Version": "1.0.0"}),
])
def test_an_existing_version_gets_the_real_servers_words(sandbox: SandboxControl, path: str,
                                                         body: dict[str, Any]) -> None:
    """OctopusDeploy/Issues #7513, #5736 and #888 quote it; the API documents it for POST releases."""
    before = sandbox.census()
    response = sandbox.call("POST", path, json={**body, "SpaceId": "Spaces-1", "SpaceIdOrName": "Spaces-1"})
    assert response.status_code == 400
    assert response.json() == {"ErrorMessage": "There was a problem with your request.", "Errors": [RELEASE_EXISTS],
                               "ParsedHelpLinks": [], "Details": None}
    assert sandbox.census() == before


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/Spaces-1/projects/Nowhere", 404),
    ("POST", "/api/Spaces-1/deployments", 400),
    ("DELETE", "/api/Spaces-1/releases/create/v1", 405),
])
def test_every_refusal_carries_the_four_fields_of_octopus_error(sandbox: SandboxControl, method: str, path: str,
                                                                 status: int) -> None:
    """go-octopusdeploy's ``APIError`` and api-client.ts read ``ErrorMessage``, ``Errors``,
    ``ParsedHelpLinks`` (a list) and ``Details`` (Go: a string, so never an object)."""
    response = sandbox.call(method, path, json={})
    assert response.status_code == status
    body = response.json()
    assert set(body) == ENVELOPE
    assert (type(body["Errors"]), body["ParsedHelpLinks"], body["Details"]) == (list, [], None)


#: answer fields the reference lists, with their JSON types (tasks.md, projects.md, deployments.md,
#: home.md); go-octopusdeploy's Channel for ``Type``
DOCUMENTED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "task": {"HasPendingInterruptions": bool, "PendingInterruptionTypes": list, "HasPendingPreconditions": bool,
             "PendingPreconditionTypes": list, "EstimatedRemainingQueueDurationSeconds": int,
             "HasBeenPickedUpByProcessor": bool, "LastUpdatedTime": str, "ServerNode": str, "CanRerun": bool},
    "project": {"PersistenceSettings": dict, "IsVersionControlled": bool},
    "deployment": {"SpecificTargetTagIds": list, "ExcludedTargetTagIds": list, "Priority": str},
    "root": {"Version": str, "ApiVersion": str, "Application": str, "InstallationId": str,
             "IsEarlyAccessProgram": bool, "HasLongTermSupport": bool, "Links": dict},
    "channel": {"Type": str},
}


def resource(sandbox: SandboxControl, kind: str) -> dict[str, Any]:
    if kind == "task":
        deployment = sandbox.get("/api/Spaces-1/deployments")["Items"][0]
        return dict(sandbox.get(f"/api/Spaces-1/tasks/{deployment['TaskId']}"))
    path = {"project": "/api/Spaces-1/projects/Projects-1", "root": "/api",
            "deployment": "/api/Spaces-1/deployments/Deployments-1", "channel": "/api/Spaces-1/channels/Channels-1"}
    return dict(sandbox.get(path[kind]))


@pytest.mark.parametrize("kind", sorted(DOCUMENTED))
def test_resources_carry_every_documented_field(sandbox: SandboxControl, kind: str) -> None:
    found = resource(sandbox, kind)
    wrong = {name: found.get(name, "(absent)") for name, kind_of in DOCUMENTED[kind].items()
             if not isinstance(found.get(name), kind_of) or isinstance(found.get(name), bool) != (kind_of is bool)}
    assert not wrong, f"{kind}: {wrong}"


def test_documented_field_values_are_what_the_sandbox_emulates(sandbox: SandboxControl) -> None:
    """The demo's first task waits for no one and its first project is kept in the database: the
    documented values of a task with nothing pending, a database project and a lifecycle channel."""
    task = resource(sandbox, "task")
    assert (task["HasPendingInterruptions"], task["PendingInterruptionTypes"], task["HasPendingPreconditions"],
            task["PendingPreconditionTypes"]) == (False, [], False, [])
    project = resource(sandbox, "project")
    assert (project["PersistenceSettings"], project["IsVersionControlled"]) == ({"Type": "Database"}, False)
    assert resource(sandbox, "channel")["Type"] == "Lifecycle"
    root = resource(sandbox, "root")
    assert root["Links"]["Self"] == "/api" and root["ApiVersion"].startswith("3.0.")
    major, minor = (int(n) for n in root["Version"].split(".")[:2])
    assert (major, minor) >= (2022, 3), "the executions API needs 2022.3 or later"


#: (path, a body the route takes, the fields it must have): the executions API and the previews,
#: under a space and without one (where ``SpaceId`` cannot come from the path)
REQUIRED: list[tuple[str, dict[str, Any], list[str]]] = [
    ("/api/Spaces-1/releases/create/v1", {"ProjectName": "Web", "SpaceIdOrName": "Spaces-1"},
     ["ProjectName", "SpaceIdOrName"]),
    ("/api/releases/create/v1", {"ProjectName": "Web", "SpaceId": "Spaces-1", "SpaceIdOrName": "Spaces-1"},
     ["ProjectName", "SpaceId", "SpaceIdOrName"]),
    ("/api/Spaces-1/deployments/create/untenanted/v1", UNTENANTED,
     ["EnvironmentNames", "ProjectName", "ReleaseVersion", "SpaceIdOrName"]),
    ("/api/spaces/Spaces-1/deployments/create/tenanted/v1",
     {**UNTENANTED, "EnvironmentName": "Test", "ReleaseVersion": "1.0.0", "Tenants": ["*"]},
     ["EnvironmentName", "ProjectName", "ReleaseVersion", "SpaceIdOrName"]),
    ("/api/Spaces-1/releases/Releases-3/deployments/previews",
     {"DeploymentPreviews": [{"EnvironmentId": "Environments-1"}], "ReleaseId": "Releases-3"},
     ["DeploymentPreviews", "ReleaseId"]),
    ("/api/releases/Releases-3/deployments/previews",
     {"DeploymentPreviews": [{"EnvironmentId": "Environments-1"}], "ReleaseId": "Releases-3", "SpaceId": "Spaces-1"},
     ["DeploymentPreviews", "ReleaseId", "SpaceId"]),
]
MISSING = [(path, body, name) for path, body, names in REQUIRED for name in names]


def missing(*names: str) -> dict[str, Any]:
    """The real server's answer to a body without required fields (OctopusDeploy/cli issue #217:
    the Go client printed "Octopus API error: The Resource field is required. []")."""
    return {"ErrorMessage": " ".join(f"The {n} field is required." for n in names), "Errors": [],
            "ParsedHelpLinks": [], "Details": None}


@pytest.mark.parametrize(("path", "body", "name"), MISSING, ids=[f"{p} {n}" for p, _, n in MISSING])
def test_a_required_field_left_out_or_blank_is_refused_naming_it(sandbox: SandboxControl, path: str,
                                                                 body: dict[str, Any], name: str) -> None:
    before = sandbox.census()
    without = {k: v for k, v in body.items() if k != name}
    for sent in (without, {**without, name: None}, *([{**body, name: "  "}] if isinstance(body[name], str) else [])):
        response = sandbox.call("POST", path, json=sent)
        assert (response.status_code, response.json()) == (400, missing(name)), sent
    assert sandbox.census() == before


@pytest.mark.parametrize(("path", "body", "names"), REQUIRED, ids=[p for p, _, _ in REQUIRED])
def test_the_body_with_its_required_fields_is_taken_and_without_them_all_are_named(
        sandbox: SandboxControl, path: str, body: dict[str, Any], names: list[str]) -> None:
    assert sandbox.call("POST", path, json={}).json() == missing(*names)
    assert sandbox.call("POST", path, json=body).status_code in (200, 201)


def test_the_fields_required_are_the_conformance_tables() -> None:
    """SpaceId aside (a space-scoped path gives it, as the official npm client relies on), the
    sandbox requires what the reference does: tests/conformance/routes.yaml."""
    for path, _, names in REQUIRED:
        row = conformance.row_for("POST", path)
        assert row is not None, path
        spaced = "/Spaces-1/" in path
        assert set(names) == set(row.required) - ({"SpaceId"} if spaced else set()), path


def test_an_empty_list_of_environments_is_not_refused(sandbox: SandboxControl) -> None:
    """deployments.md: "an empty list is not rejected, it simply deploys nothing"."""
    response = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1",
                            json={**UNTENANTED, "EnvironmentNames": []})
    assert (response.status_code, response.json()) == (200, {"DeploymentServerTasks": []})
