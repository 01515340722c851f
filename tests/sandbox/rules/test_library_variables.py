"""Library variable sets: listed, read, edited, included by projects, and frozen into releases
(octopus-api-more.md §4); runbook collections answer empty (§5)."""

from __future__ import annotations

import pytest

from testing.sandbox import SandboxControl

SHARED = "LibraryVariableSets-1"


def test_library_sets_are_listed_filtered_and_read_one_by_one(sandbox: SandboxControl) -> None:
    page = sandbox.get("/api/Spaces-1/libraryvariablesets", contentType="Variables")
    assert (page["ItemType"], [s["Name"] for s in page["Items"]]) == ("LibraryVariableSet", ["Shared settings"])
    assert sandbox.get("/api/Spaces-1/libraryvariablesets", contentType="ScriptModule")["Items"] == []
    shared = sandbox.get(f"/api/Spaces-1/libraryvariablesets/{SHARED}")
    assert shared == page["Items"][0] == sandbox.get("/api/Spaces-1/libraryvariablesets/all")[0]
    assert (shared["VariableSetId"], shared["ContentType"]) == (f"variableset-{SHARED}", "Variables")
    variables = sandbox.get(shared["Links"]["Variables"])
    assert (variables["OwnerId"], [(v["Name"], v["Value"]) for v in variables["Variables"]]) == (
        SHARED, [("Region", "eu-west-1")])


def test_a_release_snapshots_the_library_sets_its_project_includes(sandbox: SandboxControl) -> None:
    assert sandbox.get("/api/Spaces-1/projects/Projects-1")["IncludedLibraryVariableSetIds"] == [SHARED]
    release = sandbox.post("/api/Spaces-1/releases/create/v1", {"SpaceIdOrName": "Spaces-1",
                                                                "ProjectName": "Web", "ReleaseVersion": "5.0.0"})
    (snapshot_id,) = sandbox.get(f"/api/Spaces-1/releases/{release['ReleaseId']}")["LibraryVariableSetSnapshotIds"]
    assert snapshot_id.startswith(f"variableset-{SHARED}-s-")
    set_id = f"variableset-{SHARED}"
    live = sandbox.get(f"/api/Spaces-1/variables/{set_id}")
    live["Variables"][0]["Value"] = "us-east-1"
    sandbox.call("PUT", f"/api/Spaces-1/variables/{set_id}", json=live).raise_for_status()
    frozen = sandbox.get(f"/api/Spaces-1/variables/{snapshot_id}")
    assert [v["Value"] for v in frozen["Variables"]] == ["eu-west-1"], "the release keeps what it was made with"
    refreshed = sandbox.post(f"/api/Spaces-1/releases/{release['ReleaseId']}/snapshot-variables")
    (new_id,) = refreshed["LibraryVariableSetSnapshotIds"]
    assert [v["Value"] for v in sandbox.get(f"/api/Spaces-1/variables/{new_id}")["Variables"]] == ["us-east-1"]


def test_a_prompted_library_variable_is_asked_for_and_required(sandbox: SandboxControl) -> None:
    created = sandbox.call("POST", "/api/Spaces-1/libraryvariablesets", json={"Name": "Approvals"})
    assert created.status_code == 201, created.text
    approvals = created.json()
    sandbox.call("PUT", approvals["Links"]["Variables"], json={"Variables": [
        {"Name": "Approver", "Value": "", "Prompt": {"Label": "Approver", "Required": True}}]}).raise_for_status()
    project = sandbox.get("/api/Spaces-1/projects/Projects-2")
    project["IncludedLibraryVariableSetIds"] = [approvals["Id"]]
    sandbox.call("PUT", "/api/Spaces-1/projects/Projects-2", json=project).raise_for_status()
    release = sandbox.post("/api/Spaces-1/releases/create/v1", {"SpaceIdOrName": "Spaces-1",
                                                                "ProjectName": "Worker", "ReleaseVersion": "2.5.0"})
    preview = sandbox.get(f"/api/Spaces-1/releases/{release['ReleaseId']}/deployments/preview/Environments-1")
    assert [e["Control"]["Label"] for e in preview["Form"]["Elements"]] == ["Approver"]
    refused = sandbox.call("POST", "/api/Spaces-1/deployments", json={"ReleaseId": release["ReleaseId"],
                                                                      "EnvironmentId": "Environments-1"})
    assert refused.status_code == 400
    assert refused.json()["Errors"] == ["Please provide a variable for the prompted value Approver"]


