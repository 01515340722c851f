"""Concurrent runs settle on one deployment per target.

"Is the release already there?" and "create it" cannot be one step against Octopus: two CI jobs
promoting the same release at once both see "not there" and both create, and a run whose answer
was lost may have made a deployment it never heard of. Right after creating, each run reads the
deployments of its targets once and applies the rule of ``twins.py`` to each target's episode:
the earliest member wins. Every run computes it from the same server state, so all name the
same winner, whenever they look. A run cancels each member it made other than the winner (found
by its marker, so also the ones whose answer was lost), joins the winner and says so
(``cancelled_twin``, and a line). It never cancels what another run made: that run settles its
own.

A run that *joined* a deployment still under way (its plan found the release there, queued or
running) follows that deployment's episode, read from its marker, to the same winner.

What is left to time: Octopus runs one task per project, environment and tenant at a time, so a
twin made while the winner runs waits in the queue, and is cancelled before it starts if its run
sends its two requests (this look, then the cancel) before the winner ends. A twin made after
the winner had ended starts at once, and its cancel cuts it short. Only a run that stalls for a
whole deployment between its ``POST`` and its cancel leaves a twin that ran to its end; it says
so ("both ran"). The look just before each ``POST`` (``execute.py``) keeps such twins rare: the
winner must be made, and finish, between that look and the ``POST``.

Cost: one ``GET deployments`` for all targets after creating; when an episode has another
member, one ``POST cancel`` per twin of ours and one ``GET tasks`` for the state of what we joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from octorelease.actions.plan import DeploymentPlan, TargetPlan
from octorelease.actions.result import ActionResult, DeploymentResult, Observer
from octorelease.actions.twins import CANCELLED, Episode, is_made_by, made_by
from octorelease.octopus.api import SpaceApi
from octorelease.octopus.models import Deployment

#: How many of the targets' newest deployments are read to find twins: every concurrent run
#: adds one per target, so this bounds the concurrency that settles (20 runs need 20).
LOOK_BACK = 100


@dataclass
class Claim:
    """A deployment this run stands behind for one target: one it created or found in its
    ``episode``, or (``episode`` None) one its plan found under way and joined."""

    target: TargetPlan
    entry: DeploymentResult
    episode: Episode | None


def settle(
    space: SpaceApi, plan: DeploymentPlan, claims: Sequence[Claim], result: ActionResult, observer: Observer
) -> None:
    """Move every claim onto its episode's winner, cancelling the other members we made. Sends
    nothing when there is no claim; one ``GET deployments`` when no episode has another member."""
    if not claims:
        return
    environments = sorted({c.target.environment.id for c in claims})
    listed = space.deployments(project_id=plan.project.id, environment_ids=environments, take=LOOK_BACK)
    run_id = space.http.run_id
    moved: list[DeploymentResult] = []
    for claim in claims:
        episode = claim.episode
        if episode is None:
            joined = next((d for d in listed if d.id == claim.entry.deployment_id), None)
            episode = Episode.of_deployment(joined, listed) if joined is not None else None
            if episode is None:
                continue  # not made by octorelease: it stands as it is
        members, first = episode.members(listed), episode.winner(listed)
        if first is not None and [d.id for d in members] != [claim.entry.deployment_id] and _settle_one(
            space, claim, first, made_by(members, run_id), result, observer
        ):
            moved.append(claim.entry)
    if moved:  # the state of the deployments joined, now that ours are cancelled
        states = {t.id: t.state for t in space.tasks(sorted({e.task_id for e in moved if e.task_id}))}
        for entry in moved:
            entry.state = states.get(entry.task_id or "", entry.state)


def _settle_one(
    space: SpaceApi,
    claim: Claim,
    first: Deployment,
    mine: Sequence[Deployment],
    result: ActionResult,
    observer: Observer,
) -> bool:
    """Settle one claim on its episode's winner ``first``; whether it moved to another deployment."""
    entry, label = claim.entry, claim.entry.label
    first_is_ours = is_made_by(first, space.http.run_id)
    notes: list[str] = []
    warnings: list[str] = []
    cancelled: list[str] = []
    for own in mine:
        if own.id == first.id:
            continue
        state = space.cancel_task(own.task_id).state  # Canceled if it was queued; Cancelling if it ran
        if state not in CANCELLED:
            # It ran to its end before our cancel (made after the winner finished): both ran.
            warnings.append(f"{label}: a concurrent run also deployed this release ({first.id}); ours "
                            f"({own.id}) ran before it could be cancelled, so both ran.")
            continue
        cancelled.append(own.id)
        if first_is_ours:
            notes.append(f"{label}: cancelled {own.id}, a second deployment of ours (made by a POST whose "
                         f"answer was lost), and kept {first.id}.")
        else:
            how = ("while it was queued" if state == "Canceled"
                   else f"while it ran ({first.id} had finished before it was made)")
            notes.append(f"{label}: a concurrent run created {first.id} first; cancelled our twin {own.id} "
                         f"{how} and joined {first.id}.")
    moved = entry.deployment_id != first.id
    if moved:
        if claim.episode is None:
            notes.append(f"{label}: {entry.deployment_id} is a twin of {first.id}, made first by a concurrent "
                         f"run; joined {first.id}.")
        entry.deployment_id, entry.task_id = first.id, first.task_id
        entry.web_url = space.web_url(first.id, (first.raw.get("Links") or {}).get("Web"))
        entry.already_deployed = not first_is_ours
    if cancelled:
        entry.cancelled_twin = cancelled[0]
    for message in notes:
        observer.note(message)
    for message in warnings:
        observer.warn(message)
    result.messages.extend(notes + warnings)
    return moved
