"""``promote``: deploy the release that runs in one environment to others.

There is no promote endpoint in Octopus: promotion is "find the release in the source
environment, then create a deployment of it to each target" (octopus-api.md, key fact 1).
"""

from __future__ import annotations

from collections.abc import Sequence

from octorelease import errors
from octorelease.actions.choose import OnRelease, per_tenant, pinned_release, release_in_environment
from octorelease.actions.options import DeploymentOptions
from octorelease.actions.plan import DeploymentPlan, Existing
from octorelease.actions.targets import (
    Adopter,
    build_plan,
    newest_per_target,
    plan_tenants,
    require_targets,
    resolve_environments,
)
from octorelease.actions.wording import COMMAND_LINE, Wording
from octorelease.octopus.api import SpaceApi
from octorelease.octopus.models import ACTIVE_TASK_STATES, DashboardItem


def plan_promote(
    space: SpaceApi,
    *,
    project: str,
    source: str,
    targets: Sequence[str],
    release: str | None = None,
    options: DeploymentOptions | None = None,
    on_release: OnRelease | None = None,
    lifecycle: bool = True,
    leave_to_server: bool = False,
    adopt: Adopter | None = None,
    wording: Wording = COMMAND_LINE,
) -> DeploymentPlan:
    """Resolve and validate a promotion; sends GET requests only. ``leave_to_server``: a real
    run, which may leave some checks to the server; ``adopt``: who knows of deployments to join
    (both: ``targets.build_plan``); ``wording``: how its notes name settings."""
    require_targets(targets, wording)
    if release is not None and not release.strip():
        # An unset CI variable (--release "$VERSION"): promoting the latest instead would deploy
        # a release nobody chose.
        raise errors.InvalidInput("The release given is empty.",
                                  hint=f"Give a version, or leave {wording.name('release')} out to promote what "
                                  f"{wording.name('from')} runs.")
    if any(t.strip().lower() == source.strip().lower() for t in targets):
        raise errors.InvalidInput(
            f"'{source}' is both {wording.name('from')} and {wording.name('to')}.",
            hint="Use 'octorelease deploy' to redeploy to the same environment."
        )
    found_project = space.project(project)
    source_env, *target_envs = resolve_environments(space, [source, *targets])
    # One dashboard request tells both what the source runs and what the targets already have.
    dashboard = space.dashboard(found_project.id, [source_env.id, *(e.id for e in target_envs)], include_previous=True)
    options = options or DeploymentOptions()
    if release:
        choices = [pinned_release(space, found_project, release)]
    elif options.tenants or options.tenant_tags:
        # Each tenant promotes what it runs in the source, not what the environment runs.
        tenants = plan_tenants(space, found_project, target_envs, options, wording)
        choices = per_tenant(found_project, source_env, dashboard, tenants, wording)
    else:
        choices = [release_in_environment(found_project, source_env, dashboard, wording=wording)]
    plans = [
        build_plan(
            space,
            action="promote",
            project=found_project,
            chosen=chosen,
            environments=target_envs,
            options=options,
            from_environment=source_env,
            on_release=on_release,
            already=None if options.redeploys else already_there(dashboard, chosen.release.id),
            lifecycle=lifecycle,
            newest=newest_per_target(dashboard),
            leave_to_server=leave_to_server,
            adopt=adopt,
            wording=wording,
        )
        for chosen in choices
    ]
    notes = []
    if len(choices) > 1:
        runs = ", ".join(f"{t.name} {c.release.version}" for c in choices for t in c.tenants)
        notes.append(f"the tenants run different releases in {source_env.name} ({runs}): each gets its own")
    if options.redeploy is None and options.force_redeploy:
        notes.extend(_force_redeploy_redeploys(plans, dashboard, wording))
    return DeploymentPlan.per_release(plans, notes)


def _force_redeploy_redeploys(
    plans: Sequence[DeploymentPlan], dashboard: Sequence[DashboardItem], wording: Wording
) -> list[str]:
    """Say where ``--force-redeploy`` alone deploys again what a target already runs: it always
    did, so it still does, but ``--no-redeploy`` now keeps package forcing without it."""
    force, only_forcing = wording.setting("force_redeploy"), wording.setting("redeploy", False)
    said = []
    for plan in plans:
        existing = already_there(dashboard, plan.release.id)
        for target in plan.targets:
            if (target.environment.id, target.tenant.id if target.tenant else None) in existing:
                where = target.environment.name + (f" for tenant {target.tenant.name}" if target.tenant else "")
                said.append(
                    f"{where} already runs {plan.project.name} {plan.release.name}: {force} deploys it "
                    f"again, as it always has (add {only_forcing} to force package redeployment only where "
                    "a deployment is made)"
                )
    return said


def already_there(dashboard: Sequence[DashboardItem], release_id: str) -> dict[tuple[str, str | None], Existing]:
    """Targets whose current deployment is of ``release_id`` and succeeded or is still going,
    keyed by (environment id, tenant id). A failed or cancelled one does not count: promoting
    again is then the point."""
    return {
        (item.environment_id, item.tenant_id): Existing(item.deployment_id, item.task_id, item.state, item.created)
        for item in dashboard
        if item.is_current and item.release_id == release_id and item.state in ("Success", *ACTIVE_TASK_STATES)
    }