def test_including_an_unknown_set_is_refused_and_changes_nothing(sandbox: SandboxControl) -> None:
    response = sandbox.call("PUT", "/api/Spaces-1/projects/Projects-2",
                            json={"IncludedLibraryVariableSetIds": ["LibraryVariableSets-99"]})
    assert response.status_code == 400
    assert response.json()["Errors"] == ["The library variable set 'LibraryVariableSets-99' does not exist."]
    assert sandbox.get("/api/Spaces-1/projects/Projects-2")["IncludedLibraryVariableSetIds"] == []


@pytest.mark.parametrize(("body", "error"), [
    ({}, "Please provide a name for the library variable set."),
    ({"Name": "shared SETTINGS"}, "A library variable set with the name 'shared SETTINGS' already exists."),
    ({"Name": "X", "ContentType": "Certificates"}, "The content type 'Certificates' is not one of 'Variables', "
                                                   "'ScriptModule'."),
])
def test_bad_library_sets_are_refused(sandbox: SandboxControl, body: dict[str, str], error: str) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/libraryvariablesets", json=body)
    assert (response.status_code, response.json()["Errors"]) == (400, [error])
    assert len(sandbox.get("/api/Spaces-1/libraryvariablesets/all")) == 1


def test_variable_sets_are_listed_by_ids(sandbox: SandboxControl) -> None:
    sets = sandbox.get("/api/Spaces-1/variables", ids=f"variableset-Projects-1,variableset-{SHARED}")
    assert sorted(s["OwnerId"] for s in sets) == [SHARED, "Projects-1"]


@pytest.mark.parametrize("path", ["/api/Spaces-1/projects/Projects-1/runbooks", "/api/Spaces-1/runbooks",
                                  "/api/Spaces-1/runbookSnapshots", "/api/Spaces-1/runbookRuns",
                                  "/api/Spaces-1/runbookProcesses"])
def test_runbook_collections_are_empty_pages(sandbox: SandboxControl, path: str) -> None:
    page = sandbox.get(path, take=2147483647)
    assert (page["TotalResults"], page["Items"]) == (0, [])
    assert "Page.Next" not in page["Links"]


def test_runbooks_of_an_unknown_project_are_not_found(sandbox: SandboxControl) -> None:
    assert sandbox.call("GET", "/api/Spaces-1/projects/Projects-99/runbooks").status_code == 404
    assert sandbox.get("/api/Spaces-1/runbooks/all") == []
    assert sandbox.call("GET", "/api/Spaces-1/runbooks/Runbooks-1").status_code == 404


def test_the_template_says_when_variables_changed_since_the_release_snapshotted_them(sandbox: SandboxControl) -> None:
    def drift() -> tuple[bool, bool]:
        template = sandbox.get("/api/Spaces-1/releases/Releases-1/deployments/template")
        return template["IsVariableSetModified"], template["IsLibraryVariableSetModified"]

    assert drift() == (False, False)
    shared = sandbox.get(f"/api/Spaces-1/variables/variableset-{SHARED}")
    sandbox.call("PUT", f"/api/Spaces-1/variables/variableset-{SHARED}", json=shared).raise_for_status()
    assert drift() == (False, True)
    web = sandbox.get("/api/Spaces-1/projects/Projects-1/variables")
    sandbox.call("PUT", "/api/Spaces-1/projects/Projects-1/variables", json=web).raise_for_status()
    assert drift() == (True, True)
    sandbox.post("/api/Spaces-1/releases/Releases-1/snapshot-variables")
    assert drift() == (False, False)
