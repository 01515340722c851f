"""The sandbox's rules: one method per Octopus operation, no HTTP (moto's ``models.py``).

Methods raise the named errors of ``errors.py`` with Octopus's wording; ``http/middleware.py`` serves them.
Every method expects the caller to hold ``lock`` (``http/api/`` takes it around a whole request, the
runner around each unit of work), so a response never mixes two moments of a running task.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from octorelease.sandbox.errors import ResourceNotFound, Unauthorized, ValidationFailed
from octorelease.sandbox.rules import lifecycle
from octorelease.sandbox.rules.deploying import PreviewStep
from octorelease.sandbox.rules.editing import EditRules
from octorelease.sandbox.rules.interrupting import InterruptionRules
from octorelease.sandbox.rules.requests import DeploymentRequest, Fault
from octorelease.sandbox.rules.versions import parse_range, version_key
from octorelease.sandbox.rules.views import ViewRules
from octorelease.sandbox.state.entities import (
    TASK_ACTIVE_STATES,
    Channel,
    Deployment,
    Environment,
    Feed,
    Lifecycle,
    Machine,
    PackageVersion,
    Phase,
    Project,
    Release,
    Task,
    Tenant,
    Variable,
)
from octorelease.sandbox.state.state import UNLIMITED, Caller, id_order, utcnow
from octorelease.sandbox.state.store import Store
from octorelease.secrets import same_secret


@dataclass
class Template:
    """``deployments/template``: where the release may go now, untenanted and per tenant."""

    release: Release
    promote_to: list[Environment]
    tenant_promotions: list[tuple[Tenant, list[Environment]]]
    #: the project's variables / its library sets changed since the release snapshotted them
    variables_modified: bool = False
    library_variables_modified: bool = False


@dataclass
class Preview:
    release: Release
    environment: Environment
    tenant: Tenant | None
    steps: list[PreviewStep]
    prompts: list[Variable]
    guided_failure_default: bool


@dataclass
class ReleaseProgression:
    release: Release
    progression: lifecycle.Progression
    deployments: dict[str, list[tuple[Deployment, Task]]]


@dataclass
class DashboardItem:
    deployment: Deployment
    task: Task
    release: Release
    is_current: bool


@dataclass
class Dashboard:
    projects: list[Project]
    environments: list[Environment]
    tenants: list[Tenant]
    items: list[DashboardItem]


class Backend(ViewRules, EditRules, InterruptionRules):
    """All of the sandbox's state and rules; the HTTP layer and the runner drive it."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(store, clock)
        self.faults: list[Fault] = []
        self.api_keys: dict[str, Caller] = {}

    # -- identity --------------------------------------------------------------------------------

    def authenticate(self, key: str | None, main_key: str) -> Caller:
        """The caller ``key`` stands for. Every known key is compared in constant time, so the
        time a wrong guess takes says nothing about how much of it was right."""
        if not key:
            raise Unauthorized(missing=True)
        found = UNLIMITED if same_secret(key, main_key) else None
        for known, caller in self.api_keys.items():
            if same_secret(key, known) and found is None:
                found = caller
        if found is None:
            raise Unauthorized(missing=False)
        return found

    def add_api_key(self, key: str, environments: list[str] | None, teams: list[str] | None = None) -> None:
        """A key limited to some environments (``None``: any) and, when ``teams`` is given, whose
        user is in those teams only (``[]``: in none, to rehearse "not in a responsible team")."""
        def lowered(names: list[str] | None) -> frozenset[str] | None:
            return None if names is None else frozenset(n.strip().lower() for n in names)

        self.api_keys[key] = Caller(lowered(environments), lowered(teams))

    def deployment_template(self, space_id: str, release_id: str, caller: Caller) -> Template:
        release = self.require(Release, space_id, release_id)
        project = self.require(Project, None, release.project_id)

        def deployable(tenant: Tenant | None) -> list[Environment]:
            allowed = [self.require(Environment, None, e)
                       for e in self.progression_of(release, tenant.id if tenant else None).allowed]
            return [e for e in allowed if caller.may_deploy_to(e)]

        promote_to = deployable(None) if project.tenanted_mode != "Tenanted" else []
        tenant_promotions = []
        if project.tenanted_mode != "Untenanted":
            for tenant in self.tenants_of(project.id):
                connected = tenant.project_environments.get(project.id)
                if connected:
                    tenant_promotions.append((tenant, [e for e in deployable(tenant) if e.id in connected]))
        return Template(release, promote_to, tenant_promotions, *self.snapshot_drift(release))

    def release_progression(self, space_id: str, release_id: str) -> ReleaseProgression:
        release = self.require(Release, space_id, release_id)
        by_env: dict[str, list[tuple[Deployment, Task]]] = {}
        for deployment in self.deployments_of(release.id):
            task = self.get(Task, None, deployment.task_id)
            if task is not None:
                by_env.setdefault(deployment.environment_id, []).insert(0, (deployment, task))
        return ReleaseProgression(release, self.progression_of(release), by_env)

    # -- preview ---------------------------------------------------------------------------------

    def deployment_preview(
        self, space_id: str, release_id: str, environment_id: str, tenant_id: str | None = None
    ) -> Preview:
        release = self.require(Release, space_id, release_id)
        environment = self.require(Environment, space_id, environment_id)
        tenant = self.require(Tenant, space_id, tenant_id) if tenant_id else None
        steps = self.plan_machines(release.steps, environment, DeploymentRequest(release.id, environment.id))
        prompts = [v for v in self.release_variables(release) if v.prompt is not None]
        return Preview(release, environment, tenant, steps, prompts, environment.use_guided_failure)

    # -- deployments -----------------------------------------------------------------------------

    def deployments(
        self,
        space_id: str,
        *,
        ids: list[str] | None = None,
        projects: list[str] | None = None,
        environments: list[str] | None = None,
        tenants: list[str] | None = None,
        channels: list[str] | None = None,
        task_states: list[str] | None = None,
        release_id: str | None = None,
    ) -> list[Deployment]:
        """Deployments matching every filter given, newest first."""

        def lowered(values: list[str] | None) -> set[str] | None:
            return {v.lower() for v in values} if values else None

        def wanted(values: set[str] | None, value: str | None) -> bool:
            return values is None or (value or "").lower() in values

        want_ids, want_projects, want_environments = lowered(ids), lowered(projects), lowered(environments)
        want_tenants, want_channels, want_states = lowered(tenants), lowered(channels), lowered(task_states)
        chosen = []
        for d in reversed(self._deployment_candidates(space_id, ids, projects, environments, release_id)):
            if (
                d.space_id == space_id
                and wanted(want_ids, d.id)
                and wanted(want_projects, d.project_id)
                and wanted(want_environments, d.environment_id)
                and wanted(want_tenants, d.tenant_id)
                and wanted(want_channels, d.channel_id)
                and (release_id is None or d.release_id == release_id)
            ):
                if want_states is not None:
                    task = self.get(Task, None, d.task_id)
                    if not wanted(want_states, task.state if task else None):
                        continue
                chosen.append(d)
        return chosen

    def _deployment_candidates(self, space_id: str, ids: list[str] | None, projects: list[str] | None,
                               environments: list[str] | None, release_id: str | None) -> list[Deployment]:
        """The deployments that may match, in id order, from the narrowest index a filter allows
        (every filter is still applied to each): a release's, the ids', the projects' or the
        environments' deployments, whichever are fewest; the space's when no filter narrows."""
        groups: list[list[Deployment]] = []
        if release_id is not None:
            groups.append(self.deployments_of(release_id))
        if ids:
            found = {d.key: d for i in ids if (d := self.get(Deployment, space_id, i)) is not None}
            groups.append(sorted(found.values(), key=id_order))
        for index, values in (("project", projects), ("environment", environments)):
            if values:
                found = {d.key: d for v in values for d in self._by_id_any_case(index, v)}
                groups.append(sorted(found.values(), key=id_order))
        return min(groups, key=len) if groups else self.all(Deployment, space_id)

    def _by_id_any_case(self, index: str, value: str) -> list[Deployment]:
        """Deployments filed under an id as given or as the entity spells it (filters ignore case)."""
        found = self.indexed(Deployment, index, value)
        if not found:
            owner = self.get(Project if index == "project" else Environment, None, value)
            if owner is not None and owner.id != value:
                found = self.indexed(Deployment, index, owner.id)
        return found

    def release_deployments(self, space_id: str, release_id: str) -> list[Deployment]:
        release = self.require(Release, space_id, release_id)
        return self.deployments(space_id, release_id=release.id)

    # -- dashboard -------------------------------------------------------------------------------

    def dashboard(
        self, space_id: str, project_ids: list[str], environment_ids: list[str], include_previous: bool
    ) -> Dashboard:
        """One current item per (project, environment, tenant) in any state; with ``include_previous``
        also the latest successful one before it, when the current one did not succeed."""
        projects = [p for p in self.all(Project, space_id) if not project_ids or p.id in project_ids]
        environments = [e for e in self.all(Environment, space_id) if not environment_ids or e.id in environment_ids]
        wanted_p, wanted_e = {p.id for p in projects}, {e.id for e in environments}
        history: dict[tuple[str, str, str | None], list[tuple[Deployment, Task]]] = {}
        source = self.all(Deployment, space_id) if not project_ids else sorted(
            (d for p in wanted_p for d in self.indexed(Deployment, "project", p)), key=id_order)
        for d in source:
            task = self.get(Task, None, d.task_id)
            if task is not None and d.project_id in wanted_p and d.environment_id in wanted_e:
                history.setdefault((d.project_id, d.environment_id, d.tenant_id), []).append((d, task))
        items = []
        for entries in history.values():
            current, current_task = entries[-1]
            items.append(DashboardItem(current, current_task, self.require(Release, None, current.release_id), True))
            if include_previous and current_task.state != "Success":
                for d, task in reversed(entries[:-1]):
                    if task.state == "Success":
                        items.append(DashboardItem(d, task, self.require(Release, None, d.release_id), False))
                        break
        connected = {t.key: t for p in wanted_p for t in self.tenants_of(p) if t.space_id == space_id}
        tenants = sorted(connected.values(), key=id_order)
        return Dashboard(projects, environments, tenants, items)

    # -- tasks -----------------------------------------------------------------------------------

    def tasks(
        self,
        space_id: str | None,
        *,
        ids: list[str] | None = None,
        states: list[str] | None = None,
        project: str | None = None,
        environment: str | None = None,
        active: bool | None = None,
    ) -> list[Task]:
        """Tasks matching the filters, newest first."""
        want_ids = {i.lower() for i in ids} if ids else None
        want_states = {s.lower() for s in states} if states else None
        chosen = []
        for task in reversed(self._task_candidates(space_id, ids, want_states, project, environment, active)):
            if space_id is not None and task.space_id != space_id:
                continue
            if want_ids is not None and task.id.lower() not in want_ids:
                continue
            if want_states is not None and task.state.lower() not in want_states:
                continue
            if active is not None and task.is_completed == active:
                continue
            if project or environment:
                d = self.get(Deployment, None, task.deployment_id)
                if (
                    d is None
                    or (project and d.project_id != project)
                    or (environment and d.environment_id != environment)
                ):
                    continue
            chosen.append(task)
        return chosen

    def _task_candidates(self, space_id: str | None, ids: list[str] | None, states: set[str] | None,
                         project: str | None, environment: str | None, active: bool | None) -> list[Task]:
        """The tasks that may match, in id order, from the narrowest index a filter allows (each
        filter is still applied): the ids', the active ones, those in the states asked for, or
        those of the project's or environment's deployments; else every task of the space."""
        if ids:
            return sorted({t.key: t for i in ids if (t := self.get(Task, None, i)) is not None}.values(),
                          key=id_order)
        if active or (states is not None and states <= {s.lower() for s in TASK_ACTIVE_STATES}):
            return self.active_tasks()
        groups: list[list[Task]] = []
        if states is not None:
            known = {str(s).lower(): str(s) for s in self.index_values(Task, "state")}
            groups.append(sorted((t for s in states if s in known for t in self.indexed(Task, "state", known[s])),
                                 key=id_order))
        for index, value in (("project", project), ("environment", environment)):
            if value:
                tasks = (self.get(Task, None, d.task_id) for d in self.indexed(Deployment, index, value))
                groups.append([t for t in tasks if t is not None])
        return min(groups, key=len) if groups else self.all(Task, space_id)

    def task(self, space_id: str | None, task_id: str) -> Task:
        return self.require(Task, space_id, task_id)

    def cancel_task(self, space_id: str | None, task_id: str) -> Task:
        """A queued task is canceled at once; an executing one at its next step boundary."""
        task = self.require(Task, space_id, task_id)
        now = self.clock()
        if task.state == "Queued":
            task.state, task.completed_time, task.last_updated = "Canceled", now, now
            task.error_message = "The task was canceled."
            if task.activity is not None:
                task.activity.status = "Canceled"
            self.put(task)
        elif task.state == "Executing":
            task.state, task.last_updated = "Cancelling", now
            self.put(task)
        return task

    def deployment_of(self, task: Task) -> Deployment:
        return self.require(Deployment, None, task.deployment_id)

    # -- control ---------------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def fault_for(self, step: str, machine: str, environment: str, *, explicit_step: bool = False) -> Fault | None:
        """The first fault that makes this step fail on this machine (``explicit_step``: only faults
        naming the step, so that a fault for 'any step' never breaks package acquisition)."""
        for fault in self.faults:
            if explicit_step and fault.step is None:
                continue
            if fault.matches(step, machine, environment):
                return fault
        return None

    def rename(self, space_id: str, kind: str, old: str, new: str) -> None:
        """Give an environment, machine, project, tenant or step (``kind``) named ``old`` the name
        ``new``, as if it had always been called so: a step is renamed in its project and in every
        release's snapshot. Tests use it to name things as hostile servers do (any text at all)."""
        if kind == "step":
            found = False
            owners: list[Project | Release] = [*self.all(Project, space_id), *self.all(Release, space_id)]
            for owner in owners:
                renamed = [s for s in owner.steps if s.name == old]
                for step in renamed:
                    step.name = step.action.name = new
                if renamed:
                    found = True
                    self.put(owner)
            if not found:
                raise ResourceNotFound(old)
            return
        kinds: dict[str, type[Environment | Machine | Project | Tenant]] = {
            "environment": Environment, "machine": Machine, "project": Project, "tenant": Tenant}
        if kind not in kinds:
            raise ValidationFailed(f"'kind' must be one of {', '.join([*kinds, 'step'])}.")
        for entity in self.all(kinds[kind], space_id):
            if entity.name == old:
                entity.name = new
                self.put(entity)
                return
        raise ResourceNotFound(old)

    def wipe(self) -> None:
        """Forget everything: state, faults and limited keys (the caller re-seeds)."""
        self.store.wipe()
        self.load()
        self.faults.clear()
        self.api_keys.clear()

    def new_guid(self) -> str:
        return str(uuid.uuid4())

    def environment_machines(self, space_id: str, environment_id: str) -> list[Machine]:
        environment = self.require(Environment, space_id, environment_id)
        return self.machines_in(environment.id)

    def project_channels(self, space_id: str, project_ref: str) -> list[Channel]:
        project = self.project(space_id, project_ref)
        return [c for c in self.all(Channel, space_id) if c.project_id == project.id]

    def project_release(self, space_id: str, project_ref: str, version: str) -> Release:
        project = self.project(space_id, project_ref)
        release = self.release_of(project.id, version)
        if release is None:
            raise ResourceNotFound(f"{project.name} {version}")
        return release

    # -- packages --------------------------------------------------------------------------------

    def package_versions(self, space_id: str, feed_id: str, package_id: str | None, filter_text: str | None = None,
                         include_prerelease: bool | None = None, version_range: str | None = None,
                         ) -> list[PackageVersion]:
        """Versions in the feed, newest first; ``packageId`` exact, ``filter`` a version prefix,
        ``versionRange`` a NuGet range (``[1.2.0]`` is exactly 1.2.0)."""
        feed = self.require(Feed, space_id, feed_id)
        in_range = parse_range(version_range) if version_range else None
        versions = [p for p in feed.packages
                    if (not package_id or p.package_id.lower() == package_id.strip().lower())
                    and (not filter_text or p.version.startswith(filter_text.strip()))
                    and (include_prerelease or "-" not in p.version)
                    and (in_range is None or in_range(p.version))]
        return sorted(versions, key=lambda p: version_key(p.version), reverse=True)

    def publish_package(self, space_id: str, package_id: str, version: str) -> PackageVersion:
        """Add a version to the built-in feed (what a build's push would do)."""
        feed = self.feed(space_id)
        for existing in feed.packages:
            if existing.package_id.lower() == package_id.lower() and existing.version == version:
                return existing
        published = PackageVersion(package_id=package_id, version=version, published=self.clock(),
                                   size_bytes=1_048_576)
        feed.packages.append(published)
        self.put(feed)
        return published

    # -- lifecycles ------------------------------------------------------------------------------

    def save_lifecycle(self, space_id: str, lifecycle_id: str | None, name: str | None, description: str | None,
                       phases: list[Phase]) -> Lifecycle:
        """Create (``lifecycle_id`` None) or replace a lifecycle; every phase environment must exist."""
        current = self.require(Lifecycle, space_id, lifecycle_id) if lifecycle_id else None
        if not (name or (current and current.name)):
            raise ValidationFailed("Please provide a name for the lifecycle.")
        unknown = sorted({e for p in phases for e in p.environment_ids if self.get(Environment, space_id, e) is None})
        if unknown:
            raise ValidationFailed(*(f"The environment '{e}' does not exist." for e in unknown))
        for phase in phases:
            phase.id = phase.id or self.new_guid()
        saved = Lifecycle(
            id=current.id if current else self.new_id("Lifecycles"), space_id=space_id,
            name=name or (current.name if current else ""),
            description=description if description is not None else (current.description if current else ""),
            phases=phases,
        )
        self.put(saved)
        return saved
