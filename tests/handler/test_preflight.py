"""A handler checks every action before its first write, and its dry run lists exactly the
deployments its real run makes.

A typo in the promote action of a handler that creates and deploys must not leave a release
created and deployed: everything the server can be asked without writing (environments,
machines, steps, tenants, prompted variables, packages) is asked first, and a fault is named
by file, line and field.
"""

from __future__ import annotations

from typing import Any

import pytest

from octorelease import Octopus
from octorelease.cli.exit_codes import exit_code_for
from octorelease.handler.file import parse_handler_file
from octorelease.handler.run import run_handlers
from testing.sandbox import SandboxControl

VALUES = {"branch": "main", "number": "7", "commit": "abc"}

SHIP = """\
handlers:
  - name: Ship
    project: Web
    on: {event: build-completed}
    variables: {Greeting: "hello from {build.number}"}
    create:
      version: "1.4.{build.number}"
      packages: {Deploy web: "1.3.0"}
      deploy_to: [Development]
    promote:
      from: Development
      to: [Test]
      machines: [test-web-01]
      notes: "Promoted by build {build.number}"
"""


def run(sandbox: SandboxControl, text: str, **kwargs: Any) -> dict[str, Any]:
    handler_file = parse_handler_file(text, environ={})
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        return run_handlers(octopus, handler_file, event="build-completed", values=VALUES, **kwargs).to_dict(
            exit_code_for
        )


def writes(sandbox: SandboxControl) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests() if r["method"] != "GET"]


