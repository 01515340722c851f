"""One poller for all tasks of an action: adaptive interval, timeout, cancel, log streaming.

Each poll cycle asks for every pending task in ONE request (``/api/tasks?ids=A,B``); task logs
(``/details``) are fetched only when logging, or once for a task that failed, to name the
failing step. The interval starts short (most sandbox and small deployments finish fast) and
grows to a ceiling, so a long deployment costs few requests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from octorelease.actions.plan import WaitOptions
from octorelease.actions.result import DeploymentResult, LogLine, Observer
from octorelease.octopus import errors
from octorelease.octopus.api import SpaceApi, Task


@dataclass(frozen=True)
class PollSchedule:
    """Seconds between polls: ``initial``, growing by ``factor`` up to ``ceiling``."""

    initial: float = 0.25
    factor: float = 1.5
    ceiling: float = 10.0

    def intervals(self) -> Iterator[float]:
        interval = self.initial
        while True:
            yield interval
            interval = min(self.ceiling, interval * self.factor)


#: How long to wait for a cancelled task to reach Canceled on the server before giving up.
CANCEL_GRACE_SECONDS = 30.0


@dataclass
class _LogCursor:
    """What of one task's log has been passed on already (element id -> lines seen)."""

    seen: dict[str, int] = field(default_factory=dict)

    def new_lines(self, details: dict[str, Any]) -> list[LogLine]:
        lines: list[LogLine] = []
        for root in details.get("ActivityLogs") or ():
            for step in root.get("Children") or ():
                self._walk(step, step_name(step), None, lines, top=True)
        return lines

    def _walk(self, element: dict[str, Any], step: str, machine: str | None, out: list[LogLine], top: bool) -> None:
        key = str(element.get("Id") or id(element))
        entries = element.get("LogElements") or ()
        start = self.seen.get(key, 0)
        for entry in entries[start:]:
            out.append(
                LogLine(step, machine, str(entry.get("Category") or "Info"), str(entry.get("MessageText") or ""))
            )
        self.seen[key] = len(entries)
        for child in element.get("Children") or ():
            self._walk(child, step, child.get("Name") if top else machine, out, top=False)


_STEP_PREFIX = re.compile(r"^Step \d+: ")


def step_name(element: dict[str, Any]) -> str:
    """A step's name as the user wrote it: Octopus titles step elements "Step 2: Smoke test"."""
    return _STEP_PREFIX.sub("", str(element.get("Name") or ""))


def _failure_of(details: dict[str, Any]) -> tuple[str | None, str | None]:
    """The first failed step and its first error line, from a task's activity log."""

    def walk(element: dict[str, Any], step: str | None) -> tuple[str | None, str | None] | None:
        if element.get("Status") == "Failed":
            for entry in element.get("LogElements") or ():
                if entry.get("Category") in ("Error", "Fatal"):
                    return step, str(entry.get("MessageText"))
        for child in element.get("Children") or ():
            found = walk(child, step or step_name(child))
            if found:
                return found
        return None

    for root in details.get("ActivityLogs") or ():
        for step in root.get("Children") or ():
            found = walk(step, step_name(step))
            if found:
                return found
    return None, None


