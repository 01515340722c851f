"""The official Go CLI's routes answer in the sandbox, with the shape it reads.

The list comes from the requests OctopusDeploy/cli's own tests expect (``ExpectRequest`` in
pkg/cmd/release/create, release/deploy, release/list, release/delete, release/progression,
task/wait, channel, project and environment tests, at 94e7c32e); the shapes from the generated
reference (OctopusDeploy/docs ``_generated/releases.md``, ``environments.md``) and, where the
reference is silent, from go-octopusdeploy's models (``pkg/configuration``, ``pkg/environments/v2``,
``pkg/deployments/deployment_preview.go``).

Not served, as the sandbox does not emulate what they are about: Git (config-as-code) projects'
``git/branches``, ``git/tags`` and ``{gitRef}/deploymentprocesses``; runbooks' ``runbook-runs``;
ephemeral environments' ``environments/ephemeral/...``; accounts, package upload and delta
routes; release defects' POST (``release progression prevent/allow``).
"""

from __future__ import annotations

from typing import Any

import pytest

from testing.sandbox import SandboxControl

Shape = Any  # a type, a dict of field -> Shape, or a one-item list [Shape] for "a list of"

RELEASE = {"Id": str, "Version": str, "ProjectId": str, "ChannelId": str, "SelectedPackages": list}
PREVIEW = {"StepsToExecute": [{"ActionId": str, "ActionName": str, "Roles": list, "MachineNames": list,
                               "CanBeSkipped": bool, "IsDisabled": bool, "HasNoApplicableMachines": bool}],
           "Form": {"Values": dict, "Elements": [{"Name": str, "IsValueRequired": bool, "Control": dict}]},
           "UseGuidedFailureModeByDefault": bool, "Changes": list, "ChangesMarkdown": str}
ENVIRONMENT_V2 = {"Id": str, "Name": str, "SpaceId": str, "Slug": str, "Type": str, "SortOrder": int,
                  "UseGuidedFailure": bool}


def page(item: Shape) -> Shape:
    return {"ItemType": str, "TotalResults": int, "Items": [item], "Links": dict}


#: (method, path, body, shape): the Go CLI's request, as its tests send it, on the demo estate
GO_CLI: list[tuple[str, str, Any, Shape]] = [
    ("GET", "/api/configuration/feature-toggles?Name=indicate-missing-packages-for-release", None,
     {"FeatureToggles": [{"Name": str, "IsEnabled": bool}]}),
    ("GET", "/api/Spaces-1/environments/v2?skip=0&take=2147483647", None, page(ENVIRONMENT_V2)),
    ("POST", "/api/Spaces-1/releases/Releases-3/deployments/previews",
     {"DeploymentPreviews": [{"EnvironmentId": "Environments-1", "TenantId": ""}], "IncludeDisabledSteps": True,
      "ReleaseId": "Releases-3", "SpaceId": "Spaces-1"}, [PREVIEW]),
    ("GET", "/api/Spaces-1/projects/Projects-1/channels/Channels-1/releases", None, page(RELEASE)),
    ("GET", "/api/Spaces-1/releases/Releases-3/missingpackages", None, {"Packages": list}),
    ("GET", "/api/Spaces-1/releases/Releases-3/deployments/preview/Environments-1?includeDisabledSteps=true",
     None, PREVIEW),
    ("GET", "/api/Spaces-1/releases/Releases-3/deployments/template", None, {"PromoteTo": [{"Id": str, "Name": str}]}),
    ("GET", "/api/Spaces-1/releases/Releases-3/progression", None, {"Phases": list}),
    ("GET", "/api/Spaces-1/releases/Releases-3/defects", None, {"Items": list}),
    ("GET", "/api/Spaces-1/releases/Releases-3", None, RELEASE),
    ("GET", "/api/Spaces-1/projects/Projects-1/releases/1.2.0", None, RELEASE),
    ("GET", "/api/Spaces-1/channels/Channels-1", None, {"Id": str, "Name": str, "Type": str, "IsDefault": bool}),
    ("GET", "/api/Spaces-1/channels?ids=Channels-1&take=1", None, page({"Id": str, "Type": str})),
    ("GET", "/api/Spaces-1/projects/Projects-1/channels", None, page({"Id": str, "Type": str})),
    ("GET", "/api/Spaces-1/projects/Projects-1/deploymentprocesses/template?channel=Channels-1", None,
     {"NextVersionIncrement": str, "Packages": [{"ActionName": str, "PackageId": str, "FeedId": str}]}),
    ("GET", "/api/Spaces-1/deploymentprocesses/deploymentprocess-Projects-1", None, {"Steps": list}),
    ("GET", "/api/Spaces-1/feeds?ids=feeds-builtin&take=1", None, page({"Id": str})),
    ("GET", "/api/Spaces-1/feeds?feedType=BuiltIn&take=1", None, page({"Id": str})),
    ("GET", "/api/Spaces-1/feeds/feeds-builtin/packages/versions?packageId=Web&take=1", None,
     page({"Version": str})),
    ("GET", "/api/Spaces-1/projects?partialName=Web", None, page({"Id": str, "Name": str})),
    ("GET", "/api/Spaces-1/projects/all", None, [{"Id": str, "Name": str}]),
    ("GET", "/api/Spaces-1/projects/Web", None, {"Id": str, "TenantedDeploymentMode": str}),
    ("GET", "/api/Spaces-1/environments/all", None, [{"Id": str, "Name": str}]),
    ("GET", "/api/Spaces-1/environments?ids=Environments-1%2CEnvironments-2", None, page({"Id": str})),
    ("GET", "/api/Spaces-1/tenants?projectId=Projects-1", None, page({"Id": str, "Name": str})),
    ("GET", "/api/Spaces-1/tenants/all", None, [{"Id": str}]),
    ("GET", "/api/Spaces-1/lifecycles/all", None, [{"Id": str, "Phases": list}]),
    ("GET", "/api/Spaces-1/lifecycles/Lifecycles-1", None, {"Id": str, "Phases": list}),
    ("GET", "/api/Spaces-1/machines/Machines-1", None, {"Id": str, "Name": str}),
    ("GET", "/api/Spaces-1/workerpools/all", None, list),
    ("GET", "/api/users/me", None, {"Id": str, "Username": str}),
    ("GET", "/api/spaces/all", None, [{"Id": str, "Name": str}]),
    ("GET", "/api/Spaces-1", None, {"Id": str, "Links": dict}),
    ("GET", "/api/", None, {"Version": str, "Links": dict}),
]


