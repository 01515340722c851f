"""Running handlers: variables, then create, deploy, promote; failures stop what depends on them.

The Octopus here is a recording stand-in: these tests are about order, arguments and the
result object. The actions themselves are specified against the sandbox elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from octorelease.actions.result import ActionResult, DeploymentResult, Ref
from octorelease.config import HandlerFile, HandlerFileError, load_handler_file, parse_handler_file
from octorelease.handler.run import run_handlers
from octorelease.octopus.errors import DeploymentFailed, NotFound, OctoreleaseError

VALUES = {"branch": "main", "number": "7", "commit": "abc"}


def code_for(exc: OctoreleaseError) -> int:
    return 3 if isinstance(exc, NotFound) else 1


class FakeProject:
    id, name = "Projects-1", "Web"


class FakeSpace:
    def __init__(self, variables: list[dict[str, Any]]) -> None:
        self.variables = {"Variables": variables}
        self.saved: list[dict[str, Any]] = []

    def project(self, name: str) -> FakeProject:
        return FakeProject()

    def variable_set(self, project: FakeProject) -> dict[str, Any]:
        return {"Variables": [dict(variable) for variable in self.variables["Variables"]]}

    def save_variable_set(self, project: FakeProject, variable_set: dict[str, Any]) -> None:
        self.saved.append(variable_set)


class FakeOctopus:
    """Records each verb's call; ``fail`` maps a verb to the error it returns in its result."""

    def __init__(self, fail: dict[str, OctoreleaseError] | None = None, variables: list[dict[str, Any]] = ()) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail or {}
        self.space = FakeSpace(list(variables))

    def _result(self, verb: str, project: str, kwargs: dict[str, Any], version: str) -> ActionResult:
        self.calls.append((verb, {"project": project, **kwargs}))
        result = ActionResult(verb, project=Ref("Projects-1", project), release=Ref("Releases-9", version))
        result.deployments = [
            DeploymentResult(env, f"Environments-{env}", state="Success") for env in kwargs.get("to", ())
        ]
        result.error = self.fail.get(verb)
        return result

    def create(self, project: str, **kwargs: Any) -> ActionResult:
        result = self._result("create", project, kwargs, kwargs.get("version") or "1.0.0")
        result.release_created = True
        return result

    def deploy(self, project: str, **kwargs: Any) -> ActionResult:
        return self._result("deploy", project, kwargs, kwargs["release"])

    def promote(self, project: str, **kwargs: Any) -> ActionResult:
        return self._result("promote", project, kwargs, kwargs.get("release") or "0.9.0")


SHIP = """\
handlers:
  - name: Ship
    project: Web
    on: {event: build-completed, status: success}
    conditions: ["{build.branch} == main"]
    variables: {Greeting: hello}
    create: {version: "1.4.{build.number}", notes: "Built from {build.commit}", packages: {web: "1.4.{build.number}"}}
    deploy: {to: Development, force_redeploy: true, skip: [Smoke test]}
    promote: {from: Development, to: [Test], notes: "Promoted by build {build.number}", tenants: ['*']}
    timeout: 2m
    log_messages: false
"""


def run(text: str, octopus: FakeOctopus, **kwargs: Any) -> dict[str, Any]:
    handler_file = parse_handler_file(text, environ={})
    return _run(handler_file, octopus, **kwargs)


