"""What an action leaves behind when SIGINT or SIGTERM stops it.

A CI system that cancels a job sends SIGTERM (GitHub sends SIGINT first), then kills the
process seconds later. Octopus tasks do not stop with us: they run on the server. So an
interrupted action still reports every deployment it knows of (state, task id, web link),
says plainly that the unfinished ones are still running, and fails with its own error (exit
130 or 143). With ``cancel_on_interrupt`` it first cancels the tasks it created (never one it
joined: that one belongs to another run) and follows them briefly until they are Canceled.
"""

from __future__ import annotations

import signal

from octorelease import errors
from octorelease.actions.plan import WaitOptions
from octorelease.actions.result import ActionResult, Observer
from octorelease.actions.wait import TaskWaiter
from octorelease.octopus.api import SpaceApi

#: How long to follow cancelled tasks after an interrupt: short, because a CI system kills the
#: job soon after its signal (GitHub: SIGINT, 7.5 s, SIGTERM, 2.5 s, SIGKILL).
INTERRUPT_CANCEL_GRACE_SECONDS = 5.0

#: The most any one request may take after an interrupt, retries included.
LAST_REQUEST_SECONDS = 2.0


def signal_of(interrupt: BaseException | None) -> int:
    """The signal behind an interrupt: ``Signalled`` says; a plain Ctrl-C (or anything else) is SIGINT."""
    return getattr(interrupt, "signum", int(signal.SIGINT))


def interrupted_error(signum: int, message: str, hint: str | None = None) -> errors.Interrupted:
    """``Terminated`` for SIGTERM, ``Interrupted`` for anything else."""
    name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT"
    cls = errors.Terminated if signum == signal.SIGTERM else errors.Interrupted
    return cls(f"Interrupted by {name}{message}", hint=hint)


def settle_interrupt(
    space: SpaceApi,
    result: ActionResult,
    wait: WaitOptions,
    observer: Observer,
    interrupt: KeyboardInterrupt,
    *,
    grace: float = INTERRUPT_CANCEL_GRACE_SECONDS,
) -> errors.Interrupted:
    """Cancel (when asked), tell every deployment's state, and return the action's error."""
    signum = signal_of(interrupt)
    deployments = [d for d in result.deployments if d.task_id]
    if not deployments:
        unknown = _not_known_created(result)
        return interrupted_error(
            signum,
            " before any deployment was known to be created"
            + (f" (one may have been under way: look in Octopus for {', '.join(unknown)})." if unknown else "."),
        )
    ours = [d for d in deployments if not d.finished and not d.already_deployed]
    interrupted_again = False
    waiter = TaskWaiter(space, observer)
    try:
        # Every request now gets a few seconds at most: a dead server must not eat the report.
        with space.http.brief(LAST_REQUEST_SECONDS):
            if wait.cancel_on_interrupt and ours:
                waiter.cancel(ours, grace=grace)
            else:
                waiter.refresh(deployments)
    except KeyboardInterrupt:
        interrupted_again = True  # a second signal: stop asking the server, report what is known
    except errors.OctoreleaseError as exc:
        observer.warn(f"Could not {'cancel' if wait.cancel_on_interrupt else 'refresh'} every task: {exc}")
    for d in deployments:
        where = "still running on the server" if not d.finished else ("cancelled" if d.cancelled_by_us else "done")
        observer.note(f"{d.label}: {d.task_id} {d.state} ({where}) {d.web_url or ''}".rstrip())
    parts = [" while waiting" if wait.wait else " while creating the deployments"]
    cancelled = [d for d in deployments if d.cancelled_by_us and d.finished]
    if cancelled:
        parts.append("cancelled on the server: " + ", ".join(f"{d.label} {d.task_id} ({d.state})" for d in cancelled))
    still = [d for d in deployments if not d.finished]
    if still:
        parts.append(
            "still running on the server"
            + (" (interrupted again while asking the server)" if interrupted_again else "")
            + ": "
            + ", ".join(f"{d.label} {d.task_id} ({d.state}{', ' + d.web_url if d.web_url else ''})" for d in still)
        )
    if not cancelled and not still:
        parts.append("every deployment had ended")
    unknown = _not_known_created(result)
    if unknown:
        # The signal may have landed while one was being created: its answer never came.
        parts.append("no deployment known for " + ", ".join(unknown) + " (look in Octopus before running again)")
    hint = None
    if still and not wait.cancel_on_interrupt:
        hint = "--cancel-on-interrupt (handler field cancel_on_interrupt) cancels them when interrupted."
    return interrupted_error(signum, "; ".join(parts) + ".", hint=hint)


def _not_known_created(result: ActionResult) -> list[str]:
    """The planned targets that have no deployment in the result (the plan was cut short)."""
    plan = result.plan
    if plan is None:
        return []
    have = {(d.environment_id, d.tenant_id) for d in result.deployments}
    return [
        t.environment.name + (f" ({t.tenant.name})" if t.tenant else "")
        for t in plan.targets
        if (t.environment.id, t.tenant.id if t.tenant else None) not in have
    ]
