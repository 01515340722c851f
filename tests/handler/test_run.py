"""Running handlers against the sandbox: variables, then create, deploy, promote; failures stop
what depends on them.

Each test runs ``run_handlers`` with a real ``Octopus`` over HTTP and looks at what the server
then holds (releases, deployments, variables), at its request log, and at the result object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from octorelease import Octopus
from octorelease.actions.result import SilentObserver
from octorelease.actions.twins import notes_without_marker
from octorelease.cli.exit_codes import exit_code_for
from octorelease.handler.file import HandlerFile, HandlerFileError, load_handler_file, parse_handler_file
from octorelease.handler.run import run_handlers
from testing.sandbox import SandboxControl

VALUES = {"branch": "main", "number": "7", "commit": "abc"}
WEB = "/api/Spaces-1/projects/Projects-1"

SHIP = """\
handlers:
  - name: Ship
    project: Web
    on: {event: build-completed, status: success}
    conditions: ["{build.branch} == main"]
    variables: {Greeting: "hello from {build.number}"}
    create:
      {version: "1.4.{build.number}", notes: "Built from {build.commit}", packages: {Deploy web: "1.4.{build.number}"}}
    deploy: {to: Development, force_redeploy: true, skip: [Smoke test]}
    promote: {from: Development, to: [Test], notes: "Promoted by build {build.number}", tenants: ['*']}
    timeout: 2m
    log_messages: false
"""

# First redeploys 1.2.0 to Development; Second promotes what Test runs (1.0.0) on to Staging.
# They touch different releases, so Second can run whatever became of First.
TWO = """\
handlers:
  - {name: First, project: Web, on: {event: build-completed}, deploy: {to: Development, release: 1.2.0}}
  - {name: Second, project: Web, on: {event: build-completed}, promote: {from: Test, to: Staging}}
"""


class RecordingObserver(SilentObserver):
    """Keeps the notes and warnings a run tells its console."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.warnings: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)

    def warn(self, message: str, detail: str | None = None) -> None:
        self.warnings.append(message)


def run(
    sandbox: SandboxControl, handlers: str | HandlerFile, *, observer: RecordingObserver | None = None, **kwargs: Any
) -> dict[str, Any]:
    """Run the handlers for a successful build-completed against the sandbox; the ``--json`` object."""
    handler_file = parse_handler_file(handlers, environ={}) if isinstance(handlers, str) else handlers
    kwargs.setdefault("event", "build-completed")
    kwargs.setdefault("status", "success")
    kwargs.setdefault("values", VALUES)
    with Octopus(sandbox.url, sandbox.api_key, observer=observer) as octopus:
        return run_handlers(octopus, handler_file, **kwargs).to_dict(exit_code_for)


def releases(sandbox: SandboxControl) -> dict[str, dict[str, Any]]:
    """The releases of Web on the server, by version."""
    return {r["Version"]: r for r in sandbox.get(f"{WEB}/releases", take=100)["Items"]}


def deployments(sandbox: SandboxControl) -> list[dict[str, Any]]:
    """Every deployment on the server, oldest first."""
    return list(reversed(sandbox.get("/api/Spaces-1/deployments", take=100)["Items"]))


def variables(sandbox: SandboxControl, path: str = f"{WEB}/variables") -> list[tuple[str, str, dict[str, Any]]]:
    return [(v["Name"], v["Value"], v["Scope"]) for v in sandbox.get(path)["Variables"]]


def writes(sandbox: SandboxControl) -> list[str]:
    """The requests since the last clear that were not reads."""
    return [f"{r['method']} {r['path']}" for r in sandbox.requests() if r["method"] != "GET"]


