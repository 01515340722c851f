"""Which release to deploy or promote, and the sentence that says why.

Promote takes what the source environment is actually running: the release of the latest
*successful* deployment there. When the newest deployment failed (or is still running) the
previous successful one wins, and the reason says so. ``--release`` pins a version instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from octorelease.octopus import errors
from octorelease.octopus.api import DashboardItem, Environment, Project, Release, SpaceApi


@dataclass(frozen=True)
class ChosenRelease:
    release: Release
    reason: str


#: Told which release was chosen (and why) before the targets are validated, so that a
#: refusal can still say which release was refused.
OnRelease = Callable[[Project, ChosenRelease], None]


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key for versions: numeric parts numerically, so 1.10.0 > 1.9.0."""
    parts: list[tuple[int, int | str]] = []
    for piece in version.replace("-", ".").replace("+", ".").split("."):
        parts.append((1, int(piece)) if piece.isdigit() else (0, piece))
    return tuple(parts)


def release_in_environment(project: Project, source: Environment, dashboard: Sequence[DashboardItem]) -> ChosenRelease:
    """The release that ``source`` runs: its latest successful deployment of ``project``, read
    from the dynamic dashboard's items (with ``includePrevious``)."""
    items = [i for i in dashboard if i.environment_id == source.id]
    # An untenanted promotion follows the untenanted deployments when there are any.
    pool = [i for i in items if i.tenant_id is None] or items
    by_time = sorted(pool, key=lambda i: i.created)  # ISO timestamps from one server sort as text
    current = [i for i in by_time if i.is_current]
    successes = [i for i in by_time if i.state == "Success"]
    newest: DashboardItem | None = current[-1] if current else None
    if not successes:
        if newest is None:
            raise errors.NotFound(
                f"Project {project.name} has never been deployed to {source.name}: there is nothing to promote.",
                hint="Deploy a release there first, or pin one with --release VERSION.",
            )
        raise errors.NotFound(
            f"No successful deployment of {project.name} to {source.name}: the newest one, "
            f"release {newest.release_version}, is {newest.state}.",
            hint="Pin a release with --release VERSION if you mean to promote it anyway.",
        )
    # What the environment runs is its latest successful deployment in time (a rollback to an
    # older version counts), not the highest version ever deployed there.
    chosen = successes[-1]
    if newest is None or newest.deployment_id == chosen.deployment_id:
        reason = f"the latest deployment to {source.name} ({chosen.deployment_id}) succeeded"
    elif newest.state in ("Queued", "Executing", "Cancelling"):
        reason = (
            f"the newest deployment to {source.name}, release {newest.release_version}, is still {newest.state}; "
            f"{chosen.release_version} is the latest that succeeded there"
        )
    else:
        reason = (
            f"the newest deployment to {source.name}, release {newest.release_version}, {newest.state}; "
            f"{chosen.release_version} is the latest that succeeded there"
        )
    # The dashboard says all the plan needs of the release, so it is not fetched again.
    release = Release(chosen.release_id, chosen.release_version, project.id, chosen.channel_id, {})
    return ChosenRelease(release, reason)


def pinned_release(space: SpaceApi, project: Project, version: str) -> ChosenRelease:
    """A release named by version, or ``latest`` for the project's newest release."""
    if version.strip().lower() == "latest":
        release = space.latest_release(project)
        if release is None:
            raise errors.NotFound(
                f"Project {project.name} has no releases.", hint="Create one with octorelease create."
            )
        return ChosenRelease(release, f"the newest release of {project.name}")
    return ChosenRelease(space.release_by_version(project, version.strip()), "the version asked for")
