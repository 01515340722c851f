"""Carry out a validated plan: create one deployment per target, then wait for them.

Creating is the only step that writes. Each deployment carries its run's marker in ``Comments``
(``twins.py``), so a ``POST`` whose answer is lost is never repeated blindly (``once.py``): right
before every try, the first included, we look at the target's *episode* (the deployments of the
release made since the newest one the target had when we planned, ``TargetPlan.newest_before``)
and join its winner if it has one: our own deployment whose answer was lost, or a concurrent
run's. One made before the plan looked, even a second before, is not ours nor a twin. Then
``settle.py`` makes every run end on the same deployment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from functools import partial

from octorelease import errors
from octorelease.actions.once import create_once
from octorelease.actions.options import DeploymentOptions
from octorelease.actions.plan import DeploymentPlan, TargetPlan, WaitOptions
from octorelease.actions.result import (
    ActionResult,
    DeploymentResult,
    LogLine,
    NotCreated,
    Observer,
    did_not_succeed,
)
from octorelease.actions.settle import LOOK_BACK, Claim, Watch, settle
from octorelease.actions.targets import explain_refusal
from octorelease.actions.twins import Episode, is_made_by, marker_of, with_marker
from octorelease.actions.wait import TaskWaiter
from octorelease.actions.wording import COMMAND_LINE, Wording
from octorelease.octopus.api import SpaceApi
from octorelease.octopus.models import ACTIVE_TASK_STATES, Deployment
from octorelease.schedule import format_duration, format_time


class DeploymentCreator:
    """Creates the plan's deployments, safe against lost answers and concurrent runs."""

    def __init__(self, space: SpaceApi, plan: DeploymentPlan) -> None:
        self.space = space
        self.plan = plan
        self.run_id = space.http.run_id
        #: The look before the first ``POST``, for every target at once (one request); made again
        #: for the next target once a ``POST`` failed, as the time its retries took makes it stale.
        self._first_look: list[Deployment] | None = None
        #: Whether a ``POST`` failed (refused, or its answer lost) or found a concurrent run's
        #: deployment: the run saw the race, so it keeps watch while it waits (``settle.Watch``).
        self.raced = False
        #: Called before each retry of a ``POST``: ``create_all`` settles the targets created so
        #: far before the run spends time on this one.
        self.before_retry: Callable[[], None] = lambda: None

    def episode(self, target: TargetPlan) -> Episode:
        """The target's window. A promotion whose target's newest deployment is a cancelled twin
        of the same release (the dashboard then shows no deployment of it to join) joins that
        twin's episode while its winner still counts, rather than open a window after it."""
        release_id = self.plan.release_of(target).id
        own = Episode.of_target(target, release_id, target.newest_before)
        newest = target.newest_before
        if self.plan.action != "promote" or self.plan.options.redeploys or newest is None:
            return own
        listed = self._look_first()
        last = next((d for d in listed if d.id == newest.deployment_id), None)
        if last is None or last.release_id != release_id or marker_of(last) is None:
            return own
        theirs = Episode.of_deployment(last, listed)
        found = theirs.winner(listed) if theirs is not None else None
        if theirs is None or found is None:
            return own
        counts = any(t.state in (*ACTIVE_TASK_STATES, "Success") for t in self.space.tasks([found.task_id]))
        return theirs if counts else own

    def create(self, target: TargetPlan, episode: Episode) -> tuple[Deployment, bool]:
        """Our deployment to ``target``, or the winner of its episode if it has one already; and
        whether it is ours (our ``POST`` answered, or our marker on what the look found)."""
        body = target.request_body(self.plan.release_of(target).id, self.plan.options)
        body["Comments"] = with_marker(self.plan.options.notes, episode.marker(self.run_id))
        reason = self.plan.options.freeze_override
        frozen = [w.freeze_id for w in target.freezes_in_force] if reason else []
        looks = 0

        def look() -> tuple[Deployment, bool] | None:
            nonlocal looks
            looks += 1
            if looks == 1:
                listed = self._look_first()
            else:
                self.raced = True
                self.before_retry()
                self._first_look = None  # a failed try took time: the next target looks afresh
                listed = self.space.deployments(
                    project_id=self.plan.project.id, environment_ids=[target.environment.id], take=LOOK_BACK
                )
            found = episode.winner(listed)
            return (found, is_made_by(found, self.run_id)) if found is not None else None

        def post() -> tuple[Deployment, bool]:
            if frozen and reason:
                return self.space.create_deployment_overriding(body, frozen, reason), True
            return self.space.create_deployment(body), True

        deployment, ours = create_once(self.space.http, post, look, look_first=True)
        self.raced |= not ours
        return deployment, ours

    def _look_first(self) -> list[Deployment]:
        if self._first_look is None:
            environments = sorted({t.environment.id for t in self.plan.targets if t.already is None})
            self._first_look = self.space.deployments(
                project_id=self.plan.project.id, environment_ids=environments, take=LOOK_BACK
            )
        return self._first_look


