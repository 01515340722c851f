"""Creating, changing and deleting the estate through the API: environments, machines, project
groups, projects, deployment processes, channels, tenants and uploaded packages (moto's models:
rules only; ``writes.py`` binds the HTTP requests to these).

Every method checks everything first and writes after, in one transaction, so a refused request
leaves nothing behind (octopus-api-more.md §6). Names are unique within their space (a channel's
within its project), compared in any letter case; the wording of the refusals is the sandbox's
own where Octopus's is not public (docs/guides/sandbox.md).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from octorelease.sandbox.errors import Conflict, ResourceNotFound, ValidationFailed
from octorelease.sandbox.rules import git
from octorelease.sandbox.state.entities import (
    TASK_ACTIVE_STATES,
    Action,
    Channel,
    Deployment,
    DonorPackage,
    Environment,
    Feed,
    LibraryVariableSet,
    Lifecycle,
    Machine,
    Named,
    PackageReference,
    PackageVersion,
    Project,
    ProjectGroup,
    Release,
    Step,
    Task,
    Tenant,
    VariableSet,
)
from octorelease.sandbox.state.state import State

DEFAULT_GROUP_ID = "ProjectGroups-1"
DEFAULT_GROUP_NAME = "Default Project Group"
MAX_NAME = 200
MAX_ENVIRONMENT_NAME = 50
TENANTED_MODES = ("Untenanted", "TenantedOrUntenanted", "Tenanted")
COMMUNICATION_STYLES = ("None", "TentaclePassive", "TentacleActive", "Ssh", "OfflineDrop", "AzureWebApp", "Ftp",
                        "AzureCloudService", "AzureServiceFabricCluster", "Kubernetes", "StepPackage",
                        "KubernetesTentacle", "AwsEcsCluster")
OVERWRITE_MODES = ("FailIfExists", "OverwriteExisting", "IgnoreIfExists")
PACKAGE_EXISTS = ("A package with the same ID and version already exists. To proceed anyway, specify an "
                  "overwriteMode of OverwriteExisting or IgnoreIfExists.")
#: a file name's extension, longest first, as Octopus strips it (octopus-api-more.md §7)
PACKAGE_EXTENSIONS = (".tar.gz", ".tar.bz2", ".tar.bz", ".tar.z", ".nupkg", ".zip", ".jar", ".war", ".ear", ".rar",
                      ".tar", ".tgz", ".tbz2", ".tbz")
_SEMVER = re.compile(r"^\d+(\.\d+){0,3}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
_PACKAGE_ID = re.compile(r"^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$")


def name_too_long(kind: str, limit: int) -> str:
    """The API's words for a name over ``limit`` characters (an estate file's check says them too)."""
    return f"The name of the {kind} must be at most {limit} characters long."


@dataclass
class MachineFields:
    """A deployment target as a request gives it (names are checked by the rules)."""

    name: str | None
    environment_ids: list[str]
    roles: list[str]
    tenant_ids: list[str] = field(default_factory=list)
    is_disabled: bool = False
    communication_style: str | None = None
    uri: str | None = None
    thumbprint: str | None = None
    tenanted_participation: str | None = None
    description: str | None = None


@dataclass
class ProjectFields:
    name: str | None
    lifecycle_id: str | None
    project_group_id: str | None = None
    description: str | None = None
    tenanted_mode: str | None = None
    is_disabled: bool | None = None
    included_library_variable_set_ids: list[str] | None = None
    #: the ``VersioningStrategy`` written, if one is
    versioning: VersioningFields | None = None


@dataclass(frozen=True)
class VersioningFields:
    """A project's versioning strategy as written: a template, or a donor package (which wins)."""

    template: str | None
    package: DonorPackage | None


@dataclass
class StepFields:
    """One process step with its first action (the sandbox keeps one action per step)."""

    id: str | None
    name: str | None
    roles: list[str]
    action_id: str | None
    action_name: str | None
    action_type: str | None
    package_id: str | None
    feed_id: str | None
    script: str
    is_disabled: bool
    extra_actions: int = 0
    #: ``Action.Environments``, and a manual intervention's instructions and responsible teams
    environments: list[str] = field(default_factory=list)
    instructions: str = ""
    responsible_team_ids: list[str] = field(default_factory=list)


@dataclass
class UploadedPackage:
    package: PackageVersion
    created: bool