class TaskWaiter:
    """Follows the tasks of some deployments until all complete or the timeout passes."""

    def __init__(
        self,
        space: SpaceApi,
        observer: Observer,
        *,
        schedule: PollSchedule = PollSchedule(),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.space = space
        self.observer = observer
        self.schedule = schedule
        self.sleep = sleep
        self.clock = clock
        self.cursors: dict[str, _LogCursor] = {}

    def wait(self, deployments: Sequence[DeploymentResult], options: WaitOptions) -> None:
        """Update ``deployments`` in place until done. Raises ``WaitTimedOut`` on timeout
        (after cancelling the tasks on the server when ``options.cancel_on_timeout``)."""
        pending = {d.task_id: d for d in deployments if d.task_id}
        deadline = self.clock() + options.timeout_seconds
        intervals = self.schedule.intervals()
        while pending:
            self._poll(pending, options.log)
            if not pending:
                break
            remaining = deadline - self.clock()
            if remaining <= 0:
                self._time_out(list(pending.values()), options)
            self.sleep(min(next(intervals), max(remaining, 0.0)))

    def _poll(self, pending: dict[str, DeploymentResult], log: bool) -> None:
        for task in self.space.tasks(list(pending)):
            deployment = pending.get(task.id)
            if deployment is None:
                continue
            changed = deployment.state != task.state
            deployment.state = task.state
            deployment.duration_seconds = task.elapsed_seconds
            if not task.is_completed:
                # A new state is told before the log lines it brings; a running task's time ticks.
                self.observer.task_updated(deployment)
            # A deployment that was already done before we came adds nothing to this build's log.
            old_news = deployment.already_deployed and task.is_completed and not changed
            details = None
            if log and (task.state != "Queued" or task.is_completed) and not old_news:
                details = self._stream_log(deployment)
            if task.is_completed:
                # The final state comes after the last log lines, with the failure explained.
                if not task.succeeded:
                    self._explain_failure(deployment, task, details)
                del pending[task.id]
                if changed:
                    self.observer.task_updated(deployment)

    def _stream_log(self, deployment: DeploymentResult) -> dict[str, Any]:
        """Pass on the task's new log lines; returns the details read, for reuse."""
        assert deployment.task_id
        details = self.space.task_details(deployment.task_id)
        cursor = self.cursors.setdefault(deployment.task_id, _LogCursor())
        lines = cursor.new_lines(details)
        if lines:
            self.observer.log_lines(deployment, lines)
        return details

    def _explain_failure(self, deployment: DeploymentResult, task: Task, details: dict[str, Any] | None) -> None:
        """Name the failing step and its error, from the log just read or (when not logging) a fresh one."""
        assert deployment.task_id
        deployment.error_message = task.error_message or f"the task ended {task.state}"
        if details is None:
            details = self.space.task_details(deployment.task_id)
        step, text = _failure_of(details)
        deployment.failed_step = step
        if text:
            deployment.error_message = text

    def _time_out(self, waiting: list[DeploymentResult], options: WaitOptions) -> None:
        names = ", ".join(f"{d.label} ({d.state})" for d in waiting)
        message = f"Timed out after {_format_seconds(options.timeout_seconds)} waiting for {names}"
        if options.cancel_on_timeout:
            self.cancel(waiting)
            message += "; the deployments were cancelled on the server."
        else:
            message += "; they are still running on the server."
        raise errors.WaitTimedOut(
            message, hint=None if options.cancel_on_timeout else "Use --cancel-on-timeout to stop them."
        )

    def refresh(self, deployments: Sequence[DeploymentResult]) -> None:
        """One poll of the unfinished ones (no logs), so what is reported is the server's state now."""
        self._poll({d.task_id: d for d in deployments if d.task_id and not d.finished}, log=False)

    def cancel(self, deployments: Sequence[DeploymentResult], grace: float = CANCEL_GRACE_SECONDS) -> None:
        """Cancel the tasks on the server, then follow them for up to ``grace`` seconds until
        they reach Canceled (or end otherwise), so the states reported are the server's."""
        for deployment in deployments:
            assert deployment.task_id
            self.space.cancel_task(deployment.task_id)
            deployment.cancelled_by_us = True
            self.observer.warn(f"Cancelling the deployment to {deployment.label} ({deployment.task_id})")
        self._await_cancellation(deployments, grace)

    def _await_cancellation(self, waiting: Sequence[DeploymentResult], grace: float) -> None:
        pending = {d.task_id: d for d in waiting if d.task_id}
        deadline = self.clock() + grace
        intervals = self.schedule.intervals()
        while pending and self.clock() < deadline:
            self._poll(pending, log=False)
            if pending:
                self.sleep(min(next(intervals), 2.0))


def _format_seconds(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs or not whole else ""]
    return "".join(parts)