def problems(value: Any, shape: Shape, where: str = "") -> list[str]:
    """What in ``value`` does not have ``shape`` (an empty list proves nothing, and is a problem)."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where or 'answer'} is {type(value).__name__}, not an object"]
        return [p for name, inner in shape.items()
                for p in (problems(value[name], inner, f"{where}.{name}") if name in value
                          else [f"{where}.{name} is missing"])]
    if isinstance(shape, list):
        if not isinstance(value, list) or not value:
            return [f"{where or 'answer'} is not a non-empty list: {value!r:.80}"]
        return [p for item in value for p in problems(item, shape[0], f"{where}[]")]
    ok = isinstance(value, shape) and not (isinstance(value, bool) and shape is int)
    return [] if ok else [f"{where} is {type(value).__name__}, not {shape.__name__}"]


@pytest.mark.parametrize(("method", "path", "body", "shape"), GO_CLI, ids=[f"{m} {p}" for m, p, _, _ in GO_CLI])
def test_each_go_cli_route_answers_with_the_documented_shape(sandbox: SandboxControl, method: str, path: str,
                                                              body: Any, shape: Shape) -> None:
    response = sandbox.call(method, path, json=body)
    assert response.status_code == 200, response.text
    assert problems(response.json(), shape) == []


def test_the_shape_check_can_fail() -> None:
    assert problems({"FeatureToggles": []}, GO_CLI[0][3]) == [".FeatureToggles is not a non-empty list: []"]
    assert problems({"Id": 1, "Version": True}, {"Id": str, "Version": str, "Links": dict}) == [
        ".Id is int, not str", ".Version is bool, not str", ".Links is missing"]


def test_feature_toggles_name_only_the_one_asked_for(sandbox: SandboxControl) -> None:
    """The Go CLI takes a toggle as off when the list is empty or names another toggle."""
    assert sandbox.get("/api/configuration/feature-toggles", Name="no-such-toggle") == {"FeatureToggles": []}
    assert sandbox.get("/api/configuration/feature-toggles")["FeatureToggles"] == [
        {"Name": "indicate-missing-packages-for-release", "IsEnabled": True}]


def test_environments_v2_are_static_and_filter_by_type(sandbox: SandboxControl) -> None:
    every = sandbox.get("/api/Spaces-1/environments/v2", take=100)["Items"]
    assert [e["Name"] for e in every] == [e["Name"] for e in sandbox.get("/api/Spaces-1/environments/all")]
    assert {e["Type"] for e in every} == {"Static"}
    assert sandbox.get("/api/Spaces-1/environments/v2", type="Ephemeral")["TotalResults"] == 0
    assert [e["Name"] for e in sandbox.get("/api/Spaces-1/environments/v2", partialName="Prod")["Items"]] == [
        "Production"]


def test_previews_answer_one_per_environment_with_the_prompted_variables(sandbox: SandboxControl) -> None:
    body = {"DeploymentPreviews": [{"EnvironmentId": "Environments-1", "TenantId": ""},
                                   {"EnvironmentId": "Environments-2", "TenantId": "Tenants-1"}],
            "IncludeDisabledSteps": True, "ReleaseId": "Releases-3", "SpaceId": "Spaces-1"}
    previews = sandbox.post("/api/Spaces-1/releases/Releases-3/deployments/previews", body)
    single = [sandbox.get("/api/Spaces-1/releases/Releases-3/deployments/preview/Environments-1"),
              sandbox.get("/api/Spaces-1/releases/Releases-3/deployments/preview/Environments-2/Tenants-1")]
    assert previews == single
    labels = [e["Control"]["Label"] for e in previews[0]["Form"]["Elements"]]
    assert "Change ticket" in labels  # the demo's prompted variable, which the Go CLI asks for


def test_a_channels_releases_under_its_project(sandbox: SandboxControl) -> None:
    under_project = sandbox.get("/api/Spaces-1/projects/Projects-1/channels/Channels-1/releases")
    direct = sandbox.get("/api/Spaces-1/channels/Channels-1/releases")
    assert [r["Version"] for r in under_project["Items"]] == [r["Version"] for r in direct["Items"]]
    assert [r["Version"] for r in sandbox.get("/api/Spaces-1/projects/Projects-1/channels/Channels-1/releases",
                                              searchByVersion="1.1")["Items"]] == ["1.1.0"]
    other_project = sandbox.call("GET", "/api/Spaces-1/projects/Projects-2/channels/Channels-1/releases")
    assert other_project.status_code == 404


def test_missing_packages_answer_only_under_a_space(sandbox: SandboxControl) -> None:
    assert sandbox.get("/api/Spaces-1/releases/Releases-3/missingPackages") == {"Packages": []}
    assert sandbox.call("GET", "/api/releases/Releases-3/missingpackages").status_code == 404  # releases.md
