"""A dry run that says yes means the real run passes validation: ``create`` checks what the
server checks (steps, channel, feed versions) before its first write, dry run or not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from testing.cli import CliRun
from testing.sandbox import SandboxControl

Octorelease = Callable[..., CliRun]


def releases_of(sandbox: SandboxControl) -> list[str]:
    return [r["Version"] for r in sandbox.get("/api/Spaces-1/projects/Projects-1/releases", take=100)["Items"]]


def writes(sandbox: SandboxControl) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests() if r["method"] != "GET"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--package", "Deploy web=9.9.9"], "--package 'Deploy web': package Web 9.9.9 is not in the feed"),
        (["--default-package-version", "7.7.7"], "--default-package-version '7.7.7': package Web 7.7.7 is not in"),
        (["--channel", "Hotfx"], "--channel 'Hotfx': project Web has no channel of that name"),
        (["--package", "Deploy wbe=1.3.0"], "--package 'Deploy wbe': project Web has no step of that name"),
        (["--deploy-to", "Develpment"], "Environment 'Develpment' not found"),
        (["--deploy-to", "Development", "--machine", "dev-web-0l"], "--machine 'dev-web-0l': no such machine"),
        (["--deploy-to", "Development", "--skip", "Smoke tset"], "--skip 'Smoke tset': the deployment process"),
        (["--deploy-to", "Development", "--variable", "ChangeTiket=1"], "--variable 'ChangeTiket': the release"),
        (["--channel", "Hotfix", "--deploy-to", "Test", "--tenant", "Acne"], "Tenant 'Acne' not found"),
        (["--deploy-to", "Test"], "Release 1.5.0 of Web cannot be deployed to Test: the lifecycle has not reached"),
    ],
    ids=["package version", "default version", "channel", "step", "environment", "machine", "skip", "prompt",
         "tenant", "lifecycle"],
)
def test_create_refuses_in_the_dry_run_what_the_real_run_refuses_and_writes_nothing(
    sandbox: SandboxControl, octorelease: Octorelease, args: list[str], says: str
) -> None:
    before = releases_of(sandbox)
    dry = octorelease("create", "--project", "Web", "--version", "1.5.0", *args, "--dry-run")
    real = octorelease("create", "--project", "Web", "--version", "1.5.0", *args)

    assert (dry.code, real.code) == (3, 3), (dry.err, real.err)
    assert says in dry.err and says in real.err, (dry.err, real.err)
    assert "Traceback" not in dry.everything + real.everything
    assert writes(sandbox) == []  # the real run found it before its first write, too
    assert releases_of(sandbox) == before


def test_create_says_yes_in_the_dry_run_when_the_real_run_passes(
    sandbox: SandboxControl, octorelease: Octorelease
) -> None:
    args = ["create", "--project", "Web", "--version", "1.5.0", "--package", "Deploy web=1.3.0", "--channel",
            "Hotfix", "--deploy-to", "Development", "--machine", "dev-web-01", "--json"]

    dry = octorelease(*args, "--dry-run")
    real = octorelease(*args)

    assert (dry.code, real.code) == (0, 0), (dry.err, real.err)
    assert [(d["environment"], d["state"]) for d in dry.json["deployments"]] == [("Development", "Planned")]
    assert [(d["environment"], d["state"]) for d in real.json["deployments"]] == [("Development", "Success")]
    assert "only machines dev-web-01" in dry.err


def test_create_with_no_version_for_a_package_step_is_refused_before_the_post(
    sandbox: SandboxControl, octorelease: Octorelease
) -> None:
    run = octorelease("create", "--project", "Web", "--package", "*=1.1.0", "--dry-run", "--json")
    assert run.code == 0, run.err  # '*' names every package step, as the server reads it

    run = octorelease("create", "--project", "Infra", "--space", "Operations", "--package", "Deploy infra=1.0.0")
    assert run.code == 3
    assert "package Infra 1.0.0 is not in the feed" in run.err
    assert writes(sandbox) == []


SHIP = """\
server: ${OCTOPUS_URL}
api_key: ${OCTOPUS_API_KEY}
handlers:
  - name: Ship
    project: Web
    on: {event: build-completed}
    create: {version: "1.4.{build.number}", packages: {Deploy web: "1.3.0"}, deploy_to: [Development]}
    promote:
      from: Development
      to: [Test]
      machines: [test-web-01]
      notes: "Promoted by build {build.number}"
      force_package_download: true
"""


def test_run_dry_run_shows_every_deployment_with_its_machines_notes_and_options(
    sandbox: SandboxControl, octorelease: Octorelease, tmp_path: Path
) -> None:
    path = tmp_path / "octorelease.yml"
    path.write_text(SHIP, encoding="utf-8")

    run = octorelease("run", str(path), "--var", "build.number=7", "--dry-run")

    assert run.code == 0, run.err
    assert writes(sandbox) == []
    assert "Would create release 1.4.7 of Web (the version given)." in run.err
    assert ("deploy Web release 1.4.7 (the release this run creates)\n  -> Development: guided failure off "
            "(the environment's default)") in run.err
    assert "promote Web release 1.4.7 (the release this run creates)\n  -> Test: only machines test-web-01" in run.err
    assert "options: force package download, notes: 'Promoted by build 7'" in run.err


def test_run_with_a_typo_in_its_last_action_exits_with_one_line_naming_the_field_and_writes_nothing(
    sandbox: SandboxControl, octorelease: Octorelease, tmp_path: Path
) -> None:
    path = tmp_path / "octorelease.yml"
    path.write_text(SHIP.replace("[test-web-01]", "[test-web-0l]"), encoding="utf-8")

    run = octorelease("run", str(path), "--var", "build.number=7", "--json")

    assert run.code == 3
    assert f"Error: {path}:11: handlers[0].promote.machines[0]: 'test-web-0l': no such machine in Test." in run.err
    assert "--machine" not in run.everything
    assert writes(sandbox) == []
    assert "1.4.7" not in releases_of(sandbox)
    (action,) = run.json["handlers"][0]["actions"]
    assert (action["action"], action["deployments"], action["error"]["code"]) == ("promote", [], 3)
