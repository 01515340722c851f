"""Runs deployment tasks: acquire packages, then each step on each of its machines, with real logs.

An ``Execution`` turns a queued task into a plan (the activity tree: one element per step, one
per step-on-machine below it) and carries it out one unit at a time. Between units the driver
pauses for the configured speed and looks for a cancel request, so a task is cancelled at the
next step boundary. The same ``Execution`` makes the seed's history, with a simulated clock.

A unit can wait for a person (``interrupting.py``): a manual intervention step raises an
interruption when it begins, and a failed step does when the deployment uses guided failure. The
driver then looks at the interruption until it is answered and carries the answer out: proceed or
abort; retry the unit, ignore its failure, exclude its machine, or fail. The history answers at
once (Proceed, Fail), so a seed never waits.

``TaskRunner`` is the background worker: a scheduler thread starts a thread per runnable task
(its queue time has come, and no other deployment of the same project, environment and tenant is
executing, as Octopus serialises those) so several tasks run at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from octorelease.sandbox.rules.freezing import Window, frozen_message
from octorelease.sandbox.rules.interrupting import GUIDED, MANUAL
from octorelease.sandbox.rules.models import Backend
from octorelease.sandbox.rules.requests import DeploymentRequest
from octorelease.sandbox.state.entities import (
    MANUAL_STEP,
    Action,
    Activity,
    Deployment,
    Environment,
    Interruption,
    LogLine,
    Machine,
    Project,
    Release,
    SelectedPackage,
    Task,
    Tenant,
)

log = logging.getLogger(__name__)

FAILED_MESSAGE = "The deployment failed because one or more steps failed. Please see the deployment log for details."
CANCELED_MESSAGE = "The task was canceled."
RESTARTED_MESSAGE = "The task failed because the Octopus Server was restarted while it was running."
EXPIRED_MESSAGE = "The task did not start before its expiry time (QueueTimeExpiry) and was not run."
#: the longest the scheduler sleeps with nothing due: a backstop should the clock jump
MAX_SLEEP = 1.0
#: how often a task that waits for a person looks for the answer (whatever the speed, even 0)
ANSWER_POLL = 0.05
#: answers give times to the millisecond, so a scheduled task starts in the millisecond after its
#: QueueTime at the earliest: its StartTime never reads earlier than its QueueTime
_START_AFTER = timedelta(milliseconds=1)


@dataclass
class Unit:
    """One step on one machine: the smallest piece of work, and the point where cancel can land."""

    element: Activity
    machine: Machine | None  # None for a manual intervention, which runs on the server
    kind: str  # "acquire" | "package" | "script" | "manual"
    step_name: str
    package: SelectedPackage | None = None
    packages: list[SelectedPackage] = field(default_factory=list)
    action: Action | None = None


@dataclass
class PlannedStep:
    element: Activity
    units: list[Unit]
    skip_reason: str | None = None
    #: a step skipped for want of machines is a warning (the task then "has warnings"); others are news
    skip_category: str = "Info"


def _log(element: Activity, now: datetime, category: str, message: str) -> None:
    element.logs.append(LogLine(category=category, occurred_at=now, message=message))


class Execution:
    """One deployment task, carried out unit by unit against the backend's state."""

    def __init__(self, backend: Backend, task: Task) -> None:
        self.backend = backend
        self.task = task
        self.deployment: Deployment = backend.deployment_of(task)
        self.release = backend.require(Release, None, self.deployment.release_id)
        self.project = backend.require(Project, None, self.deployment.project_id)
        self.environment = backend.require(Environment, None, self.deployment.environment_id)
        self.steps: list[PlannedStep] = []
        self._position = 0
        self._unit_index = 0
        #: the interruption the current unit waits on, and the machines guidance excluded
        self.waiting: Interruption | None = None
        self.excluded: set[str] = set()

    # -- planning --------------------------------------------------------------------------------

    def start(self) -> bool:
        """Queued -> Executing, and lay out the plan; ``False`` when the task is no longer queued."""
        task, now = self.task, self.backend.clock()
        if task.state != "Queued":
            return False
        task.state, task.start_time, task.last_updated = "Executing", now, now
        root = task.activity or Activity(id=task.id, name=task.description)
        root.status, root.started = "Running", now
        task.activity = root
        _log(root, now, "Info", f"{task.description} (deployment {self.deployment.id})")
        frozen = self._frozen(now)
        if frozen:  # it fell due inside a freeze it did not override
            self._complete("Failed", frozen_message(self.project, self.environment, frozen[0]), now)
            return False
        self._plan(root)
        self.backend.put(task)
        return True

    def _frozen(self, now: datetime) -> list[Window]:
        d = self.deployment
        tenant = self.backend.get(Tenant, None, d.tenant_id) if d.tenant_id else None
        return [w for w in self.backend.freezes_on(self.project, self.environment, tenant, now)
                if w.freeze.id not in d.overridden_freeze_ids]

    def _plan(self, root: Activity) -> None:
        d = self.deployment
        planned = self.backend.plan_machines(self.release.steps, self.environment, _as_request(d))
        acquire = PlannedStep(Activity(id=f"{self.task.id}/1", name="Acquire packages"), [])
        by_machine: dict[str, tuple[Machine, list[SelectedPackage]]] = {}
        steps: list[PlannedStep] = []
        for number, item in enumerate(planned, start=1):
            step, element_id = item.step, f"{self.task.id}/{number + 1}"
            element = Activity(id=element_id, name=f"Step {number}: {step.name}")
            manual = step.action.action_type == MANUAL_STEP
            kind = "manual" if manual else "package" if step.action.packages else "script"
            package = next((p for p in self.release.selected_packages if p.step_name == step.name), None)
            skip_reason = None
            if step.action.id in d.skip_actions:
                skip_reason = f"Skipping step '{step.name}': it was excluded from this deployment."
            elif step.action.is_disabled:
                skip_reason = f"Skipping step '{step.name}': the step is disabled."
            elif manual:
                pass
            elif not item.machines:
                skip_reason = (
                    f"Skipping step '{step.name}': no deployment targets in roles "
                    f"{', '.join(step.roles)} are available in {self.environment.name}."
                )
            if skip_reason:
                units = []
            elif manual:
                units = [Unit(Activity(id=f"{element_id}/manual", name="Manual intervention"), None, kind, step.name,
                              action=step.action)]
            else:
                units = [Unit(Activity(id=f"{element_id}/{m.id}", name=m.name), m, kind, step.name, package)
                         for m in item.machines]
            element.children = [u.element for u in units]
            steps.append(PlannedStep(element, units, skip_reason,
                                     "Warning" if skip_reason and not item.machines else "Info"))
            if package is not None and not skip_reason:
                for machine in item.machines:
                    by_machine.setdefault(machine.id, (machine, []))[1].append(package)
        for machine, packages in by_machine.values():
            element = Activity(id=f"{acquire.element.id}/{machine.id}", name=machine.name)
            acquire.units.append(Unit(element, machine, "acquire", "Acquire packages", packages=packages))
            acquire.element.children.append(element)
        if not acquire.units:
            acquire.skip_reason = "No packages need to be acquired for this deployment."
        self.steps = [acquire, *steps]
        root.children = [s.element for s in self.steps]

    # -- carrying out ----------------------------------------------------------------------------

    def next_unit(self) -> Unit | None:
        """Begin the next unit (marking its step Running); ``None`` when the plan is finished or
        stopped by a failed step. A unit that needs no work (already installed) is done at once."""
        now = self.backend.clock()
        # Whatever follows writes to the log: LastUpdatedTime says so, as Octopus's does.
        self.task.last_updated = now
        while self._position < len(self.steps):
            planned = self.steps[self._position]
            if planned.element.status == "Pending":
                planned.element.status, planned.element.started = "Running", now
                if planned.skip_reason:
                    _log(planned.element, now, planned.skip_category, planned.skip_reason)
            if self._unit_index < len(planned.units):
                unit = planned.units[self._unit_index]
                self._unit_index += 1
                if self._begin(unit, now):
                    self.backend.put(self.task)
                    return unit
                continue
            self._close_step(planned, now)
            self._position, self._unit_index = self._position + 1, 0
            if planned.element.status == "Failed":
                self._skip_rest(now, "Skipped because an earlier step failed.")
                return None
        return None

    def _begin(self, unit: Unit, now: datetime) -> bool:
        element, machine, d = unit.element, unit.machine, self.deployment
        element.status, element.started = "Running", now
        if machine is None:
            return self._ask_for_approval(unit, now)
        if machine.id in self.excluded:
            _log(element, now, "Info", f"Skipping {machine.name}: it was excluded from the rest of this deployment.")
            return self._done(unit, now, "Skipped")
        if unit.kind == "acquire":
            wanted = [p for p in unit.packages if d.force_package_download or _ref(p) not in machine.cached]
            for p in unit.packages:
                if p not in wanted:
                    _log(
                        element,
                        now,
                        "Info",
                        f"Package {p.package_id} {p.version} is already on {machine.name}; skipping the download",
                    )
            for p in wanted:
                _log(element, now, "Info", f"Downloading package {p.package_id} {p.version} to {machine.name}")
            if not wanted:
                return self._done(unit, now, "Success")
            return True
        if unit.kind == "package":
            assert unit.package is not None
            p = unit.package
            if machine.installed.get(p.package_id) == p.version and not d.force_package_redeployment:
                _log(
                    element,
                    now,
                    "Info",
                    f"Package {p.package_id} {p.version} is already installed on "
                    f"{machine.name}; skipping it (ForcePackageRedeployment is off)",
                )
                return self._done(unit, now, "Skipped")
            _log(element, now, "Info", f"Deploying {p.package_id} {p.version} to {machine.name}")
            return True
        _log(element, now, "Info", f"Running script '{unit.step_name}' on {machine.name}")
        return True

    def _ask_for_approval(self, unit: Unit, now: datetime) -> bool:
        """A manual intervention: raise the interruption and say in the log what it waits for."""
        action, element = unit.action, unit.element
        assert action is not None
        teams = self.backend.team_names(action.responsible_team_ids)
        _log(element, now, "Info", f"Waiting for manual intervention: {unit.step_name}")
        if action.instructions:
            _log(element, now, "Info", f"Instructions: {action.instructions}")
        _log(element, now, "Info", "Who can act: " + (", ".join(teams) if teams else "anyone who may deploy here"))
        self.waiting = self.backend.raise_interruption(
            self.task, MANUAL, unit.step_name, action.instructions, element.id, self._related(),
            action.responsible_team_ids)
        return True

    def _related(self) -> list[str]:
        d = self.deployment
        return [d.id, d.release_id, d.project_id, d.environment_id, d.tenant_id or "", d.space_id]

    def finish_unit(self, unit: Unit) -> None:
        """The unit's work is done: succeed, or fail when a fault says so (under guided failure,
        wait for guidance instead). A manual intervention is finished by its answer (``answer``)."""
        now, machine, element = self.backend.clock(), unit.machine, unit.element
        if machine is None:
            return
        fault = self.backend.fault_for(
            unit.step_name, machine.name, self.environment.name, explicit_step=unit.kind == "acquire"
        )
        if fault is not None:
            message = fault.message or f"Step '{unit.step_name}' failed on {machine.name} (sandbox fault)"
            _log(element, now, "Error", message)
            if self.deployment.use_guided_failure:
                _log(element, now, "Warning", f"Guided failure: waiting for guidance on '{unit.step_name}' on "
                     f"{machine.name} (retry, ignore, exclude the machine, or fail)")
                self.waiting = self.backend.raise_interruption(
                    self.task, GUIDED, f"Step '{unit.step_name}' failed on {machine.name}", message, element.id,
                    [*self._related(), machine.id], [])
                return
            _log(element, now, "Fatal", f"The step failed on {machine.name}.")
            self._done(unit, now, "Failed")
            return
        if unit.kind == "acquire":
            for p in unit.packages:
                if _ref(p) not in machine.cached:
                    machine.cached.append(_ref(p))
                _log(element, now, "Info", f"Package {p.package_id} {p.version} downloaded to {machine.name}")
        elif unit.kind == "package":
            assert unit.package is not None
            p = unit.package
            machine.installed[p.package_id] = p.version
            _log(
                element,
                now,
                "Info",
                f"Extracting {p.package_id} {p.version} to "
                f"/opt/octopus/applications/{self.environment.slug}/{p.package_id}/{p.version}",
            )
            _log(element, now, "Info", f"Successfully deployed {p.package_id} {p.version} to {machine.name}")
        else:
            _log(element, now, "Info", f"Script '{unit.step_name}' completed on {machine.name} with exit code 0")
        self._done(unit, now, "Success")

    def answer(self, unit: Unit, auto: bool = False) -> bool | None:
        """Carry out the answer to the interruption the unit waits on: ``None`` while nobody has
        answered, ``True`` when the unit must run again (Retry), else ``False``. ``auto``: answer
        it now (the seed's history): Proceed, or Fail."""
        assert self.waiting is not None
        waiting = self.backend.get(Interruption, None, self.waiting.id) or self.waiting
        if auto and waiting.is_pending:
            waiting.is_pending, waiting.answer = False, "Proceed" if waiting.type == MANUAL else "Fail"
            waiting.answered_by, waiting.answered_on = "sandbox", self.backend.clock()
            self.backend.put(waiting)
        if waiting.is_pending:
            return None
        now, element, answer = self.backend.clock(), unit.element, waiting.answer
        by = f" by {waiting.answered_by}" + (f": {waiting.notes}" if waiting.notes else "")
        self.waiting = None
        self.backend.close_interruption(self.task, waiting)
        where = unit.machine.name if unit.machine else ""
        if answer == "Proceed":
            _log(element, now, "Info", f"Proceeded{by}")
            self._done(unit, now, "Success")
        elif answer == "Abort":
            _log(element, now, "Error", f"Aborted{by}")
            _log(element, now, "Fatal", f"The manual intervention '{unit.step_name}' was aborted.")
            self._done(unit, now, "Failed")
        elif answer == "Retry":
            _log(element, now, "Info", f"Retrying '{unit.step_name}' on {where}{by}")
            return True
        elif answer == "Ignore":
            _log(element, now, "Warning", f"The failure on {where} was ignored{by}")
            self._done(unit, now, "Skipped")
        elif answer == "Exclude":
            assert unit.machine is not None
            self.excluded.add(unit.machine.id)
            _log(element, now, "Warning", f"{where} was excluded from the rest of this deployment{by}")
            self._done(unit, now, "Skipped")
        else:
            _log(element, now, "Fatal", f"The step failed on {where}; guidance was to fail{by}")
            self._done(unit, now, "Failed")
        return False

    def _done(self, unit: Unit, now: datetime, status: str) -> bool:
        unit.element.status, unit.element.ended = status, now
        machine, d = unit.machine, self.deployment
        if machine is not None and status == "Success" and unit.kind != "acquire" \
                and machine.id not in d.deployed_to_machine_ids:
            d.deployed_to_machine_ids.append(machine.id)
        self.task.last_updated = now
        self.backend.put(self.task, d, *([machine] if machine is not None else []))
        return False

    def _close_step(self, planned: PlannedStep, now: datetime) -> None:
        statuses = {u.element.status for u in planned.units}
        element = planned.element
        element.status = "Failed" if "Failed" in statuses else "Success" if "Success" in statuses else "Skipped"
        element.ended = now

    def _skip_rest(self, now: datetime, why: str, status: str = "Skipped") -> None:
        for planned in self.steps[self._position :]:
            for node in planned.element.walk():
                if node.status in ("Pending", "Running"):
                    node.status, node.ended = status, now
            if planned.element.status == status and not planned.element.logs:
                _log(planned.element, now, "Info", why)
        self._position = len(self.steps)

    def cancel(self) -> None:
        now = self.backend.clock()
        if self.waiting is not None:
            self.waiting.is_pending = False
            self.backend.close_interruption(self.task, self.waiting)
            self.waiting = None
        self._skip_rest(now, "Canceled before this step ran.", status="Canceled")
        self._complete("Canceled", CANCELED_MESSAGE, now)

    def finish(self) -> None:
        """Success, or Failed when any step failed."""
        now = self.backend.clock()
        failed = any(s.element.status == "Failed" for s in self.steps)
        self._complete("Failed" if failed else "Success", FAILED_MESSAGE if failed else "", now)

    def _complete(self, state: str, message: str, now: datetime) -> None:
        task, root = self.task, self.task.activity
        task.state, task.error_message, task.completed_time, task.last_updated = state, message, now, now
        if root is not None:
            root.status, root.ended = {"Success": "Success", "Failed": "Failed"}.get(state, "Canceled"), now
            if message:
                _log(root, now, "Fatal" if state == "Failed" else "Info", message)
            task.has_warnings_or_errors = any(
                line.category in ("Warning", "Error", "Fatal") for node in root.walk() for line in node.logs
            )
        self.deployment.failure_encountered = state == "Failed"
        self.backend.put(task, self.deployment)

    @property
    def cancelling(self) -> bool:
        return self.task.state == "Cancelling"


