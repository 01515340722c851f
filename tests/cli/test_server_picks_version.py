"""`octorelease create` without `--version` lets Octopus pick the version with the project's
versioning strategy (no ``ReleaseVersion`` is sent); its dry run says which version that is, from
the release template (``NextVersionIncrement``, or the donor package's version)."""

from __future__ import annotations

from typing import Any

from testing.sandbox import SandboxControl

SETTINGS = "/api/Spaces-1/projects/Projects-1/deploymentsettings"


def use_strategy(sandbox: SandboxControl, strategy: dict[str, Any]) -> None:
    response = sandbox.call("PUT", SETTINGS, json={"ProjectId": "Projects-1", "SpaceId": "Spaces-1",
                                                   "VersioningStrategy": strategy})
    assert response.status_code == 200, response.text


def sent_to_create(sandbox: SandboxControl) -> list[list[str]]:
    return [r.get("fields", []) for r in sandbox.requests()
            if r["method"] == "POST" and r["path"].endswith("/releases/create/v1")]


def test_without_a_version_none_is_sent_and_the_dry_run_names_the_templates(sandbox: SandboxControl,
                                                                            octorelease: Any) -> None:
    use_strategy(sandbox, {"Template": "#{Octopus.Version.NextMajor}.0.#{Octopus.Version.NextRevision}-rc"})
    dry = octorelease("create", "--project", "Web", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert dry.json["release"]["version"] == "2.0.1-rc"
    assert "picked by Octopus from the project's versioning template" in dry.err
    sandbox.clear_requests()
    run = octorelease("create", "--project", "Web", "--json")
    assert run.code == 0, run.err
    assert run.json["release"]["version"] == "2.0.1-rc"
    (fields,) = sent_to_create(sandbox)
    assert "ReleaseVersion" not in fields and "ProjectName" in fields


def test_a_donor_package_gives_the_version_the_dry_run_says(sandbox: SandboxControl, octorelease: Any) -> None:
    use_strategy(sandbox, {"DonorPackage": {"DeploymentAction": "Deploy web", "PackageReference": ""}})
    sandbox.publish_package("Web", "1.4.0")
    dry = octorelease("create", "--project", "Web", "--package", "Deploy web=1.4.0", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert dry.json["release"]["version"] == "1.4.0"
    assert "the version of step Deploy web's package" in dry.err
    run = octorelease("create", "--project", "Web", "--package", "Deploy web=1.4.0", "--json")
    assert (run.code, run.json["release"]["version"]) == (0, "1.4.0"), run.err
    newest = octorelease("create", "--project", "Web", "--dry-run", "--json")  # the newest in the feed: 1.4.0 again
    assert newest.code == 3
    assert "Release 1.4.0 of Web already exists" in newest.err


def test_a_given_version_is_sent_as_given(sandbox: SandboxControl, octorelease: Any) -> None:
    run = octorelease("create", "--project", "Web", "--version", "1.7.0", "--json")
    assert (run.code, run.json["release"]["version"]) == (0, "1.7.0"), run.err
    (fields,) = sent_to_create(sandbox)
    assert "ReleaseVersion" in fields
