"""Carry out a validated plan: create one deployment per target, then wait for them.

Creating is the only step that writes. A ``POST /deployments`` whose answer is lost is never
repeated blindly (``once.py``): we look for a deployment of the same release, environment and
tenant newer than anything that existed before we began, and adopt it if it is there.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from octorelease.actions.once import create_once
from octorelease.actions.plan import DeploymentPlan, TargetPlan, WaitOptions
from octorelease.actions.result import ActionResult, Observer
from octorelease.actions.wait import TaskWaiter
from octorelease.octopus import errors
from octorelease.octopus.api import Deployment, SpaceApi

#: How far back (server clock) a deployment may have been created and still be "ours" after a
#: lost answer: the ``Date`` header has one-second resolution.
_CLOCK_SLACK = timedelta(seconds=2)


class DeploymentCreator:
    """Creates the plan's deployments, safe against lost answers."""

    def __init__(self, space: SpaceApi, plan: DeploymentPlan) -> None:
        self.space = space
        self.plan = plan

    def create(self, target: TargetPlan) -> Deployment:
        body = target.request_body(self.plan.release_of(target).id, self.plan.options)
        sent_after = self.space.http.server_time or datetime.now(timezone.utc) - timedelta(minutes=5)
        return create_once(
            self.space.http,
            lambda: self.space.create_deployment(body),
            lambda: self._find_created(target, sent_after - _CLOCK_SLACK),
        )

    def _find_created(self, target: TargetPlan, since: datetime) -> Deployment | None:
        """A deployment of this release to this target made since ``since`` (server clock)."""
        tenant_id = target.tenant.id if target.tenant else None
        for deployment in self.space.deployments(
            project_id=self.plan.project.id, environment_ids=[target.environment.id], take=10
        ):
            created = deployment.created_at
            if (
                deployment.release_id == self.plan.release_of(target).id
                and deployment.tenant_id == tenant_id
                and created is not None
                and created >= since
            ):
                return deployment
        return None


def web_url(space: SpaceApi, deployment_id: str, link: str | None = None) -> str:
    """The portal page of a deployment: its ``Web`` link, or where Octopus puts it."""
    return space.http.server + (link or f"/app#/{space.space.id}/deployments/{deployment_id}")


def run_plan(
    space: SpaceApi, plan: DeploymentPlan, wait: WaitOptions, observer: Observer, result: ActionResult
) -> ActionResult:
    """Create the plan's deployments, follow them as ``wait`` says, and fill in ``result``."""
    for warning in plan.warnings:
        observer.warn(warning)
    creator = DeploymentCreator(space, plan)
    for target in plan.targets:
        if target.already is not None:
            existing = target.already
            entry = target.result(
                deployment_id=existing.deployment_id,
                task_id=existing.task_id,
                state=existing.state,
                web_url=web_url(space, existing.deployment_id),
                already_deployed=True,
            )
            result.deployments.append(entry)
            observer.note(
                f"{entry.label} already has {plan.project.name} {plan.release_of(target).name} "
                f"({existing.deployment_id}, {existing.state}): not deploying it again (--redeploy does)."
            )
            continue
        deployment = creator.create(target)
        entry = target.result(
            deployment_id=deployment.id,
            task_id=deployment.task_id,
            state="Queued",
            web_url=web_url(space, deployment.id, (deployment.raw.get("Links") or {}).get("Web")),
        )
        result.deployments.append(entry)
        observer.deployment_queued(entry)
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
            observer.warn(message + " (ignored: --no-fail-on-error)")
            result.messages.append(message + " (ignored)")
    return result