def create_all(
    space: SpaceApi, plan: DeploymentPlan, observer: Observer, result: ActionResult, wording: Wording = COMMAND_LINE
) -> Watch | None:
    """One deployment per target (or the one it already has), later lifecycle phases first;
    ``result.deployments`` ends in the plan's order. If the server refuses a target after others
    were created (the plan was checked, but the server can change its mind in between), the
    error says which targets got a deployment and which did not, and so does ``not_created``.
    Returns the watch to keep while waiting when the run saw the race (``settle.Watch``).

    Once the run has seen the race, it settles each target as soon as it is created, and before
    it retries a later target's ``POST``, rather than once all are created: a twin of a target
    created first must be cancelled while its winner is still queued or running, and retrying
    the next target through an outage can outlast a whole deployment. A run that met no race
    settles once, at the end (one request)."""
    claims: list[Claim] = []  # created, not settled yet
    told = _InPlanOrder(plan)
    creator = DeploymentCreator(space, plan)
    watch = Watch(space, plan, [], result, observer)

    def settle_created(speaker: Observer) -> None:
        settled = settle(space, plan, claims, result, speaker, raced=creator.raced)
        claims.clear()
        if settled is not None:
            watch.absorb(settled)

    def settle_if_raced() -> None:
        if creator.raced:
            settle_created(told.deferring(observer))

    creator.before_retry = settle_if_raced
    try:
        _create_each(creator, observer, result, wording, claims, told, settle_if_raced)
    finally:
        told.flush()
    settle_created(observer)
    result.deployments.sort(key=told.rank)
    return watch if watch.needed else None


class _InPlanOrder:
    """What the observer hears of each target as it is created, told in the plan's order once
    creating stops: the targets are created later lifecycle phases first, but the live view
    and the state lines keep the order the user gave (``--to Test --to Staging``)."""

    def __init__(self, plan: DeploymentPlan) -> None:
        self._ranks = {(t.environment.id, t.tenant.id if t.tenant else None): i for i, t in enumerate(plan.targets)}
        self._held: list[tuple[int, Callable[[], None]]] = []

    def rank(self, deployment: DeploymentResult) -> int:
        """The place of ``deployment``'s target in the plan (after them all when not there)."""
        return self._ranks.get((deployment.environment_id, deployment.tenant_id), len(self._ranks))

    def later(self, deployment: DeploymentResult, tell: Callable[[], None]) -> None:
        self._held.append((self.rank(deployment), tell))

    def flush(self) -> None:
        held, self._held = sorted(self._held, key=lambda item: item[0]), []
        for _, tell in held:
            tell()

    def deferring(self, observer: Observer) -> Observer:
        """An observer whose notes and warnings (a settling's, while targets are still being
        created) are told after every target's own line, as if the run had settled at the end."""
        return _Deferred(observer, self._held, len(self._ranks))


class _Deferred:
    """``_InPlanOrder.deferring``: notes and warnings held until the flush; the rest passed on."""

    def __init__(self, observer: Observer, held: list[tuple[int, Callable[[], None]]], rank: int) -> None:
        self._observer, self._held, self._rank = observer, held, rank

    def note(self, message: str) -> None:
        self._held.append((self._rank, partial(self._observer.note, message)))

    def warn(self, message: str, detail: str | None = None) -> None:
        self._held.append((self._rank, partial(self._observer.warn, message, detail)))

    def release_chosen(self, project: str, version: str) -> None:
        self._observer.release_chosen(project, version)

    def deployment_queued(self, deployment: DeploymentResult) -> None:
        self._observer.deployment_queued(deployment)

    def task_updated(self, deployment: DeploymentResult) -> None:
        self._observer.task_updated(deployment)

    def log_lines(self, deployment: DeploymentResult, lines: list[LogLine]) -> None:
        self._observer.log_lines(deployment, lines)


def _create_each(
    creator: DeploymentCreator,
    observer: Observer,
    result: ActionResult,
    wording: Wording,
    claims: list[Claim],
    told: _InPlanOrder,
    created: Callable[[], None],
) -> None:
    """``create_all``'s creating, target by target in creation order, each target's claim added
    to ``claims`` (then ``created`` is called); what the observer is to hear is held in ``told``."""
    space, plan = creator.space, creator.plan
    order = plan.creation_order
    for index, target in enumerate(order):
        if target.already is not None:
            existing = target.already
            entry = target.result(
                deployment_id=existing.deployment_id,
                task_id=existing.task_id,
                state=existing.state,
                web_url=space.web_url(existing.deployment_id),
                already_deployed=True,
            )
            result.deployments.append(entry)
            told.later(entry, partial(
                observer.note,
                f"{entry.label} already has {plan.project.name} {plan.release_of(target).name} "
                f"({existing.deployment_id}, {existing.state}): not deploying it again "
                f"({wording.setting('redeploy')} does).",
            ))
            if existing.state in ACTIVE_TASK_STATES:  # it may be a concurrent run's twin, cancelled soon
                claims.append(Claim(target, entry, None))
                created()
            continue
        try:
            episode = creator.episode(target)
            deployment, ours = creator.create(target, episode)
        except (errors.OctopusRejected, errors.PermissionDenied) as exc:
            if plan.deferred and not any(not d.already_deployed for d in result.deployments):
                explain_refusal(space, plan, wording)  # nothing created: the checks left to the server say why
            _stopped_part_way(result, exc, order[index:])
            raise
        except errors.OctoreleaseError as exc:
            _stopped_part_way(result, exc, order[index:])
            raise
        entry = target.result(
            deployment_id=deployment.id,
            task_id=deployment.task_id,
            state="Queued",
            web_url=space.web_url(deployment.id, (deployment.raw.get("Links") or {}).get("Web")),
            scheduled_for=scheduled_for(plan.options),
            already_deployed=not ours,
        )
        result.deployments.append(entry)
        if ours:
            told.later(entry, partial(observer.deployment_queued, entry))
        else:
            message = f"{entry.label}: a concurrent run created {deployment.id} first; joined it."
            told.later(entry, partial(observer.note, message))
            result.messages.append(message)
        claims.append(Claim(target, entry, episode))
        created()


