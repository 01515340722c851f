"""Concurrent promotions as CI runs them, separate ``octorelease`` processes, on a loaded machine.

Under load a process can pause for a long while between reading what a target has and posting
its deployment, so a concurrent run's deployment may be made, and even finish, in between.
The promise must hold all the same: one effective deployment per target, every run naming it,
every other deployment cancelled by a run of its episode and reported by the run that made it.
Two CPU-bound loops run beside the processes (each bounded, and killed when the test ends); the
proof is the server's own state (``testing/settlement.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from testing.children import spawn
from testing.processes import collect, start_cli
from testing.sandbox import SandboxControl
from testing.settlement import assert_settled, from_json

TARGETS = {"Test": "Environments-2", "Staging": "Environments-3"}
PROMOTE = ("--json", "promote", "--project", "Worker", "--from", "Development", "--to", "Test", "--to", "Staging")
#: The longest a CPU-bound loop may live, should the test's own cleanup never run.
LOOP_SECONDS = 300


@pytest.fixture
def busy_cores() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two CPU-bound loops, one per core of the project's machine, ended (by their own pid)
    when the test ends; each also stops by itself after ``LOOP_SECONDS``."""
    loop = f"import time\nend = time.monotonic() + {LOOP_SECONDS}\nwhile time.monotonic() < end: pass"
    loops: list[subprocess.Popen[bytes]] = [spawn([sys.executable, "-c", loop]) for _ in range(2)]
    try:
        yield loops
    finally:
        for process in loops:
            process.kill()
            process.wait(timeout=10)


def test_ten_promotion_processes_on_a_loaded_machine_settle_on_one_deployment_per_target(
    sandbox: SandboxControl, busy_cores: list[subprocess.Popen[bytes]]
) -> None:
    sandbox.set_speed(0.5)  # a deployment lasts about a second: longer than a loaded run takes to settle
    started = time.monotonic()
    processes = [start_cli(sandbox, *PROMOTE) for _ in range(10)]
    runs = [collect(process, timeout=180) for process in processes]
    for run in runs:
        assert run.code == 0, run.everything
    assert all(loop.poll() is None for loop in busy_cores)  # the load lasted the whole race
    reports = [from_json(json.loads(run.out)) for run in runs]
    assert_settled(sandbox, reports, TARGETS, project_id="Projects-2", release_id="Releases-4")
    assert time.monotonic() - started < LOOP_SECONDS


def test_twenty_promotion_processes_through_an_outage_and_lost_answers_settle_on_one_deployment_per_target(
    sandbox: SandboxControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As filed: twenty processes start while every ``POST /deployments`` is refused; six
    seconds after all have planned, a share is refused and a share carried out with the answer
    lost. Retries are made patient (the default budget is six tries)."""
    monkeypatch.setenv("OCTORELEASE_RETRY_ATTEMPTS", "40")
    monkeypatch.setenv("OCTORELEASE_RETRY_SECONDS", "300")
    sandbox.set_speed(2.0)
    sandbox.set_http_faults("503:1,only=POST,path=/deployments")
    processes = [start_cli(sandbox, *PROMOTE) for _ in range(20)]
    deadline = time.monotonic() + 120
    while sum(1 for r in sandbox.requests() if r["path"].endswith("/dashboard/dynamic")) < len(processes):
        assert time.monotonic() < deadline, "not every run planned within 120 s"
        assert all(p.poll() is None for p in processes), [collect(p).everything for p in processes if p.poll()]
        time.sleep(0.1)
    time.sleep(6)  # the outage, once every run has planned
    sandbox.set_http_faults("503:0.3,500:0.2,lost:0.2,only=POST,path=/deployments")
    runs = [collect(process, timeout=400) for process in processes]
    sandbox.clear_http_faults()
    for run in runs:
        assert run.code == 0, run.everything
    reports = [from_json(json.loads(run.out)) for run in runs]
    assert_settled(sandbox, reports, TARGETS, project_id="Projects-2", release_id="Releases-4")
