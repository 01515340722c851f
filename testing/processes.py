"""Run ``octorelease`` as its own process against a sandbox, the way a CI job runs it, and catch
the moment its deployment is under way, to signal it then (tests and ``bench/interrupt.py``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from testing.children import finish, spawn
from testing.cli import CliRun, assert_no_secret, connection, known_secrets


def start_cli(sandbox: Any, *args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    """``octorelease ARGS`` against the sandbox in a child process, no colour, CI-like."""
    env = {**os.environ, "NO_COLOR": "1", "CI": "true"}
    for name in ("OCTOPUS_URL", "OCTOPUS_API_KEY", "OCTOPUS_SPACE", "GITHUB_ACTIONS", "GITHUB_OUTPUT"):
        env.pop(name, None)
    command = [sys.executable, "-m", "octorelease.cli", *args, *connection(sandbox)]
    process: subprocess.Popen[str] = spawn(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                           env=env, cwd=cwd)
    return process


def collect(process: subprocess.Popen[str], timeout: float = 30) -> CliRun:
    """Wait for the process to end: its exit code and output, searched (as every run in the
    suite is) for every key its command line and the sandbox had; killed if it has not ended
    within ``timeout`` seconds."""
    out, err = finish(process, timeout)
    run = CliRun(process.returncode, out, err)
    assert_no_secret(run, known_secrets([str(arg) for arg in process.args], {}))
    return run


def executing_task(sandbox: Any, process: subprocess.Popen[str], timeout: float = 20) -> str:
    """The id of the first task the sandbox runs, once it is Executing and the process is
    waiting for it (it has polled that task, so its POST's answer has arrived); polled with a
    deadline, never slept for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        tasks = sandbox.get("/api/tasks", states="Executing")["Items"]
        if tasks:
            task_id = str(tasks[0]["Id"])
            polled = any(
                re.fullmatch(r"/api/(Spaces-\d+/)?tasks", r["path"])
                and task_id in r.get("query", "") and "ids" in r.get("query", "")
                for r in sandbox.requests()
            )
            if polled:
                return task_id
        time.sleep(0.02)
    process.kill()
    raise AssertionError(f"no task reached Executing within {timeout} s: {process.communicate()}")
