"""Concurrent promotions of one release settle on one deployment per target (``settle.py``).

Twenty runs start at once from a barrier, as twenty CI jobs would, against the sandbox over
HTTP. The proof is the server's own state: exactly one deployment per target is not cancelled,
every run reports it, and every cancelled one is reported as a cancelled twin by the run that
made it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from octorelease import Octopus
from octorelease.actions.plan import WaitOptions
from octorelease.actions.result import ActionResult, SilentObserver
from testing.sandbox import SandboxControl

RUNS = 20
TARGETS = {"Test": "Environments-2", "Staging": "Environments-3"}


class Notes(SilentObserver):
    """Keeps what a run says, as the console would print it."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def note(self, message: str) -> None:
        self.lines.append(message)

    def warn(self, message: str, detail: str | None = None) -> None:
        self.lines.append(message)


def promote_together(sandbox: SandboxControl, runs: int) -> list[tuple[ActionResult, Notes]]:
    barrier = threading.Barrier(runs)

    def one() -> tuple[ActionResult, Notes]:
        notes = Notes()
        with Octopus(sandbox.url, sandbox.api_key, observer=notes) as octopus:
            assert octopus.space is not None  # connected before the start, as a CI job is by then
            barrier.wait(timeout=30)
            result = octopus.promote("Worker", source="Development", to=list(TARGETS), wait=WaitOptions(log=False))
        return result, notes

    with ThreadPoolExecutor(max_workers=runs) as pool:
        return list(pool.map(lambda _: one(), range(runs)))


def worker_deployments(sandbox: SandboxControl, environment_id: str) -> list[dict[str, Any]]:
    items = sandbox.get("/api/Spaces-1/deployments", environments=environment_id, take=1000)["Items"]
    found = [d for d in items if d["ProjectId"] == "Projects-2"]
    for d in found:
        d["State"] = sandbox.get(f"/api/tasks/{d['TaskId']}")["State"]
    return found


def test_twenty_concurrent_promotions_end_with_one_effective_deployment_per_target(sandbox: SandboxControl) -> None:
    sandbox.set_speed(3.0)  # a deployment lasts seconds, as real ones do: twins meet it running
    outcomes = promote_together(sandbox, RUNS)
    for result, _ in outcomes:
        assert result.ok, result.error
    cancelled_by_runs = {d.cancelled_twin for result, _ in outcomes for d in result.deployments if d.cancelled_twin}
    for environment, environment_id in TARGETS.items():
        on_server = worker_deployments(sandbox, environment_id)
        (effective,) = [d for d in on_server if d["State"] != "Canceled"]
        assert effective["State"] == "Success"
        reported = {d.deployment_id for r, _ in outcomes for d in r.deployments if d.environment == environment}
        assert reported == {effective["Id"]}
        cancelled = {d["Id"] for d in on_server if d["State"] == "Canceled"}
        assert cancelled <= cancelled_by_runs
    assert cancelled_by_runs  # the race was really run: some runs made a twin and cancelled it
    for result, notes in outcomes:
        doc = result.to_dict(lambda e: 1)
        for entry, deployment in zip(doc["deployments"], result.deployments, strict=True):
            if deployment.cancelled_twin:
                assert entry["cancelled_twin"] == deployment.cancelled_twin and entry["already_deployed"]
                assert any(f"cancelled our twin {deployment.cancelled_twin}" in line for line in notes.lines)
                assert any(f"cancelled our twin {deployment.cancelled_twin}" in m for m in doc["messages"])


def test_a_run_that_joins_a_queued_twin_follows_it_to_the_earliest(sandbox: SandboxControl) -> None:
    """A run that plans after a twin was made joins the twin (the newest deployment there); the
    twin is a later copy of one still running, so the run reports the earlier one."""
    sandbox.set_speed(3.0)
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        first = octopus.promote("Worker", source="Development", to=["Test"], wait=WaitOptions(wait=False))
    earliest = first.deployments[0].deployment_id
    # A twin made by a run that planned before ``earliest`` existed (Test had no deployment of
    # Worker then: its marker says so) and stopped before settling.
    twin = sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": "Releases-4", "EnvironmentId": "Environments-2",
                                                      "Comments": "[octorelease 0123456789ab after none]"})
    notes = Notes()
    with Octopus(sandbox.url, sandbox.api_key, observer=notes) as octopus:
        joined = octopus.promote("Worker", source="Development", to=["Test"], wait=WaitOptions(wait=False))
    assert joined.ok, joined.error
    (entry,) = joined.deployments
    assert (entry.deployment_id, entry.already_deployed, entry.cancelled_twin) == (earliest, True, None)
    assert any(f"{twin['Id']} is a twin of {earliest}" in line for line in notes.lines)
    assert sandbox.get(f"/api/tasks/{twin['TaskId']}")["State"] == "Queued"  # not ours: left to its run
