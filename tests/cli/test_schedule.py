"""--deploy-at and --no-deploy-after (handler fields deploy_at, no_deploy_after): scheduled
deployments, as octo's --deployAt/--noDeployAfter. Octopus gets QueueTime/QueueTimeExpiry, the
wait says "scheduled for" while the task waits for its time, and a task that could not start
before its expiry ends as the server says (TimedOut)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from tests.cli.test_promote import new_deployments, server_deployments
from tests.handler.test_run import RecordingObserver

from octorelease import Octopus
from octorelease.handler.file import HandlerFileError, parse_handler_file
from octorelease.handler.run import run_handlers
from octorelease.sandbox.rules.runner import EXPIRED_MESSAGE
from testing.cli import assert_one_line_error

DEPLOY = ("deploy", "--project", "Web", "--release", "1.0.0", "--to", "Development", "--no-log")


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_scheduled_deployment_waits_for_its_time_and_says_so(sandbox, octorelease):
    before = server_deployments(sandbox)

    run = octorelease(*DEPLOY, "--deploy-at", "+2s", "--no-deploy-after", "+1h", "--json")

    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    start, expiry = _when(created["QueueTime"]), _when(created["QueueTimeExpiry"])
    assert 3500 < (expiry - start).total_seconds() < 3700
    task = sandbox.get(f"/api/tasks/{created['TaskId']}")
    assert _when(task["StartTime"]) >= start  # the sandbox held it until then
    (deployment,) = run.json["deployments"]
    assert deployment["state"] == "Success"
    assert abs((_when(deployment["scheduled_for"].replace(" ", "T")) - start).total_seconds()) < 1
    lines = run.err.splitlines()
    queued = next(line for line in lines if "Queued" in line)
    assert f"Queued {created['TaskId']}, scheduled for {deployment['scheduled_for']}" in queued


def test_no_wait_prints_when_the_deployment_is_scheduled_for(sandbox, octorelease):
    run = octorelease(*DEPLOY, "--deploy-at", "+1h", "--no-wait", "--json")

    assert run.code == 0, run.err
    (deployment,) = run.json["deployments"]
    assert deployment["state"] == "Queued"
    assert f"{deployment['task_id']} (Development, scheduled for {deployment['scheduled_for']})" in run.err


def test_a_task_that_cannot_start_before_its_expiry_ends_timed_out(sandbox, octorelease):
    sandbox.set_speed(3.0)  # Development is busy with a slow deployment of Web ...
    assert octorelease(*DEPLOY, "--release", "1.2.0", "--no-wait").code == 0

    # ... so one that may start only within a second from now never gets its turn.
    run = octorelease(*DEPLOY, "--deploy-at", "+1s", "--no-deploy-after", "+2s", "--json")

    assert run.code == 1, run.err
    (deployment,) = run.json["deployments"]
    assert deployment["state"] == "TimedOut"
    assert deployment["error_message"] == EXPIRED_MESSAGE


def test_waiting_past_the_timeout_for_a_scheduled_start_is_warned_at_once(sandbox, octorelease):
    run = octorelease(*DEPLOY, "--deploy-at", "+1h", "--timeout", "1s", "--cancel-on-timeout")

    assert run.code == 5, run.err
    assert "after the wait ends (1s): it will time out (exit 5) before they start" in run.err


def test_the_dry_run_shows_the_schedule(sandbox, octorelease):
    run = octorelease(*DEPLOY, "--deploy-at", "2099-01-01T10:00:00+02:00", "--deploy-at-expiry",
                      "2099-01-01T11:00:00+02:00", "--dry-run")

    assert run.code == 0, run.err
    assert "scheduled for 2099-01-01 10:00:00+02:00, not started after 2099-01-01 11:00:00+02:00" in run.err


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--deploy-at", "soon"), ("--deploy-at 'soon' is not a time",)),
        (("--deploy-at", "2020-01-01T00:00:00Z"), ("--deploy-at 2020-01-01 00:00:00+00:00 is in the past",)),
        (("--no-deploy-after", "2020-01-01 10:00"), ("--no-deploy-after", "is in the past")),
        (("--deploy-at", "+2h", "--no-deploy-after", "+1h"), ("is not after --deploy-at", "could never start")),
    ],
)
def test_a_bad_schedule_is_exit_2_in_one_line_and_creates_nothing(sandbox, octorelease, flags, words):
    before = server_deployments(sandbox)
    run = octorelease(*DEPLOY, *flags)
    assert_one_line_error(run, 2, *words)
    assert new_deployments(sandbox, before) == []


HANDLER = """\
handlers:
  - name: Later
    project: Web
    on: {{event: build-completed}}
    deploy: {{to: Development, release: 1.0.0, {fields}}}
    wait: false
"""


def test_a_handler_schedules_its_deployment(sandbox: Any) -> None:
    before = server_deployments(sandbox)
    handler_file = parse_handler_file(HANDLER.format(fields="deploy_at: +1h, no_deploy_after: +2h"), environ={})
    observer = RecordingObserver()
    with Octopus(sandbox.url, sandbox.api_key, observer=observer) as octopus:
        result = run_handlers(octopus, handler_file, event="build-completed", values={})

    assert result.ok, result.error
    (created,) = new_deployments(sandbox, before)
    assert 3500 < (_when(created["QueueTimeExpiry"]) - _when(created["QueueTime"])).total_seconds() < 3700
    assert result.handlers[0].actions[0].deployments[0].scheduled_for is not None


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ("deploy_at: soon", r"octorelease.yml:5: handlers\[0\].deploy.deploy_at: .*'soon' is not a time"),
        ("deploy_at: '2020-01-01T00:00Z'", r"octorelease.yml:5: handlers\[0\].deploy.deploy_at: .*is in the past"),
        ("deploy_at: +2h, no_deploy_after: +1h",
         r"octorelease.yml:5: handlers\[0\].deploy.no_deploy_after: no_deploy_after .* is not after deploy_at"),
    ],
)
def test_a_bad_schedule_in_a_handler_file_names_its_line(fields: str, where: str) -> None:
    with pytest.raises(HandlerFileError, match=where):
        parse_handler_file(HANDLER.format(fields=fields), environ={})


def test_a_schedule_from_a_build_value_is_checked_once_filled_in(sandbox: Any) -> None:
    handler_file = parse_handler_file(HANDLER.format(fields='deploy_at: "{build.when}"'), environ={})
    with Octopus(sandbox.url, sandbox.api_key) as octopus, pytest.raises(
        HandlerFileError, match=r"octorelease.yml:5: handlers\[0\].deploy.deploy_at: .*is in the past"
    ):
        run_handlers(octopus, handler_file, event="build-completed", values={"when": "2020-01-01T00:00Z"})
