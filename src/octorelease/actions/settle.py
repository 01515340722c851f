"""Concurrent runs settle on one deployment per target.

Octopus has no transaction a client can lean on, so "is the release already there?" and "create
it" cannot be one step: two CI jobs promoting the same release at once both see "not there" and
both create. Right after creating, each run therefore looks for a *twin*: a deployment of the
same release to the same environment and tenant, made before its own (server ``Created``, then
id) and after the plan looked (``TargetPlan.newest_before``), that is still effective (queued,
executing, or succeeded after ours was made). Every run judges from the same server state, so
they agree: the earliest effective one wins. A run whose deployment is not the winner cancels
its own while it is still queued (Octopus runs one task per project, environment and tenant at
a time, so a twin made while the winner runs waits in the queue) and joins the winner,
reporting it as ``already_deployed`` with ``cancelled_twin`` naming the one it cancelled.

A run that *joined* a deployment still queued (it planned after a twin was made) follows the
same rule from that deployment, so it ends on the winner too. It never cancels what it did not
create: that deployment belongs to its own run, which settles it.

Cost: one ``GET deployments`` for all targets after creating; one ``GET tasks`` more only when
a twin candidate exists; one ``POST cancel`` per twin cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from octorelease.actions.plan import DeploymentPlan, TargetPlan, creation_order
from octorelease.actions.result import ActionResult, DeploymentResult, Observer
from octorelease.octopus.api import SpaceApi
from octorelease.octopus.models import Deployment, Task, parse_time

#: The task states of a deployment that counts: it will run, runs, or ran well.
EFFECTIVE_STATES = frozenset({"Queued", "Executing", "Success"})

#: How many of the targets' newest deployments are read to find twins: every concurrent run
#: adds one per target, so this bounds the concurrency that settles (20 runs need 20).
_LOOK_BACK = 100


@dataclass
class Claim:
    """A deployment this run stands behind for one target: one it created (``ours``) or one it
    joined while still queued; ``created`` is the server's stamp of it."""

    target: TargetPlan
    entry: DeploymentResult
    created: str
    ours: bool


def settle(
    space: SpaceApi, plan: DeploymentPlan, claims: Sequence[Claim], result: ActionResult, observer: Observer
) -> None:
    """Move every claim whose deployment has an earlier effective twin onto that twin, cancelling
    our own twin while it is queued. Sends nothing when there is no claim."""
    if not claims:
        return
    environments = sorted({c.target.environment.id for c in claims})
    listed = space.deployments(project_id=plan.project.id, environment_ids=environments, take=_LOOK_BACK)
    twins = {id(c): _earlier_twins(plan, c, listed) for c in claims}
    if not any(twins.values()):
        return
    task_ids = {d.task_id for found in twins.values() for d in found}
    task_ids |= {c.entry.task_id for c in claims if c.ours and twins[id(c)] and c.entry.task_id}
    tasks = {t.id: t for t in space.tasks(sorted(task_ids))}
    for claim in claims:
        winner = _winner(claim, twins[id(claim)], tasks)
        if winner is not None:
            _join(space, claim, winner, tasks, result, observer)


def _earlier_twins(plan: DeploymentPlan, claim: Claim, listed: Sequence[Deployment]) -> list[Deployment]:
    """Deployments of the claim's release to its target, made before the claim's and (for one we
    created) after the plan looked, oldest first."""
    target, mine = claim.target, creation_order(claim.created, claim.entry.deployment_id or "")
    tenant_id = target.tenant.id if target.tenant else None
    found = [
        d
        for d in listed
        if d.id != claim.entry.deployment_id
        and d.release_id == plan.release_of(target).id
        and d.environment_id == target.environment.id
        and d.tenant_id == tenant_id
        and creation_order(d.created, d.id) < mine
        and (not claim.ours or target.is_new(d.created, d.id))
    ]
    return sorted(found, key=lambda d: creation_order(d.created, d.id))


def _winner(claim: Claim, twins: Sequence[Deployment], tasks: dict[str, Task]) -> Deployment | None:
    """The earliest twin that still counts when the claim's deployment was made: queued or
    running, or succeeded after it (one that had already finished is an earlier deployment,
    not a twin)."""
    made = parse_time(claim.created)
    for twin in twins:
        task = tasks.get(twin.task_id)
        if task is None or task.state not in EFFECTIVE_STATES:
            continue
        completed = parse_time(task.raw.get("CompletedTime"))
        if task.state == "Success" and completed is not None and made is not None and completed < made:
            continue
        return twin
    return None


def _join(
    space: SpaceApi,
    claim: Claim,
    winner: Deployment,
    tasks: dict[str, Task],
    result: ActionResult,
    observer: Observer,
) -> None:
    entry, label = claim.entry, claim.entry.label
    own_task = tasks.get(entry.task_id or "")
    if claim.ours and (own_task is None or own_task.state != "Queued"):
        # Ours already started (the winner had finished): cancelling now would cut a running
        # deployment in half, so both stand, and the user is told.
        message = (
            f"{label}: a concurrent run also deployed this release ({winner.id}); ours "
            f"({entry.deployment_id}) had already started, so both run."
        )
        observer.warn(message)
        result.messages.append(message)
        return
    mine = entry.deployment_id
    if claim.ours:
        assert entry.task_id
        if space.cancel_task(entry.task_id).state not in ("Canceled", "Cancelling"):
            # It started and ended between our look and our cancel: it ran, and we say so.
            message = (
                f"{label}: a concurrent run also deployed this release ({winner.id}); ours "
                f"({mine}) ran before it could be cancelled, so both ran."
            )
            observer.warn(message)
            result.messages.append(message)
            return
        entry.cancelled_twin = mine
        message = (
            f"{label}: a concurrent run created {winner.id} first; cancelled our twin {mine} "
            f"while it was queued and joined {winner.id}."
        )
    else:
        message = f"{label}: {mine} is a twin of {winner.id}, made first by a concurrent run; joined {winner.id}."
    task = tasks.get(winner.task_id)
    entry.deployment_id, entry.task_id = winner.id, winner.task_id
    entry.state = task.state if task is not None else "Queued"
    entry.web_url = space.web_url(winner.id, (winner.raw.get("Links") or {}).get("Web"))
    entry.already_deployed = True
    observer.note(message)
    result.messages.append(message)
