"""An interrupt inside a verb of the Python API, at chosen points (no signals, no timing): the
result keeps every task, says what became of each target, and cancels only what it created."""

from __future__ import annotations

import signal
from typing import Any

from tests.cli.test_interrupt import HANDLERS

from octorelease import Interrupted, Octopus, Terminated
from octorelease.actions.plan import WaitOptions
from octorelease.actions.result import DeploymentResult, SilentObserver
from octorelease.errors import Signalled
from octorelease.handler.file import parse_handler_file
from octorelease.handler.run import run_handlers
from octorelease.octopus.http import OctopusHttp
from testing.interrupting import InterruptAt


class InterruptOnQueued(SilentObserver):
    """Raises the interrupt when the ``nth`` deployment is queued, as a signal landing then would."""

    def __init__(self, interrupt: KeyboardInterrupt, nth: int = 1) -> None:
        self.interrupt = interrupt
        self.nth = nth
        self.queued = 0
        self.notes: list[str] = []

    def deployment_queued(self, deployment: DeploymentResult) -> None:
        self.queued += 1
        if self.queued == self.nth:
            raise self.interrupt

    def note(self, message: str) -> None:
        self.notes.append(message)


def promote(sandbox: Any, observer: SilentObserver, **wait: Any) -> Any:
    with Octopus(sandbox.url, sandbox.api_key, observer=observer) as octopus:
        return octopus.promote(
            "Worker", source="Development", to=["Test", "Staging"], wait=WaitOptions(log=False, **wait)
        )


def test_an_interrupt_between_two_creations_names_the_target_not_created(sandbox):
    sandbox.set_speed(1.0)
    observer = InterruptOnQueued(KeyboardInterrupt(), nth=0)  # records notes only
    with connect(sandbox, InterruptAt("POST", "/deployments", skip=1), observer) as octopus:  # the second POST
        result = octopus.promote("Worker", source="Development", to=["Test", "Staging"], wait=WaitOptions(log=False))
    assert isinstance(result.error, Interrupted) and not isinstance(result.error, Terminated)
    (made,) = result.deployments  # the later phase is created first (Staging), then Test
    assert made.environment == "Staging" and made.task_id
    assert "no deployment known for Test" in result.error.message
    test_deployments = sandbox.get("/api/Spaces-1/deployments", environments="Environments-2")["Items"]
    assert [d for d in test_deployments if d["ProjectId"] == "Projects-2"] == []
    assert any(note.startswith(f"Staging: {made.task_id} ") and made.web_url in note for note in observer.notes)


def test_cancel_on_interrupt_leaves_a_joined_deployment_alone(sandbox):
    sandbox.set_speed(2.0)  # the joined deployment runs for seconds: still going when interrupted
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        first = octopus.promote("Worker", source="Development", to=["Test"], wait=WaitOptions(wait=False))
    joined_task = first.deployments[0].task_id
    observer = InterruptOnQueued(Signalled(signal.SIGTERM))  # the new Staging deployment
    result = promote(sandbox, observer, cancel_on_interrupt=True)
    assert isinstance(result.error, Terminated)
    by_env = {d.environment: d for d in result.deployments}
    assert by_env["Test"].already_deployed and by_env["Test"].task_id == joined_task
    assert by_env["Staging"].state == "Canceled" and by_env["Staging"].cancelled_by_us
    assert sandbox.get(f"/api/tasks/{joined_task}")["State"] in ("Queued", "Executing")
    assert "cancelled on the server: Staging" in result.error.message
    assert f"still running on the server: Test {joined_task}" in result.error.message


def connect(sandbox: Any, transport: InterruptAt, observer: SilentObserver | None = None) -> Octopus:
    """An ``Octopus`` whose requests go to the sandbox through ``transport``."""
    octopus = Octopus(sandbox.url, sandbox.api_key, observer=observer)
    octopus.http.close()
    octopus.http = OctopusHttp(sandbox.url, sandbox.api_key, transport=transport)
    return octopus


def test_an_interrupt_while_a_deployment_is_posted_says_its_fate_is_unknown(sandbox):
    before = sandbox.get("/api/Spaces-1/deployments", take=500)["Items"]
    with connect(sandbox, InterruptAt("POST", "/deployments", after=True, signum=signal.SIGTERM)) as octopus:
        result = octopus.promote("Worker", source="Development", to=["Test"], wait=WaitOptions(log=False))
    assert isinstance(result.error, Terminated)
    assert result.deployments == []
    assert "look in Octopus for Test" in result.error.message
    # The server did create it: the message is right not to claim either way.
    assert len(sandbox.get("/api/Spaces-1/deployments", take=500)["Items"]) == len(before) + 1


def test_an_interrupt_while_a_handler_is_checked_is_not_blamed_on_the_file_and_stops_the_run(sandbox):
    handler_file = parse_handler_file(HANDLERS, environ={})
    before = sandbox.get("/api/Spaces-1/deployments", take=500)["Items"]
    with connect(sandbox, InterruptAt("GET", "/dashboard/dynamic")) as octopus:
        result = run_handlers(octopus, handler_file, event="build-completed", values={})
    assert isinstance(result.error, Interrupted)
    assert result.error.message.startswith("Interrupted by SIGINT"), result.error.message
    ship, later = result.handlers
    assert ship.ran and not later.ran
    assert sandbox.get("/api/Spaces-1/deployments", take=500)["Items"] == before


def test_an_interrupt_while_variables_are_set_stops_the_run_with_every_handler_listed(sandbox):
    with_variables = HANDLERS.replace("    promote:", "    variables: {Colour: blue}\n    promote:", 1)
    handler_file = parse_handler_file(with_variables, environ={})
    with connect(sandbox, InterruptAt("PUT", "/variables", signum=signal.SIGTERM)) as octopus:
        result = run_handlers(octopus, handler_file, event="build-completed", values={})
    assert isinstance(result.error, Terminated)
    assert "while setting project variables of Worker" in result.error.message
    ship, later = result.handlers
    assert [a.action for a in ship.actions] == ["variables"] and not later.ran
