"""One poller for all tasks of an action: paced polls, timeout, cancel, log streaming.

Each poll asks for every pending task in ONE request (``/api/tasks?ids=A,B``). When to poll is
``pacing.py``'s: an early poll, then about one a second, denser just after the moment the
target's previous deployment says this one should end. A task's log (``/details``) is read
only when logging and the task resource says it changed (its state, ``LastUpdatedTime``, or
warnings), at a bounded rate, and always once when the task ends, so its last lines come
before its verdict; without logging, once for a task that failed, to name the failing step.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from octorelease.actions.pacing import DEFAULT_PACE, Pace, Pacer
from octorelease.actions.plan import WaitOptions
from octorelease.actions.result import DeploymentResult, LogLine, Observer
from octorelease.octopus import errors
from octorelease.octopus.api import SpaceApi, Task, parse_time


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
        pace: Pace = DEFAULT_PACE,
        schedule: PollSchedule = PollSchedule(),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.space = space
        self.observer = observer
        self.pace = pace
        #: the pace of following a cancellation, which needs no log and no expectation
        self.schedule = schedule
        self.sleep = sleep
        self.clock = clock
        self.cursors: dict[str, _LogCursor] = {}
        #: per task, what its resource said when its log was last read (see ``_log_mark``)
        self.log_marks: dict[str, tuple[Any, ...]] = {}
        self.pacer: Pacer | None = None
        self.ends: _ExpectedEnds | None = None

    def wait(self, deployments: Sequence[DeploymentResult], options: WaitOptions) -> None:
        """Update ``deployments`` in place until done. Raises ``WaitTimedOut`` on timeout
        (after cancelling the tasks on the server when ``options.cancel_on_timeout``)."""
        pending = {d.task_id: d for d in deployments if d.task_id}
        start = self.clock()
        deadline = start + options.timeout_seconds
        self.pacer = pacer = Pacer(start, len(pending), options.log, self.pace)
        self.ends = ends = _ExpectedEnds(start, {t for t, d in pending.items() if t and not d.already_deployed})
        while pending:
            now = self.clock()
            at = pacer.next_poll(now, (ends.of(task_id, d.expected_seconds) for task_id, d in pending.items()))
            if min(at, deadline) > now:
                self.sleep(min(at, deadline) - now)
            pacer.polled(self.clock())
            self._poll(pending, options.log)
            if pending and self.clock() >= deadline:  # the last look is at the deadline itself
                self._time_out(list(pending.values()), options)

    def _poll(self, pending: dict[str, DeploymentResult], log: bool) -> None:
        tasks = [t for t in self.space.tasks(list(pending)) if t.id in pending]
        if self.ends is not None:
            self.ends.observe(tasks, self.clock())
        changed_logs: list[tuple[Task, DeploymentResult]] = []
        # Ended tasks first: their verdicts are what the user waits for.
        for task in sorted(tasks, key=lambda t: not t.is_completed):
            deployment = pending[task.id]
            changed = deployment.state != task.state
            deployment.state = task.state
            deployment.duration_seconds = task.elapsed_seconds
            if not task.is_completed:
                # A new state is told before the log lines it brings; a running task's time ticks.
                self.observer.task_updated(deployment)
                if log and task.state != "Queued" and self.log_marks.get(task.id) != _log_mark(task):
                    changed_logs.append((task, deployment))
                continue
            # A deployment that was already done before we came adds nothing to this build's log.
            old_news = deployment.already_deployed and not changed
            details = self._stream_log(task, deployment) if log and not old_news else None
            # The final state comes after the last log lines, with the failure explained.
            if not task.succeeded:
                self._explain_failure(deployment, task, details)
            del pending[task.id]
            if changed:
                self.observer.task_updated(deployment)
        # Running tasks whose log changed, the longest unread first, while the budget allows.
        changed_logs.sort(key=lambda pair: self.log_marks.get(pair[0].id) is not None)
        for task, deployment in changed_logs:
            if self.pacer is not None and not self.pacer.may_read_log(self.clock(), len(pending)):
                break
            self._stream_log(task, deployment)

    def _stream_log(self, task: Task, deployment: DeploymentResult) -> dict[str, Any]:
        """Pass on the task's new log lines; returns the details read, for reuse."""
        if self.pacer is not None:
            self.pacer.read_log(self.clock())
        details = self.space.task_details(task.id)
        self.log_marks[task.id] = _log_mark(task)
        cursor = self.cursors.setdefault(task.id, _LogCursor())
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
        self.pacer = self.ends = None  # following a cancellation: no log, no budget of a wait
        pending = {d.task_id: d for d in waiting if d.task_id}
        deadline = self.clock() + grace
        intervals = self.schedule.intervals()
        while pending and self.clock() < deadline:
            self._poll(pending, log=False)
            if pending:
                self.sleep(min(next(intervals), 2.0))


def _log_mark(task: Task) -> tuple[Any, ...]:
    """What of a task resource moves when its log grows: its state, its ``LastUpdatedTime``
    (servers before 2021.3.9335 leave it at year 1 during a deployment; then its ``Duration``,
    which moves with the clock, so such a log is read at the budget's pace) and its warnings."""
    raw = task.raw
    updated = raw.get("LastUpdatedTime")
    stamp = parse_time(updated)
    if stamp is None or stamp.year < 2:
        updated = ("Duration", raw.get("Duration"))
    return (task.state, updated, raw.get("HasWarningsOrErrors"))


class _ExpectedEnds:
    """When, on our clock, each task should end: its start on the server plus the seconds the
    target's previous deployment ran. Server times are turned into ours through the newest
    queue time of the tasks this wait created, which is (a request or two before) our start:
    only differences of the server's own stamps enter, so its clock may be set to anything."""

    def __init__(self, start: float, ours: set[str]) -> None:
        self.start = start
        self.ours = ours
        self.offset: float | None = None  # our clock minus the server's, in seconds
        self.anchors: dict[str, float] = {}  # task id -> when it started (or will), on our clock

    def observe(self, tasks: Sequence[Task], now: float) -> None:
        if self.offset is None:
            queued = [_stamp(t.raw.get("QueueTime")) for t in tasks if t.id in self.ours]
            known = [q for q in queued if q is not None]
            if not known:
                return
            self.offset = self.start - max(known)
        for task in tasks:
            started = _stamp(task.raw.get("StartTime"))
            if started is not None:
                self.anchors[task.id] = started + self.offset
            elif task.state == "Queued":  # it starts no sooner than now
                self.anchors[task.id] = now

    def of(self, task_id: str, expected_seconds: float | None) -> float | None:
        anchor = self.anchors.get(task_id)
        if anchor is None or expected_seconds is None:
            return None
        return anchor + expected_seconds


def _stamp(value: Any) -> float | None:
    """An Octopus timestamp as seconds since the epoch, or None."""
    parsed = parse_time(value)
    return parsed.timestamp() if parsed is not None and parsed.year > 1 else None


def _format_seconds(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs or not whole else ""]
    return "".join(parts)