def test_actions_run_variables_create_deploy_promote_with_build_values_filled_in(sandbox: SandboxControl) -> None:
    sandbox.publish_package("Web", "1.4.7")
    sandbox.clear_requests()
    before = len(deployments(sandbox))

    doc = run(sandbox, SHIP)

    assert writes(sandbox) == [
        "PUT /api/Spaces-1/projects/Projects-1/variables",
        "POST /api/Spaces-1/releases/create/v1",
        "POST /api/Spaces-1/deployments",
        "POST /api/Spaces-1/deployments",
        "POST /api/Spaces-1/deployments",
    ]
    assert ("Greeting", "hello from 7", {}) in variables(sandbox)
    release = releases(sandbox)["1.4.7"]
    assert release["ReleaseNotes"] == "Built from abc"
    assert [(p["StepName"], p["Version"]) for p in release["SelectedPackages"]] == [("Deploy web", "1.4.7")]
    # The variables were set before the release was created, so its snapshot has the new value.
    snapshot = variables(sandbox, f"/api/Spaces-1/variables/{release['ProjectVariableSetSnapshotId']}")
    assert ("Greeting", "hello from 7", {}) in snapshot

    deploy, *promoted = deployments(sandbox)[before:]
    smoke_test = sandbox.get(f"{WEB}/deploymentprocesses")["Steps"][1]
    assert smoke_test["Name"] == "Smoke test"
    assert (deploy["ReleaseId"], deploy["EnvironmentId"], deploy["ForcePackageRedeployment"]) == (
        release["Id"],
        "Environments-1",
        True,
    )
    assert deploy["SkipActions"] == [action["Id"] for action in smoke_test["Actions"]]
    notes = [(d["ReleaseId"], d["EnvironmentId"], d["TenantId"], notes_without_marker(d["Comments"])) for d in promoted]
    assert notes == [
        (release["Id"], "Environments-2", "Tenants-1", "Promoted by build 7"),
        (release["Id"], "Environments-2", "Tenants-2", "Promoted by build 7"),
    ]
    # log_messages: false: the run waited for every task, but read no task log.
    assert not [r for r in sandbox.requests() if r["path"].endswith("/details")]

    assert doc["ok"] is True and doc["error"] is None
    (handler,) = doc["handlers"]
    assert (handler["name"], handler["ran"], handler["reason"]) == (
        "Ship",
        True,
        "event is build-completed, status success, 1 condition holds",
    )
    assert [action["action"] for action in handler["actions"]] == ["variables", "create", "deploy", "promote"]
    assert [d["state"] for action in handler["actions"] for d in action["deployments"]] == ["Success"] * 3


def test_handlers_that_do_not_match_are_reported_with_their_reason_and_not_run(sandbox: SandboxControl) -> None:
    doc = run(sandbox, SHIP, values={**VALUES, "branch": "feature/x"})
    assert sandbox.requests() == []
    assert doc == {
        "ok": True,
        "handlers": [
            {
                "name": "Ship",
                "ran": False,
                "outcome": "skipped",
                "reason": "condition false: {build.branch} == main ('feature/x' == 'main')",
                "actions": [],
            }
        ],
        "error": None,
    }


def test_a_failed_action_stops_the_handlers_later_actions_and_fails_the_run(sandbox: SandboxControl) -> None:
    sandbox.publish_package("Web", "1.4.7")
    sandbox.fail(step="Deploy web", environment="Development", message="Disk full")
    before = len(deployments(sandbox))

    doc = run(sandbox, SHIP)

    assert [d["EnvironmentId"] for d in deployments(sandbox)[before:]] == ["Environments-1"]  # nothing to Test
    assert doc["ok"] is False
    assert doc["error"] == {
        "code": 1,
        "message": "1 of 1 deployments did not succeed: Development Failed at step 'Deploy web': Disk full",
    }
    actions = doc["handlers"][0]["actions"]
    assert [action["action"] for action in actions] == ["variables", "create", "deploy"]
    (failed,) = actions[2]["deployments"]
    assert (failed["state"], failed["failed_step"], failed["error_message"]) == ("Failed", "Deploy web", "Disk full")


def test_a_failed_handler_skips_the_handlers_after_it(sandbox: SandboxControl) -> None:
    sandbox.fail(step="Smoke test", environment="Development", message="GET /health returned 503")
    before = len(deployments(sandbox))

    doc = run(sandbox, TWO)

    assert [d["EnvironmentId"] for d in deployments(sandbox)[before:]] == ["Environments-1"]  # none to Staging
    assert [(h["name"], h["ran"], h["reason"]) for h in doc["handlers"]] == [
        ("First", True, "event is build-completed"),
        ("Second", False, "skipped: handler 'First' failed"),
    ]
    assert doc["ok"] is False
    assert doc["error"] == {
        "code": 1,
        "message": "1 of 1 deployments did not succeed: "
        "Development Failed at step 'Smoke test': GET /health returned 503",
    }


