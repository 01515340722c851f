"""``promote``: deploy the release that runs in one environment to others.

There is no promote endpoint in Octopus: promotion is "find the release in the source
environment, then create a deployment of it to each target" (octopus-api.md, key fact 1).
"""

from __future__ import annotations

from collections.abc import Sequence

from octorelease.actions.choose import OnRelease, pinned_release, release_in_environment
from octorelease.actions.plan import DeploymentOptions, DeploymentPlan
from octorelease.actions.targets import build_plan, resolve_environments
from octorelease.octopus import errors
from octorelease.octopus.api import SpaceApi


def plan_promote(
    space: SpaceApi,
    *,
    project: str,
    source: str,
    targets: Sequence[str],
    release: str | None = None,
    options: DeploymentOptions | None = None,
    on_release: OnRelease | None = None,
) -> DeploymentPlan:
    """Resolve and validate a promotion; sends GET requests only."""
    if not targets:
        raise errors.InvalidInput("No target environment given.", hint="Pass --to ENV (one or more).")
    if any(t.strip().lower() == source.strip().lower() for t in targets):
        raise errors.InvalidInput(
            f"'{source}' is both --from and --to.", hint="Use 'octorelease deploy' to redeploy to the same environment."
        )
    found_project = space.project(project)
    environments = space.environments()
    source_env, *target_envs = resolve_environments(environments, [source, *targets], space.space.name)
    if release:
        chosen = pinned_release(space, found_project, release)
    else:
        chosen = release_in_environment(space, found_project, source_env)
    return build_plan(
        space,
        action="promote",
        project=found_project,
        chosen=chosen,
        environments=target_envs,
        options=options,
        from_environment=source_env,
        on_release=on_release,
    )
