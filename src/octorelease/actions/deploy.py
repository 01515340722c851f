"""``deploy``: deploy a named release (or the project's newest, ``latest``) to environments."""

from __future__ import annotations

from collections.abc import Sequence

from octorelease.actions.choose import OnRelease, pinned_release
from octorelease.actions.plan import DeploymentOptions, DeploymentPlan
from octorelease.actions.targets import build_plan, newest_per_target, resolve_environments
from octorelease.octopus import errors
from octorelease.octopus.api import SpaceApi


def plan_deploy(
    space: SpaceApi,
    *,
    project: str,
    release: str,
    targets: Sequence[str],
    options: DeploymentOptions | None = None,
    on_release: OnRelease | None = None,
    lifecycle: bool = True,
) -> DeploymentPlan:
    """Resolve and validate a deployment; sends GET requests only."""
    if not targets:
        raise errors.InvalidInput("No target environment given.", hint="Pass --to ENV (one or more).")
    if not release.strip():
        raise errors.InvalidInput("No release given.", hint="Pass --release VERSION or --release latest.")
    found_project = space.project(project)
    environments = resolve_environments(space.environments(), targets, space.space.name)
    chosen = pinned_release(space, found_project, release)
    # What each target has now: after a lost answer, only a deployment made since can be ours.
    dashboard = space.dashboard(found_project.id, [e.id for e in environments], include_previous=False)
    return build_plan(
        space,
        action="deploy",
        project=found_project,
        chosen=chosen,
        environments=environments,
        options=options,
        on_release=on_release,
        lifecycle=lifecycle,
        newest=newest_per_target(dashboard),
    )
