"""``octorelease interruptions``: list what waits for a person and answer it, from another process
than the one that waits, with the permission refusal of a key outside the responsible teams."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from testing.cli import CliRun, assert_one_line_error, run_cli
from testing.processes import collect, start_cli
from testing.sandbox import APPROVAL_INSTRUCTIONS, HOTFIX_RELEASE, SandboxControl

PROD = "Environments-4"
OUTSIDER = "API-OUTSIDER000000000000000000000"


def hotfix(sandbox: SandboxControl) -> str:
    """A Hotfix release of Web (it may go straight to Production, where an approval waits)."""
    sandbox.add_approval()
    return str(sandbox.post("/api/Spaces-1/releases/create/v1",
                            HOTFIX_RELEASE)["ReleaseVersion"])


def waiting(sandbox: SandboxControl) -> tuple[str, dict[str, Any]]:
    """A deployment of a hotfix to Production, paused at its approval: its task and interruption."""
    release = sandbox.get("/api/Spaces-1/projects/Projects-1/releases/" + hotfix(sandbox))
    task_id = sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": release["Id"], "EnvironmentId": PROD})["TaskId"]
    return task_id, sandbox.wait_for_interruption(task_id)


def test_list_shows_what_waits_with_its_teams_instructions_and_link(
        sandbox: SandboxControl, octorelease: Callable[..., CliRun]) -> None:
    task_id, interruption = waiting(sandbox)
    run = octorelease("interruptions", "list", "--project", "Web", "--environment", "Production", "--json")
    assert run.code == 0, run.everything
    [shown] = run.json["pending_interruptions"]
    assert shown["id"] == interruption["Id"] and shown["task_id"] == task_id
    assert (shown["type"], shown["title"], shown["environment"]) == ("ManualIntervention", "Approve production",
                                                                    "Production")
    assert shown["teams"] == ["Release Managers"] and shown["instructions"] == APPROVAL_INSTRUCTIONS
    assert shown["can_act"] is True and shown["waited_seconds"] >= 0
    assert shown["web_url"] == f"{sandbox.url}/app#/Spaces-1/tasks/{task_id}"
    text = octorelease("interruptions", "list", "--task", task_id)
    assert f"{task_id} in Production waits for a person (manual intervention): Approve production; who can act: " \
           "Release Managers" in text.out
    assert f"octorelease interruptions proceed|abort {interruption['Id']}" in text.out
    none = octorelease("interruptions", "list", "--project", "Web", "--environment", "Test")
    assert none.code == 0 and "Nothing waits for a person in project Web in Test." in none.out


def test_proceed_from_another_process_lets_the_waiting_deploy_succeed(
        sandbox: SandboxControl, octorelease: Callable[..., CliRun]) -> None:
    version = hotfix(sandbox)
    deploy = start_cli(sandbox, "deploy", "--project", "Web", "--release", version, "--to", "Production", "--json")
    task_id = sandbox.wait_for_interruption(_first_executing(sandbox))["TaskId"]
    answered = octorelease("interruptions", "proceed", "--task", task_id, "--notes", "CAB-42", "--json")
    assert answered.code == 0, answered.everything
    assert answered.json["interruption"]["answer"] == "Proceed"
    assert answered.json["interruption"]["answered_by"] == "sandbox"
    finished = collect(deploy)
    assert finished.code == 0, finished.everything
    assert finished.json["deployments"][0]["state"] == "Success"


def test_abort_makes_the_waiting_deploy_fail_with_exit_1(
        sandbox: SandboxControl, octorelease: Callable[..., CliRun]) -> None:
    version = hotfix(sandbox)
    deploy = start_cli(sandbox, "deploy", "--project", "Web", "--release", version, "--to", "Production")
    interruption_id = sandbox.wait_for_interruption(_first_executing(sandbox))["Id"]
    run = octorelease("interruptions", "abort", interruption_id)
    assert run.code == 0 and f"{interruption_id} (Approve production) aborted by sandbox" in run.out
    assert collect(deploy).code == 1


def test_outside_the_responsible_teams_it_exits_4_naming_them_and_writes_nothing(
        sandbox: SandboxControl, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox.add_api_key(OUTSIDER, None, teams=["Database Administrators"])
    _, interruption = waiting(sandbox)
    run = run_cli(capsys, "interruptions", "proceed", interruption["Id"], "--server", sandbox.url, "--api-key",
                  OUTSIDER)
    assert_one_line_error(run, 4, "'Release Managers'", interruption["Id"])
    again = sandbox.get(f"/api/Spaces-1/interruptions/{interruption['Id']}")
    assert again["IsPending"] is True and again["ResponsibleUserId"] is None


def test_the_wrong_kind_of_answer_and_an_answered_one_are_refused(
        sandbox: SandboxControl, octorelease: Callable[..., CliRun]) -> None:
    _, interruption = waiting(sandbox)
    assert_one_line_error(octorelease("interruptions", "retry", interruption["Id"]), 2, "manual intervention",
                          "proceed or abort")
    assert octorelease("interruptions", "proceed", interruption["Id"]).code == 0
    assert_one_line_error(octorelease("interruptions", "proceed", interruption["Id"]), 3, "already answered",
                          "proceeded by sandbox")
    assert_one_line_error(octorelease("interruptions", "proceed"), 2, "Name the interruption")


def test_guided_failure_is_answered_from_the_command_line(
        sandbox: SandboxControl, octorelease: Callable[..., CliRun]) -> None:
    sandbox.fail(step="Smoke test", machine="test-web-01", environment="Test")
    release = sandbox.get("/api/Spaces-1/projects/Projects-1/releases/" + hotfix(sandbox))
    task_id = sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": release["Id"], "EnvironmentId":
                                                         "Environments-2", "UseGuidedFailure": True})["TaskId"]
    sandbox.wait_for_interruption(task_id)
    listed = octorelease("interruptions", "list", "--environment", "Test", "--json")
    assert [p["type"] for p in listed.json["pending_interruptions"]] == ["GuidedFailure"]
    assert octorelease("interruptions", "ignore", "--environment", "Test", "--notes", "known flaky").code == 0
    assert sandbox.wait_for_task(task_id)["State"] == "Success"


def _first_executing(sandbox: SandboxControl) -> str:
    """The task of the deployment the child process made, once the sandbox has it."""
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        tasks = sandbox.get("/api/tasks", states="Executing")["Items"]
        if tasks:
            return str(tasks[0]["Id"])
        time.sleep(0.02)
    raise AssertionError("no task started within 20 s")


def test_an_unknown_environment_is_named_with_the_closest_one(
        sandbox: SandboxControl, octorelease: Callable[..., CliRun]) -> None:
    sandbox.clear_requests()
    run = octorelease("interruptions", "list", "--environment", "Prodution")
    line = assert_one_line_error(run, 3, "Environment 'Prodution' not found in space 'Default'.")
    assert "hint: did you mean 'Production'?" in run.err, line
    assert all(r["method"] == "GET" for r in sandbox.requests())
