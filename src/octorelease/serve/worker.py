"""The worker of ``octorelease serve``: take queued runs from the store and run their handlers.

A run goes through ``handler.run.run_handlers``, the code path of ``octorelease run``, with the
event's build values; its result is ``run --json``'s object.

Scheduling, in the order events were accepted, is the store's (``Store.claim``), so that it holds
across replicas sharing one database:

- runs whose selected handlers touch the same Octopus project never overlap, and start in the
  order they came (two events for Web: one promotion, then the other);
- runs for different projects go side by side, at most ``max_parallel`` at once per replica;
- a run that waits for a busy project holds back later runs for its projects, so no event
  overtakes an earlier one for the same project.

A claimed run holds a lease that the worker renews every third of it (``heartbeat``); a run
whose lease ran out (its replica died) is queued again by whichever replica sees it first, and
runs again through the resume path below. The worker looks at the queue when notified (an event
it accepted) and every ``poll_seconds`` (an event another replica accepted, a lease run out).

While the store cannot write (``StoreUnavailable``: a full disk), the worker backs off, from
half a second doubling to :data:`MAX_BACKOFF_SECONDS`, instead of trying again at once: a run it
could not start stays queued, a run that finished keeps its result in memory and records it
when the store can write again, and each outage is logged once, with its end.

After a crash, runs left ``running`` are queued again when the service starts (one file) or
when their lease runs out (a shared database). Before a run's
first write the worker records a mark of the server (``resume.take_mark``); a run that starts
again adopts the release and deployments its first attempt made since that mark
(``resume.ResumingOctopus``) instead of making them twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from octorelease.actions.result import DeploymentResult, LogLine, SilentObserver
from octorelease.errors import CodeFor, InternalError, OctoreleaseError
from octorelease.handler.build_values import build_values
from octorelease.handler.file import HandlerFile
from octorelease.handler.run import HandlerRun, RunResult, run_handlers
from octorelease.handler.select import select_handlers
from octorelease.safe_text import one_line
from octorelease.serve.resume import Connection, connect, take_mark
from octorelease.serve.store import Run, RunState, Store, StoreUnavailable

log = logging.getLogger("octorelease.serve")

#: A run keeps at most this many lines of log (notes, warnings, task logs): a chatty task must
#: not grow the database without bound.
MAX_LOG_LINES = 5000
#: How often a running run's progress is written for the page, at most (seconds).
PROGRESS_EVERY = 0.5
DEFAULT_MAX_PARALLEL = 4
#: The longest wait between two tries while the store cannot write.
MAX_BACKOFF_SECONDS = 8.0
FIRST_BACKOFF_SECONDS = 0.5
#: How often the worker looks at the queue unless told: another replica's events wait at most this.
DEFAULT_POLL_SECONDS = 1.0


def run_values(source: str, values: Mapping[str, str], stage: str | None) -> dict[str, str]:
    """The ``{build.*}`` values of an event: the payload's, with ``build.ci`` the source and
    ``build.stage`` the stage, as ``run --stage`` gives it; never the service's own environment."""
    merged = build_values({}, {**({"stage": stage} if stage else {}), **values})
    if "ci" not in values:
        merged["ci"] = source
    return merged


def projects_of(handler_file: HandlerFile, event: str, status: str | None, stage: str | None,
                values: Mapping[str, str]) -> list[str]:
    """The Octopus projects (casefolded) of the handlers this event selects: the runs that share
    one are serialised. A selection that cannot be decided yet (a condition's fault) counts every
    project of the file, the safe side."""
    try:
        decisions = select_handlers(handler_file, event=event, status=status, stage=stage, values=values)
    except OctoreleaseError:
        return sorted({handler.project.casefold() for handler in handler_file.handlers})
    return sorted({d.handler.project.casefold() for d in decisions if d.will_run})