def parse_package_file_name(file_name: str) -> tuple[str, str]:
    """``Acme.Web.2.0.0-beta.1.zip`` -> (``Acme.Web``, ``2.0.0-beta.1``): the shortest id followed
    by a valid version, as Octopus reads an uploaded file's name."""
    lowered = file_name.lower()
    extension = next((e for e in PACKAGE_EXTENSIONS if lowered.endswith(e)), None)
    if extension is None:
        raise ValidationFailed(f"The file '{file_name}' is not a supported package type "
                               f"({', '.join(PACKAGE_EXTENSIONS)}).")
    stem = file_name[: -len(extension)]
    parts = stem.split(".")
    for cut in range(1, len(parts)):
        package_id, version = ".".join(parts[:cut]), ".".join(parts[cut:])
        if _PACKAGE_ID.match(package_id) and _SEMVER.match(version):
            return package_id, version
    raise ValidationFailed(f"The package file name '{file_name}' must be <PackageId>.<Version>{extension}, "
                           "for example Acme.Web.1.2.3.zip.")


class EditRules(State):
    """The create, modify and delete operations of the catalog."""

    # -- shared checks ---------------------------------------------------------------------------

    def _name(self, given: str | None, kind: str, limit: int = MAX_NAME) -> str:
        name = (given or "").strip()
        if not name:
            raise ValidationFailed(f"Please provide a name for the {kind}.")
        if len(name) > limit:
            raise ValidationFailed(name_too_long(kind, limit))
        return name

    def _unique(self, items: list[Named], name: str, kind: str, own_id: str | None) -> list[str]:
        clash = [i for i in items if i.name.lower() == name.lower() and i.id != own_id]
        article = "An" if kind[0] in "aeiou" else "A"
        return [f"{article} {kind} with the name '{name}' already exists."] if clash else []

    def _missing(self, cls: type[Named], space_id: str, ids: list[str], kind: str) -> list[str]:
        return [f"The {kind} '{i}' does not exist." for i in ids if self.get(cls, space_id, i) is None]

    # -- environments ----------------------------------------------------------------------------

    def save_environment(self, space_id: str, environment_id: str | None, name: str | None, description: str | None,
                         sort_order: int | None, use_guided_failure: bool | None) -> Environment:
        """Create (``environment_id`` None) or change an environment; a new one sorts last."""
        current = self.require(Environment, space_id, environment_id) if environment_id else None
        name = self._name(name if name is not None or current is None else current.name, "environment",
                          MAX_ENVIRONMENT_NAME)
        problems = self._unique(list(self.all(Environment, space_id)), name, "environment",
                                current.id if current else None)
        if problems:
            raise ValidationFailed(*problems)
        others = self.all(Environment, space_id)
        saved = current.model_copy() if current else Environment(
            id=self.new_id("Environments"), space_id=space_id, name=name,
            sort_order=max((e.sort_order for e in others), default=-1) + 1)
        saved.name = name
        if description is not None:
            saved.description = description
        if sort_order is not None and current is not None:
            saved.sort_order = sort_order
        if use_guided_failure is not None:
            saved.use_guided_failure = use_guided_failure
        self.put(saved)
        return saved

    def delete_environment(self, space_id: str, environment_id: str) -> None:
        """Refused while anything refers to it: machines, lifecycle phases, tenants, deployments."""
        env = self.require(Environment, space_id, environment_id)
        users = [f"machine '{m.name}'" for m in self.all(Machine, space_id) if env.id in m.environment_ids]
        users += [f"lifecycle '{life.name}'" for life in self.all(Lifecycle, space_id)
                  if any(env.id in p.environment_ids for p in life.phases)]
        users += [f"tenant '{t.name}'" for t in self.all(Tenant, space_id)
                  if any(env.id in envs for envs in t.project_environments.values())]
        if any(d.environment_id == env.id for d in self.all(Deployment, space_id)):
            users.append("deployments")
        if users:
            raise ValidationFailed(f"The environment '{env.name}' cannot be deleted: it is used by "
                                   f"{', '.join(users)}.")
        self.remove(env)

    # -- machines --------------------------------------------------------------------------------

    def save_machine(self, space_id: str, machine_id: str | None, fields: MachineFields) -> Machine:
        current = self.require(Machine, space_id, machine_id) if machine_id else None
        name = self._name(fields.name, "machine")
        problems = self._unique(list(self.all(Machine, space_id)), name, "machine", current.id if current else None)
        if not fields.environment_ids:
            problems.append("Please specify at least one environment for the machine.")
        if not [r for r in fields.roles if r.strip()]:
            problems.append("Please specify at least one role for the machine.")
        problems += self._missing(Environment, space_id, fields.environment_ids, "environment")
        problems += self._missing(Tenant, space_id, fields.tenant_ids, "tenant")
        style = fields.communication_style or (current.communication_style if current else "TentaclePassive")
        if style not in COMMUNICATION_STYLES:
            problems.append(f"The communication style '{style}' is not one of {', '.join(COMMUNICATION_STYLES)}.")
        participation = fields.tenanted_participation or (
            current.tenanted_participation if current else "Untenanted")
        if participation not in TENANTED_MODES:
            problems.append(f"TenantedDeploymentParticipation must be one of {', '.join(TENANTED_MODES)}.")
        if problems:
            raise ValidationFailed(*problems)
        envs = [self.require(Environment, space_id, e).id for e in fields.environment_ids]
        saved = current.model_copy() if current else Machine(
            id=self.new_id("Machines"), space_id=space_id, name=name, environment_ids=envs, roles=[])
        saved.name, saved.environment_ids = name, envs
        saved.roles = [r.strip() for r in fields.roles if r.strip()]
        saved.tenant_ids = [self.require(Tenant, space_id, t).id for t in fields.tenant_ids]
        saved.is_disabled, saved.communication_style = fields.is_disabled, style
        saved.uri = fields.uri if fields.uri is not None else saved.uri
        saved.thumbprint = fields.thumbprint if fields.thumbprint is not None else saved.thumbprint
        saved.tenanted_participation = participation
        if fields.description is not None:
            saved.description = fields.description
        self.put(saved)
        return saved

    def delete_machine(self, space_id: str, machine_id: str) -> None:
        self.remove(self.require(Machine, space_id, machine_id))

    # -- project groups --------------------------------------------------------------------------

    def project_groups(self, space_id: str) -> list[ProjectGroup]:
        """The space's groups, "Default Project Group" first (it is not stored)."""
        default = ProjectGroup(id=DEFAULT_GROUP_ID, space_id=space_id, name=DEFAULT_GROUP_NAME)
        return [default, *self.all(ProjectGroup, space_id)]

    def project_group(self, space_id: str, group_id: str) -> ProjectGroup:
        for group in self.project_groups(space_id):
            if group.id.lower() == group_id.lower():
                return group
        raise ResourceNotFound(group_id)

    def save_project_group(self, space_id: str, group_id: str | None, name: str | None,
                           description: str | None) -> ProjectGroup:
        current = self.project_group(space_id, group_id) if group_id else None
        if current is not None and current.id == DEFAULT_GROUP_ID:
            raise ValidationFailed(f"The '{DEFAULT_GROUP_NAME}' cannot be changed in the sandbox.")
        name = self._name(name, "project group")
        problems = self._unique(list(self.project_groups(space_id)), name, "project group",
                                current.id if current else None)
        if problems:
            raise ValidationFailed(*problems)
        saved = current.model_copy() if current else ProjectGroup(id=self._group_id(), space_id=space_id, name=name)
        saved.name = name
        if description is not None:
            saved.description = description
        self.put(saved)
        return saved

    def _group_id(self) -> str:
        new = self.new_id("ProjectGroups")
        return self.new_id("ProjectGroups") if new == DEFAULT_GROUP_ID else new

    @staticmethod
    def _versioning_problems(current: Project | None, versioning: VersioningFields) -> list[str]:
        """A template that is not blank, or a donor package that one of the project's steps deploys."""
        donor = versioning.package
        if donor is None:
            return [] if (versioning.template or "").strip() else [
                "The versioning strategy needs a template, or a donor package to take the version from."]
        deploys = any(a.name.lower() == donor.action.lower() and r.name.lower() == donor.reference.lower()
                      for a in (s.action for s in (current.steps if current else [])) for r in a.packages)
        if deploys:
            return []
        package = f"package '{donor.reference}'" if donor.reference else "primary package"
        return [f"The versioning strategy's donor package is the {package} of step '{donor.action}', "
                "which the deployment process does not have."]

    def delete_project_group(self, space_id: str, group_id: str) -> None:
        group = self.project_group(space_id, group_id)
        if group.id == DEFAULT_GROUP_ID:
            raise ValidationFailed(f"The '{DEFAULT_GROUP_NAME}' cannot be deleted.")
        used = [p.name for p in self.all(Project, space_id) if p.project_group_id == group.id]
        if used:
            raise ValidationFailed(f"The project group '{group.name}' still holds the projects {', '.join(used)}.")
        self.remove(group)

    # -- projects --------------------------------------------------------------------------------

    def save_project(self, space_id: str, project_id: str | None, fields: ProjectFields) -> Project:
        """Create a project (with its variable set, an empty process and a "Default" channel) or
        change one; only the fields given change."""
        current = self.require(Project, space_id, project_id) if project_id else None
        name = self._name(fields.name if fields.name is not None or current is None else current.name, "project")
        problems = self._unique(list(self.all(Project, space_id)), name, "project", current.id if current else None)
        slug = "-".join(name.lower().split())
        if any(p.slug == slug and p.id != (current.id if current else None) for p in self.all(Project, space_id)):
            problems.append(f"A project with the slug '{slug}' already exists.")
        if name.lower() == "new":
            problems.append(f"A project cannot be named '{name}'.")
        lifecycle_id = fields.lifecycle_id or (current.lifecycle_id if current else None)
        if not lifecycle_id:
            problems.append("Please select a lifecycle for the project.")
        else:
            problems += self._missing(Lifecycle, space_id, [lifecycle_id], "lifecycle")
        group_id = fields.project_group_id or (current.project_group_id if current else DEFAULT_GROUP_ID)
        if not any(g.id.lower() == group_id.lower() for g in self.project_groups(space_id)):
            problems.append(f"The project group '{group_id}' does not exist.")
        mode = fields.tenanted_mode or (current.tenanted_mode if current else "Untenanted")
        if mode not in TENANTED_MODES:
            problems.append(f"TenantedDeploymentMode must be one of {', '.join(TENANTED_MODES)}.")
        sets = fields.included_library_variable_set_ids
        if sets is not None:
            problems += self._missing(LibraryVariableSet, space_id, sets, "library variable set")
        if fields.versioning is not None:
            problems += self._versioning_problems(current, fields.versioning)
        if problems:
            raise ValidationFailed(*problems)
        assert lifecycle_id is not None
        lifecycle = self.require(Lifecycle, space_id, lifecycle_id)
        group = self.project_group(space_id, group_id)
        saved = current.model_copy() if current else Project(
            id=self.new_id("Projects"), space_id=space_id, name=name, lifecycle_id=lifecycle.id)
        saved.name, saved.lifecycle_id, saved.project_group_id, saved.tenanted_mode = (
            name, lifecycle.id, group.id, mode)
        if fields.description is not None:
            saved.description = fields.description
        if fields.is_disabled is not None:
            saved.is_disabled = fields.is_disabled
        if sets is not None:
            chosen = [self.require(LibraryVariableSet, space_id, s).id for s in sets]
            saved.included_library_variable_set_ids = list(dict.fromkeys(chosen))  # once each, in order
        if fields.versioning is not None:
            saved.versioning_package = fields.versioning.package
            saved.versioning_template = None if fields.versioning.package else fields.versioning.template
        if current is None:
            self.put(saved, VariableSet(id=saved.variable_set_id, space_id=space_id, owner_id=saved.id),
                     Channel(id=self.new_id("Channels"), space_id=space_id, project_id=saved.id, name="Default",
                             is_default=True))
        else:
            self.put(saved)
        return saved

    def save_settings_at(self, space_id: str, project_ref: str, git_ref: str,
                         versioning: VersioningFields | None) -> Project:
        """``PUT /projects/{id}/{gitRef}/deploymentsettings``: a version-controlled project's
        deployment settings as a new commit on the branch (of what they carry, the sandbox keeps
        the versioning strategy). Returns the project at the new commit."""
        project = self.project(space_id, project_ref)
        here = git.at(project, git.resolve(project, git_ref).commit)
        if versioning is None:
            return here
        problems = self._versioning_problems(here, versioning)
        if problems:
            raise ValidationFailed(*problems)
        project = git.commit_to(project, git_ref, self.clock(), versioning_package=versioning.package,
                                versioning_template=None if versioning.package else versioning.template)
        self.put(project)
        return git.at(project, git.resolve(project, git_ref).commit)

    def delete_project(self, space_id: str, project_id: str) -> None:
        """The project goes with its channels, variables, releases, their deployments and tasks;
        refused while one of its deployments runs."""
        project = self.require(Project, space_id, project_id)
        deployments = [d for d in self.all(Deployment, space_id) if d.project_id == project.id]
        tasks = [t for d in deployments if (t := self.get(Task, None, d.task_id)) is not None]
        if any(t.state in TASK_ACTIVE_STATES for t in tasks):
            raise ValidationFailed(f"The project '{project.name}' has deployments running; cancel them first.")
        releases = [r for r in self.all(Release, space_id) if r.project_id == project.id]
        variable_sets = [v for v in self.all(VariableSet, space_id) if v.owner_id == project.id]
        channels = [c for c in self.all(Channel, space_id) if c.project_id == project.id]
        with self.store.transaction():
            for tenant in self.all(Tenant, space_id):
                if project.id in tenant.project_environments:
                    del tenant.project_environments[project.id]
                    self.put(tenant)
            self.remove(project, *channels, *variable_sets, *releases, *deployments, *tasks)

    # -- deployment process ----------------------------------------------------------------------

    def save_process(self, space_id: str, project_ref: str, version: int | None, steps: list[StepFields],
                     git_ref: str | None = None) -> Project:
        """Replace a project's process (``PUT deploymentprocesses/{id}``); a stale ``Version`` is
        refused, as another user's change would be. A release's frozen copy cannot be changed.
        A version-controlled project's process is saved at a branch only, as a new commit
        (``PUT projects/{id}/{gitRef}/deploymentprocesses``); its database route is 404."""
        project = self.project(space_id, project_ref)
        if git_ref is None:
            git.database_only(project, project.process_id)
        else:
            git.resolve(project, git_ref)
        if git_ref is None and version is not None and version != project.process_version:
            raise ValidationFailed(
                "Changes to this deployment process could not be saved, because another user has made changes to "
                "the deployment process between when you started editing and when you saved your changes. Please "
                "reload the deployment process and try again.")
        problems: list[str] = []
        seen: set[str] = set()
        for number, step in enumerate(steps, start=1):
            name = (step.name or "").strip()
            if not name:
                problems.append(f"Step {number}: please provide a name for the step.")
            elif name.lower() in seen:
                problems.append(f"Step names must be unique: '{name}' is used more than once.")
            seen.add(name.lower())
            if not step.action_type:
                problems.append(f"Step '{name}': please provide the action type of its action.")
            if step.feed_id and step.feed_id != "feeds-builtin" and self.get(Feed, space_id, step.feed_id) is None:
                problems.append(f"Step '{name}': the feed '{step.feed_id}' does not exist.")
        if problems:
            raise ValidationFailed(*problems)
        if git_ref is not None:
            project = git.commit_to(project, git_ref, self.clock(), steps=[self._step(s) for s in steps])
            self.put(project)
            return git.at(project, git.resolve(project, git_ref).commit)
        project = project.model_copy()
        project.steps = [self._step(s) for s in steps]
        project.process_version += 1
        self.put(project)
        return project

    def _step(self, fields: StepFields) -> Step:
        name = (fields.name or "").strip()
        step_id = fields.id or str(uuid.uuid4())
        packages = [PackageReference(id=str(uuid.uuid4()), package_id=fields.package_id,
                                     feed_id=fields.feed_id or "feeds-builtin")] if fields.package_id else []
        return Step(id=step_id, name=name, roles=[r.strip() for r in fields.roles if r.strip()], action=Action(
            id=fields.action_id or str(uuid.uuid4()), name=(fields.action_name or name).strip(),
            action_type=fields.action_type or "Octopus.Script", packages=packages, script=fields.script,
            is_disabled=fields.is_disabled, environments=list(fields.environments),
            instructions=fields.instructions, responsible_team_ids=list(fields.responsible_team_ids)))

    # -- channels --------------------------------------------------------------------------------

    def save_channel(self, space_id: str, channel_id: str | None, project_id: str | None, name: str | None,
                     description: str | None, lifecycle_id: str | None, is_default: bool | None) -> Channel:
        """Create or change a channel; making one the default makes the others not."""
        current = self.require(Channel, space_id, channel_id) if channel_id else None
        owner = current.project_id if current else project_id  # ProjectId is create-only
        if not owner:
            raise ValidationFailed("Please select the project of the channel.")
        project = self.get(Project, space_id, owner)
        if project is None:
            raise ValidationFailed(f"The project '{owner}' does not exist.")
        name = self._name(name if name is not None or current is None else current.name, "channel")
        siblings = [c for c in self.all(Channel, space_id) if c.project_id == project.id]
        problems = self._unique(list(siblings), name, "channel", current.id if current else None)
        if lifecycle_id:
            problems += self._missing(Lifecycle, space_id, [lifecycle_id], "lifecycle")
        if current is not None and current.is_default and is_default is False:
            problems.append("A project needs a default channel: make another channel the default instead.")
        if problems:
            raise ValidationFailed(*problems)
        saved = current.model_copy() if current else Channel(
            id=self.new_id("Channels"), space_id=space_id, project_id=project.id, name=name,
            is_default=not siblings)
        saved.name = name
        if description is not None:
            saved.description = description
        if current is None or lifecycle_id is not None:
            saved.lifecycle_id = self.require(Lifecycle, space_id, lifecycle_id).id if lifecycle_id else None
        changed: list[Channel] = [saved]
        if is_default:
            saved.is_default = True
            for other in siblings:
                if other.id != saved.id and other.is_default:
                    other = other.model_copy()
                    other.is_default = False
                    changed.append(other)
        self.put(*changed)
        return saved

    def delete_channel(self, space_id: str, channel_id: str) -> None:
        channel = self.require(Channel, space_id, channel_id)
        if channel.is_default:
            raise ValidationFailed("You cannot delete the default channel.")
        if any(r.channel_id == channel.id for r in self.all(Release, space_id)):
            raise ValidationFailed(f"The channel '{channel.name}' has releases; delete them first.")
        self.remove(channel)

    # -- tenants ---------------------------------------------------------------------------------

    def save_tenant(self, space_id: str, tenant_id: str | None, name: str | None, description: str | None,
                    project_environments: dict[str, list[str]] | None) -> Tenant:
        current = self.require(Tenant, space_id, tenant_id) if tenant_id else None
        name = self._name(name if name is not None or current is None else current.name, "tenant")
        problems = self._unique(list(self.all(Tenant, space_id)), name, "tenant", current.id if current else None)
        connections = project_environments or {}
        problems += self._missing(Project, space_id, list(connections), "project")
        problems += self._missing(Environment, space_id, sorted({e for es in connections.values() for e in es}),
                                  "environment")
        if problems:
            raise ValidationFailed(*problems)
        saved = current.model_copy() if current else Tenant(id=self.new_id("Tenants"), space_id=space_id, name=name)
        saved.name = name
        if description is not None:
            saved.description = description
        if project_environments is not None:
            saved.project_environments = {
                self.require(Project, space_id, p).id: [self.require(Environment, space_id, e).id for e in envs]
                for p, envs in connections.items()}
        self.put(saved)
        return saved

    def delete_tenant(self, space_id: str, tenant_id: str) -> None:
        tenant = self.require(Tenant, space_id, tenant_id)
        machines = [m for m in self.all(Machine, space_id) if tenant.id in m.tenant_ids]
        for machine in machines:
            machine.tenant_ids = [t for t in machine.tenant_ids if t != tenant.id]
        with self.store.transaction():
            if machines:
                self.put(*machines)
            self.remove(tenant)

    # -- packages --------------------------------------------------------------------------------

    def upload_package(self, space_id: str, file_name: str | None, size: int, overwrite_mode: str) -> UploadedPackage:
        """A file pushed to the built-in feed (``POST packages/raw``): its id and version come from
        its name. An existing version is refused (``FailIfExists``), kept (``IgnoreIfExists``)
        or replaced (``OverwriteExisting``)."""
        if overwrite_mode not in OVERWRITE_MODES:
            raise ValidationFailed(f"The overwriteMode '{overwrite_mode}' is not one of {', '.join(OVERWRITE_MODES)}.")
        if not file_name:
            raise ValidationFailed("No package file was uploaded: send it as a multipart/form-data file.")
        if size == 0:
            raise ValidationFailed(f"The package file '{file_name}' is empty.")
        package_id, version = parse_package_file_name(file_name)
        feed = self.feed(space_id)
        existing = next((p for p in feed.packages
                         if p.package_id.lower() == package_id.lower() and p.version.lower() == version.lower()), None)
        if existing is not None and overwrite_mode == "FailIfExists":
            raise Conflict(PACKAGE_EXISTS)
        if existing is not None and overwrite_mode == "IgnoreIfExists":
            return UploadedPackage(existing, created=False)
        uploaded = PackageVersion(package_id=package_id, version=version, published=self.clock(), size_bytes=size)
        feed = feed.model_copy()
        feed.packages = [p for p in feed.packages if p is not existing] + [uploaded]
        self.put(feed)
        return UploadedPackage(uploaded, created=True)
