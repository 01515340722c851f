"""``sandbox --db PATH --export FILE``: the estate a database holds, as an estate file.

The inverse of ``seed.apply``: what a seed creates, an export writes back in the same form, so
seeding the export gives the same estate again (names, settings, what ran where and what failed).
What the format has no place for is left out: deployments still queued or running, cancelled
ones, and releases' timestamps (a seed's history always lies in the recent past). A sensitive
value is never written: it becomes ``SENSITIVE_PLACEHOLDER``.
"""

from __future__ import annotations

from typing import Any

import yaml

from octorelease.sandbox.estate.file import (
    PACKAGE_STEP,
    SCRIPT_STEP,
    SENSITIVE_PLACEHOLDER,
    ChannelSpec,
    DeploymentSpec,
    EnvironmentSpec,
    Estate,
    FailureSpec,
    FreezeSpec,
    GitRefSpec,
    GitSpec,
    GroupSpec,
    LibrarySetSpec,
    LifecycleSpec,
    MachineSpec,
    PhaseSpec,
    ProjectSpec,
    PromptSpec,
    ReleaseSpec,
    SpaceSpec,
    StepSpec,
    TagSetSpec,
    TeamSpec,
    TenantSpec,
    VariableSpec,
    VersioningSpec,
)
from octorelease.sandbox.rules.models import Backend
from octorelease.sandbox.state.entities import (
    DEFAULT_VERSIONING_TEMPLATE,
    MANUAL_STEP,
    Activity,
    Channel,
    Deployment,
    DeploymentFreeze,
    Environment,
    Feed,
    GitCommit,
    LibraryVariableSet,
    Lifecycle,
    Machine,
    Project,
    ProjectGroup,
    Release,
    Space,
    Step,
    TagSet,
    Task,
    Team,
    Tenant,
    Variable,
    VariableSet,
)
from octorelease.sandbox.state.state import id_order
from octorelease.sandbox.state.store import Store

HEADER = "# A sandbox estate: start a sandbox holding it with `octorelease sandbox --seed FILE`.\n"


def read_estate(db_path: str) -> str | None:
    """The estate file text for the database at ``db_path`` (``None``: it holds no space); the
    database is only read, and may be in use by a running sandbox."""
    store = Store(db_path)
    try:
        state = Backend(store)
        return dump_estate(export_estate(state)) if state.all(Space) else None
    finally:
        store.close()


def export_estate(state: Backend) -> Estate:
    """Every space of ``state`` as an estate."""
    return Estate(spaces=[_space(state, space) for space in sorted(state.all(Space), key=id_order)])


def _names(state: Backend, cls: type[Environment | Machine | Tenant | Channel | Team], ids: list[str]) -> list[str]:
    found = (state.get(cls, None, i) for i in ids)
    return [entity.name for entity in found if entity is not None]


def _space(state: Backend, space: Space) -> SpaceSpec:
    sid = space.id
    feed = next(iter(state.all(Feed, sid)), None)
    packages: dict[str, list[str]] = {}
    for version in feed.packages if feed else []:
        packages.setdefault(version.package_id, []).append(version.version)
    return SpaceSpec(
        name=space.name, description=space.description, default=space.is_default,
        environments=[EnvironmentSpec(name=e.name, description=e.description, guided_failure=e.use_guided_failure)
                      for e in sorted(state.all(Environment, sid), key=lambda e: (e.sort_order, id_order(e)))],
        project_groups=[GroupSpec(name=g.name, description=g.description) for g in state.all(ProjectGroup, sid)],
        machines=[MachineSpec(name=m.name, environments=_names(state, Environment, m.environment_ids),
                              roles=m.roles, disabled=m.is_disabled, tenants=_names(state, Tenant, m.tenant_ids),
                              endpoint=m.communication_style)
                  for m in state.all(Machine, sid)],
        lifecycles=[LifecycleSpec(name=life.name, description=life.description, phases=[
            PhaseSpec(name=p.name, automatic=_names(state, Environment, p.automatic),
                      manual=_names(state, Environment, [e for e in p.optional if e not in p.automatic]),
                      minimum=p.minimum, optional=p.is_optional_phase) for p in life.phases])
            for life in state.all(Lifecycle, sid)],
        packages=packages,
        library_variable_sets=[
            LibrarySetSpec(name=s.name, description=s.description,
                           variables=_variables(state, state.get(VariableSet, None, s.variable_set_id)))
            for s in state.all(LibraryVariableSet, sid)],
        projects=[_project(state, p) for p in state.all(Project, sid)],
        tenants=[TenantSpec(name=t.name, description=t.description, projects={
            project.name: _names(state, Environment, envs) for project_id, envs in t.project_environments.items()
            if (project := state.get(Project, None, project_id)) is not None}, tags=list(t.tenant_tags))
            for t in state.all(Tenant, sid)],
        tag_sets=[TagSetSpec(name=s.name, description=s.description, tags=list(s.tags))
                  for s in sorted(state.all(TagSet, sid), key=lambda s: s.sort_order)],
        teams=[TeamSpec(name=t.name, description=t.description, member=t.member) for t in state.all(Team, sid)],
        freezes=[spec for f in sorted(state.all(DeploymentFreeze), key=id_order)
                 if (spec := _freeze(state, f, space)) is not None],
    )