def test_a_handler_that_does_not_fail_the_build_lets_the_next_one_run(sandbox: SandboxControl) -> None:
    sandbox.fail(step="Smoke test", environment="Development", message="GET /health returned 503")
    before = len(deployments(sandbox))

    doc = run(sandbox, TWO.replace("release: 1.2.0}", "release: 1.2.0}, fail_build_on_error: false"))

    created = deployments(sandbox)[before:]
    assert [(d["EnvironmentId"], d["ReleaseId"]) for d in created] == [
        ("Environments-1", "Releases-3"),
        ("Environments-3", "Releases-1"),
    ]
    assert doc["ok"] is True and doc["error"] is None
    first, second = doc["handlers"]
    assert first["actions"][0]["deployments"][0]["state"] == "Failed"
    assert first["actions"][0]["messages"][-1].endswith("(ignored)")
    assert (second["ran"], second["actions"][0]["deployments"][0]["state"]) == (True, "Success")


def test_every_handler_is_checked_before_the_first_request(sandbox: SandboxControl) -> None:
    text = TWO.replace("to: Staging}", "to: Staging, notes: '{build.nope}'}")
    with pytest.raises(HandlerFileError) as caught:
        run(sandbox, text)
    assert str(caught.value) == "octorelease.yml:3: handlers[1].promote.notes: unknown build value {build.nope}"
    assert sandbox.requests() == []


def test_release_notes_come_from_notes_file_next_to_the_handler_file(
    sandbox: SandboxControl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "NOTES.md").write_text("What changed", encoding="utf-8")
    path = tmp_path / "ci" / "octorelease.yml"
    path.write_text(SHIP.replace('notes: "Built from {build.commit}"', "notes_file: NOTES.md"), encoding="utf-8")
    sandbox.publish_package("Web", "1.4.7")
    monkeypatch.chdir(tmp_path)  # the notes file is found next to the handler file, not in the working directory

    run(sandbox, load_handler_file("ci/octorelease.yml", {}))

    assert releases(sandbox)["1.4.7"]["ReleaseNotes"] == "What changed"


