"""Creating releases and deployments: classic endpoints and the executions API (octopus-api.md §4.1)."""

from __future__ import annotations

from typing import Any

import pytest

from testing.sandbox import SandboxControl


def create_release(sandbox: SandboxControl, **body: Any) -> Any:
    return sandbox.call("POST", "/api/Spaces-1/releases/create/v1", json={"SpaceIdOrName": "Spaces-1",
                                                                          "ProjectName": "Web", **body})


def test_release_without_a_version_gets_the_next_one_and_the_newest_packages(sandbox: SandboxControl) -> None:
    response = create_release(sandbox)
    assert response.status_code == 201
    assert response.json() == {"ReleaseId": "Releases-6", "ReleaseVersion": "1.2.1"}
    release = sandbox.get("/api/Spaces-1/releases/Releases-6")
    assert release["SelectedPackages"] == [
        {"ActionName": "Deploy web", "StepName": "Deploy web", "PackageReferenceName": "", "Version": "1.3.0"}]
    assert release["ChannelId"] == "Channels-1"


@pytest.mark.parametrize(("body", "version"), [
    ({"PackageVersion": "1.1.0"}, "1.1.0"),
    ({"Packages": ["Deploy web:1.0.0"]}, "1.0.0"),
    ({"Packages": ["Web:1.2.0"], "PackageVersion": "1.1.0"}, "1.2.0"),
])
def test_package_versions_by_default_or_per_step(sandbox: SandboxControl, body: dict[str, Any], version: str) -> None:
    release_id = create_release(sandbox, ReleaseVersion="5.0.0", **body).json()["ReleaseId"]
    assert sandbox.get(f"/api/Spaces-1/releases/{release_id}")["SelectedPackages"][0]["Version"] == version


def test_package_version_missing_from_the_feed_is_refused_by_name(sandbox: SandboxControl) -> None:
    response = create_release(sandbox, PackageVersion="9.9.9")
    assert response.status_code == 400
    assert response.json()["Errors"] == [
        "The package 'Web' version '9.9.9' (step 'Deploy web') could not be found in the built-in feed."]


def test_published_package_version_can_be_used(sandbox: SandboxControl) -> None:
    sandbox.publish_package("Web", "1.4.0")
    assert create_release(sandbox, ReleaseVersion="1.4.0", PackageVersion="1.4.0").status_code == 201


def test_existing_version_is_refused_unless_ignore_if_already_exists(sandbox: SandboxControl) -> None:
    refused = create_release(sandbox, ReleaseVersion="1.0.0")
    assert refused.status_code == 400
    assert refused.json() == {  # the real server's words (its API's documented 400; OctopusDeploy/Issues #7513)
        "ErrorMessage": "There was a problem with your request.",
        "Errors": ["Release '1.0.0' already exists for this project. Please use a different version, or look at "
                   "using a mask to auto-increment the number."],
        "ParsedHelpLinks": [], "Details": None,
    }
    existing = create_release(sandbox, ReleaseVersion="1.0.0", IgnoreIfAlreadyExists=True)
    assert existing.json() == {"ReleaseId": "Releases-1", "ReleaseVersion": "1.0.0"}


def test_classic_release_needs_a_version_of_reasonable_length(sandbox: SandboxControl) -> None:
    missing = sandbox.call("POST", "/api/Spaces-1/releases", json={"ProjectId": "Projects-1", "Version": "  "})
    assert missing.json()["Errors"] == ["Please provide a version number for this release."]
    long = sandbox.call("POST", "/api/Spaces-1/releases", json={"ProjectId": "Projects-1", "Version": "1" * 350})
    assert long.json()["Errors"] == ["The version number is too long. Please enter a shorter version number."]
    created = sandbox.call("POST", "/api/Spaces-1/releases", json={
        "ProjectId": "Projects-1", "Version": " 2.0.0 ", "ReleaseNotes": "Big one",
        "SelectedPackages": [{"ActionName": "Deploy web", "Version": "1.1.0"}]})
    assert created.status_code == 201
    body = created.json()
    assert (body["Version"], body["ReleaseNotes"], body["SelectedPackages"][0]["Version"]) == (
        "2.0.0", "Big one", "1.1.0")
    assert body["Links"]["DeploymentTemplate"] == f"/api/Spaces-1/releases/{body['Id']}/deployments/template"


def test_classic_deployment_echoes_every_writeable_field(sandbox: SandboxControl) -> None:
    body = {"ReleaseId": "Releases-1", "EnvironmentId": "Environments-3", "TenantId": None,
            "ForcePackageDownload": True, "ForcePackageRedeployment": True, "SkipActions": [],
            "SpecificMachineIds": ["Machines-4"], "ExcludedMachineIds": ["Machines-5"], "UseGuidedFailure": True,
            "Comments": "Promoted by build 42", "FormValues": {}, "QueueTime": None, "QueueTimeExpiry": None}
    response = sandbox.call("POST", "/api/Spaces-1/deployments", json=body)
    assert response.status_code == 201
    created = response.json()
    assert {k: created[k] for k in body} == body
    assert (created["Name"], created["ProjectId"], created["ChannelId"]) == (
        "Deploy to Staging", "Projects-1", "Channels-1")
    assert created["TaskId"].startswith("ServerTasks-")


