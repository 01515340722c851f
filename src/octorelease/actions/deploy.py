"""``deploy``: deploy a named release (or the project's newest, ``latest``) to environments."""

from __future__ import annotations

from collections.abc import Sequence

from octorelease import errors
from octorelease.actions.choose import ChosenRelease, OnRelease, pinned_release
from octorelease.actions.options import DeploymentOptions
from octorelease.actions.plan import DeploymentPlan
from octorelease.actions.targets import Adopter, build_plan, newest_per_target, require_targets, resolve_environments
from octorelease.actions.wording import COMMAND_LINE, Wording
from octorelease.octopus.api import SpaceApi
from octorelease.octopus.models import Project, Release


def plan_deploy(
    space: SpaceApi,
    *,
    project: str | Project,
    release: str | Release,
    targets: Sequence[str],
    options: DeploymentOptions | None = None,
    on_release: OnRelease | None = None,
    lifecycle: bool = True,
    leave_to_server: bool = False,
    adopt: Adopter | None = None,
    wording: Wording = COMMAND_LINE,
) -> DeploymentPlan:
    """Resolve and validate a deployment; sends GET requests only. A ``project`` or ``release``
    the caller has already read (``create --ignore-existing --deploy-to``) is not read again.
    ``leave_to_server``: a real run, which may leave some checks to the server; ``adopt``: who
    knows of deployments to join; ``wording``: how refusals name settings (all: ``build_plan``)."""
    require_targets(targets, wording)
    if isinstance(release, str) and not release.strip():
        raise errors.InvalidInput("No release given.", hint=f"Give {wording.setting('release', 'VERSION')} or "
                                  f"{wording.setting('release', 'latest')}.")
    found_project = project if isinstance(project, Project) else space.project(project)
    environments = resolve_environments(space, targets)
    if isinstance(release, Release):
        chosen = ChosenRelease(release, "the version asked for")
    else:
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
        leave_to_server=leave_to_server,
        adopt=adopt,
        wording=wording,
    )
