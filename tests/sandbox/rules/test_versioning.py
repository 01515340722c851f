"""A release made without a version gets the one the project's versioning strategy gives: its
template (docs releases/release-versioning.md), or its donor package's version; the release
template's ``NextVersionIncrement`` says which beforehand (``VersioningPackageStepName`` for a
donor package, whose version clients pick as the release will)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from octorelease.sandbox.estate.export import dump_estate, export_estate
from octorelease.sandbox.estate.file import EstateFileError, parse_estate
from octorelease.sandbox.http.service import Sandbox
from octorelease.sandbox.rules.versioning import History, evaluate
from octorelease.sandbox.state.entities import DonorPackage
from testing.sandbox import SandboxControl

TEMPLATE = "/api/Spaces-1/deploymentprocesses/deploymentprocess-Projects-1/template"
SETTINGS = "/api/Spaces-1/projects/Projects-1/deploymentsettings"


def history(*versions: str, channel: tuple[str, ...] = (), hotfix: tuple[str, ...] = ()) -> History:
    return History(project_versions=versions, channel_name="Default", channel_versions=channel or versions,
                   other_channels={"Hotfix": hotfix}, now=datetime(2026, 3, 7, 9, 5, 2, tzinfo=timezone.utc),
                   variables={"Train": "blue"})


@pytest.mark.parametrize(("template", "versions", "expected"), [
    ("#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}", ("1.2.9", "1.10.0"),
     "1.10.1"),
    ("#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}", (), "0.0.1"),
    ("#{Octopus.Version.NextMajor}.0.0", ("1.4.2",), "2.0.0"),
    ("1.#{Octopus.Version.LastMinor}.#{Octopus.Version.LastPatch}.#{Octopus.Version.NextRevision}", ("1.4.2.7",),
     "1.4.2.8"),
    ("#{Octopus.Version.LastMajor}.#{Octopus.Version.NextBuild}#{Octopus.Version.LastSuffix}", ("3.1.4-beta",),
     "3.5-beta"),
    ("#{octopus.version.lastmajor}.#{OCTOPUS.VERSION.NEXTMINOR}", ("1.1",), "1.2"),  # any letter case
    ("#{Octopus.Date.Year}.#{Octopus.Date.Month}.#{Octopus.Date.Day}.i", ("2026.3.7.0", "2026.3.6.4"), "2026.3.7.1"),
    ("#{Octopus.Date.Year}.#{Octopus.Date.Month}.#{Octopus.Date.Day}.i", ("2026.3.6.4",), "2026.3.7.0"),
    ("#{Octopus.Date.DayOfYear}-#{Octopus.Time.Hour}#{Octopus.Time.Minute}#{Octopus.Time.Second}", (), "66-952"),
    ("2.1.c.i", ("2.1.3.4", "2.0.9.9"), "2.1.3.5"),
    ("1.0.#{Octopus.Version.Channel[Hotfix].NextPatch}-#{Octopus.Release.Channel.Name}", ("1.0.0",), "1.0.4-Default"),
    ("1.0.#{Octopus.Version.Channel.NextPatch}", ("1.0.7",), "1.0.3"),
    ("1.0.0-#{Train}-#{Unknown.Variable}", (), "1.0.0-blue-#{Unknown.Variable}"),  # as Octostache leaves it
])
def test_a_template_gives_the_next_version(template: str, versions: tuple[str, ...], expected: str) -> None:
    channel = ("1.0.2",) if "Channel.NextPatch" in template else ()
    assert evaluate(template, history(*versions, channel=channel, hotfix=("1.0.3",))) == expected


def put_strategy(sandbox: SandboxControl, strategy: dict[str, Any]) -> Any:
    return sandbox.call("PUT", SETTINGS, json={"ProjectId": "Projects-1", "SpaceId": "Spaces-1",
                                               "VersioningStrategy": strategy})


def create(sandbox: SandboxControl, **body: Any) -> Any:
    response = sandbox.call("POST", "/api/Spaces-1/releases/create/v1",
                            json={"ProjectName": "Web", "SpaceId": "Spaces-1", "SpaceIdOrName": "Spaces-1", **body})
    assert response.status_code == 201, response.text
    return response.json()["ReleaseVersion"]


def test_the_default_template_is_the_servers(sandbox: SandboxControl) -> None:
    strategy = sandbox.get("/api/Spaces-1/projects/Projects-1")["VersioningStrategy"]
    assert strategy["Template"] == ("#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}."
                                    "#{Octopus.Version.NextPatch}")
    assert strategy["DonorPackage"] is None
    assert sandbox.get(TEMPLATE)["NextVersionIncrement"] == create(sandbox) == "1.2.1"


def test_a_written_template_gives_the_release_its_version(sandbox: SandboxControl) -> None:
    assert put_strategy(sandbox, {"Template": "2.#{Octopus.Version.LastMinor}.i-#{Octopus.Release.Channel.Name}"}
                        ).json()["VersioningStrategy"]["Template"].startswith("2.#{")
    predicted = sandbox.get(TEMPLATE)["NextVersionIncrement"]
    assert predicted == create(sandbox) == "2.2.0-Default"
    assert sandbox.get(TEMPLATE)["NextVersionIncrement"] == create(sandbox) == "2.2.1-Default"
    assert sandbox.get(TEMPLATE, channel="Channels-2")["NextVersionIncrement"] == "2.2.2-Hotfix"
    assert create(sandbox, ChannelName="Hotfix") == "2.2.2-Hotfix"
    assert create(sandbox, ReleaseVersion="7.0.0") == "7.0.0"  # a version given is taken as it is


def test_a_donor_package_gives_the_release_its_package_version(sandbox: SandboxControl) -> None:
    set_to = put_strategy(sandbox, {"Template": None,
                                    "DonorPackage": {"DeploymentAction": "Deploy web", "PackageReference": ""}})
    assert set_to.json()["VersioningStrategy"]["DonorPackage"] == {"DeploymentAction": "Deploy web",
                                                                   "PackageReference": ""}
    template = sandbox.get(TEMPLATE)
    assert (template["NextVersionIncrement"], template["VersioningPackageStepName"],
            template["VersioningPackageReferenceName"]) == (None, "Deploy web", "")
    assert create(sandbox) == "1.3.0"  # the newest Web in the feed, as the release picks it
    again = sandbox.call("POST", "/api/Spaces-1/releases/create/v1", json={
        "ProjectName": "Web", "SpaceIdOrName": "Spaces-1", "Packages": ["Deploy web:1.1.0"]})
    assert again.status_code == 400 and again.json()["Errors"][0].startswith("Release '1.1.0' already exists")
    sandbox.publish_package("Web", "1.4.0")
    assert create(sandbox, PackageVersion="1.4.0") == "1.4.0"


def test_a_strategy_that_cannot_give_a_version_is_refused(sandbox: SandboxControl) -> None:
    before = sandbox.census()
    blank = put_strategy(sandbox, {"Template": "  "})
    assert blank.status_code == 400
    assert blank.json()["Errors"] == [
        "The versioning strategy needs a template, or a donor package to take the version from."]
    no_step = put_strategy(sandbox, {"DonorPackage": {"DeploymentAction": "Smoke test", "PackageReference": ""}})
    assert no_step.status_code == 400
    assert no_step.json()["Errors"] == ["The versioning strategy's donor package is the primary package of step "
                                        "'Smoke test', which the deployment process does not have."]
    assert sandbox.census() == before


ESTATE = """\
spaces:
  - name: Default
    environments: [Dev]
    lifecycles: [{name: Straight}]
    packages: {Api: [3.1.0]}
    projects:
      - name: Api
        lifecycle: Straight
        steps: [{name: Deploy api, package: Api}]
        versioning: {package: deploy API}
      - name: Docs
        lifecycle: Straight
        versioning: "#{Octopus.Version.LastMajor}.#{Octopus.Version.NextMinor}.0"