def scheduled_for(options: DeploymentOptions) -> str | None:
    """When the deployments may start, for a deployment scheduled for later (``deploy_at``)."""
    if options.deploy_at is None or options.deploy_at <= datetime.now(timezone.utc):
        return None
    return format_time(options.deploy_at)


def _warn_if_scheduled_past_the_wait(plan: DeploymentPlan, wait: WaitOptions, observer: Observer) -> None:
    """A wait that must end before the scheduled start can only time out: say so at once."""
    start = plan.options.deploy_at
    if not wait.wait or start is None:
        return
    if (start - datetime.now(timezone.utc)).total_seconds() > wait.timeout_seconds:
        observer.warn(
            f"The deployments are scheduled for {format_time(start)}, after the wait ends "
            f"({format_duration(wait.timeout_seconds)}): it will time out (exit 5) before they start; "
            f"use {wait.wording.setting('wait', False)} or a longer timeout."
        )


def _stopped_part_way(result: ActionResult, exc: errors.OctoreleaseError, left: Sequence[TargetPlan]) -> None:
    """Name, in ``exc`` and in the result, what was created and what not, when creating stops
    after something was created: a user must not have to guess what is on the server now."""
    refused, *rest = left
    result.not_created = [NotCreated(refused.environment.name, refused.tenant.name if refused.tenant else None,
                                     exc.message)]
    result.not_created += [
        NotCreated(t.environment.name, t.tenant.name if t.tenant else None, "not tried: an earlier target failed")
        for t in rest
    ]
    made = [d for d in result.deployments if not d.already_deployed]
    if not made:
        return
    created = ", ".join(f"{d.label} ({d.deployment_id}, {d.task_id}, queued on the server)" for d in made)
    missing = ", ".join(n.label for n in result.not_created)
    exc.restate(f"{exc.message.rstrip('.')}. Created: {created}. Not created: {missing}.")


def update_snapshots(
    space: SpaceApi, plan: DeploymentPlan, observer: Observer, result: ActionResult, refreshed: set[str]
) -> None:
    """Refresh the variable snapshot of each release the plan deploys (``update_variables``),
    once per release however many targets it goes to; ``refreshed`` holds the releases this
    run refreshed already (a handler that deploys and then promotes the same release)."""
    if not plan.options.update_variables:
        return
    releases = [r for r in plan.releases_to_deploy if r.id not in refreshed]
    for release in releases:
        space.snapshot_variables(release.id)
        refreshed.add(release.id)
        message = (
            f"Updated the variable snapshot of release {release.name} of {plan.project.name}: "
            "its deployments use the project's variables as they are now."
        )
        result.messages.append(message)
        observer.note(message)
    result.variables_updated = bool(releases)


def run_plan(
    space: SpaceApi,
    plan: DeploymentPlan,
    wait: WaitOptions,
    observer: Observer,
    result: ActionResult,
    refreshed: set[str] | None = None,
) -> ActionResult:
    """Create the plan's deployments, follow them as ``wait`` says, and fill in ``result``.
    ``refreshed``: the releases whose variable snapshot this run has refreshed already."""
    for warning in plan.warnings:
        observer.warn(warning)
    _warn_if_scheduled_past_the_wait(plan, wait, observer)
    update_snapshots(space, plan, observer, result, set() if refreshed is None else refreshed)
    watch = create_all(space, plan, observer, result, wait.wording)
    if not wait.wait:
        return result
    try:
        TaskWaiter(space, observer).wait(result.deployments, wait, watch=watch.look if watch else None)
    except errors.WaitTimedOut as exc:
        result.error = exc
        return result
    if any(d.failed for d in result.deployments):
        message = did_not_succeed(result.deployments)
        if wait.fail_on_error:
            result.error = errors.DeploymentFailed(message)
        else:
            # Each one's message is in the console's table: there the warning names them only.
            ignored = f" (ignored: {wait.wording.setting('fail_on_error', False)})"
            observer.warn(did_not_succeed(result.deployments, why=False) + ignored, detail=message + ignored)
            result.messages.append(message + " (ignored)")
    return result
