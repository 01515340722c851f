"""Concurrent promotions of one release settle on one deployment per target (``settle.py``).

Twenty runs start at once from a barrier, as twenty CI jobs would, against the sandbox over
HTTP. The proof is the server's own state: exactly one deployment per target is not cancelled,
every run reports it, and every cancelled one is reported as a cancelled twin by the run that
made it, whichever run of its episode cancelled it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from octorelease import Octopus
from octorelease.actions.plan import WaitOptions
from octorelease.actions.result import ActionResult, DeploymentResult, SilentObserver
from octorelease.octopus.retry import RetryPolicy
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


class Held(Notes):
    """A run's observer that holds the run at the ``n``-th call of a hook (``"deployment_queued",
    2``) until the test lets it go: the test, not the scheduler, decides which run goes first."""

    def __init__(self, *holds: tuple[str, int]) -> None:
        super().__init__()
        self.calls: dict[str, int] = {}
        self.reached = {hold: threading.Event() for hold in holds}
        self.go = {hold: threading.Event() for hold in holds}

    def _maybe_hold(self, hook: str) -> None:
        self.calls[hook] = self.calls.get(hook, 0) + 1
        hold = (hook, self.calls[hook])
        if hold in self.reached:
            self.reached[hold].set()
            assert self.go[hold].wait(timeout=120), f"never let go at {hold}"

    def release_chosen(self, project: str, version: str) -> None:
        self._maybe_hold("release_chosen")

    def deployment_queued(self, deployment: DeploymentResult) -> None:
        self._maybe_hold("deployment_queued")


def held_at(observer: Held, hold: tuple[str, int], run: Future[ActionResult], timeout: float = 60) -> None:
    """Wait, with a deadline, until the run is held at ``hold``; fail at once if it ended instead."""
    deadline = time.monotonic() + timeout
    while not observer.reached[hold].wait(timeout=0.05):
        assert not run.done(), run.result().error
        assert time.monotonic() < deadline, f"not held at {hold} within {timeout} s"


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



def waiting_in_test(sandbox: SandboxControl) -> str:
    """A new release of Worker, deployed to Development, whose process starts with a manual
    intervention in Test: a deployment of it to Test runs until answered, so its twins stay queued."""
    sandbox.add_approval(project="Projects-2", environment="Environments-2")
    created = sandbox.post("/api/Spaces-1/releases/create/v1",
                           {"ProjectName": "Worker", "SpaceId": "Spaces-1", "SpaceIdOrName": "Spaces-1"})
    deployed = sandbox.deploy(created["ReleaseId"], "Environments-1")
    assert sandbox.wait_for_task(deployed["TaskId"], timeout=60)["State"] == "Success"
    return str(created["ReleaseId"])


@contextmanager
def letting_go(*observers: Held) -> Iterator[None]:
    """Whatever happens in the test, no run is left held when it ends."""
    try:
        yield
    finally:
        for observer in observers:
            for go in observer.go.values():
                go.set()


def task_state(sandbox: SandboxControl, deployment: dict[str, Any] | str) -> str:
    task_id = deployment["TaskId"] if isinstance(deployment, dict) else deployment
    return str(sandbox.get(f"/api/tasks/{task_id}")["State"])


def test_a_run_that_settles_cancels_a_held_runs_twin_while_it_is_queued_and_the_held_run_reports_it(
    sandbox: SandboxControl,
) -> None:
    """Three runs plan from the same state of Test. A creates the winner, which waits on a manual
    intervention, so whatever is made after it stays queued. H's twin is made after it with H's
    marker (as a POST of H's whose answer was lost) while H is held, as a CI job starved of CPU
    is. B joins the winner and settles: it cancels H's twin while it is queued, and leaves alone
    the deployment a person made in between (no marker). H, let go, reports the twin."""
    release = waiting_in_test(sandbox)
    planned = ("release_chosen", 1)
    h_notes, b_notes = Held(planned), Held(planned)
    no_wait = WaitOptions(wait=False)
    run_ids: dict[int, str] = {}

    def promote(observer: Notes) -> ActionResult:
        with Octopus(sandbox.url, sandbox.api_key, observer=observer) as octopus:
            run_ids[id(observer)] = octopus.http.run_id
            return octopus.promote("Worker", source="Development", to=["Test"], wait=no_wait)

    with ThreadPoolExecutor(max_workers=2) as pool, letting_go(h_notes, b_notes):
        h_run, b_run = pool.submit(promote, h_notes), pool.submit(promote, b_notes)
        held_at(h_notes, planned, h_run)  # both planned: Test had no deployment of Worker
        held_at(b_notes, planned, b_run)
        a = promote(Notes())
        assert a.ok, a.error
        (won,) = a.deployments
        twin = sandbox.deploy(release, "Environments-2", Comments=f"[octorelease {run_ids[id(h_notes)]} after none]")
        person = sandbox.deploy(release, "Environments-2", Comments="by hand")
        b_notes.go[planned].set()
        b = b_run.result(timeout=120)
        assert b.ok, b.error
        assert task_state(sandbox, twin) == "Canceled"  # cancelled by B while H was still held
        assert task_state(sandbox, person) == "Queued"  # a person's: never cancelled
        assert task_state(sandbox, won.task_id or "") == "Executing"  # the winner: never cancelled
        h_notes.go[planned].set()
        h = h_run.result(timeout=120)
    assert h.ok, h.error
    assert [(d.environment, d.deployment_id) for d in b.deployments] == [("Test", won.deployment_id)]
    assert b.deployments[0].cancelled_twin is None  # not B's to report
    assert any(f"cancelled {twin['Id']}, a twin of {won.deployment_id}" in line for line in b_notes.lines)
    (test,) = h.deployments
    assert (test.deployment_id, test.cancelled_twin, test.already_deployed) == (won.deployment_id, twin["Id"], True)
    assert any(f"cancelled our twin {twin['Id']}" in line for line in h_notes.lines), h_notes.lines


def test_a_run_that_saw_the_race_keeps_watch_and_cancels_a_twin_made_after_it_settled(
    sandbox: SandboxControl,
) -> None:
    """A run whose POST met an outage settles alone on its deployment, which then waits on a manual
    intervention. Only after that is a twin made with another run's marker (a run that stalled
    between its POST and its settle, as a CI job starved of CPU does), and a deployment by a
    person. The first run, still waiting, keeps watch: it cancels the twin while it is queued, and
    leaves the person's and its own winner alone."""
    release = waiting_in_test(sandbox)
    sandbox.set_http_faults("503:1,only=POST,path=/deployments")
    notes = Notes()
    stalled = "0123456789ab"

    def promote() -> ActionResult:
        with Octopus(sandbox.url, sandbox.api_key, observer=notes, retry=QUICK) as octopus:
            return octopus.promote("Worker", source="Development", to=["Test"],
                                   wait=WaitOptions(log=False, timeout_seconds=120))

    with ThreadPoolExecutor(max_workers=1) as pool, cancelling_at_the_end(sandbox, release):
        run = pool.submit(promote)
        until(lambda: any(r["path"].endswith("/deployments") and r["status"] == 503 for r in sandbox.requests()),
              "the run's POST met the outage", run)
        sandbox.clear_http_faults()
        until(lambda: bool(release_deployments(sandbox, release)), "the run made its deployment", run)
        (won,) = release_deployments(sandbox, release)
        interruption = sandbox.wait_for_interruption(won["TaskId"], timeout=60)
        twin = sandbox.deploy(release, "Environments-2", Comments=f"[octorelease {stalled} after none]")
        person = sandbox.deploy(release, "Environments-2", Comments="by hand")
        until(lambda: task_state(sandbox, twin) == "Canceled", "the waiting run cancelled the twin", run)
        assert task_state(sandbox, person) == "Queued"  # a person's: never cancelled
        assert task_state(sandbox, won) == "Executing"  # the winner: never cancelled
        sandbox.answer(interruption["Id"], Result="Proceed")
        result = run.result(timeout=120)
    assert result.ok, result.error
    assert [d.deployment_id for d in result.deployments] == [won["Id"]]
    assert any(f"cancelled {twin['Id']}, a twin of {won['Id']} made by the concurrent run {stalled}" in line
               for line in notes.lines), notes.lines