def _ref(package: SelectedPackage) -> str:
    return f"{package.package_id}@{package.version}"


def _as_request(deployment: Deployment) -> DeploymentRequest:
    return DeploymentRequest(
        release_id=deployment.release_id,
        environment_id=deployment.environment_id,
        specific_machine_ids=deployment.specific_machine_ids,
        excluded_machine_ids=deployment.excluded_machine_ids,
    )


def drive(backend: Backend, task: Task, pause: Callable[[], bool],
          wait: Callable[[], bool] | None = None) -> None:
    """Carry out one task; ``pause`` waits between units and returns ``False`` to abandon the task
    (the server is stopping: the task stays Executing and is failed on the next start). ``wait``
    waits between looks at an unanswered interruption; without it (the history) every
    interruption is answered at once."""
    with backend.lock:
        execution = Execution(backend, task)
        if not execution.start():
            return
    while True:
        with backend.lock:
            if execution.cancelling:
                execution.cancel()
                return
            unit = execution.next_unit()
            if unit is None:
                execution.finish()
                return
        again = True
        while again:
            if not pause():
                return
            with backend.lock:
                execution.finish_unit(unit)
            outcome = _answered(execution, unit, wait)
            if outcome is None:
                return
            again = outcome


def _answered(execution: Execution, unit: Unit, wait: Callable[[], bool] | None) -> bool | None:
    """Wait until the unit's interruption (if any) is answered and carry the answer out: whether
    to run the unit again, or ``None`` when the task was cancelled or abandoned meanwhile."""
    backend = execution.backend
    while True:
        with backend.lock:
            if execution.waiting is None:
                return False
            if execution.cancelling:
                execution.cancel()
                return None
            outcome = execution.answer(unit, auto=wait is None)
        if outcome is not None:
            return outcome
        assert wait is not None
        if not wait():
            return None


