"""Deployments: who may deploy what where, and creating them with their queued tasks.

Every create path (classic ``POST /deployments`` and the executions API) ends in ``_create``,
which checks every target first (permission, tenant, lifecycle, machines, prompted variables,
schedule) and creates all of them or none, as a promotion to several environments must.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from octorelease.sandbox.errors import PermissionDenied, ValidationFailed
from octorelease.sandbox.rules import lifecycle
from octorelease.sandbox.rules.freezing import FreezeRules, TargetFreezes
from octorelease.sandbox.rules.releasing import ReleaseRules
from octorelease.sandbox.rules.requests import DeploymentRequest, ExecutionRequest
from octorelease.sandbox.state.entities import (
    Channel,
    Deployment,
    Environment,
    Lifecycle,
    Machine,
    Project,
    Release,
    Step,
    Task,
    Tenant,
    Variable,
)
from octorelease.sandbox.state.state import Caller, utcnow
from octorelease.sandbox.state.store import Store


@dataclass
class PreviewStep:
    number: int
    step: Step
    machines: list[Machine]
    unavailable: list[Machine]
    excluded: list[Machine]


@dataclass
class _Target:
    """One (environment, tenant) a create call will deploy to, once every check has passed."""

    environment: Environment
    tenant: Tenant | None
    request: DeploymentRequest
    problems: list[str] = field(default_factory=list)
    #: read once per target by ``_create``, for its permission, its problems and its deployment
    freezes: TargetFreezes = field(default_factory=TargetFreezes)

class DeploymentRules(ReleaseRules, FreezeRules):
    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(store, clock)
        #: called after a task is queued, so the runner wakes at once instead of at its next poll
        self.on_task_queued: Callable[[], None] = lambda: None

    # -- lifecycle -------------------------------------------------------------------------------

    def lifecycle_of(self, release: Release) -> Lifecycle:
        """The channel's lifecycle, or the project's when the channel has none."""
        channel = self.get(Channel, None, release.channel_id)
        project = self.require(Project, None, release.project_id)
        lifecycle_id = channel.lifecycle_id if channel and channel.lifecycle_id else project.lifecycle_id
        return self.require(Lifecycle, None, lifecycle_id)

    def phases_of(self, life: Lifecycle, space_id: str) -> list[lifecycle.ResolvedPhase]:
        """The lifecycle's phases over the space's environments (``lifecycle.resolve_phases``),
        worked out again only when a lifecycle or an environment has changed: with thousands of
        environments it is the dearest part of every template, preview and create."""
        return self.cached(("phases", life.id, space_id), (Lifecycle, Environment),
                           lambda: lifecycle.resolve_phases(life, self.environments_in_order(space_id)))

    def latest_states(self, release: Release, tenant_id: str | None = None) -> dict[str, str]:
        """Per environment, the state of the latest deployment of the release that counts for
        ``tenant_id`` (octopus-api.md §9: progress is counted per tenant).

        Untenanted, only untenanted deployments count. For a tenant, its own latest deployment
        to an environment counts; where it has none, the latest untenanted one does (a tenant is
        often not connected to the first environments, which only untenanted deployments reach).
        Another tenant's deployments never count: Globex's success in Test does not take Acme to
        Staging. A failed or queued re-deployment still blocks (OctopusDeploy/Issues #2248).
        """
        latest: dict[tuple[str, str | None], str] = {}
        for deployment in self.deployments_of(release.id):
            task = self.get(Task, None, deployment.task_id)
            if task is not None:
                latest[(deployment.environment_id, deployment.tenant_id)] = task.state
        untenanted = {env: state for (env, tenant), state in latest.items() if tenant is None}
        if tenant_id is None:
            return untenanted
        own = {env: state for (env, tenant), state in latest.items() if tenant == tenant_id}
        return {**untenanted, **own}

    def progression_of(self, release: Release, tenant_id: str | None = None) -> lifecycle.Progression:
        phases = self.phases_of(self.lifecycle_of(release), release.space_id)
        return lifecycle.progress(phases, self.latest_states(release, tenant_id))

    def lifecycle_problem(self, release: Release, environment: Environment, tenant: Tenant | None = None) -> str | None:
        """Why the lifecycle forbids this deployment (for this tenant) now, or ``None``."""
        progression = self.progression_of(release, tenant.id if tenant else None)
        if environment.id in progression.allowed:
            return None
        project = self.require(Project, None, release.project_id)
        life = self.lifecycle_of(release)
        in_lifecycle = any(environment.id in p.phase.environment_ids for p in progression.phases)
        reason = (
            f"lifecycle '{life.name}' has not reached this phase"
            if in_lifecycle
            else f"the environment is not in lifecycle '{life.name}'"
        )
        return (
            f"Release '{release.version}' of project '{project.name}' cannot be deployed to environment "
            f"'{environment.name}' because the environment is not in the list of environments that this "
            f"release can be deployed to ({reason})."
        )
    def plan_machines(
        self,
        steps: list[Step],
        environment: Environment,
        request: DeploymentRequest,
    ) -> list[PreviewStep]:
        """Which machines each step runs on: role match in the environment, minus disabled,
        limited to the specific machines and without the excluded ones. A step scoped to other
        environments is not part of the deployment at all."""
        planned = []
        in_env = self.machines_in(environment.id)
        scoped = [step for step in steps if step.action.runs_in(environment.id)]
        for number, step in enumerate(scoped, start=1):
            roles = {r.lower() for r in step.roles}
            matching = [m for m in in_env if roles & {r.lower() for r in m.roles}]
            chosen, unavailable, excluded = [], [], []
            for machine in matching:
                if machine.is_disabled:
                    unavailable.append(machine)
                elif (request.specific_machine_ids and machine.id not in request.specific_machine_ids) or (
                    machine.id in request.excluded_machine_ids
                ):
                    excluded.append(machine)
                else:
                    chosen.append(machine)
            planned.append(PreviewStep(number, step, chosen, unavailable, excluded))
        return planned
    def create_deployment(self, space_id: str, request: DeploymentRequest, caller: Caller) -> Deployment:
        """Classic ``POST /deployments``: validate, then create the deployment and its queued task."""
        problems = []
        if not request.release_id:
            problems.append("Please specify the release to deploy.")
        if not request.environment_id:
            problems.append("Please provide a target environment to deploy to.")
        if problems:
            raise ValidationFailed(*problems)
        assert request.release_id and request.environment_id
        release = self.get(Release, space_id, request.release_id)
        environment = self.get(Environment, space_id, request.environment_id)
        if release is None:
            raise ValidationFailed(f"The release '{request.release_id}' does not exist.")
        if environment is None:
            raise ValidationFailed(f"The environment '{request.environment_id}' does not exist.")
        tenant = None
        if request.tenant_id:
            tenant = self.get(Tenant, space_id, request.tenant_id)
            if tenant is None:
                raise ValidationFailed(f"The tenant '{request.tenant_id}' does not exist.")
        return self._create(release, [_Target(environment, tenant, request)], caller)[0]

    def create_deployments_v1(self, space_id: str, request: ExecutionRequest, caller: Caller) -> list[Deployment]:
        """The executions API: names in, every target validated before any deployment is created."""
        project = self.find(Project, space_id, request.project)
        if project is None:
            raise ValidationFailed(f"Cannot find the project with name or id '{request.project}'.")
        release = self.release_of(project.id, request.release_version)
        if release is None or release.version != request.release_version.strip():  # the version exactly
            raise ValidationFailed(
                f"Release '{request.release_version}' of project '{project.name}' could not be found."
            )
        environments = self._environments_named(space_id, request.environment_names)
        tenants = self._tenants_for(space_id, project, environments, request) if request.tenanted else [None]
        machine_ids = self._machine_ids(space_id, request.specific_machine_names, strict=True)
        refresh = request.update_variable_snapshot
        known = self.live_variables(space_id, project, release) if refresh else self.release_variables(release)
        form = self._form_values(known, request.variables)
        skip = [
            s.action.id for s in release.steps if s.name.lower() in {n.strip().lower() for n in request.skip_step_names}
        ]
        targets = [
            _Target(
                env,
                tenant,
                DeploymentRequest(
                    release_id=release.id,
                    environment_id=env.id,
                    tenant_id=tenant.id if tenant else None,
                    force_package_download=request.force_package_download,
                    force_package_redeployment=request.force_package_redeployment,
                    skip_actions=skip,
                    specific_machine_ids=machine_ids,
                    excluded_machine_ids=self._machine_ids(space_id, request.excluded_machine_names, strict=False),
                    use_guided_failure=request.use_guided_failure,
                    form_values=form,
                    queue_time=request.run_at,
                    queue_time_expiry=request.no_run_after,
                    freeze_override_reason=request.freeze_override_reason,
                    freeze_names=list(request.freeze_names),
                ),
            )
            for env in environments
            for tenant in tenants
        ]
        return self._create(release, targets, caller, refresh_snapshot=refresh)

    def _environments_named(self, space_id: str, names: list[str]) -> list[Environment]:
        found, missing = [], []
        for name in names:
            env = self.find(Environment, space_id, name)
            if env is None:
                missing.append(name)
            elif env not in found:
                found.append(env)
        if missing:
            raise ValidationFailed(
                *(f"The environment '{m}' does not exist or you do not have permissions to view it." for m in missing)
            )
        return found

    def _tenants_for(
        self, space_id: str, project: Project, environments: list[Environment], request: ExecutionRequest
    ) -> list[Tenant | None]:
        if len(environments) > 1:
            raise ValidationFailed("Please specify only one environment at a time when deploying to tenants.")
        connected = [t for t in self.tenants_of(project.id) if t.space_id == space_id]
        if any(name.strip() == "*" for name in request.tenants):
            chosen = [t for t in connected if all(e.id in t.project_environments[project.id] for e in environments)]
        else:
            chosen, missing = [], []
            for name in request.tenants:
                tenant = self.find(Tenant, space_id, name)
                if tenant is None:
                    missing.append(name)
                else:
                    chosen.append(tenant)
            if missing:
                raise ValidationFailed(*(f"The tenant '{m}' does not exist." for m in missing))
        if request.tenant_tags:  # every connected tenant with the tags, beside those named
            chosen += [t for t in connected if t.has_tags(request.tenant_tags) and t not in chosen
                       and all(e.id in t.project_environments[project.id] for e in environments)]
        if not chosen:
            raise ValidationFailed(f"No tenants of project '{project.name}' can be deployed to these environments.")
        return list(chosen)

    def _machine_ids(self, space_id: str, names: list[str], *, strict: bool) -> list[str]:
        ids, missing = [], []
        for name in names:
            machine = self.find(Machine, space_id, name)
            if machine is None:
                missing.append(name)
            else:
                ids.append(machine.id)
        if strict and missing:
            noun = "machine" if len(missing) == 1 else "machines"
            verb = (
                "does not exist or you do not have permissions to view it"
                if len(missing) == 1
                else ("do not exist or you do not have permissions to view them")
            )
            raise ValidationFailed(f"The {noun} {', '.join(repr(m) for m in missing)} {verb}.")
        return ids

    def _form_values(self, variables: list[Variable], given: dict[str, str]) -> dict[str, str | None]:
        """Map ``{name or label: value}`` to ``FormValues`` keyed by the prompted variable's id."""
        form: dict[str, str | None] = {}
        wanted = {k.strip().lower(): v for k, v in given.items()}
        for variable in variables:
            if variable.prompt is None:
                continue
            for key in (variable.name.lower(), variable.prompt.label.lower()):
                if key in wanted:
                    form[variable.id] = wanted[key]
        return form

    def _problems(self, release: Release, target: _Target, variables: list[Variable]) -> list[str]:
        """Everything Octopus would refuse about one target, in the order it checks."""
        project = self.require(Project, None, release.project_id)
        env, tenant, request = target.environment, target.tenant, target.request
        problems = []
        if tenant is None and project.tenanted_mode == "Tenanted":
            problems.append(f"Project '{project.name}' can only be deployed to tenants; please specify a tenant.")
        if tenant is not None:
            if project.tenanted_mode == "Untenanted":
                problems.append(f"Project '{project.name}' is not configured for tenanted deployments.")
            elif env.id not in tenant.project_environments.get(project.id, []):
                problems.append(
                    f"Tenant '{tenant.name}' is not connected to project '{project.name}' for environment '{env.name}'."
                )
        lifecycle_problem = self.lifecycle_problem(release, env, tenant)
        if lifecycle_problem:
            problems.append(lifecycle_problem)
        outside = [self.get(Machine, None, m) for m in request.specific_machine_ids]
        strangers = [
            m.name if m else mid
            for m, mid in zip(outside, request.specific_machine_ids, strict=True)
            if m is None or env.id not in m.environment_ids
        ]
        if strangers:
            problems.append(
                f"The specific machines {', '.join(repr(s) for s in strangers)} are not in environment '{env.name}'."
            )
        for variable in variables:
            prompt = variable.prompt
            if prompt is not None and prompt.required and not (request.form_values.get(variable.id) or "").strip():
                problems.append(f"Please provide a variable for the prompted value {prompt.label}")
        problems += target.freezes.problems(project, env)
        if request.queue_time and request.queue_time_expiry and request.queue_time_expiry <= request.queue_time:
            problems.append(
                "The deployment will expire before it has a chance to execute.  Please select an expiry time "
                "that occurs after the deployment is scheduled to begin"
            )
        return problems

    def _create(
        self, release: Release, targets: list[_Target], caller: Caller, refresh_snapshot: bool = False
    ) -> list[Deployment]:
        """Check every target first (403 before 400), then create all of them, or nothing."""
        project = self.require(Project, None, release.project_id)
        for target in targets:
            target.freezes = self.target_freezes(project, target.environment, target.tenant, target.request)
            if not caller.may_deploy_to(target.environment):
                raise PermissionDenied("DeploymentCreate")
            if caller.environments is not None and target.freezes.overrides_now:
                raise PermissionDenied("DeploymentFreezeAdminister")
        variables = (self.live_variables(release.space_id, project, release) if refresh_snapshot
                     else self.release_variables(release))
        problems = [p for target in targets for p in self._problems(release, target, variables)]
        if problems:
            raise ValidationFailed(*problems)
        with self.store.transaction():
            if refresh_snapshot:
                self.snapshot_variables(release.space_id, release.id)
            created = [self._queue(release, t) for t in targets]
        self.on_task_queued()
        return created

    def _queue(self, release: Release, target: _Target) -> Deployment:
        project = self.require(Project, None, release.project_id)
        env, tenant, request = target.environment, target.tenant, target.request
        now = self.clock()
        suffix = f" for {tenant.name}" if tenant else ""
        deployment = Deployment(
            id=self.new_id("Deployments"),
            space_id=release.space_id,
            release_id=release.id,
            project_id=project.id,
            channel_id=release.channel_id,
            environment_id=env.id,
            tenant_id=tenant.id if tenant else None,
            task_id=self.new_id("ServerTasks"),
            created=now,
            force_package_download=request.force_package_download,
            force_package_redeployment=request.force_package_redeployment,
            skip_actions=list(request.skip_actions),
            specific_machine_ids=list(request.specific_machine_ids),
            excluded_machine_ids=list(request.excluded_machine_ids),
            use_guided_failure=env.use_guided_failure
            if request.use_guided_failure is None
            else request.use_guided_failure,
            comments=request.comments,
            form_values=dict(request.form_values),
            queue_time=request.queue_time,
            queue_time_expiry=request.queue_time_expiry,
            process_id=release.process_snapshot_id,
            overridden_freeze_ids=list(target.freezes.overridden_ids),
            freeze_override_reason=request.freeze_override_reason,
        )
        task = Task(
            id=deployment.task_id,
            space_id=release.space_id,
            description=f"Deploy {project.name} release {release.version} to {env.name}{suffix}",
            deployment_id=deployment.id,
            queue_time=request.queue_time or now,
            queue_time_expiry=request.queue_time_expiry,
            last_updated=now,
        )
        self.put(deployment, task)
        return deployment

