"""Concurrent runs settle on one deployment per target.

"Is the release already there?" and "create it" cannot be one step against Octopus: two CI jobs
promoting the same release at once both see "not there" and both create, and a run whose answer
was lost may have made a deployment it never heard of. Right after creating, each run reads the
deployments of its targets once and applies the rule of ``twins.py`` to each target's episode:
the earliest member wins. Every run computes it from the same server state, so all name the
same winner, whenever they look.

A run that planned in an episode (it created there, or its look found the winner) cancels every
member octorelease made (it has a marker) other than the winner, its own and other runs' alike,
while it is still queued or running. That is safe because the rule is not the run's opinion:
every run of the episode names the same winner, so a member that is not the winner is a twin to
all of them, and the first run to settle stops them all. It never cancels the winner, nor an
unmarked member (made by a person or another tool). A run cancels its own twins first, at once
(found by their marker, also when the answer to its ``POST`` was lost), and reports them: it
joins the winner and says so (``cancelled_twin``, and a line), also when another run of the
episode had cancelled the twin already (cancelling it again changes nothing). Then one read of
the other runs' twins tells which still run; it cancels those, and says so in a line naming
their run, which reports them.

A run that *joined* a deployment still under way (its plan found the release there, queued or
running) follows that deployment's episode, read from its marker, to the same winner, and
cancels nothing it did not make: it did not plan in that window, and may not see the deployment
that opened it, which decides which unmarked deployments belong to it.

What is left to time: Octopus runs one task per project, environment and tenant at a time, so a
twin made while the winner runs waits in the queue, and is cancelled before it starts if *any*
run of its episode sends its two requests (this look, then the cancel) after the twin was made
and before the winner ends. A twin made after the winner had ended starts at once, and its
cancel cuts it short. The look just before each ``POST`` (``execute.py``) keeps such twins rare:
the winner must be made, and finish, between that look and the ``POST``.

A run that saw the race (a ``POST`` of its failed or lost its answer, so other runs' retries may
still be landing; an episode with another member; or a deployment under way that it joined)
keeps **watch** while it waits (``Watch``): after each poll of its deployments, while the winner
is still queued or running, one more ``GET deployments`` finds the twins made since it settled,
and it cancels those still queued or running, as above. So a twin made by a run that stalls
right after its ``POST`` (a CI job starved of CPU) is cancelled by any run still waiting, not
only by runs that settle later. Only when every run of the episode stalls for a whole deployment
does a twin run to its end; its maker says so ("both ran"). A run that met no race sends no
request more. A run that saw the race also settles each target as soon as it is created, and
before it retries a later target's ``POST`` (``execute.create_all``), so that time spent on the
next target (an outage's worth of retries) does not leave this one's twins queued behind a
winner that may end meanwhile.

Cost: one ``GET deployments`` for all targets after creating; when an episode has another
member, one ``POST cancel`` per twin of ours, one ``GET tasks`` for the state of the other runs'
twins and of what we joined, and one ``POST cancel`` per other run's twin still queued or running.
Keeping watch: one ``GET deployments`` per poll while a winner runs, and for a twin found, one
``GET tasks`` and its ``POST cancel``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from octorelease.actions.plan import DeploymentPlan, TargetPlan
from octorelease.actions.result import ActionResult, DeploymentResult, Observer
from octorelease.actions.twins import CANCELLED, Episode, is_made_by, marker_of
from octorelease.octopus.api import SpaceApi
from octorelease.octopus.models import ACTIVE_TASK_STATES, Deployment

#: How many of the targets' newest deployments are read to find twins: every concurrent run
#: adds one per target, so this bounds the concurrency that settles (20 runs need 20).
LOOK_BACK = 100

#: Task states of a twin that a cancel still stops.
_LIVE = ACTIVE_TASK_STATES - CANCELLED


@dataclass
class Claim:
    """A deployment this run stands behind for one target: one it created or found in its
    ``episode``, or (``episode`` None) one its plan found under way and joined."""

    target: TargetPlan
    entry: DeploymentResult
    episode: Episode | None


@dataclass
class _Settling:
    """One claim whose episode has other members: its winner, and the twins this run cancels if
    they still run (every marked member but the winner, or only its own)."""

    claim: Claim
    first: Deployment
    twins: list[Deployment]


@dataclass
class Watch:
    """The episodes a run keeps watch on while it waits, once settled: it saw the race, so a
    twin may still be made by a run that has not settled yet (see the module's docstring)."""

    space: SpaceApi
    plan: DeploymentPlan
    #: per episode watched: the result entry (its winner, and the task followed) and the episode
    watched: list[tuple[DeploymentResult, Episode]]
    result: ActionResult
    observer: Observer
    #: twins already cancelled, or found ended: never asked about again
    settled: set[str] = field(default_factory=set)
    #: whether the run saw the race: only then is the watch kept
    raced: bool = False

    @property
    def needed(self) -> bool:
        """Whether to keep this watch while waiting: the run saw the race, and has an episode to watch."""
        return self.raced and bool(self.watched)

    def absorb(self, other: Watch) -> None:
        """Take on what another settling of the same run watches (its targets settled apart)."""
        self.watched.extend(other.watched)
        self.settled |= other.settled
        self.raced |= other.raced

    def look(self, pending: Collection[str]) -> None:
        """One look at the episodes whose winner's task is still ``pending`` (queued or running):
        cancel the marked twins made since, other runs' (their makers report them)."""
        live = [(entry, episode) for entry, episode in self.watched if entry.task_id in pending]
        if not live:
            return
        environments = sorted({episode.environment_id for _, episode in live})
        listed = self.space.deployments(project_id=self.plan.project.id, environment_ids=environments,
                                        take=LOOK_BACK)
        run_id = self.space.http.run_id
        found: list[tuple[str, Deployment, list[Deployment]]] = []
        for entry, episode in live:
            members = episode.members(listed)
            first = next((d for d in members if d.id == entry.deployment_id), None)
            if first is None:
                continue
            later = members[members.index(first) + 1:]  # never one made before the winner
            twins = [d for d in later if d.id not in self.settled and marker_of(d) is not None
                     and not is_made_by(d, run_id)]
            if twins:
                found.append((entry.label, first, twins))
        if not found:
            return
        states = {t.id: t.state for t in self.space.tasks(sorted({d.task_id for _, _, ds in found for d in ds}))}
        for label, first, twins in found:
            self.settled.update(d.id for d in twins if states.get(d.task_id) not in _LIVE)
            self.settled.update(_cancel_theirs(self.space, label, first, twins, states, self.result, self.observer))


def settle(
    space: SpaceApi, plan: DeploymentPlan, claims: Sequence[Claim], result: ActionResult, observer: Observer,
    raced: bool = False,
) -> Watch | None:
    """Move every claim onto its episode's winner, cancelling the episode's other marked members.
    Sends nothing when there is no claim; one ``GET deployments`` when no episode has another
    member. Returns the claims' watch (``needed`` when the run saw the race: ``raced``, a
    ``POST`` of its failed; or an episode had another member, or a claim joined one under way)."""
    if not claims:
        return None
    environments = sorted({c.target.environment.id for c in claims})
    listed = space.deployments(project_id=plan.project.id, environment_ids=environments, take=LOOK_BACK)
    run_id = space.http.run_id
    settling: list[_Settling] = []
    watched: list[tuple[DeploymentResult, Episode]] = []
    for claim in claims:
        episode = claim.episode
        if episode is None:
            raced = True  # it joined a deployment under way: a concurrent run's, maybe still racing
            joined = next((d for d in listed if d.id == claim.entry.deployment_id), None)
            episode = Episode.of_deployment(joined, listed) if joined is not None else None
            if episode is None:
                continue  # not made by octorelease: it stands as it is
        watched.append((claim.entry, episode))
        members, first = episode.members(listed), episode.winner(listed)
        if first is None or [d.id for d in members] == [claim.entry.deployment_id]:
            continue
        raced = True
        planned_here = claim.episode is not None
        twins = [d for d in members if d.id != first.id
                 and (marker_of(d) is not None if planned_here else is_made_by(d, run_id))]
        settling.append(_Settling(claim, first, twins))
    watch = Watch(space, plan, watched, result, observer, raced=raced)
    if not settling:
        return watch
    # Ours first, at once: each request takes time, and our own twins are ours to report.
    moved = [one.claim.entry for one in settling if _settle_one(space, one, result, observer)]
    # Then one read for the state of the other runs' twins and of every winner we moved onto.
    wanted = {d.task_id for s in settling for d in s.twins if not is_made_by(d, run_id)}
    wanted |= {e.task_id for e in moved if e.task_id}
    states = {t.id: t.state for t in space.tasks(sorted(t for t in wanted if t))}
    for one in settling:
        _cancel_theirs(space, one.claim.entry.label, one.first, one.twins, states, result, observer)
    for entry in moved:
        entry.state = states.get(entry.task_id or "", entry.state)
    watch.settled.update(d.id for one in settling for d in one.twins)
    return watch


def _settle_one(space: SpaceApi, one: _Settling, result: ActionResult, observer: Observer) -> bool:
    """Settle one claim: cancel our twins, report them, join the winner; whether it moved."""
    first, claim, run_id = one.first, one.claim, space.http.run_id
    entry, label = claim.entry, claim.entry.label
    first_is_ours = is_made_by(first, run_id)
    notes: list[str] = []
    warnings: list[str] = []
    cancelled: list[str] = []
    for twin in one.twins:
        if not is_made_by(twin, run_id):
            continue  # another run's: after ours (``_cancel_theirs``)
        state = space.cancel_task(twin.task_id).state  # Canceled if it was queued; Cancelling if it ran
        if state not in CANCELLED:
            # It ran to its end before any cancel (made after the winner finished): both ran.
            warnings.append(f"{label}: a concurrent run also deployed this release ({first.id}); ours "
                            f"({twin.id}) ran before it could be cancelled, so both ran.")
            continue
        cancelled.append(twin.id)
        if first_is_ours:
            notes.append(f"{label}: cancelled {twin.id}, a second deployment of ours (made by a POST whose "
                         f"answer was lost), and kept {first.id}.")
        else:
            how = ("while it was queued" if state == "Canceled"
                   else f"while it ran ({first.id} had finished before it was made)")
            notes.append(f"{label}: a concurrent run created {first.id} first; cancelled our twin {twin.id} "
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


def _cancel_theirs(
    space: SpaceApi, label: str, first: Deployment, twins: Sequence[Deployment], states: Mapping[str, str],
    result: ActionResult, observer: Observer,
) -> list[str]:
    """Cancel the twins of ``first`` that other runs of the episode made and that still run
    (their makers report them); the ids of those cancelled."""
    cancelled = []
    for twin in twins:
        marker = marker_of(twin)
        if marker is None or marker.run_id == space.http.run_id or states.get(twin.task_id) not in _LIVE:
            continue
        if space.cancel_task(twin.task_id).state in CANCELLED:
            cancelled.append(twin.id)
            message = (f"{label}: cancelled {twin.id}, a twin of {first.id} made by the concurrent run "
                       f"{marker.run_id}, which reports it.")
            observer.note(message)
            result.messages.append(message)
    return cancelled