def test_untenanted_v1_creates_one_deployment_per_environment(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1", json={
        "SpaceIdOrName": "Spaces-1",
        "ProjectName": "Worker", "ReleaseVersion": "2.0.0", "EnvironmentNames": ["Test", "staging"]})
    assert response.status_code == 200
    tasks = response.json()["DeploymentServerTasks"]
    assert [set(t) for t in tasks] == [{"DeploymentId", "ServerTaskId"}] * 2
    environments = [sandbox.get(f"/api/Spaces-1/deployments/{t['DeploymentId']}")["EnvironmentId"] for t in tasks]
    assert environments == ["Environments-2", "Environments-3"]


def test_v1_machine_names_unknown_specific_is_refused_unknown_excluded_ignored(sandbox: SandboxControl) -> None:
    body = {"SpaceIdOrName": "Spaces-1",
            "ProjectName": "Web", "ReleaseVersion": "1.0.0", "EnvironmentNames": ["Staging"]}
    refused = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1",
                           json={**body, "SpecificMachineNames": ["stage-web-09"]})
    assert refused.status_code == 400
    assert refused.json()["Errors"] == [
        "The machine 'stage-web-09' does not exist or you do not have permissions to view it."]
    ok = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1", json={
        **body, "SpecificMachineNames": ["stage-web-01"], "ExcludedMachineNames": ["nobody"],
        "SkipStepNames": ["Smoke test", "No such step"]})
    assert ok.status_code == 200
    deployment = sandbox.get(f"/api/Spaces-1/deployments/{ok.json()['DeploymentServerTasks'][0]['DeploymentId']}")
    assert deployment["SpecificMachineIds"] == ["Machines-4"]
    assert len(deployment["SkipActions"]) == 1


def test_unknown_environment_name_is_refused(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1", json={
        "SpaceIdOrName": "Spaces-1", "ProjectName": "Web", "ReleaseVersion": "1.0.0", "EnvironmentNames": ["Prod"]})
    assert response.json()["Errors"] == ["The environment 'Prod' does not exist or you do not have permissions "
                                         "to view it."]


def test_missing_required_prompted_variable_is_refused_naming_its_label(sandbox: SandboxControl) -> None:
    body = {"SpaceIdOrName": "Spaces-1",
            "ProjectName": "Billing", "ReleaseVersion": "3.0.0", "EnvironmentNames": ["Development"]}
    refused = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1", json=body)
    assert refused.status_code == 400
    assert refused.json()["Errors"] == ["Please provide a variable for the prompted value Approver"]
    ok = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1",
                      json={**body, "Variables": {"Approver": "alice"}})
    deployment_id = ok.json()["DeploymentServerTasks"][0]["DeploymentId"]
    assert list(sandbox.get(f"/api/Spaces-1/deployments/{deployment_id}")["FormValues"].values()) == ["alice"]


def test_optional_prompted_variable_by_label(sandbox: SandboxControl) -> None:
    ok = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1", json={
        "SpaceIdOrName": "Spaces-1", "ProjectName": "Web", "ReleaseVersion": "1.0.0", "EnvironmentNames": ["Staging"],
        "Variables": {"Change ticket": "CHG-1"}})
    deployment_id = ok.json()["DeploymentServerTasks"][0]["DeploymentId"]
    assert list(sandbox.get(f"/api/Spaces-1/deployments/{deployment_id}")["FormValues"].values()) == ["CHG-1"]


def test_tenanted_v1_with_wildcard_deploys_every_connected_tenant(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/deployments/create/tenanted/v1", json={
        "SpaceIdOrName": "Spaces-1",
        "ProjectName": "Web", "ReleaseVersion": "1.0.0", "EnvironmentName": "Staging", "Tenants": ["*"]})
    assert response.status_code == 200, response.text
    ids = [t["DeploymentId"] for t in response.json()["DeploymentServerTasks"]]
    assert [sandbox.get(f"/api/Spaces-1/deployments/{i}")["TenantId"] for i in ids] == ["Tenants-1", "Tenants-2"]


def test_tenant_not_connected_to_the_environment_is_refused(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/deployments", json={
        "ReleaseId": "Releases-1", "EnvironmentId": "Environments-1", "TenantId": "Tenants-1"})
    assert response.json()["Errors"] == [
        "Tenant 'Acme' is not connected to project 'Web' for environment 'Development'."]


def test_untenanted_project_refuses_a_tenant(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/deployments", json={
        "ReleaseId": "Releases-4", "EnvironmentId": "Environments-1", "TenantId": "Tenants-1"})
    assert response.json()["Errors"] == ["Project 'Worker' is not configured for tenanted deployments."]


def test_empty_environment_list_deploys_nothing(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1", json={
        "SpaceIdOrName": "Spaces-1", "ProjectName": "Web", "ReleaseVersion": "1.0.0", "EnvironmentNames": []})
    assert response.json() == {"DeploymentServerTasks": []}
