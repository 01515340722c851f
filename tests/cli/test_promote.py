"""`octorelease promote` against the sandbox: every option, checked in the server's own state."""

from __future__ import annotations

from typing import Any

import pytest

from octorelease.actions.twins import notes_without_marker
from testing.cli import run_cli

#: The promotion most tests make: Web's 1.0.0 from Test (where it runs) on to Staging (allowed next).
TEST_TO_STAGING = ("promote", "--project", "Web", "--from", "Test", "--to", "Staging")


def server_deployments(sandbox: Any) -> list[dict[str, Any]]:
    """Every deployment the sandbox holds in the default space, newest first."""
    items: list[dict[str, Any]] = sandbox.get("/api/Spaces-1/deployments", take=500)["Items"]
    return items


def new_deployments(sandbox: Any, before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    known = {d["Id"] for d in before}
    return [d for d in server_deployments(sandbox) if d["Id"] not in known]


def test_promote_picks_latest_successful_release_and_says_why(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease("promote", "--project", "Web", "--from", "Development", "--to", "Test", "--json")
    assert run.code == 0, run.err
    assert "1.2.0" in run.err and "Failed" in run.err and "1.1.0" in run.err
    (created,) = new_deployments(sandbox, before)
    assert created["ReleaseId"] == "Releases-2"
    assert created["EnvironmentId"] == "Environments-2"
    doc = run.json
    assert doc["ok"] is True and doc["error"] is None
    assert doc["action"] == "promote" and doc["from"] == "Development"
    assert doc["project"] == {"id": "Projects-1", "name": "Web"}
    assert doc["release"] == {"id": "Releases-2", "version": "1.1.0"}
    (deployment,) = doc["deployments"]
    assert deployment["environment"] == "Test"
    assert deployment["deployment_id"] == created["Id"]
    assert deployment["task_id"] == created["TaskId"]
    assert deployment["state"] == "Success"
    assert deployment["duration_seconds"] is not None
    assert deployment["web_url"].startswith(sandbox.url)
    assert sandbox.get(f"/api/tasks/{created['TaskId']}")["State"] == "Success"


def test_promote_with_notes_and_flags_sets_the_deployment_fields(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(
        *TEST_TO_STAGING,
        "--notes",
        "Promoted by build 42",
        "--force-package-download",
        "--force-redeploy",
        "--guided-failure",
        "on",
    )
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert created["ReleaseId"] == "Releases-1"
    assert notes_without_marker(created["Comments"]) == "Promoted by build 42"  # then the run's marker
    assert created["ForcePackageDownload"] is True
    assert created["ForcePackageRedeployment"] is True
    assert created["UseGuidedFailure"] is True


def test_promote_to_three_environments_at_once(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(
        "--json",
        "promote",
        "--project",
        "Worker",
        "--from",
        "Development",
        "--to",
        "Test",
        "--to",
        "Staging",
        "--to",
        "Production",
    )
    assert run.code == 0, run.err
    doc = run.json
    assert [d["environment"] for d in doc["deployments"]] == ["Test", "Staging", "Production"]
    assert {d["state"] for d in doc["deployments"]} == {"Success"}
    created = new_deployments(sandbox, before)
    assert sorted(d["EnvironmentId"] for d in created) == ["Environments-2", "Environments-3", "Environments-4"]
    assert {d["ReleaseId"] for d in created} == {"Releases-4"}


def test_promote_before_the_lifecycle_allows_it_creates_nothing_and_says_why(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease("promote", "--project", "Web", "--from", "Test", "--to", "Production", "--json")
    assert run.code == 3
    assert "Production" in run.err and "not reached" in run.err
    assert new_deployments(sandbox, before) == []
    assert run.json["ok"] is False and run.json["error"]["code"] == 3
    assert run.json["release"] == {"id": "Releases-1", "version": "1.0.0"}
    assert "Release 1.0.0 of Web cannot be deployed to Production" in run.json["error"]["message"]


def test_promote_with_one_forbidden_target_creates_nothing(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(
        *TEST_TO_STAGING,
        "--to",
        "Disaster Recovery",
    )
    assert run.code == 3
    assert "Disaster Recovery: not in the release's lifecycle" in run.err
    assert new_deployments(sandbox, before) == []


def test_failed_deployment_exits_1_with_the_step_and_its_error(sandbox, octorelease):
    sandbox.fail(step="Smoke test", environment="Staging", message="GET /health returned 500")
    run = octorelease(*TEST_TO_STAGING, "--json")
    assert run.code == 1
    assert "Smoke test" in run.err and "GET /health returned 500" in run.err
    doc = run.json
    assert doc["ok"] is False and doc["error"]["code"] == 1
    assert doc["deployments"][0]["state"] == "Failed"
    assert doc["deployments"][0]["failed_step"] == "Smoke test"


def test_no_fail_on_error_turns_a_failure_into_exit_0(sandbox, octorelease):
    sandbox.fail(step="Smoke test", environment="Staging", message="flaky")
    run = octorelease(*TEST_TO_STAGING, "--no-fail-on-error")
    assert run.code == 0
    assert "flaky" in run.err


def test_timeout_with_cancel_leaves_the_task_cancelled_on_the_server(sandbox, octorelease):
    sandbox.set_speed(1.0)
    run = octorelease(
        *TEST_TO_STAGING,
        "--timeout",
        "1s",
        "--cancel-on-timeout",
        "--json",
    )
    assert run.code == 5
    task_id = run.json["deployments"][0]["task_id"]
    task = sandbox.wait_for_task(task_id, timeout=10)
    assert task["State"] == "Canceled"
    assert "cancelled on the server" in run.err


def test_timeout_without_cancel_leaves_the_task_running(sandbox, octorelease):
    sandbox.set_speed(1.0)
    run = octorelease(*TEST_TO_STAGING, "--timeout", "1", "--json")
    assert run.code == 5
    task = sandbox.get(f"/api/tasks/{run.json['deployments'][0]['task_id']}")
    assert task["State"] in ("Queued", "Executing")


def test_wrong_api_key_exits_4_and_the_key_is_never_shown(sandbox, capsys):
    secret = "API-WRONGWRONGWRONGWRONGWRONG1234"
    run = run_cli(
        capsys,
        *TEST_TO_STAGING,
        "--json",
        "--server",
        sandbox.url,
        "--api-key",
        secret,
    )
    assert run.code == 4
    assert secret not in run.everything
    assert run.json["error"]["code"] == 4


def test_the_real_key_never_appears_in_any_output(sandbox, octorelease):
    sandbox.fail(step="Deploy web", environment="Staging", message=f"leaked {sandbox.api_key} in a script")
    run = octorelease(*TEST_TO_STAGING, "--json", "-v")
    assert run.code == 1
    assert sandbox.api_key not in run.everything


def test_unknown_environment_gives_a_hint(sandbox, octorelease):
    run = octorelease("promote", "--project", "Web", "--from", "Test", "--to", "Prodution")
    assert run.code == 3
    assert "Environment 'Prodution' not found" in run.err
    assert "did you mean 'Production'?" in run.err
    assert "Traceback" not in run.err


def test_unknown_project_gives_a_hint(sandbox, octorelease):
    run = octorelease("promote", "--project", "Wbe", "--from", "Test", "--to", "Staging")
    assert run.code == 3
    assert "Project 'Wbe' not found" in run.err and "did you mean 'Web'?" in run.err


def test_to_equal_to_from_is_a_usage_error_before_any_request(sandbox, octorelease):
    sandbox.clear_requests()
    run = octorelease("promote", "--project", "Web", "--from", "Test", "--to", "test")
    assert run.code == 2
    assert "use 'octorelease deploy'" in run.err
    assert sandbox.requests() == []


def test_specific_machines_are_resolved_within_the_target(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, "--machine", "stage-web-02")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    machine = sandbox.get("/api/Spaces-1/machines", name="stage-web-02")["Items"][0]
    assert created["SpecificMachineIds"] == [machine["Id"]]


def test_unknown_machine_is_an_error_naming_it(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, "--machine", "stage-web-09")
    assert run.code == 3
    assert "stage-web-09" in run.err
    assert new_deployments(sandbox, before) == []


def test_excluded_machines_reach_the_server(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(
        *TEST_TO_STAGING,
        "--exclude-machine",
        "stage-web-01",
    )
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    machine = sandbox.get("/api/Spaces-1/machines", name="stage-web-01")["Items"][0]
    assert created["ExcludedMachineIds"] == [machine["Id"]]


def test_skip_step_sends_its_action_id(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, "--skip", "smoke test")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert len(created["SkipActions"]) == 1


def test_unknown_skip_step_is_an_error(sandbox, octorelease):
    run = octorelease(*TEST_TO_STAGING, "--skip", "Smoke tset")
    assert run.code == 3
    assert "did you mean 'Smoke test'?" in run.err


def test_missing_required_prompted_variable_is_an_error_naming_it(sandbox, octorelease):
    run = octorelease("deploy", "--project", "Billing", "--release", "3.0.0", "--to", "Development")
    assert run.code == 2
    assert "'Approver' is required" in run.err


def test_prompted_variable_reaches_the_form_values(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(
        "deploy", "--project", "Billing", "--release", "3.0.0", "--to", "Development", "--variable", "Approver=alice"
    )
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert list(created["FormValues"].values()) == ["alice"]


def test_tenant_deployment_sets_the_tenant(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, "--tenant", "Acme")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert created["TenantId"] == "Tenants-1"


def test_tenants_with_two_environments_are_refused(sandbox, octorelease):
    run = octorelease(
        "promote", "--project", "Worker", "--from", "Development", "--to", "Test", "--to", "Staging", "--tenant", "*"
    )
    assert run.code == 2


def test_dry_run_prints_the_plan_and_creates_nothing(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(
        *TEST_TO_STAGING,
        "--machine",
        "stage-web-01",
        "--dry-run",
        "--json",
    )
    assert run.code == 0, run.err
    assert "stage-web-01" in run.err
    assert new_deployments(sandbox, before) == []
    assert run.json["dry_run"] is True
    assert run.json["deployments"][0]["state"] == "Planned"


def test_no_wait_queues_and_returns_the_task_ids(sandbox, octorelease):
    sandbox.set_speed(0.5)
    run = octorelease(*TEST_TO_STAGING, "--no-wait", "--json")
    assert run.code == 0, run.err
    task_id = run.json["deployments"][0]["task_id"]
    assert task_id.startswith("ServerTasks-")
    assert task_id in run.err
    assert sandbox.get(f"/api/tasks/{task_id}")["State"] in ("Queued", "Executing")


def test_log_streams_each_line_once(sandbox, octorelease):
    run = octorelease(*TEST_TO_STAGING)
    assert run.code == 0, run.err
    lines = [line for line in run.err.splitlines() if "stage-web-01" in line]
    assert lines, run.err
    assert len(lines) == len(set(lines))


def test_no_log_prints_states_only(sandbox, octorelease):
    run = octorelease(*TEST_TO_STAGING, "--no-log")
    assert run.code == 0, run.err
    assert "stage-web-01" not in run.err
    assert "Success" in run.err


def test_pinned_release_is_promoted(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease("promote", "--project", "Web", "--from", "Development", "--to", "Test", "--release", "1.1.0")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert created["ReleaseId"] == "Releases-2"


def test_promoting_what_the_target_already_runs_creates_nothing_and_says_so(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(
        "promote", "--project", "Web", "--from", "Development", "--to", "Test", "--release", "1.0.0", "--json"
    )
    assert run.code == 0, run.err
    assert new_deployments(sandbox, before) == []
    assert "Test already has Web 1.0.0" in run.err
    (deployment,) = run.json["deployments"]
    assert deployment["already_deployed"] is True and deployment["state"] == "Success"
    assert (
        deployment["deployment_id"]
        == sandbox.get("/api/Spaces-1/deployments", environments="Environments-2", take=1)["Items"][0]["Id"]
    )


def test_force_redeploy_promotes_again_what_the_target_already_runs(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(
        "promote", "--project", "Web", "--from", "Development", "--to", "Test", "--release", "1.0.0", "--force-redeploy"
    )
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert (created["ReleaseId"], created["ForcePackageRedeployment"]) == ("Releases-1", True)


def test_a_retried_promotion_joins_the_deployment_still_running(sandbox, octorelease):
    sandbox.set_speed(0.05)
    first = octorelease(*TEST_TO_STAGING, "--no-wait", "--json")
    assert first.code == 0, first.err
    before = server_deployments(sandbox)
    retry = octorelease(*TEST_TO_STAGING, "--json", "--no-log")
    assert retry.code == 0, retry.err
    assert new_deployments(sandbox, before) == []
    assert retry.json["deployments"][0]["task_id"] == first.json["deployments"][0]["task_id"]
    assert retry.json["deployments"][0]["state"] == "Success"


def test_global_options_work_after_the_command_and_url_with_api(sandbox, capsys):
    run = run_cli(
        capsys,
        *TEST_TO_STAGING,
        "--no-log",
        "--server",
        sandbox.url + "/api/",
        "--api-key",
        sandbox.api_key,
        "--json",
        "--space",
        "Default",
    )
    assert run.code == 0, run.err
    assert run.json["ok"] is True


def test_connection_comes_from_the_environment(sandbox, capsys, monkeypatch):
    monkeypatch.setenv("OCTOPUS_URL", sandbox.url)
    monkeypatch.setenv("OCTOPUS_API_KEY", sandbox.api_key)
    monkeypatch.setenv("OCTOPUS_SPACE", "Spaces-1")
    run = run_cli(capsys, "--json", *TEST_TO_STAGING, "--no-log")
    assert run.code == 0, run.err


def test_missing_server_is_a_usage_error(capsys):
    run = run_cli(capsys, *TEST_TO_STAGING, "--api-key", "API-X")
    assert run.code == 2
    assert "No Octopus server given" in run.err


def test_unreachable_server_exits_6(capsys, monkeypatch):
    monkeypatch.setenv("OCTORELEASE_RETRY_ATTEMPTS", "2")
    run = run_cli(
        capsys,
        *TEST_TO_STAGING,
        "--server",
        "http://127.0.0.1:9",
        "--api-key",
        "API-X",
    )
    assert run.code == 6
    assert "Cannot reach Octopus" in run.err
    assert "gave up after 2 attempts" in run.err


@pytest.mark.parametrize("targets", [1, 3])
def test_promote_uses_few_requests_and_one_poll_per_cycle(sandbox, octorelease, targets):
    envs = ["Test", "Staging", "Production"][:targets]
    args = [arg for env in envs for arg in ("--to", env)]
    sandbox.clear_requests()
    run = octorelease("promote", "--project", "Worker", "--from", "Development", *args, "--no-log")
    assert run.code == 0, run.err
    requests = sandbox.requests()
    polls = [r for r in requests if r["path"] == "/api/Spaces-1/tasks"]
    others = [r for r in requests if r["path"] != "/api/Spaces-1/tasks" and "/details" not in r["path"]]
    # project, each environment named, dashboard, (the template and the deployment freezes for
    # more than one target), one look before the first POST, POSTs, one look for twins: 6 + K for
    # one target (tests/cli/test_request_budget.py says why 7 + 2K for more)
    assert len(others) == (6 + targets if targets == 1 else 7 + 2 * targets), others
    assert all("/details" not in r["path"] for r in requests)
    assert len(polls) >= 1


def test_a_usage_error_with_json_prints_the_contract_object(sandbox, octorelease):
    run = octorelease("promote", "--project", "Web", "--from", "Test", "--to", "Test", "--json")
    assert run.code == 2
    assert run.json == {
        "ok": False,
        "action": "promote",
        "project": None,
        "release": None,
        "from": None,
        "deployments": [],
        "error": {"code": 2, "message": run.json["error"]["message"]},
    }


def test_a_key_without_permission_for_the_target_exits_4_and_creates_nothing(sandbox, capsys):
    limited = "API-LIMITEDTODEVANDTEST000000000"
    sandbox.add_api_key(limited, ["Development", "Test"])
    before = server_deployments(sandbox)
    run = run_cli(
        capsys,
        *TEST_TO_STAGING,
        "--server",
        sandbox.url,
        "--api-key",
        limited,
    )
    assert run.code == 4
    assert "Staging: no permission to deploy there (DeploymentCreate)" in run.err
    assert limited not in run.everything
    assert new_deployments(sandbox, before) == []


def test_tenant_wildcard_deploys_once_for_every_connected_tenant(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, "--tenant", "*", "--json")
    assert run.code == 0, run.err
    assert sorted(d["tenant"] for d in run.json["deployments"]) == ["Acme", "Globex"]
    assert sorted(d["TenantId"] for d in new_deployments(sandbox, before)) == ["Tenants-1", "Tenants-2"]


def test_tenants_on_an_untenanted_project_are_refused_before_creating_anything(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease("promote", "--project", "Worker", "--from", "Development", "--to", "Test", "--tenant", "Acme")
    assert run.code == 2
    assert "Project Worker is not tenanted" in run.err
    assert new_deployments(sandbox, before) == []