def _freeze(state: Backend, freeze: DeploymentFreeze, space: Space) -> FreezeSpec | None:
    """The part of a freeze that scopes this space's projects (a freeze is the server's, so one
    scoping projects of two spaces is written in both, and the seed joins them again); a freeze
    that scopes nothing is written in the default space. ``None``: nothing of it is here."""

    def here(project_id: str) -> str | None:
        project = state.get(Project, space.id, project_id)
        return project.name if project is not None else None

    projects = {name: _names(state, Environment, envs) for pid, envs in freeze.project_environments.items()
                if (name := here(pid)) is not None}
    tenants: dict[str, dict[str, list[str]]] = {}
    for tenant_id, project_id, environment_id in freeze.tenant_scopes:
        tenant, name = state.get(Tenant, space.id, tenant_id), here(project_id)
        if tenant is not None and name is not None:
            tenants.setdefault(tenant.name, {}).setdefault(name, []).extend(
                _names(state, Environment, [environment_id]))
    unscoped = not freeze.project_environments and not freeze.tenant_scopes
    if not (projects or tenants or (unscoped and space.is_default)):
        return None
    return FreezeSpec(name=freeze.name, description=freeze.description, start=freeze.start, end=freeze.end,
                      projects=projects, tenants=tenants, recurring=freeze.recurrence)


def _project(state: Backend, project: Project) -> ProjectSpec:
    channels = [c for c in state.all(Channel, project.space_id) if c.project_id == project.id]
    channels.sort(key=lambda c: (not c.is_default, id_order(c)))
    group = state.get(ProjectGroup, None, project.project_group_id)
    return ProjectSpec(
        name=project.name, description=project.description, group=group.name if group else None,
        lifecycle=state.require(Lifecycle, None, project.lifecycle_id).name,
        tenanted=project.tenanted_mode,  # type: ignore[arg-type]
        disabled=project.is_disabled,
        steps=_step_specs(state, project.steps),
        variables=_project_variables(state, project),
        library_variable_sets=[s.name for i in project.included_library_variable_set_ids
                               if (s := state.get(LibraryVariableSet, None, i)) is not None],
        channels=[ChannelSpec(name=c.name, description=c.description,
                              lifecycle=state.require(Lifecycle, None, c.lifecycle_id).name if c.lifecycle_id else None)
                  for c in channels],
        releases=[_release(state, r, channels) for r in sorted(state.releases_of(project.id), key=id_order)],
        versioning=_versioning(project),
        git=_git(state, project),
    )


def _versioning(project: Project | GitCommit) -> VersioningSpec | None:
    """A project's (or a commit's) versioning strategy, unless it is the default template (then
    left out)."""
    if project.versioning_package is not None:
        return VersioningSpec(package=project.versioning_package.action)
    if project.versioning_template in (None, DEFAULT_VERSIONING_TEMPLATE):
        return None
    return VersioningSpec(template=project.versioning_template)


def _step_specs(state: Backend, steps: list[Step]) -> list[StepSpec]:
    return [StepSpec(name=s.name, roles=s.roles,
                     package=s.action.packages[0].package_id if s.action.packages else None,
                     script=s.action.script, disabled=s.action.is_disabled,
                     type=None if s.action.action_type in (PACKAGE_STEP, SCRIPT_STEP, MANUAL_STEP)
                     else s.action.action_type,
                     manual=s.action.instructions if s.action.action_type == MANUAL_STEP else None,
                     teams=_names(state, Team, s.action.responsible_team_ids),
                     environments=_names(state, Environment, s.action.environments))
            for s in steps]


def _git(state: Backend, project: Project) -> GitSpec | None:
    """A version-controlled project's repository: each branch and tag with its head's process and
    versioning strategy, each written only where it differs from the project's own (the default
    branch's)."""
    repo = project.git
    if repo is None:
        return None
    own = _step_specs(state, project.steps)

    def ref(hash_: str) -> GitRefSpec:
        commit = repo.commits[hash_]
        steps = _step_specs(state, commit.steps)
        versioning = _versioning(commit)
        return GitRefSpec(steps=None if steps == own else steps,
                          versioning=None if versioning == _versioning(project) else versioning or VersioningSpec(
                              template=DEFAULT_VERSIONING_TEMPLATE))

    return GitSpec(url=repo.url, default_branch=repo.default_branch, base_path=repo.base_path, username=repo.username,
                   branches={n: ref(h) for n, h in repo.branches.items()},
                   tags={n: ref(h) for n, h in repo.tags.items()})