def test_a_missing_notes_file_points_at_the_field(
    sandbox: SandboxControl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("octorelease.yml").write_text(SHIP.replace('notes: "Built from {build.commit}"', "notes_file: NO.md"))
    with pytest.raises(HandlerFileError) as caught:
        run(sandbox, load_handler_file("octorelease.yml", {}))
    assert str(caught.value) == (
        "octorelease.yml:8: handlers[0].create.notes_file: cannot read 'NO.md' (No such file or directory)"
    )
    assert sandbox.requests() == []


def test_a_dry_run_creates_nothing_and_does_not_deploy_a_release_that_does_not_exist_yet(
    sandbox: SandboxControl,
) -> None:
    sandbox.publish_package("Web", "1.4.7")
    sandbox.clear_requests()
    before = (releases(sandbox).keys(), len(deployments(sandbox)), variables(sandbox))

    observer = RecordingObserver()

    doc = run(sandbox, SHIP, dry_run=True, observer=observer)

    assert writes(sandbox) == []
    assert (releases(sandbox).keys(), len(deployments(sandbox)), variables(sandbox)) == before
    assert doc["ok"] is True
    variables_, create, deploy, promote = doc["handlers"][0]["actions"]
    assert all(action["dry_run"] for action in (variables_, create, deploy, promote))
    assert variables_["messages"] == ["Would set project variables Greeting of Web."]
    assert (create["release"]["version"], create["created"]) == ("1.4.7", True)
    # Development still runs an older release, but the real run would promote the new one.
    assert "Would deploy the new release to Development once it exists." in deploy["messages"]
    assert promote["release"]["version"] == "1.4.7"
    assert "Would promote the new release from Development to Test once it is there." in promote["messages"]
    assert set(deploy["messages"] + promote["messages"]) <= set(observer.notes)
    # ... and lists the deployments it would make, for each tenant
    assert [(d["environment"], d.get("tenant")) for d in deploy["deployments"] + promote["deployments"]] == [
        ("Development", None), ("Test", "Acme"), ("Test", "Globex")]


def test_a_dry_run_promotes_the_release_its_handler_deploys_first_not_the_one_there_now(
    sandbox: SandboxControl,
) -> None:
    text = "handlers:\n  - {name: Redo, project: Web, on: {event: build-completed}, " + (
        "deploy: {to: Development, release: 1.1.0}, promote: {from: Development, to: Test}}\n"
    )

    doc = run(sandbox, text, dry_run=True)

    assert writes(sandbox) == []
    deploy, promote = doc["handlers"][0]["actions"]
    assert (deploy["release"]["version"], promote["release"]["version"]) == ("1.1.0", "1.1.0")
    assert [(d["environment"], d["state"]) for d in promote["deployments"]] == [("Test", "Planned")]


def test_variables_update_the_unscoped_value_and_leave_scoped_ones_alone(sandbox: SandboxControl) -> None:
    variable_set = sandbox.get(f"{WEB}/variables")
    greeting = next(v for v in variable_set["Variables"] if v["Name"] == "Greeting")
    greeting["Name"] = "greeting"  # names compare case-insensitively, as in Octopus
    variable_set["Variables"].append(
        {"Name": "Greeting", "Value": "scoped", "Type": "String", "Scope": {"Environment": ["Environments-1"]}}
    )
    sandbox.call("PUT", f"{WEB}/variables", json=variable_set).raise_for_status()

    run(sandbox, SHIP.replace('"1.4.{build.number}"}', '"1.3.0"}'))

    greetings = [v for v in variables(sandbox) if v[0].lower() == "greeting"]
    assert greetings == [
        ("greeting", "hello from 7", {}),
        ("Greeting", "scoped", {"Environment": ["Environments-1"]}),
    ]


def test_unchanged_variables_are_not_written_again(sandbox: SandboxControl) -> None:
    text = TWO.replace("release: 1.2.0}", "release: 1.2.0}, variables: {Greeting: hello}")  # the seed's value

    doc = run(sandbox, text)

    assert not [write for write in writes(sandbox) if write.startswith("PUT")]
    assert doc["handlers"][0]["actions"][0]["messages"][0] == (
        "Project variables Greeting of Web already had these values."
    )


def test_variables_without_a_create_warn_that_releases_keep_their_snapshot(sandbox: SandboxControl) -> None:
    text = TWO.replace("release: 1.2.0}", "release: 1.2.0}, variables: {Greeting: hi}")
    observer = RecordingObserver()

    doc = run(sandbox, text, observer=observer)

    assert ("Greeting", "hi", {}) in variables(sandbox)
    messages = doc["handlers"][0]["actions"][0]["messages"]
    assert messages[0] == "Set project variables Greeting of Web."
    assert messages[-1].startswith("A release keeps the variables it was created with")
    # The console hears both as they happen: the change as a note, the snapshot as a warning.
    assert "Set project variables Greeting of Web." in observer.notes
    assert observer.warnings == [messages[-1]]


def test_without_waiting_a_handler_never_promotes_an_older_release_than_it_deployed(sandbox: Any) -> None:
    sandbox.set_speed(0.5)
    handler_file = parse_handler_file(
        """\
handlers:
  - name: Queue and promote
    project: Web
    on: {event: build-completed}
    create: {version: "1.3.9", default_package_version: "1.3.0"}
    deploy: {to: [Development]}
    promote: {from: Development, to: [Test]}
    wait: false
"""
    )
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        result = run_handlers(octopus, handler_file, event="build-completed", values={})
    promote = result.handlers[0].actions[-1]
    assert promote.action == "promote"
    assert promote.release is not None and promote.release.name == "1.3.9"
    test_deployments = sandbox.get("/api/Spaces-1/deployments", environments="Environments-2", take=100)["Items"]
    assert all(d["ReleaseId"] != "Releases-2" for d in test_deployments)
