"""A handler file run against the sandbox over real HTTP, through the Python API."""

from __future__ import annotations

from typing import Any

from octorelease import Octopus
from octorelease.cli import exit_code_for
from octorelease.config import parse_handler_file
from octorelease.handler.run import run_handlers

HANDLERS = """\
handlers:
  - name: Ship
    project: Web
    on: {event: build-completed, status: success}
    conditions: ["{build.branch} == main"]
    variables: {Greeting: "hello from {build.number}"}
    create: {version: "1.4.{build.number}", packages: {"Deploy web": "1.3.0"}, notes: "Built from {build.commit}"}
    deploy: {to: Development}
    promote: {from: Development, to: [Test], notes: "Promoted by build {build.number}"}
    timeout: 1m
  - name: Stage
    project: Web
    on: {event: build-completed}
    promote: {from: Test, to: [Staging]}
"""
BUILD = {"branch": "main", "number": "7", "commit": "abc123"}


def run(sandbox: Any) -> dict[str, Any]:
    handler_file = parse_handler_file(HANDLERS, environ={})
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        result = run_handlers(octopus, handler_file, event="build-completed", status="success", values=BUILD)
    return result.to_dict(exit_code_for)


def test_a_build_creates_deploys_and_promotes_through_the_handlers(sandbox: Any) -> None:
    doc = run(sandbox)
    assert doc["ok"] is True
    ship, stage = doc["handlers"]
    assert [action["action"] for action in ship["actions"]] == ["variables", "create", "deploy", "promote"]
    assert {action["release"]["version"] for action in ship["actions"][1:] + stage["actions"]} == {"1.4.7"}
    deployed = [d["environment"] for h in doc["handlers"] for a in h["actions"] for d in a["deployments"]]
    assert deployed == ["Development", "Test", "Staging"]
    variables = sandbox.get("/api/Spaces-1/projects/Projects-1/variables")["Variables"]
    assert {v["Name"]: v["Value"] for v in variables}["Greeting"] == "hello from 7"
    release = sandbox.get(f"/api/Spaces-1/releases/{ship['actions'][1]['release']['id']}")
    assert release["ReleaseNotes"] == "Built from abc123"


def test_a_failed_deployment_stops_the_later_handlers(sandbox: Any) -> None:
    sandbox.fail(step="Smoke test", environment="Development")
    doc = run(sandbox)
    assert doc["ok"] is False and doc["error"]["code"] == 1
    ship, stage = doc["handlers"]
    assert [action["action"] for action in ship["actions"]] == ["variables", "create", "deploy"]
    assert (stage["ran"], stage["reason"]) == (False, "skipped: handler 'Ship' failed")