def _project_variables(state: Backend, project: Project) -> list[VariableSpec]:
    """The project's variables: a version-controlled project's non-sensitive ones are those of its
    default branch's head, its sensitive ones the database's."""
    stored = state.get(VariableSet, None, project.variable_set_id)
    repo = project.git
    in_git = repo.commits[repo.branches[repo.default_branch]].variables if repo else []
    return [_variable(state, v) for v in [*in_git, *(stored.variables if stored else [])]]


def _variables(state: Backend, variables: VariableSet | None) -> list[VariableSpec]:
    return [_variable(state, v) for v in (variables.variables if variables else [])]


def _variable(state: Backend, variable: Variable) -> VariableSpec:
    scope: dict[str, list[str]] = {}
    for kind, values in variable.scope.items():
        cls = {"Environment": Environment, "Machine": Machine, "Channel": Channel}.get(kind)
        scope[kind] = _names(state, cls, values) if cls else list(values)  # type: ignore[arg-type]
    sensitive = variable.is_sensitive or variable.type == "Sensitive"
    return VariableSpec(
        name=variable.name, value=SENSITIVE_PLACEHOLDER if sensitive else variable.value, sensitive=sensitive,
        scope=scope, prompt=PromptSpec(label=variable.prompt.label, description=variable.prompt.description,
                                       required=variable.prompt.required) if variable.prompt else None)


def _release(state: Backend, release: Release, channels: list[Channel]) -> ReleaseSpec:
    channel = next((c for c in channels if c.id == release.channel_id), None)
    deployments = sorted((d for d in state.all(Deployment, release.space_id) if d.release_id == release.id),
                         key=id_order)
    return ReleaseSpec(
        version=release.version, notes=release.release_notes,
        channel=channel.name if channel is not None and not channel.is_default else None,
        packages={p.step_name: p.version for p in release.selected_packages},
        git_ref=_named_ref(release.git_ref),
        deployments=[spec for d in deployments if (spec := _deployment(state, d)) is not None],
    )


def _named_ref(ref: str | None) -> str | None:
    """A release's branch or tag, as an estate names it; a bare commit is not kept (the estate's
    commits are made anew), so such a release is replayed at the default branch."""
    if ref is None or not ref.startswith(("refs/heads/", "refs/tags/")):
        return None
    return ref


def _deployment(state: Backend, deployment: Deployment) -> DeploymentSpec | None:
    """A finished deployment as the history replays it; ``None`` for one not finished or cancelled."""
    task = state.get(Task, None, deployment.task_id)
    if task is None or task.state not in ("Success", "Failed"):
        return None
    tenant = state.get(Tenant, None, deployment.tenant_id) if deployment.tenant_id else None
    environment = state.require(Environment, None, deployment.environment_id)
    fails = _failure(task.activity) if task.state == "Failed" and task.activity else None
    release = state.require(Release, None, deployment.release_id)
    names = {v.id: v.name for v in state.release_variables(release)} if deployment.form_values else {}
    prompted = {names[i]: value for i, value in deployment.form_values.items() if i in names and value is not None}
    return DeploymentSpec(to=environment.name, tenant=tenant.name if tenant else None, fails=fails,
                          prompted=prompted)


def _failure(root: Activity) -> FailureSpec | None:
    """The step and machine that failed, and the error they logged, read from the task's log."""
    for step in root.children:
        for machine in step.children:
            if machine.status == "Failed":
                name = step.name.split(": ", 1)[1] if step.name.startswith("Step ") else step.name
                error = next((line.message for line in machine.logs if line.category == "Error"), None)
                return FailureSpec(step=name, machine=machine.name, message=error)
    return None


def dump_estate(estate: Estate) -> str:
    """The estate as YAML: defaults left out, short forms where they say the same."""
    data = estate.model_dump(exclude_defaults=True)
    for space in data["spaces"]:
        space["environments"] = [_short(e, "name") for e in space.get("environments", [])] or None
        if "project_groups" in space:
            space["project_groups"] = [_short(g, "name") for g in space["project_groups"]]
        for project in space.get("projects", []):
            if "channels" in project:
                project["channels"] = [_short(c, "name") for c in project["channels"]]
            for release in project.get("releases", []):
                if "deployments" in release:
                    release["deployments"] = [_short(d, "to") for d in release["deployments"]]
        if space["environments"] is None:
            del space["environments"]
    return HEADER + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def _short(item: dict[str, Any], key: str) -> Any:
    return item[key] if list(item) == [key] else item


class _Dumper(yaml.SafeDumper):
    """Block style for mappings of several keys, flow style for lists of plain strings."""

    def represent_flow_list(self, data: list[Any]) -> yaml.Node:
        flow = all(isinstance(item, str) for item in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _Dumper.represent_flow_list)
