"""Project variables, and the frozen copy each release keeps of them."""

from __future__ import annotations

from typing import Any

from testing.sandbox import SandboxControl

WEB_VARIABLES = "/api/Spaces-1/projects/Projects-1/variables"


def prompted_labels(sandbox: SandboxControl, release_id: str, environment_id: str = "Environments-1") -> list[str]:
    preview = sandbox.get(f"/api/Spaces-1/releases/{release_id}/deployments/preview/{environment_id}")
    return [e["Control"]["Label"] for e in preview["Form"]["Elements"]]


def put(sandbox: SandboxControl, variable_set: dict[str, Any]) -> Any:
    return sandbox.call("PUT", WEB_VARIABLES, json=variable_set)


def test_project_variables_have_octopus_shape(sandbox: SandboxControl) -> None:
    variables = sandbox.get(WEB_VARIABLES)
    assert variables["Id"] == "variableset-Projects-1" and variables["OwnerId"] == "Projects-1"
    greeting, ticket = variables["Variables"]
    assert (greeting["Name"], greeting["Value"], greeting["Type"], greeting["Prompt"]) == (
        "Greeting", "hello", "String", None)
    assert ticket["Prompt"] == {"Label": "Change ticket", "Description": "The change ticket for this deployment",
                                "Required": False, "DisplaySettings": {}}
    assert sandbox.get(f"/api/Spaces-1/variables/{variables['Id']}") == variables


def test_put_replaces_the_set_and_bumps_its_version(sandbox: SandboxControl) -> None:
    current = sandbox.get(WEB_VARIABLES)
    current["Variables"] = [{"Name": "Greeting", "Value": "bonjour"}, {"Name": "Colour", "Value": "blue"}]
    saved = put(sandbox, current).json()
    assert saved["Version"] == current["Version"] + 1
    assert [(v["Name"], v["Value"]) for v in saved["Variables"]] == [("Greeting", "bonjour"), ("Colour", "blue")]
    assert all(v["Id"] for v in saved["Variables"])


def test_put_with_a_stale_version_is_a_conflict(sandbox: SandboxControl) -> None:
    current = sandbox.get(WEB_VARIABLES)
    assert put(sandbox, current).status_code == 200
    assert put(sandbox, current).status_code == 409


def test_sensitive_values_are_never_returned_and_survive_a_round_trip(sandbox: SandboxControl) -> None:
    current = sandbox.get(WEB_VARIABLES)
    current["Variables"].append({"Name": "Password", "Value": "s3cret", "IsSensitive": True})
    saved = put(sandbox, current).json()
    password = saved["Variables"][-1]
    assert (password["Value"], password["Type"]) == (None, "Sensitive")
    assert put(sandbox, saved).status_code == 200
    assert "s3cret" not in str(sandbox.get(WEB_VARIABLES))


def test_release_keeps_its_snapshot_until_snapshot_variables(sandbox: SandboxControl) -> None:
    current = sandbox.get(WEB_VARIABLES)
    current["Variables"].append({"Name": "Region", "Value": "", "Prompt": {"Label": "Region", "Required": True}})
    put(sandbox, current)
    assert prompted_labels(sandbox, "Releases-1") == ["Change ticket"]
    before = sandbox.get("/api/Spaces-1/releases/Releases-1")["ProjectVariableSetSnapshotId"]
    refreshed = sandbox.post("/api/Spaces-1/releases/Releases-1/snapshot-variables")
    assert refreshed["ProjectVariableSetSnapshotId"] != before
    assert prompted_labels(sandbox, "Releases-1") == ["Change ticket", "Region"]
    refused = sandbox.call("POST", "/api/Spaces-1/deployments",
                           json={"ReleaseId": "Releases-1", "EnvironmentId": "Environments-3"})
    assert refused.json()["Errors"] == ["Please provide a variable for the prompted value Region"]


def test_update_variable_snapshot_on_deploy_takes_the_new_variables(sandbox: SandboxControl) -> None:
    current = sandbox.get(WEB_VARIABLES)
    current["Variables"].append({"Name": "Region", "Value": "", "Prompt": {"Label": "Region", "Required": True}})
    put(sandbox, current)
    body = {"SpaceIdOrName": "Spaces-1",
            "ProjectName": "Web", "ReleaseVersion": "1.0.0", "EnvironmentNames": ["Staging"],
            "UpdateVariableSnapshot": True}
    refused = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1", json=body)
    assert refused.json()["Errors"] == ["Please provide a variable for the prompted value Region"]
    ok = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1",
                      json={**body, "Variables": {"Region": "eu"}})
    assert ok.status_code == 200
    assert prompted_labels(sandbox, "Releases-1") == ["Change ticket", "Region"]


def test_snapshot_of_a_release_cannot_be_changed(sandbox: SandboxControl) -> None:
    snapshot_id = sandbox.get("/api/Spaces-1/releases/Releases-1")["ProjectVariableSetSnapshotId"]
    snapshot = sandbox.get(f"/api/Spaces-1/variables/{snapshot_id}")
    assert sandbox.call("PUT", f"/api/Spaces-1/variables/{snapshot_id}", json=snapshot).status_code == 400