def _run(handler_file: HandlerFile, octopus: FakeOctopus, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("event", "build-completed")
    kwargs.setdefault("status", "success")
    kwargs.setdefault("values", VALUES)
    return run_handlers(octopus, handler_file, **kwargs).to_dict(code_for)  # type: ignore[arg-type]


def test_actions_run_variables_create_deploy_promote_with_build_values_filled_in() -> None:
    octopus = FakeOctopus()
    doc = run(SHIP, octopus)
    assert [verb for verb, _ in octopus.calls] == ["create", "deploy", "promote"]
    create, deploy, promote = (kwargs for _, kwargs in octopus.calls)
    assert (create["version"], create["notes"], create["packages"]) == ("1.4.7", "Built from abc", {"web": "1.4.7"})
    assert (deploy["release"], deploy["to"], deploy["force_redeploy"], deploy["skip_steps"]) == (
        "1.4.7",
        ["Development"],
        True,
        ["Smoke test"],
    )
    assert (promote["source"], promote["to"], promote["notes"], promote["tenants"]) == (
        "Development",
        ["Test"],
        "Promoted by build 7",
        ["*"],
    )
    assert (promote["wait"].timeout_seconds, promote["wait"].log, promote["wait"].fail_on_error) == (120.0, False, True)
    assert octopus.space.saved == [
        {"Variables": [{"Name": "Greeting", "Value": "hello", "Type": "String", "IsSensitive": False, "Scope": {}}]}
    ]
    assert doc["ok"] is True and doc["error"] is None
    (handler,) = doc["handlers"]
    assert (handler["name"], handler["ran"], handler["reason"]) == (
        "Ship",
        True,
        "event is build-completed, status success, 1 condition holds",
    )
    assert [action["action"] for action in handler["actions"]] == ["variables", "create", "deploy", "promote"]


def test_handlers_that_do_not_match_are_reported_with_their_reason_and_not_run() -> None:
    octopus = FakeOctopus()
    doc = run(SHIP, octopus, values={**VALUES, "branch": "feature/x"})
    assert octopus.calls == []
    assert doc == {
        "ok": True,
        "handlers": [
            {
                "name": "Ship",
                "ran": False,
                "reason": "condition false: {build.branch} == main ('feature/x' == 'main')",
                "actions": [],
            }
        ],
        "error": None,
    }


def test_a_failed_action_stops_the_handlers_later_actions_and_fails_the_run() -> None:
    octopus = FakeOctopus(fail={"deploy": DeploymentFailed("1 of 1 deployments did not succeed")})
    doc = run(SHIP, octopus)
    assert [verb for verb, _ in octopus.calls] == ["create", "deploy"]
    assert doc["ok"] is False
    assert doc["error"] == {"code": 1, "message": "1 of 1 deployments did not succeed"}


TWO = """\
handlers:
  - {name: First, project: Web, on: {event: build-completed}, deploy: {to: Test, release: latest}}
  - {name: Second, project: Web, on: {event: build-completed}, promote: {from: Test, to: Production}}
"""


def test_a_failed_handler_skips_the_handlers_after_it() -> None:
    octopus = FakeOctopus(fail={"deploy": NotFound("Unknown environment 'Test'")})
    doc = run(TWO, octopus)
    assert [verb for verb, _ in octopus.calls] == ["deploy"]
    assert [(h["name"], h["ran"], h["reason"]) for h in doc["handlers"]] == [
        ("First", True, "event is build-completed"),
        ("Second", False, "skipped: handler 'First' failed"),
    ]
    assert doc["error"] == {"code": 3, "message": "Unknown environment 'Test'"}


def test_a_handler_that_does_not_fail_the_build_lets_the_next_one_run() -> None:
    octopus = FakeOctopus(fail={"deploy": NotFound("Unknown environment 'Test'")})
    doc = run(TWO.replace("release: latest}", "release: latest}, fail_build_on_error: false"), octopus)
    assert [verb for verb, _ in octopus.calls] == ["deploy", "promote"]
    assert doc["ok"] is True
    assert doc["handlers"][0]["actions"][0]["error"] == {"code": 3, "message": "Unknown environment 'Test'"}


def test_every_handler_is_checked_before_the_first_request() -> None:
    octopus = FakeOctopus()
    text = TWO.replace("to: Production}", "to: Production, notes: '{build.nope}'}")
    with pytest.raises(HandlerFileError) as caught:
        run(text, octopus)
    assert str(caught.value) == "octorelease.yml:3: handlers[1].promote.notes: unknown build value {build.nope}"
    assert octopus.calls == []


def test_release_notes_come_from_notes_file_next_to_the_handler_file(tmp_path: Path) -> None:
    (tmp_path / "NOTES.md").write_text("What changed", encoding="utf-8")
    path = tmp_path / "octorelease.yml"
    path.write_text(SHIP.replace('notes: "Built from {build.commit}"', "notes_file: NOTES.md"), encoding="utf-8")
    octopus = FakeOctopus()
    _run(load_handler_file(path, {}), octopus)
    assert octopus.calls[0][1]["notes"] == "What changed"


def test_a_missing_notes_file_points_at_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("octorelease.yml").write_text(SHIP.replace('notes: "Built from {build.commit}"', "notes_file: NO.md"))
    with pytest.raises(HandlerFileError) as caught:
        _run(load_handler_file("octorelease.yml", {}), FakeOctopus())
    assert str(caught.value) == (
        "octorelease.yml:7: handlers[0].create.notes_file: cannot read 'NO.md' (No such file or directory)"
    )


def test_a_dry_run_does_not_deploy_a_release_that_does_not_exist_yet() -> None:
    octopus = FakeOctopus()
    doc = run(SHIP, octopus, dry_run=True)
    assert [verb for verb, _ in octopus.calls] == ["create", "promote"]
    assert all(kwargs["dry_run"] for _, kwargs in octopus.calls)
    assert octopus.space.saved == []
    deploy = doc["handlers"][0]["actions"][2]
    assert deploy["messages"] == ["Would deploy the new release to Development once it exists."]


def test_variables_update_the_unscoped_value_and_leave_scoped_ones_alone() -> None:
    variables = [
        {"Name": "greeting", "Value": "old", "Scope": {}},
        {"Name": "Greeting", "Value": "scoped", "Scope": {"Environment": ["Environments-1"]}},
    ]
    octopus = FakeOctopus(variables=variables)
    run(SHIP, octopus)
    assert octopus.space.saved == [
        {
            "Variables": [
                {"Name": "greeting", "Value": "hello", "Scope": {}},
                {"Name": "Greeting", "Value": "scoped", "Scope": {"Environment": ["Environments-1"]}},
            ]
        }
    ]


def test_unchanged_variables_are_not_written_again() -> None:
    octopus = FakeOctopus(variables=[{"Name": "Greeting", "Value": "hello", "Scope": {}}])
    doc = run(SHIP, octopus)
    assert octopus.space.saved == []
    assert doc["handlers"][0]["actions"][0]["messages"] == [
        "Project variables Greeting of Web already had these values."
    ]


def test_variables_without_a_create_warn_that_releases_keep_their_snapshot() -> None:
    octopus = FakeOctopus()
    text = TWO.replace("release: latest}}", "release: latest}, variables: {A: b}}")
    doc = run(text, octopus)
    assert doc["handlers"][0]["actions"][0]["messages"][-1].startswith(
        "A release keeps the variables it was created with"
    )