#: Quick retries: the outage ends when the test says so.
QUICK = RetryPolicy(attempts=400, total_seconds=60.0, initial_wait=0.05, max_wait=0.1, jitter=0.01)


@contextmanager
def cancelling_at_the_end(sandbox: SandboxControl, release_id: str) -> Iterator[None]:
    """Whatever happens in the test, the release's deployments to Test are cancelled when it
    ends, so that a run still waiting on one (for a person) ends too."""
    try:
        yield
    finally:
        for deployment in release_deployments(sandbox, release_id):
            sandbox.call("POST", f"/api/tasks/{deployment['TaskId']}/cancel")


def release_deployments(sandbox: SandboxControl, release_id: str) -> list[dict[str, Any]]:
    """The deployments of the release to Test, earliest first."""
    items = sandbox.get("/api/Spaces-1/deployments", environments="Environments-2", take=1000)["Items"]
    return sorted((d for d in items if d["ReleaseId"] == release_id), key=lambda d: int(d["Id"].split("-")[1]))


def until(condition: Callable[[], bool], what: str, run: Future[ActionResult], timeout: float = 60) -> None:
    """Poll ``condition`` with a deadline; fail at once if the run ended first."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert not run.done(), (what, run.result().error)
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.02)


def test_a_run_that_saw_the_race_settles_each_target_before_it_spends_time_on_the_next(
    sandbox: SandboxControl,
) -> None:
    """The run plans Staging and Test. Before it creates anything, another run's deployment to
    Staging (the winner) and a third run's twin of it are made, queued, and every ``POST
    /deployments`` starts failing. The run joins the winner in Staging, then spends the outage
    retrying Test. The twin must be cancelled while it is still queued, not once Test is created:
    a winner that ends meanwhile lets it run (the fault matrix met it at load 5: a Staging twin
    ran after its winner while the runs retried Test's POST)."""
    planned = ("release_chosen", 1)
    notes = Held(planned)
    winner_run, twin_run = "aaaaaaaaaaaa", "bbbbbbbbbbbb"

    def promote() -> ActionResult:
        with Octopus(sandbox.url, sandbox.api_key, observer=notes, retry=QUICK) as octopus:
            return octopus.promote("Worker", source="Development", to=list(TARGETS),
                                   wait=WaitOptions(log=False, timeout_seconds=120))

    sandbox.hold_tasks()  # the winner stays queued: only the run's order of work decides
    with ThreadPoolExecutor(max_workers=1) as pool, letting_go(notes):
        run = pool.submit(promote)
        held_at(notes, planned, run)
        won = sandbox.deploy("Releases-4", TARGETS["Staging"], Comments=f"[octorelease {winner_run} after none]")
        twin = sandbox.deploy("Releases-4", TARGETS["Staging"], Comments=f"[octorelease {twin_run} after none]")
        sandbox.set_http_faults("503:1,only=POST,path=/deployments")
        notes.go[planned].set()
        until(lambda: any(r["method"] == "POST" and r["path"].endswith("/deployments") and r["status"] == 503
                          for r in sandbox.requests()), "the run's POST to Test met the outage", run)
        until(lambda: task_state(sandbox, twin) == "Canceled", "the twin cancelled while Test is retried", run)
        assert worker_deployments(sandbox, TARGETS["Test"]) == []  # still retrying Test
        assert task_state(sandbox, won) == "Queued"  # the winner: never cancelled
        sandbox.clear_http_faults()
        sandbox.hold_tasks(False)
        result = run.result(timeout=120)
    assert result.ok, result.error
    by_target = {d.environment: d for d in result.deployments}
    assert by_target["Staging"].deployment_id == won["Id"]
    (test,) = worker_deployments(sandbox, TARGETS["Test"])
    assert by_target["Test"].deployment_id == test["Id"]
    assert any(f"cancelled {twin['Id']}, a twin of {won['Id']} made by the concurrent run {twin_run}" in line
               for line in notes.lines), notes.lines