"""


def test_an_estate_file_gives_the_versioning_and_its_export_keeps_it() -> None:
    sandbox = Sandbox(seed=parse_estate(ESTATE))
    try:
        api, docs = (sandbox.backend.project("Spaces-1", name) for name in ("Api", "Docs"))
        assert (api.versioning_template, api.versioning_package) == (None, DonorPackage(action="Deploy api"))
        assert (docs.versioning_template, docs.versioning_package) == (
            "#{Octopus.Version.LastMajor}.#{Octopus.Version.NextMinor}.0", None)
        exported = dump_estate(export_estate(sandbox.backend))
    finally:
        sandbox.close()
    assert "versioning:\n      package: Deploy api" in exported
    assert "versioning:\n      template: '#{Octopus.Version.LastMajor}.#{Octopus.Version.NextMinor}.0'" in exported


@pytest.mark.parametrize(("versioning", "fault"), [
    ("{package: Deploy apx}", "spaces[0].projects[0].versioning.package: no package step 'Deploy apx' in project "
                              "'Api' (did you mean 'Deploy api'?)"),
    ("{template: ' '}", "spaces[0].projects[0].versioning.template: a template cannot be blank"),
    ("{template: x, package: Deploy api}",
     "spaces[0].projects[0].versioning: give either a template or the package step whose version releases take"),
])
def test_an_estate_versioning_that_cannot_work_is_a_fault_of_the_file(versioning: str, fault: str) -> None:
    with pytest.raises(EstateFileError) as caught:
        parse_estate(ESTATE.replace("{package: deploy API}", versioning), name="estate.yml")
    assert caught.value.lines == [f"estate.yml:10: {fault}"]