class RunLog(SilentObserver):
    """What a run tells while it works, as lines for the page (the console's observer, in text),
    and what its deployments wait for a person for now (``waiting``), for the page and the API.

    ``changed(force)`` saves the progress; a new wait for a person (or its end) is saved at once,
    as nothing else may change while a person is asked."""

    def __init__(self, changed: Callable[[bool], None]) -> None:
        self.lines: list[str] = []
        self._changed = changed
        self._states: dict[str | None, str] = {}
        #: task id -> what its deployment waits for (``waiting_entry`` each)
        self._waiting: dict[str | None, list[dict[str, Any]]] = {}

    def add(self, text: str) -> None:
        if len(self.lines) < MAX_LOG_LINES:
            self.lines.append(one_line(text))
        elif len(self.lines) == MAX_LOG_LINES:
            self.lines.append(f"(log cut at {MAX_LOG_LINES} lines)")
        self._changed(False)

    @property
    def waiting(self) -> list[dict[str, Any]]:
        """Every interruption a deployment of the run waits on now, oldest wait first."""
        return sorted((entry for entries in self._waiting.values() for entry in entries),
                      key=lambda entry: entry["asked_at"])

    def note(self, message: str) -> None:
        self.add(message)

    def warn(self, message: str, detail: str | None = None) -> None:
        self.add(f"Warning: {detail or message}")

    def deployment_queued(self, deployment: DeploymentResult) -> None:
        self.add(f"{deployment.label}: {deployment.deployment_id} queued ({deployment.task_id})")

    def task_updated(self, deployment: DeploymentResult) -> None:
        asked = deployment.pending_interruptions
        known = self._waiting.get(deployment.task_id, [])
        if [entry["id"] for entry in known] != [p.get("id") for p in asked]:
            if asked:
                self._waiting[deployment.task_id] = [waiting_entry(p, deployment.label) for p in asked]
            else:
                self._waiting.pop(deployment.task_id, None)
            self._changed(True)
        if self._states.get(deployment.task_id) != deployment.state:
            self._states[deployment.task_id] = deployment.state
            self.add(f"{deployment.label}: {deployment.state}")

    def log_lines(self, deployment: DeploymentResult, lines: list[LogLine]) -> None:
        for line in lines:
            self.add(f"{deployment.label} | {line.step}: {line.text}")


def waiting_entry(asked: Mapping[str, Any], deployment: str) -> dict[str, Any]:
    """A wait for a person as a run's progress keeps it (``pending_interruptions``): the
    interruption as the JSON output gives it, the deployment that waits, and since when (an epoch
    time, from which ``/api/runs/{id}`` tells how long it has waited)."""
    from octorelease.actions.interruptions import KINDS

    entry = {key: value for key, value in asked.items() if key != "waited_seconds"}
    waited = asked.get("waited_seconds")
    since = time.time() - (waited if isinstance(waited, (int, float)) else 0.0)
    return {**entry, "kind": KINDS.get(str(asked.get("type")), str(asked.get("type"))), "deployment": deployment,
            "asked_at": round(since, 3)}