def recover(backend: Backend) -> None:
    """After a restart: a task that was executing failed (the server went away under it); one that
    was being cancelled is canceled. Queued tasks simply run again."""
    now = backend.clock()
    for task in backend.active_tasks():
        if task.state not in ("Executing", "Cancelling"):
            continue
        state, message = ("Canceled", CANCELED_MESSAGE) if task.state == "Cancelling" else ("Failed", RESTARTED_MESSAGE)
        task.state, task.error_message, task.completed_time, task.last_updated = state, message, now, now
        for interruption in backend.interruptions(task.space_id, regarding=task.id, pending_only=True, ids=[]):
            interruption.is_pending = False
            backend.put(interruption)
        task.pending_interruption_types = []
        if task.activity is not None:
            for node in task.activity.walk():
                if node.status in ("Pending", "Running"):
                    node.status, node.ended = ("Failed" if state == "Failed" else "Canceled"), now
            _log(task.activity, now, "Fatal" if state == "Failed" else "Info", message)
        task.has_warnings_or_errors = state == "Failed"
        deployment = backend.get(Deployment, None, task.deployment_id)
        if deployment is not None:
            deployment.failure_encountered = state == "Failed"
            backend.put(deployment)
        backend.put(task)


class TaskRunner:
    """The background worker: starts runnable tasks, each in its own thread, paced by ``speed``."""

    def __init__(self, backend: Backend, speed: float = 1.0) -> None:
        self.backend = backend
        self.speed = speed
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._workers: dict[str, threading.Thread] = {}
        self._scheduler: threading.Thread | None = None
        #: while set, no queued task starts (``hold``); those under way go on
        self.held = False
        backend.on_task_queued = self._wake.set

    def hold(self, held: bool) -> None:
        """Keep every queued task queued (``True``) or let them start again (``False``). Tests
        use it to have tasks wait in the queue for as long as the scenario needs, rather than for
        as long as the machine's speed happens to allow."""
        self.held = held
        self._wake.set()

    def start(self) -> None:
        self._stop = threading.Event()
        self._scheduler = threading.Thread(target=self._schedule, name="sandbox-scheduler", daemon=True)
        self._scheduler.start()

    def stop(self) -> None:
        """Stop starting tasks and abandon running ones at their next unit (they are not failed
        here: a restart fails them, a reset wipes them)."""
        self._stop.set()
        self._wake.set()
        if self._scheduler is not None:
            self._scheduler.join(timeout=5)
        for worker in list(self._workers.values()):
            worker.join(timeout=5)
        self._workers.clear()

    def _schedule(self) -> None:
        """Start what is runnable, then sleep until woken (a task queued, a worker done, a stop)
        or until the next queue time or expiry is due, at most ``MAX_SLEEP``: an idle sandbox,
        however many finished tasks it holds, costs no CPU, and a task is started as soon as
        it may run."""
        stop = self._stop
        sleep: float | None = 0.0
        while not stop.is_set():
            self._wake.wait(sleep)
            self._wake.clear()
            if stop.is_set():
                return
            try:
                with self.backend.lock:
                    runnable, sleep = self._runnable()
            except Exception:  # a bad task must not stop every other one from running
                log.exception("the sandbox scheduler skipped a cycle")
                sleep = MAX_SLEEP
                continue
            for task in runnable:
                worker = threading.Thread(target=self._run, args=(task, stop), name=task.id, daemon=True)
                self._workers[task.id] = worker
                worker.start()

    def _runnable(self) -> tuple[list[Task], float]:
        """Queued tasks whose time has come, one per (project, environment, tenant) at a time
        (those whose expiry passed first are timed out instead), and how long the scheduler may
        sleep before a queue time or expiry falls due. Only active tasks are looked at."""
        now = self.backend.clock()
        self._workers = {k: w for k, w in self._workers.items() if w.is_alive()}
        if self.held:
            return [], MAX_SLEEP
        active = self.backend.active_tasks()
        busy = {self._slot(t) for t in active if t.state in ("Executing", "Cancelling")}
        chosen = []
        due: list[datetime] = []
        for task in active:
            if task.state != "Queued" or task.id in self._workers:
                continue
            if task.queue_time + _START_AFTER > now:
                due.append(task.queue_time + _START_AFTER)
                if task.queue_time_expiry is not None:
                    due.append(task.queue_time_expiry)
                continue
            if task.queue_time_expiry is not None and task.queue_time_expiry <= now:
                task.state, task.error_message, task.completed_time, task.last_updated = (
                    "TimedOut",
                    EXPIRED_MESSAGE,
                    now,
                    now,
                )
                self.backend.put(task)
                continue
            slot = self._slot(task)
            if slot not in busy:
                busy.add(slot)
                chosen.append(task)
            elif task.queue_time_expiry is not None:  # waiting for its slot, it may expire meanwhile
                due.append(task.queue_time_expiry)
        soonest = min(((d - now).total_seconds() for d in due), default=MAX_SLEEP)
        return chosen, min(max(soonest, 0.0), MAX_SLEEP)

    def _slot(self, task: Task) -> tuple[str, str, str | None]:
        d = self.backend.deployment_of(task)
        return (d.project_id, d.environment_id, d.tenant_id)

    def _run(self, task: Task, stop: threading.Event) -> None:
        drive(self.backend, task, lambda: not stop.wait(self.speed), lambda: not stop.wait(ANSWER_POLL))
        self._wake.set()
