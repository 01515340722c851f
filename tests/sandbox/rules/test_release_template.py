"""The release template: how a classic client chooses the next version and package versions
before ``POST /releases`` (octopus-api-more.md §3)."""

from __future__ import annotations

from typing import Any

import pytest

from testing.sandbox import SandboxControl


def template_of(sandbox: SandboxControl, project: str, **params: str) -> Any:
    """Follow the links as octo does: project -> its process -> the process's Template link."""
    process_id = sandbox.get(f"/api/Spaces-1/projects/{project}")["DeploymentProcessId"]
    process = sandbox.get(f"/api/Spaces-1/deploymentprocesses/{process_id}")
    link = process["Links"]["Template"].split("{")[0]
    return sandbox.get(link, **params)


def test_template_gives_the_next_version_and_each_package_with_its_last_version(sandbox: SandboxControl) -> None:
    template = template_of(sandbox, "Projects-1", channel="Channels-1")
    assert (template["DeploymentProcessId"], template["LastReleaseVersion"], template["NextVersionIncrement"]) == (
        "deploymentprocess-Projects-1", "1.2.0", "1.2.1")
    assert (template["VersioningPackageStepName"], template["VersioningPackageReferenceName"]) == (None, None)
    (package,) = template["Packages"]
    assert package == {"ActionName": "Deploy web", "StepName": "Deploy web", "PackageReferenceName": "",
                       "PackageId": "Web", "FeedId": "feeds-builtin", "FeedName": "Octopus Server (built-in)",
                       "NuGetPackageId": "Web", "NuGetFeedId": "feeds-builtin",
                       "NuGetFeedName": "Octopus Server (built-in)", "VersionSelectedLastRelease": "1.2.0",
                       "ProjectName": "Web", "IsResolvable": True, "FixedVersion": None}


def test_without_a_channel_the_default_channel_is_used(sandbox: SandboxControl) -> None:
    assert template_of(sandbox, "Projects-1") == template_of(sandbox, "Projects-1", channel="Channels-1")


def test_a_channel_without_releases_has_no_last_version(sandbox: SandboxControl) -> None:
    template = template_of(sandbox, "Projects-1", channel="Channels-2", releaseId="Releases-1")
    assert (template["LastReleaseVersion"], template["NextVersionIncrement"]) == (None, "1.2.1")
    assert [p["VersionSelectedLastRelease"] for p in template["Packages"]] == [None]


def test_the_next_version_is_what_a_release_without_one_gets(sandbox: SandboxControl) -> None:
    expected = template_of(sandbox, "Projects-2")["NextVersionIncrement"]
    created = sandbox.post("/api/Spaces-1/releases/create/v1", {"SpaceIdOrName": "Spaces-1", "ProjectName": "Worker"})
    assert created["ReleaseVersion"] == expected == "2.0.1"


def test_the_project_scoped_route_answers_the_same(sandbox: SandboxControl) -> None:
    assert sandbox.get("/api/Spaces-1/projects/Projects-1/deploymentprocesses/template", channel="Channels-1") == \
        template_of(sandbox, "Projects-1", channel="Channels-1")


@pytest.mark.parametrize(("path", "status"), [
    ("/api/Spaces-1/deploymentprocesses/deploymentprocess-Projects-9/template", 404),
    ("/api/Spaces-1/deploymentprocesses/deploymentprocess-Projects-1/template?channel=Channels-9", 404),
    ("/api/Spaces-1/deploymentprocesses/deploymentprocess-Projects-1/template?releaseId=Releases-99", 404),
    ("/api/Spaces-1/deploymentprocesses/deploymentprocess-Projects-4/template", 404),
])
def test_unknown_process_channel_or_release_is_not_found(sandbox: SandboxControl, path: str, status: int) -> None:
    assert sandbox.call("GET", path).status_code == status


def test_a_classic_create_release_from_the_template_is_accepted(sandbox: SandboxControl) -> None:
    """octo create-release: template, then POST /releases with its version and packages."""
    template = template_of(sandbox, "Projects-1", channel="Channels-1")
    selected = [{"ActionName": p["ActionName"], "PackageReferenceName": p["PackageReferenceName"],
                 "Version": p["VersionSelectedLastRelease"]} for p in template["Packages"]]
    response = sandbox.call("POST", "/api/Spaces-1/releases?ignoreChannelRules=False", json={
        "ProjectId": "Projects-1", "ChannelId": "Channels-1", "Version": template["NextVersionIncrement"],
        "SelectedPackages": selected})
    assert response.status_code == 201, response.text
    release = response.json()
    assert (release["Version"], release["SelectedPackages"][0]["Version"]) == ("1.2.1", "1.2.0")
    assert template_of(sandbox, "Projects-1")["LastReleaseVersion"] == "1.2.1"