class Worker:
    """Runs queued runs on threads of its own; ``notify()`` after a run is accepted."""

    def __init__(
        self,
        store: Store,
        handler_file: HandlerFile,
        connection: Connection,
        *,
        code_for: CodeFor,
        max_parallel: int = DEFAULT_MAX_PARALLEL,
        on_handler_started: Callable[[Run, float], None] | None = None,
        on_finished: Callable[[Run], None] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        self.store = store
        self.handler_file = handler_file
        self.connection = connection
        self.code_for = code_for  # cli/ knows exit codes, not serve/
        self.max_parallel = max(1, max_parallel)
        #: told once per run, when its first handler starts (with the time): the webhook-to-handler delay
        self.on_handler_started = on_handler_started
        self.on_finished = on_finished
        self.poll_seconds = poll_seconds
        self._wake = threading.Condition()
        self._pending = True
        self._stopping = False
        self._lock = threading.Lock()
        self._running: dict[int, threading.Thread] = {}
        self._thread: threading.Thread | None = None
        self._leases: threading.Thread | None = None
        #: Set by ``stop``: a wait for the store ends at once; ``_hurry``: ``stop`` waits no more.
        self._stop_event = threading.Event()
        self._hurry = threading.Event()
        #: While the store cannot write: no dispatch before this (monotonic), and the next wait.
        self._paused_until = 0.0
        self._backoff = FIRST_BACKOFF_SECONDS
        self._store_down = False

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> list[Run]:
        """Queue again what a dead process left running, then start dispatching; returns those."""
        resumed = self.store.requeue_interrupted()
        for run in resumed:
            log.warning("run %s was cut short (attempt %s); running it again", run.id, run.attempts)
        self._thread = threading.Thread(target=self._dispatch, name="octorelease-dispatch", daemon=True)
        self._thread.start()
        self._leases = threading.Thread(target=self._keep_leases, name="octorelease-leases", daemon=True)
        self._leases.start()
        return resumed

    def notify(self) -> None:
        """Something was queued (or finished): look at the queue now rather than at the next tick."""
        with self._wake:
            self._pending = True
            self._wake.notify()

    def stop(self, timeout: float = 5.0) -> bool:
        """Start nothing more; wait up to ``timeout`` for the runs under way (``hurry``: no longer).
        True when none is left: the others stay ``running`` in the store and are run again at the
        next start."""
        self._stopping = True
        self._stop_event.set()
        self.notify()
        deadline = time.monotonic() + timeout
        for thread in [self._thread, *list(self._running.values())]:
            while thread is not None and thread.is_alive() and not self._hurry.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                thread.join(min(0.1, left))
        return not self.busy

    def hurry(self) -> None:
        """Stop now (a second Ctrl-C): ``stop`` waits no longer for the runs under way; they
        resume at the next start, as after any stop that outlasts its wait."""
        self._hurry.set()
        self._stop_event.set()

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._running)

    def running_ids(self) -> list[int]:
        """The runs under way now (after ``stop``: those left for the next start to resume)."""
        with self._lock:
            return sorted(self._running)

    # -- dispatching -----------------------------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            with self._wake:
                paused = self._paused_until - time.monotonic()
                if paused > 0 and not self._stopping:
                    self._wake.wait(timeout=paused)  # the store cannot write: wait it out, notified or not
                    continue
                if not self._pending and not self._stopping:
                    self._wake.wait(timeout=self.poll_seconds)  # another replica's events, a missed notify
                self._pending = False
            if self._stopping:
                return
            try:
                self._start_eligible()
            except StoreUnavailable as unavailable:
                self._store_failed(unavailable)
            except Exception:  # the store failed: say so, and try again at the next tick
                log.exception("the worker could not read the queue")

    # -- the store's outages ---------------------------------------------------------------------

    def _store_failed(self, unavailable: StoreUnavailable) -> float:
        """Note a write the store refused: log the outage once, pause dispatching; the wait."""
        with self._lock:
            if not self._store_down:
                log.warning("%s; webhooks are answered 503 and runs wait until it can", unavailable)
            self._store_down = True
            wait = self._backoff
            self._backoff = min(MAX_BACKOFF_SECONDS, self._backoff * 2)
            self._paused_until = time.monotonic() + wait
        return wait

    def _store_wrote(self) -> None:
        with self._lock:
            if self._store_down:
                log.warning("the history database can be written again; runs go on")
            self._store_down = False
            self._backoff = FIRST_BACKOFF_SECONDS
            self._paused_until = 0.0

    def _durably(self, write: Callable[[], Run | None]) -> Run | None:
        """``write`` once the store takes it: tried again after each backoff while it cannot, so a
        run's mark and its result are not lost to an outage. On ``stop`` the last refusal is
        raised: the run stays ``running`` in the store and resumes at the next start."""
        while True:
            try:
                written = write()
            except StoreUnavailable as unavailable:
                wait = self._store_failed(unavailable)
                if self._stop_event.wait(wait):
                    raise
                continue
            self._store_wrote()
            return written

    def _start_eligible(self) -> None:
        self._take_over()
        with self._lock:
            room = self.max_parallel - len(self._running)
        for run in self.store.claim(room):  # claimed: running, owned by this replica, under a lease
            self._store_wrote()
            with self._lock:
                thread = threading.Thread(target=self._run_and_release, args=(run,), name=f"octorelease-run-{run.id}",
                                          daemon=True)
                self._running[run.id] = thread
            thread.start()

    # -- leases ----------------------------------------------------------------------------------

    def _keep_leases(self) -> None:
        """Every third of a lease: renew this replica's (and say so for a run another replica took
        over after this one could not renew it in time)."""
        every = self.store.lease_seconds / 3
        while not self._stop_event.wait(every):
            try:
                mine = self.running_ids()
                lost = set(mine) - self.store.heartbeat(mine)
                for run_id in sorted(lost):
                    log.warning("run %s: this replica's lease ran out and another replica took it over; "
                                "what this one still does for it is not recorded", run_id)
            except StoreUnavailable:
                continue  # the worker's own writes say so and wait; a lease is renewed at the next beat
            except Exception:
                log.exception("the leases could not be renewed")

    def _take_over(self) -> None:
        """Queue again the runs of a replica whose lease ran out (read at every look at the queue,
        so a dead replica's run starts again within a lease and one poll)."""
        for run in self.store.requeue_expired(self.running_ids()):
            log.warning("run %s: the lease of replica %s ran out (attempt %s); running it again", run.id,
                        run.owner, run.attempts)

    def _run_and_release(self, run: Run) -> None:
        try:
            self.execute(run)
        except StoreUnavailable as unavailable:  # stopped while waiting to write: it resumes later
            self._store_failed(unavailable)
        except Exception:
            log.exception("run %s could not be recorded", run.id)
        finally:
            with self._lock:
                self._running.pop(run.id, None)
            self.notify()

    # -- one run ---------------------------------------------------------------------------------

    def execute(self, run: Run) -> Run:
        """Run one claimed run to its end and record it; returns the finished run."""
        done: list[HandlerRun] = []
        last_saved = [0.0]
        started = [False]

        def save(force: bool = False) -> None:
            now = time.monotonic()
            if force or now - last_saved[0] >= PROGRESS_EVERY:
                last_saved[0] = now
                progress = RunResult(handlers=list(done)).to_dict(self.code_for)
                progress["ok"] = None
                progress["pending_interruptions"] = run_log.waiting
                with contextlib.suppress(StoreUnavailable):  # only for the page: the result is written at the end
                    self.store.progress(run.id, progress, list(run_log.lines))

        run_log = RunLog(save)
        state: RunState = "failed"
        doc: dict[str, Any] | None = None
        reason: str | None = None
        values = run_values(run.source, run.values, run.stage)
        try:
            resuming = run.attempts > 1 or run.rerun_of is not None
            with connect(self.connection, run_log, run.mark if resuming else None,
                         retry_failed=run.rerun_of is not None) as octopus:
                if run.projects and run.mark is None:
                    mark = take_mark(octopus)
                    self._durably(lambda: self.store.set_mark(run.id, mark))  # before any write to Octopus
                if run.rerun_of is not None and run.attempts == 1:
                    run_log.add(f"A re-run of run {run.rerun_of}: what it made is used, and what failed is made again.")
                if run.attempts > 1:
                    run_log.add(f"Started again after the service stopped during attempt {run.attempts - 1}: "
                                "what that attempt made is adopted, not made again.")

                def announce(name: str, runs: bool, why: str) -> None:
                    if runs and not started[0]:
                        started[0] = True
                        if self.on_handler_started is not None:
                            self.on_handler_started(run, time.time())
                    run_log.add(f"{'>>' if runs else '--'} {name}: {why}")

                def finished(handler: HandlerRun) -> None:
                    done.append(handler)
                    save(force=True)

                result = run_handlers(
                    octopus,
                    self.handler_file,
                    event=run.event or "",
                    status=run.status,
                    stage=run.stage,
                    values=values,
                    on_handler=announce,
                    after_handler=finished,
                )
            doc = result.to_dict(self.code_for)
            state = "succeeded" if result.ok else "failed"
        except StoreUnavailable:  # stopped while waiting to write the mark: nothing was sent
            raise
        except OctoreleaseError as exc:  # found before any handler ran: a {build.*} fault, no server
            doc = RunResult(handlers=done, error=exc).to_dict(self.code_for)
            reason = exc.message
            run_log.add(f"Error: {exc.message}")
        except Exception as exc:  # a bug: the run fails and says so; the service goes on
            log.exception("run %s failed unexpectedly", run.id)
            reason = f"unexpected {type(exc).__name__}: {exc}"
            doc = RunResult(handlers=done, error=InternalError(reason)).to_dict(self.code_for)
            run_log.add(f"Error: {reason}")
        finished_run = self._durably(lambda: self.store.finish(run.id, state, doc, run_log.lines, reason))
        assert finished_run is not None
        if finished_run.owner != self.store.owner:
            log.warning("run %s finished here after replica %s took it over: its result is that replica's",
                        run.id, finished_run.owner)
            return finished_run
        if self.on_finished is not None:
            self.on_finished(finished_run)
        return finished_run
