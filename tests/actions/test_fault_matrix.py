"""The fault matrix: concurrent runs of one promotion settle on one deployment per target,
whatever the outage before them and whatever answers are lost after it.

Each cell starts N runs at once (threads, each with its own connection, as N CI jobs) of the
same command against the sandbox over HTTP: ``promote`` Worker from Development to Test and
Staging, ``deploy`` Worker 2.0.0 to Test and Staging, or ``run`` a handler file that promotes
it. Every ``POST /deployments`` is refused (503) until every run has planned (the sandbox's
request log shows each run's dashboard read), and for the outage's seconds more; then a share of
them is refused (503, 500) and a share carried out with the answer lost.

What each cell asserts is the server's own state, after every task ended:

* each target has exactly one deployment of Worker 2.0.0 that is not cancelled, and it succeeded;
* every run succeeded and names that deployment for that target;
* every other deployment made was cancelled (by a run of its episode, the first to settle), and
  the run that made it (its marker in ``Comments`` says which run) reported it
  (``cancelled_twin``): none twice, none unreported.

The runs are concurrent by construction, not by timing: every run's plan looked before any
deployment existed, because none could be made until all had looked. And the deployments stay
queued (the sandbox holds them) until every run has settled and is waiting: the promise is that a
twin made while its winner is queued or running is cancelled before it starts, so long as one run
of its episode gets its look and its cancel in before the winner ends. How long a loaded machine
takes to give 20 runs that chance is not what a cell tests: on two busy cores, with every run and
the sandbox in one process, a run's POST or cancel can wait longer to be served than a two-second
winner lasts (twins made 1.5 s after their winner, by POSTs sent before it existed, then ran). Faults are drawn from a
seeded random source; retries are patient enough (hundreds of attempts, sub-second pauses) that
no run gives up on a fault, so every interleaving must end in the state above."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from octorelease import Octopus
from octorelease.actions.plan import WaitOptions
from octorelease.actions.result import ActionResult, DeploymentResult, SilentObserver
from octorelease.octopus.retry import RetryPolicy
from testing.sandbox import SandboxControl
from testing.settlement import assert_settled, from_result

TARGETS = {"Test": "Environments-2", "Staging": "Environments-3"}
WORKER, RELEASE = "Projects-2", "Releases-4"
OUTAGE = "503:1,only=POST,path=/deployments"
#: Seconds per step: a deployment lasts longer than a run takes between its look and its POST.
SPEED = 1.0
#: Patient and quick: a run outlasts a 10 s outage and any run of random refusals.
PATIENT = RetryPolicy(attempts=400, total_seconds=120.0, initial_wait=0.05, max_wait=0.25, jitter=0.05)
WAIT = WaitOptions(log=False, timeout_seconds=120)

HANDLER = """\
handlers:
  - name: Ship Worker
    project: Worker
    on: {event: build-completed}
    promote: {from: Development, to: [Test, Staging]}
"""

Run = Callable[[Octopus], ActionResult]


def _promote(octopus: Octopus) -> ActionResult:
    return octopus.promote("Worker", source="Development", to=list(TARGETS), wait=WAIT)


def _deploy(octopus: Octopus) -> ActionResult:
    return octopus.deploy("Worker", release="2.0.0", to=list(TARGETS), wait=WAIT)


def _run(octopus: Octopus) -> ActionResult:
    from octorelease.handler.file import parse_handler_file
    from octorelease.handler.run import run_handlers

    ran = run_handlers(octopus, parse_handler_file(HANDLER), event="build-completed", values={})
    (handler,) = ran.handlers
    (action,) = handler.actions
    return action


COMMANDS: dict[str, tuple[Run, int]] = {
    # the command, and how many dashboard reads a run makes before its first POST
    "promote": (_promote, 1),
    "deploy": (_deploy, 1),
    "run": (_run, 2),  # the handler's check before its first write plans too
}


def dashboard_reads(sandbox: SandboxControl) -> int:
    return sum(1 for r in sandbox.requests() if r["path"].endswith("/dashboard/dynamic") and r["status"] == 200)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


Outcome = tuple[ActionResult, str]


def run_cell(sandbox: SandboxControl, command: str, runs: int, outage: float, random_faults: str) -> list[Outcome]:
    """Start ``runs`` runs of ``command`` under the outage; once all have planned, keep it up for
    ``outage`` seconds, then switch to ``random_faults``. Returns each run's result and the
    marker its deployments carry."""
    act, reads = COMMANDS[command]
    sandbox.set_speed(SPEED)
    sandbox.set_http_faults(OUTAGE)
    sandbox.hold_tasks()
    barrier = threading.Barrier(runs)
    waiting = [_Waiting() for _ in range(runs)]

    def one(observer: _Waiting) -> Outcome:
        with Octopus(sandbox.url, sandbox.api_key, retry=PATIENT, observer=observer) as octopus:
            assert octopus.space is not None  # connected, as a CI job is by the time it promotes
            barrier.wait(timeout=60)
            return act(octopus), octopus.http.run_id

    with ThreadPoolExecutor(max_workers=runs) as pool:
        futures = [pool.submit(one, observer) for observer in waiting]
        wait_until(lambda: dashboard_reads(sandbox) >= runs * reads or any(f.done() for f in futures),
                   "every run planned")
        time.sleep(outage)  # the outage itself: how long POSTs keep failing once all have planned
        sandbox.set_http_faults(random_faults)
        wait_until(lambda: all(w.polled.is_set() or f.done() for w, f in zip(waiting, futures, strict=True)),
                   "every run settled and waiting", timeout=120)
        sandbox.hold_tasks(False)
        outcomes = [f.result(timeout=180) for f in futures]
    sandbox.clear_http_faults()
    return outcomes


class _Waiting(SilentObserver):
    """Knows when its run has settled: its wait polled the deployments it settled on."""

    def __init__(self) -> None:
        self.polled = threading.Event()

    def task_updated(self, deployment: DeploymentResult) -> None:
        self.polled.set()


def assert_cell(sandbox: SandboxControl, outcomes: list[Outcome]) -> None:
    """The promise, from the server's state; a failure also says, per run, its marker, what it
    reported per target and every line it said: a rare failure is then explained by its own log."""
    reports = [from_result(result) for result, _ in outcomes]
    try:
        assert_settled(sandbox, reports, TARGETS, project_id=WORKER, release_id=RELEASE,
                       markers=[marker for _, marker in outcomes])
    except AssertionError as failure:
        said = "\n".join(f"run {marker}: " + "; ".join(f"{d.environment} {d.deployment_id} (twin {d.cancelled_twin})"
                                                        for d in result.deployments)
                         + "".join(f"\n  {line}" for line in result.messages) for result, marker in outcomes)
        raise AssertionError(f"{failure}\nwhat each run said:\n{said}") from None


RANDOM = "503:0.3,500:0.2,lost:{lost},only=POST,path=/deployments,seed={seed}"

CELLS = [
    pytest.param(command, runs, outage, id=f"{command}-{runs}-runs-{outage:g}s")
    for command in COMMANDS
    for runs in (2, 5, 20)
    for outage in (0.0, 3.0, 10.0)
]


@pytest.mark.parametrize(("command", "runs", "outage"), CELLS)
def test_concurrent_runs_through_an_outage_and_lost_answers_settle_on_one_deployment_per_target(
    sandbox: SandboxControl, command: str, runs: int, outage: float
) -> None:
    lost = 0.5 if runs == 5 else 0.2  # the two shares of lost answers
    outcomes = run_cell(sandbox, command, runs, outage, RANDOM.format(lost=lost, seed=runs))
    assert_cell(sandbox, outcomes)
