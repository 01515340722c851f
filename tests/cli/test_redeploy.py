"""Two separate switches: --redeploy (deploy again to a target that already runs the release)
and --force-redeploy (Octopus's ForcePackageRedeployment on the deployments made)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.cli.test_promote import new_deployments, server_deployments

from octorelease import Octopus
from octorelease.handler.file import parse_handler_file
from octorelease.handler.run import run_handlers

#: Web 1.0.0 already runs in Test (seed); Development runs it too.
ONE_OH_TO_TEST = ("promote", "--project", "Web", "--from", "Development", "--to", "Test", "--release", "1.0.0",
                  "--no-log")


def test_redeploy_alone_deploys_again_without_forcing_packages(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*ONE_OH_TO_TEST, "--redeploy", "--json")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert (created["ReleaseId"], created["ForcePackageRedeployment"]) == ("Releases-1", False)
    assert "already_deployed" not in run.json["deployments"][0]


def test_force_redeploy_with_no_redeploy_forces_packages_only_where_a_deployment_is_made(sandbox, octorelease):
    worker = ("promote", "--project", "Worker", "--from", "Development", "--no-log")
    assert octorelease(*worker, "--to", "Test").code == 0  # Test now runs Worker 2.0.0
    before = server_deployments(sandbox)
    run = octorelease(*worker, "--to", "Test", "--to", "Staging", "--force-redeploy", "--no-redeploy", "--json")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert (created["EnvironmentId"], created["ForcePackageRedeployment"]) == ("Environments-3", True)
    by_env = {d["environment"]: d for d in run.json["deployments"]}
    assert by_env["Test"]["already_deployed"] is True
    assert "Test already has Worker 2.0.0" in run.err and "--redeploy does" in run.err


def test_force_redeploy_alone_still_deploys_again_as_it_always_did_and_says_how_not_to(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*ONE_OH_TO_TEST, "--force-redeploy")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert (created["ReleaseId"], created["ForcePackageRedeployment"]) == ("Releases-1", True)
    assert "Test already runs Web 1.0.0: --force-redeploy deploys it again" in run.err
    assert "--no-redeploy" in run.err


def test_neither_switch_joins_what_the_target_runs(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*ONE_OH_TO_TEST, "--json")
    assert run.code == 0, run.err
    assert new_deployments(sandbox, before) == []
    assert run.json["deployments"][0]["already_deployed"] is True


def test_the_dry_run_tells_which_targets_would_be_deployed_again(sandbox, octorelease):
    run = octorelease(*ONE_OH_TO_TEST, "--redeploy", "--dry-run", "--json")
    assert run.code == 0, run.err
    assert "already_deployed" not in run.json["deployments"][0]
    assert "redeploy where the release already runs" in run.err


HANDLERS = """\
handlers:
  - name: Again
    project: Web
    on: {{event: build-completed}}
    promote: {{from: Development, to: Test, release: 1.0.0, {fields}}}
    log_messages: false
"""


def _run_handler(sandbox: Any, fields: str) -> dict[str, Any]:
    handler_file = parse_handler_file(HANDLERS.format(fields=fields), environ={})
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        result = run_handlers(octopus, handler_file, event="build-completed", values={})
    assert result.ok, result.error
    return result.handlers[0].actions[0].to_dict(lambda exc: 1)


def test_the_handler_file_has_both_fields(sandbox):
    before = server_deployments(sandbox)
    joined = _run_handler(sandbox, "force_redeploy: true, redeploy: false")
    assert new_deployments(sandbox, before) == []
    assert joined["deployments"][0]["already_deployed"] is True
    again = _run_handler(sandbox, "redeploy: true")
    (created,) = new_deployments(sandbox, before)
    assert created["ForcePackageRedeployment"] is False
    assert again["deployments"][0]["deployment_id"] == created["Id"]


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_a_handler_is_told_of_its_fields_not_of_flags_it_never_wrote(sandbox, octorelease, tmp_path, dry_run):
    path = tmp_path / "octorelease.yml"
    path.write_text(HANDLERS.format(fields="force_redeploy: true"), encoding="utf-8")
    run = octorelease("run", str(path), *(["--dry-run"] if dry_run else []))
    assert run.code == 0, run.err
    assert "Test already runs Web 1.0.0: force_redeploy: true deploys it again" in run.err, run.err
    assert "add redeploy: false to force package redeployment only" in run.err, run.err
    assert "--force-redeploy" not in run.err and "--no-redeploy" not in run.err, run.err


def test_a_handler_that_joins_a_target_names_the_field_that_deploys_again(sandbox, octorelease, tmp_path):
    path = tmp_path / "octorelease.yml"
    path.write_text(HANDLERS.format(fields="force_redeploy: true, redeploy: false"), encoding="utf-8")
    run = octorelease("run", str(path))
    assert run.code == 0, run.err
    assert "not deploying it again (redeploy: true does)" in run.err, run.err