def planned(doc: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """Every deployment of every handler's actions: (action, environment, tenant), in order."""
    return [
        (action["action"], deployment["environment"], deployment.get("tenant"))
        for handler in doc["handlers"]
        for action in handler["actions"]
        for deployment in action["deployments"]
    ]


@pytest.mark.parametrize(
    ("old", "new", "says", "code"),
    [
        ("machines: [test-web-01]", "machines: [test-web-0l]",
         "octorelease.yml:13: handlers[0].promote.machines[0]: 'test-web-0l': no such machine in Test.", 3),
        ("to: [Test]", "to: [Tset]", "octorelease.yml:12: handlers[0].promote.to[0]: Environment 'Tset' not found", 3),
        ("from: Development", "from: Devlopment",
         "octorelease.yml:11: handlers[0].promote.from: Environment 'Devlopment' not found", 3),
        ("deploy_to: [Development]", "deploy_to: [Development]\n      skip: [Smoke tset]",
         "octorelease.yml:10: handlers[0].create.skip[0]: 'Smoke tset': the deployment process has no such step.", 3),
        ("notes: ", "prompted_variables: {ChangeTiket: CHG-1}\n      notes: ",
         "octorelease.yml:14: handlers[0].promote.prompted_variables.ChangeTiket: 'ChangeTiket': the release "
         "has no prompted variable of that name.", 3),
        ("machines: [test-web-01]", "tenants: [Acne]",
         "octorelease.yml:13: handlers[0].promote.tenants[0]: Tenant 'Acne' not found.", 3),
        ('"1.3.0"', '"9.9.9"',
         "octorelease.yml:8: handlers[0].create.packages['Deploy web']: 'Deploy web': package Web 9.9.9 is not in "
         "the feed", 3),
        ("project: Web", "project: Wbe", "octorelease.yml:3: handlers[0].project: Project 'Wbe' not found", 3),
        ("    promote:\n      from: Development\n", "    deploy:\n      release: 9.9.9\n",
         "octorelease.yml:11: handlers[0].deploy.release: Release '9.9.9' of project 'Web' not found.", 3),
    ],
    ids=["machine", "to", "from", "skip", "prompted variable", "tenant", "package version", "project", "release"],
)
def test_a_fault_in_any_action_stops_the_handler_before_its_first_write_and_names_file_line_and_field(
    sandbox: SandboxControl, old: str, new: str, says: str, code: int
) -> None:
    assert old in SHIP
    releases_before = sandbox.get("/api/Spaces-1/releases", take=100)["TotalResults"]

    doc = run(sandbox, SHIP.replace(old, new, 1))

    assert writes(sandbox) == []
    assert sandbox.get("/api/Spaces-1/releases", take=100)["TotalResults"] == releases_before
    assert doc["ok"] is False
    assert doc["error"]["code"] == code
    assert doc["error"]["message"].startswith(says), doc["error"]["message"]
    assert "--" not in doc["error"]["message"].split(":", 3)[-1]  # no command-line flag in a handler's error


def test_a_required_prompted_variable_missing_from_a_later_action_is_found_first(sandbox: SandboxControl) -> None:
    text = """\
handlers:
  - name: Migrate
    project: Billing
    on: {event: build-completed}
    create: {version: "3.2.0", default_package_version: "3.1.0"}
    deploy: {to: Development}
"""
    doc = run(sandbox, text)

    assert writes(sandbox) == []
    assert doc["error"]["code"] == 2
    assert doc["error"]["message"].startswith(
        "octorelease.yml:6: handlers[0].deploy.prompted_variables: The prompted variable 'Approver' is required."
    )


HANDLERS = [
    pytest.param(SHIP, id="create with deploy_to, promote with machines and notes"),
    pytest.param(
        SHIP.replace("      deploy_to: [Development]\n", "    deploy: {to: Development, skip: [Smoke test]}\n"),
        id="create, deploy, promote",
    ),
    pytest.param(SHIP.replace("machines: [test-web-01]", "tenants: ['*']"), id="tenanted promote"),
    pytest.param(
        "handlers:\n  - {name: Redo, project: Web, on: {event: build-completed}, "
        "deploy: {to: Development, release: 1.0.0}, promote: {from: Development, to: Test, force_redeploy: true}}\n",
        id="existing release",
    ),
]


def test_the_lifecycle_of_a_release_not_created_yet_is_checked_before_it_is_created(
    sandbox: SandboxControl,
) -> None:
    text = SHIP.replace("deploy_to: [Development]", "deploy_to: [Development, Staging]")

    dry = run(sandbox, text, dry_run=True)
    real = run(sandbox, text)

    assert writes(sandbox) == []
    assert dry["error"] == real["error"]
    assert real["error"]["code"] == 3
    assert real["error"]["message"] == (
        "octorelease.yml:9: handlers[0].create.deploy_to[1]: Release 1.4.7 of Web cannot be deployed to Staging: "
        "the lifecycle has not reached it yet (phase 'Development' is not complete). Nothing was created."
    )


@pytest.mark.parametrize("text", HANDLERS)
def test_the_dry_run_lists_exactly_the_deployments_the_real_run_makes(sandbox: SandboxControl, text: str) -> None:
    dry = run(sandbox, text, dry_run=True)
    assert writes(sandbox) == []

    real = run(sandbox, text)

    assert (dry["ok"], real["ok"]) == (True, True), (dry, real)
    assert planned(dry) and planned(dry) == planned(real)
    assert {d["state"] for h in dry["handlers"] for a in h["actions"] for d in a["deployments"]} == {"Planned"}
    made = sandbox.get("/api/Spaces-1/deployments", take=100)["Items"]
    assert len([w for w in writes(sandbox) if w.endswith("/deployments")]) == len(planned(real))
    assert len(made) >= len(planned(real))


def test_release_latest_after_a_create_is_the_new_release_in_the_dry_run_and_its_check(
    sandbox: SandboxControl,
) -> None:
    # The newest release now, 1.2.0, failed in Development, so the lifecycle keeps it from Test;
    # but "latest" is the release the handler creates and deploys to Development first.
    text = SHIP.replace("    promote:\n      from: Development\n", "    deploy:\n      release: latest\n").replace(
        "      machines: [test-web-01]\n", ""
    )

    dry = run(sandbox, text, dry_run=True)
    real = run(sandbox, text)

    assert (dry["ok"], real["ok"]) == (True, True), (dry["error"], real["error"])
    assert [a["release"]["version"] for a in dry["handlers"][0]["actions"][1:]] == ["1.4.7", "1.4.7"]
    assert planned(dry) == planned(real) == [("create", "Development", None), ("deploy", "Test", None)]
