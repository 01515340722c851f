"""Read-only views that resources link to: a project's progression, a lifecycle's preview, the
tasks of a machine or ahead of a task, package search, tenant variables.

Octopus advertises each of these in a resource's ``Links``; clients and scripts follow them, so
every link the sandbox gives must answer (the crawl test in ``tests/sandbox/http/test_links.py``).
They compute from the same state and rules as everything else and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from octorelease.sandbox.errors import ResourceNotFound
from octorelease.sandbox.rules import lifecycle
from octorelease.sandbox.rules.deploying import DeploymentRules
from octorelease.sandbox.rules.versions import version_key
from octorelease.sandbox.state.entities import (
    Channel,
    Deployment,
    Environment,
    Feed,
    LibraryVariableSet,
    Lifecycle,
    Machine,
    Project,
    Release,
    Task,
    Tenant,
)
from octorelease.sandbox.state.state import id_order


@dataclass
class ReleaseRow:
    """One release in a project's progression: its latest deployments per environment."""

    release: Release
    channel: Channel
    #: environment id -> the latest deployment there per tenant (untenanted first), with its task
    deployments: dict[str, list[tuple[Deployment, Task]]]
    next_deployments: list[str]


@dataclass
class ProjectProgression:
    environments: list[Environment]
    channel_environments: dict[str, list[Environment]]
    releases: list[ReleaseRow]


@dataclass(frozen=True)
class PackageSummary:
    """A package of a feed as package search shows it: its id and newest version."""

    package_id: str
    latest_version: str


@dataclass(frozen=True)
class TenantVariables:
    tenant: Tenant
    projects: list[Project]
    library_sets: list[LibraryVariableSet]


class ViewRules(DeploymentRules):
    def project_progression(self, space_id: str, project_ref: str, release_count: int) -> ProjectProgression:
        """``/projects/{id}/progression``: the newest ``release_count`` releases per channel and
        where each stands, over the environments of the project's channels' lifecycles."""
        project = self.project(space_id, project_ref)
        environments = self.environments_in_order(space_id)
        channels = [c for c in self.all(Channel, space_id) if c.project_id == project.id]
        by_channel: dict[str, list[Environment]] = {}
        for channel in channels:
            life = self.require(Lifecycle, None, channel.lifecycle_id or project.lifecycle_id)
            ids = {e for p in self.phases_of(life, space_id) for e in p.environment_ids}
            by_channel[channel.id] = [e for e in environments if e.id in ids]
        used = {e.id for envs in by_channel.values() for e in envs}
        rows = []
        newest = sorted(self.releases_of(project.id), key=lambda r: (version_key(r.version), r.assembled),
                        reverse=True)
        for channel in channels:
            for release in [r for r in newest if r.channel_id == channel.id][:release_count]:
                rows.append(ReleaseRow(release, channel, self._latest_deployments(release),
                                       self.progression_of(release).next_deployments))
        rows.sort(key=lambda row: (version_key(row.release.version), row.release.assembled), reverse=True)
        return ProjectProgression([e for e in environments if e.id in used], by_channel, rows)

    def _latest_deployments(self, release: Release) -> dict[str, list[tuple[Deployment, Task]]]:
        latest: dict[tuple[str, str | None], tuple[Deployment, Task]] = {}
        for deployment in self.deployments_of(release.id):
            task = self.get(Task, None, deployment.task_id)
            if task is not None:
                latest[(deployment.environment_id, deployment.tenant_id)] = (deployment, task)
        result: dict[str, list[tuple[Deployment, Task]]] = {}
        for (environment_id, _), pair in sorted(latest.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            result.setdefault(environment_id, []).append(pair)
        return result

    def lifecycle_preview(self, space_id: str, lifecycle_id: str) -> tuple[Lifecycle, list[lifecycle.ResolvedPhase]]:
        """A lifecycle with its phases as they apply: implicit phases and "any environment"
        phases filled in with the environments they cover."""
        life = self.require(Lifecycle, space_id, lifecycle_id)
        return life, self.phases_of(life, space_id)

    def lifecycle_projects(self, space_id: str, lifecycle_id: str) -> list[Project]:
        """Projects that use the lifecycle, themselves or through one of their channels."""
        life = self.require(Lifecycle, space_id, lifecycle_id)
        through_channels = {c.project_id for c in self.all(Channel, space_id) if c.lifecycle_id == life.id}
        return [p for p in self.all(Project, space_id) if p.lifecycle_id == life.id or p.id in through_channels]

    def channel_releases(self, space_id: str, channel_id: str) -> list[Release]:
        """A channel's releases, newest version first."""
        channel = self.require(Channel, space_id, channel_id)
        releases = [r for r in self.releases_of(channel.project_id) if r.channel_id == channel.id]
        return sorted(releases, key=lambda r: (version_key(r.version), r.assembled), reverse=True)

    def project_channel(self, space_id: str, project_ref: str, channel_id: str) -> Channel:
        project = self.project(space_id, project_ref)
        channel = self.require(Channel, space_id, channel_id)
        if channel.project_id != project.id:
            raise ResourceNotFound(channel_id)
        return channel

    def machine_tasks(self, space_id: str, machine_id: str) -> list[Task]:
        """Tasks that deployed to the machine, newest first."""
        machine = self.require(Machine, space_id, machine_id)
        ran = (self.get(Task, space_id, d.task_id) for d in self.indexed(Deployment, "machine", machine.id))
        return sorted((t for t in ran if t is not None), key=id_order, reverse=True)

    def queued_behind(self, space_id: str | None, task_id: str) -> list[Task]:
        """The unfinished tasks queued before a queued task, oldest first; none once it has started."""
        task = self.require(Task, space_id, task_id)
        if task.state != "Queued":
            return []
        return [t for t in self.active_tasks() if not t.is_completed and t.id != task.id
                and (t.queue_time, t.id) < (task.queue_time, task.id)]

    def package_search(self, space_id: str, feed_id: str, term: str | None) -> list[PackageSummary]:
        """Each package of the feed whose id contains ``term`` (ignoring case), by id."""
        feed = self.require(Feed, space_id, feed_id)
        latest: dict[str, str] = {}
        for p in feed.packages:
            if term and term.strip().lower() not in p.package_id.lower():
                continue
            if p.package_id not in latest or version_key(p.version) > version_key(latest[p.package_id]):
                latest[p.package_id] = p.version
        return [PackageSummary(k, v) for k, v in sorted(latest.items(), key=lambda kv: kv[0].lower())]

    def tenant_variables(self, space_id: str, tenant_id: str) -> TenantVariables:
        """A tenant's variable values: one entry per connected project and per library set those
        projects include (the sandbox has no variable templates, so each is empty)."""
        tenant = self.require(Tenant, space_id, tenant_id)
        projects = [p for p in self.all(Project, space_id) if p.id in tenant.project_environments]
        set_ids = {i for p in projects for i in p.included_library_variable_set_ids}
        return TenantVariables(tenant, projects, [s for s in self.all(LibraryVariableSet, space_id) if s.id in set_ids])
