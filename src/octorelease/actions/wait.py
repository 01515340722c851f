"""One poller for all tasks of an action: paced polls, timeout, cancel, log streaming.

Each poll asks for every pending task in ONE request (``/api/tasks?ids=A,B``). When to poll is
``pacing.py``'s: an early poll, then about one a second, denser around the moment the
target's previous deployment says this one should end. A task's log (``/details``) is read
only when logging and the task resource says it changed (its state, ``LastUpdatedTime``, or
warnings), at a bounded rate, and always once when the task ends, so its last lines come
before its verdict; without logging, once for a task that failed, to name the failing step.

A task that waits for a person (``HasPendingInterruptions``) is told within the poll that sees
it: where, what, who can act, the link and how to answer; its answer is told when it comes, with
who gave it. Time spent while every task left waits for a person does not count toward the
timeout; ``on_interruption`` and ``interruption_timeout_seconds`` say when to stop waiting for one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from octorelease import errors
from octorelease.actions.pacing import DEFAULT_PACE, Expectation, Pace, Pacer
from octorelease.actions.plan import WaitOptions
from octorelease.actions.result import DeploymentResult, LogLine, Observer
from octorelease.octopus.api import SpaceApi
from octorelease.octopus.models import Task, parse_time


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


#: Logs read side by side at most, when several tasks end in the same poll.
_READERS = 8

#: How long to wait for a cancelled task to reach Canceled on the server before giving up.
CANCEL_GRACE_SECONDS = 30.0


#: Lines of each log element a read after the first asks for (``/details?tail=``): a read then
#: costs the same bytes however long the log has grown. More new lines than this in one element
#: between two reads leave a gap, which the cursor finds and a whole read fills.
TAIL = 100

_Entry = tuple[str, str, str]  # (OccurredAt, Category, MessageText): what tells two lines apart


@dataclass
class _LogCursor:
    """What of one task's log has been passed on already: per element id, how many lines and
    the last ``TAIL`` of them (to find where a tail read picks up)."""

    seen: dict[str, int] = field(default_factory=dict)
    recent: dict[str, list[_Entry]] = field(default_factory=dict)

    @property
    def started(self) -> bool:
        """Whether a read was passed on already (so the next may be a tail read)."""
        return bool(self.seen)

    def new_lines(self, details: dict[str, Any], tail: int | None = None) -> list[LogLine] | None:
        """The lines not passed on yet, in order; None when ``details`` came from a tail read
        that does not reach back to the last line passed on (then nothing is taken from it)."""
        found: list[tuple[str, dict[str, Any], LogLine]] = []
        for root in details.get("ActivityLogs") or ():
            for step in root.get("Children") or ():
                if not self._walk(step, step_name(step), None, found, tail, top=True):
                    return None
        for key, entry, _ in found:
            self.seen[key] = self.seen.get(key, 0) + 1
            self.recent.setdefault(key, []).append(_entry(entry))
        for kept in self.recent.values():
            del kept[:-TAIL]
        return [line for _, _, line in found]

    def _walk(
        self,
        element: dict[str, Any],
        step: str,
        machine: str | None,
        out: list[tuple[str, dict[str, Any], LogLine]],
        tail: int | None,
        top: bool,
    ) -> bool:
        """Collect an element's new lines and its children's; False at a gap."""
        key = str(element.get("Id") or id(element))
        entries = list(element.get("LogElements") or ())
        start = self._start(key, entries, tail)
        if start is None:
            return False
        for entry in entries[start:]:
            category, text = str(entry.get("Category") or "Info"), str(entry.get("MessageText") or "")
            out.append((key, entry, LogLine(step, machine, category, text)))
        return all(
            self._walk(child, step, child.get("Name") if top else machine, out, tail, top=False)
            for child in element.get("Children") or ()
        )

    def _start(self, key: str, entries: list[dict[str, Any]], tail: int | None) -> int | None:
        """Where the new lines of an element begin in ``entries``, or None for a gap."""
        seen = self.seen.get(key, 0)
        if not tail or len(entries) < tail:
            return seen  # the element's whole log
        # A full tail ends at the newest line and may begin anywhere: the longest overlap of its
        # start with the last lines passed on says where the new ones begin.
        lines, kept = [_entry(e) for e in entries], self.recent.get(key, [])
        for overlap in range(min(len(lines), len(kept)), 0, -1):
            if lines[:overlap] == kept[-overlap:]:
                return overlap
        return None


def _entry(entry: dict[str, Any]) -> _Entry:
    return (str(entry.get("OccurredAt")), str(entry.get("Category")), str(entry.get("MessageText")))


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
        self.read_at: dict[str, float] = {}  # per task, when its log was last read
        self.pacer: Pacer | None = None
        self.ends: _ExpectedEnds | None = None
        #: per task waiting for a person, when (on our clock) we saw it start waiting
        self.asked_at: dict[str, float] = {}

    def wait(self, deployments: Sequence[DeploymentResult], options: WaitOptions,
             watch: Callable[[Collection[str]], None] | None = None) -> None:
        """Update ``deployments`` in place until done. Raises ``WaitTimedOut`` on timeout
        (after cancelling the tasks on the server when ``options.cancel_on_timeout``).
        ``watch`` is told, after each poll, the tasks still queued or running (``settle.Watch``)."""
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
            people_before = all(t in self.asked_at for t in pending)
            self._poll(pending, options.log)
            if watch is not None and pending:
                watch(pending.keys())
            if people_before and pending and all(t in self.asked_at for t in pending):
                deadline += self.clock() - now  # a person is slow, not the deployment
            self._people_deadline(pending, options)
            if pending and self.clock() >= deadline:  # the last look is at the deadline itself
                self._time_out(list(pending.values()), options)

    def _poll(self, pending: dict[str, DeploymentResult], log: bool) -> None:
        tasks = [t for t in self.space.tasks(list(pending)) if t.id in pending]
        _check_all_returned(pending, tasks)
        if self.ends is not None:
            self.ends.observe(tasks, self.clock())
        # A deployment that was already done before we came adds nothing to this build's log.
        finals = [
            t for t in tasks
            if log and t.is_completed and not (pending[t.id].already_deployed and pending[t.id].state == t.state)
        ]
        read = self._read_logs(finals)
        changed_logs: list[tuple[Task, DeploymentResult]] = []
        # Ended tasks first: their verdicts are what the user waits for.
        for task in sorted(tasks, key=lambda t: not t.is_completed):
            deployment = pending[task.id]
            asked = bool(deployment.pending_interruptions)
            self._people(task, deployment)
            changed = deployment.state != task.state or asked != bool(deployment.pending_interruptions)
            deployment.state = task.state
            deployment.duration_seconds = task.elapsed_seconds
            if not task.is_completed:
                # A new state is told before the log lines it brings; a running task's time ticks.
                self.observer.task_updated(deployment)
                if log and task.state != "Queued" and self.log_marks.get(task.id) != _log_mark(task):
                    changed_logs.append((task, deployment))
                continue
            details = self._stream_log(task, deployment, read[task.id]) if task.id in read else None
            # The final state comes after the last log lines, with the failure explained.
            if not task.succeeded:
                self._explain_failure(deployment, task, details)
            del pending[task.id]
            if changed:
                self.observer.task_updated(deployment)
        # Running tasks whose log changed, the longest unread first, while the budget allows.
        changed_logs.sort(key=lambda pair: self.read_at.get(pair[0].id, float("-inf")))
        for task, deployment in changed_logs:
            if self.pacer is not None and not self.pacer.may_read_log(self.clock(), len(pending)):
                break
            self._stream_log(task, deployment, self._read_logs([task])[task.id])

    def _people(self, task: Task, deployment: DeploymentResult) -> None:
        """Tell a wait for a person as soon as a poll shows it, and its answer when it comes."""
        from octorelease.actions.interruptions import pending

        waits = bool(task.raw.get("HasPendingInterruptions")) and not task.is_completed
        if waits and not deployment.pending_interruptions:
            found = pending(self.space, regarding=[task.id])
            if not found:
                return
            self.asked_at.setdefault(task.id, self.clock())
            deployment.pending_interruptions = [p.to_dict() for p in found]
            for p in found:
                who = ", ".join(p.teams) if p.teams else "anyone who may deploy there"
                verbs = "proceed" if p.type == "ManualIntervention" else "retry|ignore|exclude|fail"
                self.observer.warn(
                    f"{deployment.label} waits for a person ({p.kind}): {p.title}."
                    + (f" Instructions: {p.instructions}" if p.instructions else "")
                    + f" Who can act: {who}. Answer in Octopus ({p.web_url}) or with: octorelease "
                    f"interruptions {verbs} {p.id}")
        elif not waits and deployment.pending_interruptions:
            self._answered(deployment)
            self.asked_at.pop(task.id, None)

    def _answered(self, deployment: DeploymentResult) -> None:
        from octorelease.actions.interruptions import PAST

        for asked in deployment.pending_interruptions:
            found = self.space.interruption(str(asked["id"]))
            if found.is_pending:
                continue
            how = PAST.get(found.answer or "", "answered")
            deployment.answered_interruptions.append(
                {"id": found.id, "title": found.title, "answer": found.answer, "answered_by": found.answered_by})
            self.observer.note(f"{deployment.label}: {found.title}: {how}"
                               + (f" by {found.answered_by}" if found.answered_by else ""))
        deployment.pending_interruptions = []

    def _people_deadline(self, pending: dict[str, DeploymentResult], options: WaitOptions) -> None:
        """End the wait for a person as ``on_interruption`` and ``interruption_timeout_seconds`` say."""
        waiting = [pending[t] for t in self.asked_at if t in pending]
        if not waiting or (options.on_interruption == "wait" and options.interruption_timeout_seconds is None):
            return
        if options.on_interruption == "wait":
            limit = options.interruption_timeout_seconds or 0.0
            late = [d for d in waiting if d.task_id and self.clock() - self.asked_at[d.task_id] >= limit]
            if not late:
                return
            why = f"nobody acted within {_format_seconds(limit)} ({options.wording.name('interruption_timeout')})"
            cancel = options.cancel_on_timeout
        else:
            late, cancel = waiting, options.on_interruption == "cancel"
            why = options.wording.setting("on_interruption", options.on_interruption)
        titles = "; ".join(f"{d.label}: {', '.join(str(p.get('title')) for p in d.pending_interruptions)}"
                           for d in late)
        message = f"A deployment waits for a person ({titles}) and {why}"
        if cancel:
            self.cancel(late)
            message += "; the deployments were cancelled on the server."
        else:
            message += "; they still wait on the server."
        raise errors.NobodyActed(message, hint=None if cancel else "answer with 'octorelease interruptions', "
                                 "or in Octopus")

    def _read_logs(self, tasks: Sequence[Task]) -> dict[str, tuple[dict[str, Any], int | None]]:
        """Read the logs of ``tasks`` (each from where its cursor is: a tail after the first read),
        side by side when there are several: tasks that end together should not each wait
        for the others' round trips before their verdicts are told."""
        if not tasks:
            return {}
        now = self.clock()
        wanted = []
        for task in tasks:
            if self.pacer is not None:
                self.pacer.read_log(now, final=task.is_completed)
            self.read_at[task.id] = now
            wanted.append((task.id, TAIL if self.cursors.setdefault(task.id, _LogCursor()).started else None))
        if len(wanted) == 1:
            task_id, tail = wanted[0]
            return {task_id: (self.space.task_details(task_id, tail), tail)}
        with ThreadPoolExecutor(max_workers=min(len(wanted), _READERS)) as pool:
            found = list(pool.map(lambda pair: self.space.task_details(*pair), wanted))
        return {task_id: (details, tail) for (task_id, tail), details in zip(wanted, found, strict=True)}

    def _stream_log(
        self, task: Task, deployment: DeploymentResult, read: tuple[dict[str, Any], int | None]
    ) -> dict[str, Any]:
        """Pass on the new log lines of a read; returns the details, for reuse."""
        details, tail = read
        cursor = self.cursors[task.id]
        lines = cursor.new_lines(details, tail)
        if lines is None:  # more new lines than a tail holds: read the whole log once
            if self.pacer is not None:
                self.pacer.read_log(self.clock(), final=task.is_completed)
            details = self.space.task_details(task.id)
            lines = cursor.new_lines(details) or []
        self.log_marks[task.id] = _log_mark(task)
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
        stop = options.wording.setting("cancel_on_timeout")
        raise errors.WaitTimedOut(
            message, hint=None if options.cancel_on_timeout else f"Use {stop} to stop them."
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


def _check_all_returned(pending: dict[str, DeploymentResult], tasks: Sequence[Task]) -> None:
    """A task the poll did not return will never be seen to end: waiting on would end only at
    the timeout, saying nothing true. Name it now (deleted, or not visible to this key)."""
    missing = [task_id for task_id in pending if task_id not in {t.id for t in tasks}]
    if missing:
        named = ", ".join(f"{task_id} ({pending[task_id].label})" for task_id in missing)
        which = f"task {named} when asked for it, so its end" if len(missing) == 1 else \
            f"tasks {named} when asked for them, so their end"
        raise errors.NotFound(
            f"Octopus did not return {which} cannot be followed.",
            hint="It may have been deleted, or the API key may not see its space; look for it in the Octopus portal.",
        )


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

    def of(self, task_id: str, expected_seconds: float | None) -> Expectation | None:
        anchor = self.anchors.get(task_id)
        if anchor is None or expected_seconds is None:
            return None
        return Expectation(anchor + expected_seconds, expected_seconds)


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
