"""--update-variables (handler field update_variables): an existing release takes the project's
variables as they are now before it is deployed, as octo's --updateVariables does; once per
release per run, however many environments and actions deploy it."""

from __future__ import annotations

from typing import Any

from tests.handler.test_run import RecordingObserver, run, variables

from testing.sandbox import SandboxControl

WEB = "/api/Spaces-1/projects/Projects-1"
DEPLOY_ONE_OH = ("deploy", "--project", "Web", "--release", "1.0.0", "--no-log")


def set_greeting(sandbox: SandboxControl, value: str) -> None:
    variable_set = sandbox.get(f"{WEB}/variables")
    for variable in variable_set["Variables"]:
        if variable["Name"] == "Greeting" and not any(variable["Scope"].values()):
            variable["Value"] = value
    sandbox.call("PUT", f"{WEB}/variables", json=variable_set).raise_for_status()


def snapshot_greeting(sandbox: SandboxControl, version: str) -> str:
    """The Greeting the release's deployments see: its project variable snapshot's."""
    release = sandbox.get(f"{WEB}/releases/{version}")
    snapshot = variables(sandbox, f"/api/Spaces-1/variables/{release['ProjectVariableSetSnapshotId']}")
    return next(value for name, value, scope in snapshot if name == "Greeting" and not any(scope.values()))


def writes(sandbox: SandboxControl) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests() if r["method"] != "GET"]


def test_deploying_an_existing_release_with_update_variables_uses_the_new_value(sandbox, octorelease):
    set_greeting(sandbox, "hello again")
    assert snapshot_greeting(sandbox, "1.0.0") == "hello"
    sandbox.clear_requests()

    run = octorelease(*DEPLOY_ONE_OH, "--to", "Development", "--to", "Test", "--update-variables", "--json")

    assert run.code == 0, run.err
    assert snapshot_greeting(sandbox, "1.0.0") == "hello again"
    # Once for the release, before its first deployment, not once per environment.
    assert writes(sandbox) == [
        "POST /api/Spaces-1/releases/Releases-1/snapshot-variables",
        "POST /api/Spaces-1/deployments",
        "POST /api/Spaces-1/deployments",
    ]
    assert run.json["variables_updated"] is True
    assert "Updated the variable snapshot of release 1.0.0 of Web" in run.err
    template = sandbox.get("/api/Spaces-1/releases/Releases-1/deployments/template")
    assert template["IsVariableSetModified"] is False


def test_without_update_variables_the_release_keeps_its_snapshot(sandbox, octorelease):
    set_greeting(sandbox, "hello again")
    sandbox.clear_requests()

    run = octorelease(*DEPLOY_ONE_OH, "--to", "Development", "--json")

    assert run.code == 0, run.err
    assert snapshot_greeting(sandbox, "1.0.0") == "hello"
    assert not any("snapshot-variables" in w for w in writes(sandbox))
    assert "variables_updated" not in run.json


def test_the_dry_run_says_it_would_update_the_snapshot_and_does_not(sandbox, octorelease):
    set_greeting(sandbox, "hello again")
    sandbox.clear_requests()

    run = octorelease(*DEPLOY_ONE_OH, "--to", "Development", "--update-variables", "--dry-run", "--json")

    assert run.code == 0, run.err
    assert writes(sandbox) == []
    assert (run.json["dry_run"], run.json["variables_updated"]) == (True, True)
    assert "Would update the variable snapshot of release 1.0.0 of Web first." in run.json["messages"]
    assert "update the release's variable snapshot first" in run.err


def test_promote_updates_the_snapshot_of_the_release_it_promotes(sandbox, octorelease):
    set_greeting(sandbox, "promoted value")

    run = octorelease("promote", "--project", "Web", "--from", "Test", "--to", "Staging", "--no-log",
                      "--update-variables", "--json")

    assert run.code == 0, run.err
    assert snapshot_greeting(sandbox, run.json["release"]["version"]) == "promoted value"
    assert run.json["variables_updated"] is True


def test_a_release_created_by_the_same_command_is_not_snapshotted_twice(sandbox, octorelease):
    sandbox.publish_package("Web", "1.4.0")
    sandbox.clear_requests()

    run = octorelease("create", "--project", "Web", "--version", "1.4.0", "--package", "Deploy web=1.4.0",
                      "--deploy-to", "Development", "--update-variables", "--no-log", "--json")

    assert run.code == 0, run.err
    assert not any("snapshot-variables" in w for w in writes(sandbox))
    assert run.json["variables_updated"] is False


HANDLER = """\
handlers:
  - name: Refresh
    project: Web
    on: {{event: build-completed}}
    variables: {{Greeting: "from the handler"}}
    deploy: {{to: Development, release: 1.2.0{deploy}}}
    promote: {{from: Development, to: Test{promote}}}
    log_messages: false
"""


def _handler(deploy: str = "", promote: str = "") -> str:
    return HANDLER.format(deploy=deploy, promote=promote)


def test_a_handler_with_update_variables_deploys_the_values_it_sets_once_and_does_not_warn(sandbox: Any) -> None:
    observer = RecordingObserver()
    sandbox.clear_requests()

    doc = run(sandbox, _handler(", update_variables: true", ", update_variables: true"), observer=observer)

    assert doc["ok"], doc
    assert snapshot_greeting(sandbox, "1.2.0") == "from the handler"
    # The deploy and the promote deploy the same release: its snapshot is refreshed once.
    assert [w for w in writes(sandbox) if "snapshot-variables" in w] == [
        "POST /api/Spaces-1/releases/Releases-3/snapshot-variables"
    ]
    deploy, promote = doc["handlers"][0]["actions"][1:]
    assert (deploy["variables_updated"], promote["variables_updated"]) == (True, False)
    assert not [w for w in observer.warnings if "keeps the variables" in w]


def test_a_handler_that_sets_variables_without_update_variables_is_told_the_cure(sandbox: Any) -> None:
    observer = RecordingObserver()

    doc = run(sandbox, _handler(", update_variables: true"), observer=observer)  # the promote lacks it

    assert doc["ok"], doc
    (warning,) = [w for w in observer.warnings if "keeps the variables" in w]
    assert "add update_variables: true to the deploy and promote actions" in warning


def test_update_variables_must_be_true_or_false_in_a_handler_file(sandbox: Any) -> None:
    import pytest

    from octorelease.handler.file import HandlerFileError, parse_handler_file

    with pytest.raises(HandlerFileError, match=r"octorelease.yml:6: handlers\[0\].deploy.update_variables"):
        parse_handler_file(_handler(", update_variables: sometimes"), environ={})


def test_a_handlers_dry_run_says_once_that_it_would_update_the_snapshot(sandbox: Any) -> None:
    doc = run(sandbox, _handler(", update_variables: true", ", update_variables: true"), dry_run=True)

    assert doc["ok"], doc
    deploy, promote = doc["handlers"][0]["actions"][1:]
    assert (deploy["variables_updated"], promote["variables_updated"]) == (True, False)  # as the real run
    said = [m for action in (deploy, promote) for m in action.get("messages", []) if "variable snapshot" in m]
    assert said == ["Would update the variable snapshot of release 1.2.0 of Web first."]
