"""Which release to deploy or promote, and the sentence that says why.

Promote takes what the source environment is actually running: the release of the latest
*successful* deployment there. When the newest deployment failed (or is still running) the
previous successful one wins, and the reason says so. ``--release`` pins a version instead.

A tenanted promotion asks the same question per tenant: what does *this tenant* run in the
source environment. Tenants that run different releases each get their own (``per_tenant``);
a tenant with no deployment of its own there takes what the untenanted deployments run, and
the reason says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from octorelease import errors
from octorelease.actions.result import Ref
from octorelease.actions.wording import COMMAND_LINE, Wording
from octorelease.octopus.api import SpaceApi
from octorelease.octopus.models import DashboardItem, Environment, Project, Release


@dataclass(frozen=True)
class ChosenRelease:
    release: Release
    reason: str
    #: The tenants this choice is for, when a tenanted promotion chose per tenant.
    tenants: tuple[Ref, ...] = ()

    @property
    def scope(self) -> str:
        """" for tenant Acme" (or tenants), to follow the release in a sentence; "" when untenanted."""
        if not self.tenants:
            return ""
        noun = "tenant" if len(self.tenants) == 1 else "tenants"
        return f" for {noun} " + ", ".join(t.name for t in self.tenants)


#: Told which release was chosen (and why) before the targets are validated, so that a
#: refusal can still say which release was refused.
OnRelease = Callable[[Project, ChosenRelease], None]


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key for versions: numeric parts numerically, so 1.10.0 > 1.9.0."""
    parts: list[tuple[int, int | str]] = []
    for piece in version.replace("-", ".").replace("+", ".").split("."):
        parts.append((1, int(piece)) if piece.isdigit() else (0, piece))
    return tuple(parts)


def release_in_environment(
    project: Project,
    source: Environment,
    dashboard: Sequence[DashboardItem],
    tenant: Ref | None = None,
    wording: Wording = COMMAND_LINE,
) -> ChosenRelease:
    """The release that ``source`` runs (for ``tenant``, when given): its latest successful
    deployment of ``project``, read from the dynamic dashboard's items (with ``includePrevious``)."""
    items = [i for i in dashboard if i.environment_id == source.id]
    untenanted = [i for i in items if i.tenant_id is None]
    where, fallback = source.name, ""
    if tenant is None:
        # An untenanted promotion follows the untenanted deployments when there are any.
        pool = untenanted or items
    else:
        pool = [i for i in items if i.tenant_id == tenant.id]
        if pool:
            where = f"{source.name} for tenant {tenant.name}"
        else:
            pool = untenanted
            fallback = f"{tenant.name} has no deployment of its own in {source.name}, so the untenanted ones count: "
    by_time = sorted(pool, key=lambda i: i.created)  # ISO timestamps from one server sort as text
    current = [i for i in by_time if i.is_current]
    successes = [i for i in by_time if i.state == "Success"]
    newest: DashboardItem | None = current[-1] if current else None
    if not successes:
        if newest is None:
            raise errors.NotFound(
                f"Project {project.name} has never been deployed to {where}: there is nothing to promote.",
                hint=f"Deploy a release there first, or pin one with {wording.setting('release', 'VERSION')}.",
            )
        raise errors.NotFound(
            f"No successful deployment of {project.name} to {where}: the newest one, "
            f"release {newest.release_version}, is {newest.state}.",
            hint=f"Pin a release with {wording.setting('release', 'VERSION')} if you mean to promote it anyway.",
        )
    # What the environment runs is its latest successful deployment in time (a rollback to an
    # older version counts), not the highest version ever deployed there.
    chosen = successes[-1]
    if newest is None or newest.deployment_id == chosen.deployment_id:
        reason = f"the latest deployment to {where} ({chosen.deployment_id}) succeeded"
    elif newest.state in ("Queued", "Executing", "Cancelling"):
        reason = (
            f"the newest deployment to {where}, release {newest.release_version}, is still {newest.state}; "
            f"{chosen.release_version} is the latest that succeeded there"
        )
    else:
        reason = (
            f"the newest deployment to {where}, release {newest.release_version}, {newest.state}; "
            f"{chosen.release_version} is the latest that succeeded there"
        )
    # The dashboard says all the plan needs of the release, so it is not fetched again.
    release = Release(chosen.release_id, chosen.release_version, project.id, chosen.channel_id, {})
    return ChosenRelease(release, fallback + reason, (tenant,) if tenant else ())


def per_tenant(
    project: Project,
    source: Environment,
    dashboard: Sequence[DashboardItem],
    tenants: Sequence[Ref],
    wording: Wording = COMMAND_LINE,
) -> list[ChosenRelease]:
    """What each tenant runs in ``source``, one choice per release (tenants in the order given).

    A tenant with nothing to promote refuses the whole promotion (naming it), before anything
    is created."""
    groups: dict[str, list[tuple[Ref, ChosenRelease]]] = {}
    for tenant in tenants:
        chosen = release_in_environment(project, source, dashboard, tenant, wording)
        groups.setdefault(chosen.release.id, []).append((tenant, chosen))
    choices = []
    for members in groups.values():
        reasons = [chosen.reason for _, chosen in members]
        if len(members) == 1 or len(set(reasons)) == 1:
            reason = reasons[0]
        else:
            reason = "; ".join(f"{tenant.name}: {chosen.reason}" for tenant, chosen in members)
        choices.append(ChosenRelease(members[0][1].release, reason, tuple(t for t, _ in members)))
    return choices


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
