"""Carry out a validated plan: create one deployment per target, then wait for them.

Creating is the only step that writes. A ``POST /deployments`` whose answer is lost is never
repeated blindly (``once.py``): we look for a deployment of the same release, environment and
tenant made after the newest one the target had when we planned (``TargetPlan.newest_before``,
read from the dashboard the plan needed anyway), and adopt it if it is there. One made before,
even a second before, is not ours: adopting it would report a deployment that never happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from octorelease import errors
from octorelease.actions.once import create_once
from octorelease.actions.options import DeploymentOptions
from octorelease.actions.plan import DeploymentPlan, TargetPlan, WaitOptions
from octorelease.actions.result import ActionResult, NotCreated, Observer
from octorelease.actions.settle import Claim, settle
from octorelease.actions.targets import explain_refusal
from octorelease.actions.wait import TaskWaiter
from octorelease.octopus.api import SpaceApi
from octorelease.octopus.models import Deployment
from octorelease.schedule import format_duration, format_time

#: How many of a target's newest deployments are read to find one made by a lost POST: ours is
#: among the newest unless this many others were made there in the moments since.
_LOOK_BACK = 30


class DeploymentCreator:
    """Creates the plan's deployments, safe against lost answers."""

    def __init__(self, space: SpaceApi, plan: DeploymentPlan) -> None:
        self.space = space
        self.plan = plan

    def create(self, target: TargetPlan) -> Deployment:
        body = target.request_body(self.plan.release_of(target).id, self.plan.options)
        return create_once(
            self.space.http, lambda: self.space.create_deployment(body), lambda: self._find_created(target)
        )

    def _find_created(self, target: TargetPlan) -> Deployment | None:
        """A deployment of this release to this target that did not exist when the plan looked."""
        tenant_id = target.tenant.id if target.tenant else None
        for deployment in self.space.deployments(
            project_id=self.plan.project.id, environment_ids=[target.environment.id], take=_LOOK_BACK
        ):
            if (
                deployment.release_id == self.plan.release_of(target).id
                and deployment.tenant_id == tenant_id
                and target.is_new(deployment.created, deployment.id)
            ):
                return deployment
        return None


def create_all(space: SpaceApi, plan: DeploymentPlan, observer: Observer, result: ActionResult) -> None:
    """One deployment per target (or the one it already has), later lifecycle phases first;
    ``result.deployments`` ends in the plan's order. If the server refuses a target after others
    were created (the plan was checked, but the server can change its mind in between), the
    error says which targets got a deployment and which did not, and so does ``not_created``."""
    creator = DeploymentCreator(space, plan)
    order = plan.creation_order
    claims: list[Claim] = []
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
            observer.note(
                f"{entry.label} already has {plan.project.name} {plan.release_of(target).name} "
                f"({existing.deployment_id}, {existing.state}): not deploying it again (--redeploy does)."
            )
            if existing.state == "Queued":  # it may be a concurrent run's twin, cancelled soon
                claims.append(Claim(target, entry, existing.created, ours=False))
            continue
        try:
            deployment = creator.create(target)
        except (errors.OctopusRejected, errors.PermissionDenied) as exc:
            if plan.deferred and not any(not d.already_deployed for d in result.deployments):
                explain_refusal(space, plan)  # nothing created: the checks left to the server say why
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
        )
        result.deployments.append(entry)
        observer.deployment_queued(entry)
        claims.append(Claim(target, entry, deployment.created, ours=True))
    settle(space, plan, claims, result, observer)
    rank = {(t.environment.id, t.tenant.id if t.tenant else None): i for i, t in enumerate(plan.targets)}
    result.deployments.sort(key=lambda d: rank.get((d.environment_id, d.tenant_id), len(rank)))


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
            "use --no-wait (wait: false) or a longer timeout."
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
    create_all(space, plan, observer, result)
    if not wait.wait:
        return result
    try:
        TaskWaiter(space, observer).wait(result.deployments, wait)
    except errors.WaitTimedOut as exc:
        result.error = exc
        return result
    failed = [d for d in result.deployments if d.failed]
    if failed:
        detail = "; ".join(
            f"{d.label} {d.state}"
            + (f" at step '{d.failed_step}'" if d.failed_step else "")
            + (f": {d.error_message}" if d.error_message else "")
            for d in failed
        )
        message = f"{len(failed)} of {len(result.deployments)} deployments did not succeed: {detail}"
        if wait.fail_on_error:
            result.error = errors.DeploymentFailed(message)
        else:
            observer.warn(f"{message} (ignored: {wait.fail_on_error_source})")
            result.messages.append(message + " (ignored)")
    return result
