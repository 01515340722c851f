"""Creating, changing and deleting the estate through Octopus's own routes (editing.py)."""

from __future__ import annotations

from typing import Any

import pytest

from testing.sandbox import SandboxControl

S = "/api/Spaces-1"
ENVELOPE = "There was a problem with your request."


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _refused(response: Any, status: int = 400) -> list[str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ErrorMessage"] == ENVELOPE
    return list(body["Errors"])


def _counts(sandbox: SandboxControl) -> dict[str, int]:
    """How many of each kind the space holds: a refused request must change none of them."""
    return {kind: len(sandbox.get(f"{S}/{kind}/all")) for kind in
            ("environments", "machines", "projects", "projectgroups", "channels", "tenants", "variables")}


def test_an_environment_is_created_read_changed_and_deleted(sandbox: SandboxControl) -> None:
    created = _ok(sandbox.call("POST", f"{S}/environments", json={"Name": "QA", "Description": "for testers"}), 201)
    assert (created["Id"], created["SortOrder"], created["Slug"]) == ("Environments-7", 5, "qa")
    assert sandbox.get(f"{S}/environments/{created['Id']}")["Description"] == "for testers"
    changed = _ok(sandbox.call("PUT", f"{S}/environments/{created['Id']}",
                               json={**created, "Name": "Quality", "UseGuidedFailure": True}))
    assert (changed["Name"], changed["UseGuidedFailure"]) == ("Quality", True)
    assert _ok(sandbox.call("DELETE", f"{S}/environments/{created['Id']}")) is None
    assert sandbox.call("GET", f"{S}/environments/{created['Id']}").status_code == 404


def test_an_environment_in_use_or_named_twice_is_refused_and_nothing_changes(sandbox: SandboxControl) -> None:
    before = _counts(sandbox)
    assert _refused(sandbox.call("POST", f"{S}/environments", json={"Name": "test"})) == [
        "An environment with the name 'test' already exists."]
    assert _refused(sandbox.call("POST", f"{S}/environments", json={"Description": "no name"})) == [
        "Please provide a name for the environment."]
    errors = _refused(sandbox.call("DELETE", f"{S}/environments/Environments-2"))
    assert errors[0].startswith("The environment 'Test' cannot be deleted: it is used by machine 'test-web-01'")
    assert _counts(sandbox) == before


def test_a_machine_keeps_its_roles_environments_and_communication_style(sandbox: SandboxControl) -> None:
    body = {"Name": "qa-api-01", "EnvironmentIds": ["Environments-1"], "Roles": ["api", "web"],
            "Endpoint": {"CommunicationStyle": "TentacleActive", "Uri": "poll://abc123/", "Thumbprint": "ABC"}}
    created = _ok(sandbox.call("POST", f"{S}/machines", json=body), 201)
    read = sandbox.get(f"{S}/machines/{created['Id']}")
    assert (read["Roles"], read["EnvironmentIds"]) == (["api", "web"], ["Environments-1"])
    assert read["Endpoint"]["CommunicationStyle"] == "TentacleActive" and read["Uri"] == "poll://abc123/"
    assert "api" in sandbox.get(f"{S}/machineroles/all")
    changed = _ok(sandbox.call("PUT", f"{S}/machines/{created['Id']}",
                               json={**read, "EnvironmentIds": ["Environments-2"], "IsDisabled": True}))
    assert (changed["EnvironmentIds"], changed["IsDisabled"]) == (["Environments-2"], True)
    _ok(sandbox.call("DELETE", f"{S}/machines/{created['Id']}"))
    assert sandbox.call("GET", f"{S}/machines/{created['Id']}").status_code == 404


def test_a_machine_with_any_fault_is_refused_whole(sandbox: SandboxControl) -> None:
    before = _counts(sandbox)
    errors = _refused(sandbox.call("POST", f"{S}/machines", json={
        "Name": "dev-web-01", "EnvironmentIds": ["Environments-1", "Environments-99"], "Roles": [],
        "Endpoint": {"CommunicationStyle": "Carrier pigeon"}}))
    assert errors == [
        "A machine with the name 'dev-web-01' already exists.",
        "Please specify at least one role for the machine.",
        "The environment 'Environments-99' does not exist.",
        "The communication style 'Carrier pigeon' is not one of None, TentaclePassive, TentacleActive, Ssh, "
        "OfflineDrop, AzureWebApp, Ftp, AzureCloudService, AzureServiceFabricCluster, Kubernetes, StepPackage, "
        "KubernetesTentacle, AwsEcsCluster."]
    assert _counts(sandbox) == before


def test_a_project_comes_with_a_default_channel_an_empty_process_and_variables(sandbox: SandboxControl) -> None:
    group = _ok(sandbox.call("POST", f"{S}/projectgroups", json={"Name": "Shop"}), 201)
    assert group["Id"] == "ProjectGroups-2"
    project = _ok(sandbox.call("POST", f"{S}/projects", json={
        "Name": "Shop API", "LifecycleId": "Lifecycles-2", "ProjectGroupId": group["Id"]}), 201)
    assert (project["Id"], project["Slug"], project["ProjectGroupId"]) == ("Projects-6", "shop-api", group["Id"])
    assert [c["Name"] for c in sandbox.get(f"{S}/projects/{project['Id']}/channels")["Items"]] == ["Default"]
    assert sandbox.get(f"{S}/deploymentprocesses/{project['DeploymentProcessId']}")["Steps"] == []
    assert sandbox.get(f"{S}/variables/{project['VariableSetId']}")["Variables"] == []
    members = sandbox.get(f"{S}/projectgroups/{group['Id']}/projects")["Items"]
    assert [p["Name"] for p in members] == ["Shop API"]
    changed = _ok(sandbox.call("PUT", f"{S}/projects/{project['Id']}", json={
        **project, "Description": "the shop's API", "TenantedDeploymentMode": "TenantedOrUntenanted"}))
    assert (changed["Description"], changed["TenantedDeploymentMode"]) == ("the shop's API", "TenantedOrUntenanted")
    assert _refused(sandbox.call("DELETE", f"{S}/projectgroups/{group['Id']}")) == [
        "The project group 'Shop' still holds the projects Shop API."]
    _ok(sandbox.call("DELETE", f"{S}/projects/{project['Id']}"))
    assert sandbox.call("GET", f"{S}/projects/{project['Id']}").status_code == 404
    assert [c for c in sandbox.get(f"{S}/channels/all") if c["ProjectId"] == project["Id"]] == []
    _ok(sandbox.call("DELETE", f"{S}/projectgroups/{group['Id']}"))


def test_a_refused_project_leaves_no_channel_and_no_variables(sandbox: SandboxControl) -> None:
    before = _counts(sandbox)
    errors = _refused(sandbox.call("POST", f"{S}/projects", json={
        "Name": "web", "LifecycleId": "Lifecycles-77", "TenantedDeploymentMode": "Sometimes"}))
    assert errors == ["A project with the name 'web' already exists.", "A project with the slug 'web' already exists.",
                      "The lifecycle 'Lifecycles-77' does not exist.",
                      "TenantedDeploymentMode must be one of Untenanted, TenantedOrUntenanted, Tenanted."]
    assert _counts(sandbox) == before


def _process_put(sandbox: SandboxControl, process: dict[str, Any], steps: list[dict[str, Any]]) -> Any:
    return sandbox.call("PUT", f"{S}/deploymentprocesses/{process['Id']}", json={**process, "Steps": steps})


def test_a_process_put_replaces_the_steps_and_a_release_uses_them(sandbox: SandboxControl) -> None:
    project = _ok(sandbox.call("POST", f"{S}/projects", json={"Name": "Shop API", "LifecycleId": "Lifecycles-2"}), 201)
    process = sandbox.get(f"{S}/deploymentprocesses/{project['DeploymentProcessId']}")
    steps = [
        {"Name": "Deploy API", "Properties": {"Octopus.Action.TargetRoles": "web"},
         "Actions": [{"Name": "Deploy API", "ActionType": "Octopus.TentaclePackage",
                      "Packages": [{"Name": "", "PackageId": "Web", "FeedId": "feeds-builtin"}]}]},
        {"Name": "Migrate", "Properties": {"Octopus.Action.TargetRoles": "worker"},
         "Actions": [{"Name": "Migrate", "ActionType": "Octopus.Script",
                      "Properties": {"Octopus.Action.Script.ScriptBody": "./migrate.sh"}}]},
    ]
    saved = _ok(_process_put(sandbox, process, steps))
    assert [(s["Name"], s["Properties"]["Octopus.Action.TargetRoles"]) for s in saved["Steps"]] == [
        ("Deploy API", "web"), ("Migrate", "worker")]
    assert saved["Steps"][1]["Actions"][0]["Properties"]["Octopus.Action.Script.ScriptBody"] == "./migrate.sh"
    assert saved["Version"] == process["Version"] + 1
    assert _refused(_process_put(sandbox, process, steps))[0].startswith(
        "Changes to this deployment process could not be saved, because another user has made changes")
    release = sandbox.post(f"{S}/releases", {"ProjectId": project["Id"], "Version": "1.0.0"})
    assert [(p["StepName"], p["Version"]) for p in release["SelectedPackages"]] == [("Deploy API", "1.3.0")]


def test_a_process_with_a_nameless_or_repeated_step_is_refused_whole(sandbox: SandboxControl) -> None:
    process = sandbox.get(f"{S}/deploymentprocesses/deploymentprocess-Projects-1")
    step = {"Name": "Again", "Actions": [{"Name": "Again", "ActionType": "Octopus.Script"}]}
    assert _refused(_process_put(sandbox, process, [step, step, {"Name": "", "Actions": []}])) == [
        "Step names must be unique: 'Again' is used more than once.",
        "Step 3: please provide a name for the step.",
        "Step '': please provide the action type of its action."]
    assert [s["Name"] for s in sandbox.get(f"{S}/deploymentprocesses/deploymentprocess-Projects-1")["Steps"]] == [
        "Deploy web", "Smoke test"]


def test_channels_are_created_made_default_and_the_default_cannot_be_deleted(sandbox: SandboxControl) -> None:
    created = _ok(sandbox.call("POST", f"{S}/channels", json={
        "ProjectId": "Projects-2", "Name": "Beta", "LifecycleId": "Lifecycles-1", "IsDefault": False}), 201)
    assert (created["ProjectId"], created["IsDefault"], created["LifecycleId"]) == ("Projects-2", False, "Lifecycles-1")
    assert _refused(sandbox.call("POST", f"{S}/channels", json={"ProjectId": "Projects-2", "Name": "beta"})) == [
        "A channel with the name 'beta' already exists."]
    _ok(sandbox.call("PUT", f"{S}/channels/{created['Id']}", json={**created, "IsDefault": True,
                                                                     "ProjectId": "Projects-1"}))
    channels = {c["Name"]: c for c in sandbox.get(f"{S}/projects/Projects-2/channels")["Items"]}
    assert (channels["Beta"]["IsDefault"], channels["Default"]["IsDefault"]) == (True, False)
    assert channels["Beta"]["ProjectId"] == "Projects-2"  # ProjectId is create-only
    assert _refused(sandbox.call("DELETE", f"{S}/channels/{created['Id']}")) == [
        "You cannot delete the default channel."]
    assert _refused(sandbox.call("DELETE", f"{S}/channels/{channels['Default']['Id']}")) == [
        "The channel 'Default' has releases; delete them first."]  # Worker 2.0.0
    gamma = _ok(sandbox.call("POST", f"{S}/channels", json={"ProjectId": "Projects-2", "Name": "Gamma"}), 201)
    _ok(sandbox.call("DELETE", f"{S}/channels/{gamma['Id']}"))
    assert sandbox.call("GET", f"{S}/channels/{gamma['Id']}").status_code == 404


def test_a_tenant_is_connected_to_projects_and_environments(sandbox: SandboxControl) -> None:
    created = _ok(sandbox.call("POST", f"{S}/tenants", json={
        "Name": "Initech", "ProjectEnvironments": {"Projects-1": ["Environments-2", "Environments-4"]}}), 201)
    template = sandbox.get(f"{S}/releases/Releases-1/deployments/template")
    assert "Initech" in [t["Name"] for t in template["TenantPromotions"]]
    changed = _ok(sandbox.call("PUT", f"{S}/tenants/{created['Id']}", json={
        **created, "ProjectEnvironments": {"Projects-1": ["Environments-2"]}}))
    assert changed["ProjectEnvironments"] == {"Projects-1": ["Environments-2"]}
    assert _refused(sandbox.call("POST", f"{S}/tenants", json={
        "Name": "Umbrella", "ProjectEnvironments": {"Projects-9": ["Environments-9"]}})) == [
        "The project 'Projects-9' does not exist.", "The environment 'Environments-9' does not exist."]
    _ok(sandbox.call("DELETE", f"{S}/tenants/{created['Id']}"))
    assert sandbox.call("GET", f"{S}/tenants/{created['Id']}").status_code == 404


def _upload(sandbox: SandboxControl, name: str, query: str = "", field: str = "file", content: bytes = b"PK..") -> Any:
    return sandbox._http.post(f"{S}/packages/raw{query}", files={field: (name, content, "application/octet-stream")},
                              headers={"X-Octopus-ApiKey": sandbox.api_key})


def test_a_package_upload_reads_id_and_version_from_the_file_name(sandbox: SandboxControl) -> None:
    uploaded = _ok(_upload(sandbox, "Acme.Web.2.0.0-beta.1.zip", field="fileToUpload"), 201)
    assert (uploaded["PackageId"], uploaded["Version"]) == ("Acme.Web", "2.0.0-beta.1")
    versions = sandbox.get(f"{S}/feeds/feeds-builtin/packages/versions", packageId="Acme.Web", includePreRelease=True)
    assert [v["Version"] for v in versions["Items"]] == ["2.0.0-beta.1"]
    assert _refused(_upload(sandbox, "Acme.Web.2.0.0-beta.1.zip"), 409) == [
        "A package with the same ID and version already exists. To proceed anyway, specify an overwriteMode of "
        "OverwriteExisting or IgnoreIfExists."]
    _ok(_upload(sandbox, "Acme.Web.2.0.0-beta.1.zip", "?overwriteMode=IgnoreIfExists"), 200)
    _ok(_upload(sandbox, "Acme.Web.2.0.0-beta.1.zip", "?replace=true", content=b"PK...."), 201)
    versions = sandbox.get(f"{S}/feeds/feeds-builtin/packages/versions", packageId="Acme.Web", includePreRelease=True)
    assert [v["SizeBytes"] for v in versions["Items"]] == [6]


@pytest.mark.parametrize(("name", "content", "error"), [
    ("web.zip", b"x", "The package file name 'web.zip' must be <PackageId>.<Version>.zip, for example "
                      "Acme.Web.1.2.3.zip."),
    ("Web.1.0.0.exe", b"x", "The file 'Web.1.0.0.exe' is not a supported package type"),
    ("Web.1.0.0.zip", b"", "The package file 'Web.1.0.0.zip' is empty."),
])
def test_a_bad_package_file_is_refused(sandbox: SandboxControl, name: str, content: bytes, error: str) -> None:
    assert _refused(_upload(sandbox, name, content=content))[0].startswith(error)
    assert sandbox.get(f"{S}/feeds/feeds-builtin/packages/versions", packageId="Web", take=10)["TotalResults"] == 4


def test_an_estate_built_through_the_api_exports_and_seeds_back_the_same(
        sandbox: SandboxControl, sandbox_server: Any) -> None:
    from octorelease.sandbox.estate.export import dump_estate, export_estate
    from octorelease.sandbox.estate.file import parse_estate
    from octorelease.sandbox.http.service import Sandbox

    group = _ok(sandbox.call("POST", f"{S}/projectgroups", json={"Name": "Shop"}), 201)
    env = _ok(sandbox.call("POST", f"{S}/environments", json={"Name": "QA"}), 201)
    _ok(sandbox.call("POST", f"{S}/machines", json={"Name": "qa-1", "EnvironmentIds": [env["Id"]], "Roles": ["api"],
                                                    "Endpoint": {"CommunicationStyle": "Ssh"}}), 201)
    project = _ok(sandbox.call("POST", f"{S}/projects", json={
        "Name": "Shop API", "LifecycleId": "Lifecycles-2", "ProjectGroupId": group["Id"]}), 201)
    process = sandbox.get(f"{S}/deploymentprocesses/{project['DeploymentProcessId']}")
    _ok(_process_put(sandbox, process, [{"Name": "Run", "Properties": {"Octopus.Action.TargetRoles": "api"},
                                         "Actions": [{"Name": "Run", "ActionType": "Octopus.Script"}]}]))
    with sandbox_server.sandbox.backend.lock:
        first = dump_estate(export_estate(sandbox_server.sandbox.backend))
    assert "group: Shop" in first and "endpoint: Ssh" in first
    copy = Sandbox(seed=parse_estate(first))
    try:
        assert dump_estate(export_estate(copy.backend)) == first
    finally:
        copy.close()


def test_a_package_may_be_larger_than_a_json_body(sandbox: SandboxControl) -> None:
    uploaded = _ok(_upload(sandbox, "Big.App.1.0.0.zip", content=b"x" * (3 * 1024 * 1024)), 201)
    assert uploaded["PackageSizeBytes"] == 3 * 1024 * 1024
    assert _refused(sandbox.call("POST", f"{S}/environments", json={"Name": "x" * (2 * 1024 * 1024)}))[0] \
        == "The request body is larger than 1024 KiB."
