"""A deploy whose deployment waits for a person: told within the poll that sees it, in the console,
the CI annotation and the JSON; answered from elsewhere; and each --on-interruption mode and the
interruption timeout, with their exit code 7."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from testing.cli import CliRun, assert_one_line_error
from testing.processes import collect, start_cli
from testing.sandbox import APPROVAL_INSTRUCTIONS, HOTFIX_RELEASE, SandboxControl


def hotfix(sandbox: SandboxControl) -> str:
    sandbox.add_approval()
    return str(sandbox.post("/api/Spaces-1/releases/create/v1",
                            HOTFIX_RELEASE)["ReleaseVersion"])


def deploy_args(version: str, *more: str) -> list[str]:
    return ["deploy", "--project", "Web", "--release", version, "--to", "Production", *more]


def test_a_pause_is_told_within_one_poll_and_its_answer_after(sandbox: SandboxControl) -> None:
    sandbox.clear_requests()
    process = start_cli(sandbox, *deploy_args(hotfix(sandbox)), "--json")
    interruption = sandbox.wait_for_interruption(_task_of(sandbox))
    _wait_for(lambda: any(_asked_by_the_client(r) for r in sandbox.requests()))
    requests = [r for r in sandbox.requests() if not _the_tests_own(r)]
    asked = [i for i, r in enumerate(requests) if _asked_by_the_client(r)]
    assert requests[asked[0] - 1]["path"].endswith("/tasks")  # the poll that saw HasPendingInterruptions
    sandbox.answer(interruption["Id"], Result="Proceed", Notes="approved")
    run = collect(process)
    assert run.code == 0, run.everything
    assert "Production waits for a person (manual intervention): Approve production." in run.err
    assert f"Instructions: {APPROVAL_INSTRUCTIONS}" in run.err and "Who can act: Release Managers." in run.err
    assert f"octorelease interruptions proceed {interruption['Id']}" in run.err
    assert f"/app#/Spaces-1/tasks/{interruption['TaskId']}" in run.err
    assert "Production: Approve production: proceeded by sandbox" in run.err
    [deployment] = run.json["deployments"]
    assert deployment["state"] == "Success"
    assert deployment["answered_interruptions"] == [{"id": interruption["Id"], "title": "Approve production",
                                                     "answer": "Proceed", "answered_by": "sandbox"}]


def test_in_a_ci_the_pause_is_a_warning_annotation(sandbox: SandboxControl, monkeypatch: pytest.MonkeyPatch,
                                                   octorelease: Callable[..., CliRun]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    run = octorelease(*deploy_args(hotfix(sandbox), "--on-interruption", "fail"))
    assert run.code == 7
    assert "::warning" in run.everything and "waits for a person (manual intervention)" in run.everything


def test_on_interruption_fail_ends_with_exit_7_and_the_deployment_still_waits(
        sandbox: SandboxControl, octorelease: Callable[..., CliRun]) -> None:
    run = octorelease(*deploy_args(hotfix(sandbox), "--on-interruption", "fail", "--json"))
    assert run.code == 7, run.everything
    [deployment] = run.json["deployments"]
    [waiting] = deployment["pending_interruptions"]
    assert (waiting["title"], waiting["environment"], waiting["teams"]) == ("Approve production", "Production",
                                                                          ["Release Managers"])
    assert run.json["error"]["code"] == 7 and "--on-interruption fail" in run.json["error"]["message"]
    assert sandbox.get(f"/api/tasks/{deployment['task_id']}")["HasPendingInterruptions"] is True


def test_on_interruption_cancel_cancels_the_deployment(sandbox: SandboxControl,
                                                       octorelease: Callable[..., CliRun]) -> None:
    run = octorelease(*deploy_args(hotfix(sandbox), "--on-interruption", "cancel"))
    assert_one_line_error(run, 7, "waits for a person", "--on-interruption cancel", "cancelled on the server")
    tasks = sandbox.get("/api/tasks", states="Canceled")["Items"]
    assert len(tasks) == 1


def test_the_interruption_timeout_is_counted_apart_from_the_timeout(
        sandbox: SandboxControl, octorelease: Callable[..., CliRun]) -> None:
    # --timeout 1s would end the wait at once if a person's time counted toward it
    run = octorelease(*deploy_args(hotfix(sandbox), "--timeout", "2s", "--interruption-timeout", "3s"))
    assert_one_line_error(run, 7, "nobody acted within 3s (--interruption-timeout)", "still wait on the server")


def test_wait_is_the_default_and_a_slow_person_is_not_a_stuck_deployment(sandbox: SandboxControl) -> None:
    process = start_cli(sandbox, *deploy_args(hotfix(sandbox), "--timeout", "1s"))
    interruption = sandbox.wait_for_interruption(_task_of(sandbox))
    _wait_for(lambda: any(_asked_by_the_client(r) for r in sandbox.requests()))
    import time

    deadline = time.monotonic() + 2.5  # past --timeout, the run must still be waiting for the person
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    sandbox.answer(interruption["Id"], Result="Abort")
    run = collect(process)
    assert run.code == 1, run.everything  # abort: the deployment failed
    assert "Approve production: aborted by sandbox" in run.err


def _asked_by_the_client(request: dict[str, Any]) -> bool:
    """The client's look at a task's interruptions (it asks for a big page; the test does not)."""
    return "/interruptions" in request["path"] and "take=" in (request.get("query") or "")


def _the_tests_own(request: dict[str, Any]) -> bool:
    """The test's own polls (``_task_of``, ``wait_for_interruption``), which a loaded machine can
    interleave anywhere among the client's requests in the sandbox's log."""
    query = request.get("query") or ""
    return ("states=Executing" in query
            or ("/interruptions" in request["path"] and "pendingOnly=" in query and "take=" not in query))


def _task_of(sandbox: SandboxControl) -> str:
    found: list[str] = []
    _wait_for(lambda: bool(found.extend(t["Id"] for t in sandbox.get("/api/tasks", states="Executing")["Items"])
                           or found))
    return found[0]


def _wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.02)


def _guided_test_environment(sandbox: SandboxControl) -> None:
    """Test defaults to guided failure, and Smoke test fails on test-web-01."""
    test = sandbox.get("/api/Spaces-1/environments/Environments-2")
    sandbox.call("PUT", "/api/Spaces-1/environments/Environments-2",
                 json={**test, "UseGuidedFailure": True}).raise_for_status()
    sandbox.fail(step="Smoke test", machine="test-web-01", environment="Test")


def test_guided_failure_follows_the_environment_and_says_so(sandbox: SandboxControl,
                                                            octorelease: Callable[..., CliRun]) -> None:
    _guided_test_environment(sandbox)
    run = octorelease("deploy", "--project", "Web", "--release", "1.0.0", "--to", "Test", "--force-redeploy",
                      "--on-interruption", "fail", "--json")
    assert run.code == 7, run.everything
    assert "guided failure is on in Test (the environment's default)" in run.err
    [waiting] = run.json["deployments"][0]["pending_interruptions"]
    assert (waiting["type"], waiting["title"]) == ("GuidedFailure", "Step 'Smoke test' failed on test-web-01")
    assert "octorelease interruptions retry|ignore|exclude|fail" in run.err


def test_no_guided_failure_fails_at_once_and_the_bare_flag_turns_it_on(
        sandbox: SandboxControl, octorelease: Callable[..., CliRun]) -> None:
    _guided_test_environment(sandbox)
    off = octorelease("deploy", "--project", "Web", "--release", "1.0.0", "--to", "Test", "--force-redeploy",
                      "--no-guided-failure")
    assert off.code == 1 and "guided failure is on" not in off.err
    dry = octorelease("deploy", "--project", "Web", "--release", "1.0.0", "--to", "Development", "--guided-failure",
                      "--dry-run")
    assert dry.code == 0 and "-> Development: guided failure on (asked for)" in dry.err
    both = octorelease("deploy", "--project", "Web", "--release", "1.0.0", "--to", "Test", "--guided-failure",
                       "on", "--no-guided-failure")
    assert_one_line_error(both, 2, "contradict")
    spelled = octorelease("deploy", "--project", "Web", "--release", "1.0.0", "--to", "Test", "--guided-failure",
                          "TRUE", "--no-guided-failure")
    assert_one_line_error(spelled, 2, "contradict")
