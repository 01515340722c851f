"""Ctrl-C and a cancelled CI job: a real ``octorelease`` process, signalled while it waits.

The sandbox is slowed so the deployment is still running; the test polls the server until the
task is Executing (no sleeping for state), sends the signal, and then checks what the process
said, its exit code, its JSON, and what the server's task became.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from typing import Any

import pytest

from testing.processes import collect, executing_task, start_cli

SLOW = 1.0  # seconds per step on each machine: a deployment runs for several seconds
WORKER_TO_TEST = ("promote", "--project", "Worker", "--from", "Development", "--to", "Test")


def signal_and_collect(process: subprocess.Popen[str], signum: int) -> tuple[int, str, str]:
    process.send_signal(signum)
    run = collect(process)
    return run.code, run.out, run.err


def task_state(sandbox: Any, task_id: str) -> str:
    return str(sandbox.get(f"/api/tasks/{task_id}")["State"])


def settled_state(sandbox: Any, task_id: str, timeout: float = 10) -> str:
    """The task's state once it is no longer Cancelling (polled with a deadline)."""
    deadline = time.monotonic() + timeout
    state = task_state(sandbox, task_id)
    while state == "Cancelling" and time.monotonic() < deadline:
        time.sleep(0.02)
        state = task_state(sandbox, task_id)
    return state


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_an_interrupted_promotion_reports_every_task_and_leaves_it_running(sandbox, signum, code):
    sandbox.set_speed(SLOW)
    process = start_cli(sandbox, *WORKER_TO_TEST, "--json")
    task_id = executing_task(sandbox, process)
    returncode, out, err = signal_and_collect(process, signum)
    assert returncode == code, err
    doc = json.loads(out)
    assert doc["ok"] is False and doc["error"]["code"] == code
    name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
    assert doc["error"]["message"].startswith(f"Interrupted by {name} while waiting")
    assert "still running on the server" in doc["error"]["message"]
    assert "--cancel-on-interrupt" in doc["error"]["hint"]
    (deployment,) = doc["deployments"]
    assert deployment["task_id"] == task_id and deployment["state"] in ("Queued", "Executing")
    assert deployment["web_url"].startswith(sandbox.url)
    # The console names the task, its state and its web link, and says it still runs.
    assert f"Test: {task_id} " in err and deployment["web_url"] in err
    assert "still running on the server" in err
    assert "Traceback" not in err and sandbox.api_key not in out + err
    assert task_state(sandbox, task_id) in ("Queued", "Executing")


def test_cancel_on_interrupt_cancels_the_task_on_the_server_first(sandbox):
    sandbox.set_speed(SLOW)
    process = start_cli(sandbox, *WORKER_TO_TEST, "--json", "--cancel-on-interrupt")
    task_id = executing_task(sandbox, process)
    returncode, out, err = signal_and_collect(process, signal.SIGTERM)
    assert returncode == 143, err
    doc = json.loads(out)
    assert doc["error"]["code"] == 143
    assert "cancelled on the server" in doc["error"]["message"]
    (deployment,) = doc["deployments"]
    assert deployment["state"] == "Canceled"
    assert settled_state(sandbox, task_id) == "Canceled"
    assert f"Cancelling the deployment to Test ({task_id})" in err


def test_an_interrupted_deploy_without_json_says_so_in_text(sandbox):
    sandbox.set_speed(SLOW)
    process = start_cli(sandbox, "deploy", "--project", "Worker", "--release", "2.0.0", "--to", "Test", "--no-log")
    task_id = executing_task(sandbox, process)
    returncode, out, err = signal_and_collect(process, signal.SIGINT)
    assert returncode == 130, err
    assert out == ""
    assert f"Error: Interrupted by SIGINT while waiting; still running on the server: Test {task_id}" in err


def test_create_deploy_to_is_interrupted_like_the_others(sandbox):
    sandbox.set_speed(SLOW)
    process = start_cli(
        sandbox,
        "create", "--project", "Worker", "--version", "2.9.0", "--deploy-to", "Test",
        "--json", "--cancel-on-interrupt",
    )
    task_id = executing_task(sandbox, process)
    returncode, out, err = signal_and_collect(process, signal.SIGINT)
    assert returncode == 130, err
    doc = json.loads(out)
    assert doc["action"] == "create" and doc["created"] is True and doc["error"]["code"] == 130
    assert doc["deployments"][0]["task_id"] == task_id
    assert settled_state(sandbox, task_id) == "Canceled"


HANDLERS = """\
handlers:
  - name: Ship
    project: Worker
    on: {event: build-completed}
    promote: {from: Development, to: Test}
    fail_build_on_error: false
    cancel_on_interrupt: true
  - name: Later
    project: Worker
    on: {event: build-completed}
    deploy: {to: Staging, release: 2.0.0}
"""


def test_run_stops_every_handler_and_honours_cancel_on_interrupt(sandbox, tmp_path):
    (tmp_path / "octorelease.yml").write_text(HANDLERS)
    sandbox.set_speed(SLOW)
    process = start_cli(sandbox, "run", "octorelease.yml", "--json", cwd=tmp_path)
    task_id = executing_task(sandbox, process)
    returncode, out, err = signal_and_collect(process, signal.SIGTERM)
    assert returncode == 143, err
    doc = json.loads(out)
    assert doc["ok"] is False and doc["error"]["code"] == 143
    ship, later = doc["handlers"]
    assert ship["actions"][0]["deployments"][0]["task_id"] == task_id
    # An interrupt stops the run even where failures are otherwise ignored.
    assert later["ran"] is False and later["reason"] == "skipped: handler 'Ship' was interrupted"
    assert settled_state(sandbox, task_id) == "Canceled"
    assert sandbox.get("/api/Spaces-1/deployments", environments="Environments-3")["Items"] == []
