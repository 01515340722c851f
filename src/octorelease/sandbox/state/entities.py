"""The sandbox's state, one class per Octopus resource, with no rules and no HTTP.

Entities are pydantic models so that ``store.py`` can keep each one as a JSON document and load
it back unchanged. Field names are Python's; ``http/resources.py`` maps them to Octopus's JSON.
Every entity has a ``KIND`` (its table key in the store) and a ``key`` unique within the kind,
and says what it is looked up by (``index_keys``), which ``State`` indexes it under so that no
lookup scans a kind: the rules' queries are declared here, beside the fields they read.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field


class Entity(BaseModel):
    """A stored resource; ``key`` is its id, unless ids repeat across spaces (feeds)."""

    KIND: ClassVar[str] = ""
    id: str
    space_id: str = ""
    #: when and by whom it was last written (``State.put`` sets both): Octopus's audit fields
    last_modified_on: datetime | None = None
    last_modified_by: str | None = None

    @property
    def key(self) -> str:
        return self.id

    def index_keys(self) -> tuple[Hashable, ...]:
        """The ``(tag, value)`` pairs ``State.indexed`` finds this entity under: every entity
        by its space and its lower-cased id (ids match in any letter case); subclasses add their
        own."""
        return ("space", self.space_id), ("id", self.id.lower())


class Named(Entity):
    """A resource looked up by name, partial name or id (spaces, projects, environments, ...)."""

    name: str
    description: str = ""

    @property
    def slug(self) -> str:
        return "-".join(self.name.lower().split())

    def index_keys(self) -> tuple[Hashable, ...]:
        """By name and slug within its space too (``State.find``)."""
        return (*super().index_keys(), ("name", (self.space_id, self.name.lower())),
                ("slug", (self.space_id, self.slug)))


class Space(Named):
    KIND: ClassVar[str] = "space"
    is_default: bool = False


class Environment(Named):
    KIND: ClassVar[str] = "environment"
    sort_order: int = 0
    use_guided_failure: bool = False


class Machine(Named):
    """A deployment target; ``installed`` and ``cached`` are what earlier deployments left on it."""

    KIND: ClassVar[str] = "machine"
    environment_ids: list[str]
    roles: list[str]
    is_disabled: bool = False
    health_status: str = "Healthy"
    tenant_ids: list[str] = Field(default_factory=list)
    #: how Octopus would reach it (``TentaclePassive``, ``TentacleActive``, ``Ssh``, ``None``, ...):
    #: stored and shown, never used (every target answers)
    communication_style: str = "TentaclePassive"
    uri: str | None = None
    thumbprint: str | None = None
    tenanted_participation: str = "TenantedOrUntenanted"
    #: package id -> the version a successful package step last installed
    installed: dict[str, str] = Field(default_factory=dict)
    #: "PackageId@Version" entries already downloaded to the machine's package cache
    cached: list[str] = Field(default_factory=list)

    def index_keys(self) -> tuple[Hashable, ...]:
        """By each of its environments too (``State.machines_in``)."""
        return (*super().index_keys(), *(("environment", e) for e in dict.fromkeys(self.environment_ids)))


class Phase(BaseModel):
    id: str
    name: str
    automatic: list[str] = Field(default_factory=list)
    optional: list[str] = Field(default_factory=list)
    minimum: int = 0
    is_optional_phase: bool = False

    @property
    def environment_ids(self) -> list[str]:
        return self.automatic + [e for e in self.optional if e not in self.automatic]


class Lifecycle(Named):
    KIND: ClassVar[str] = "lifecycle"
    phases: list[Phase] = Field(default_factory=list)


class ProjectGroup(Named):
    """A group of projects; every space also has "Default Project Group" (``ProjectGroups-1``),
    which is not stored (``editing.DEFAULT_GROUP``)."""

    KIND: ClassVar[str] = "projectgroup"


class Channel(Named):
    KIND: ClassVar[str] = "channel"
    project_id: str
    lifecycle_id: str | None = None
    is_default: bool = False


class PackageReference(BaseModel):
    id: str
    package_id: str
    name: str = ""
    feed_id: str = "feeds-builtin"


class Action(BaseModel):
    id: str
    name: str
    action_type: str
    packages: list[PackageReference] = Field(default_factory=list)
    script: str = ""
    is_disabled: bool = False
    #: the environments (ids) the step runs in; none: every environment (``Action.Environments``)
    environments: list[str] = Field(default_factory=list)
    #: a manual intervention's ``Octopus.Action.Manual.Instructions`` and
    #: ``Octopus.Action.Manual.ResponsibleTeamIds`` (team ids; none: anyone may act)
    instructions: str = ""
    responsible_team_ids: list[str] = Field(default_factory=list)

    def runs_in(self, environment_id: str) -> bool:
        """Whether the step is part of a deployment to this environment."""
        return not self.environments or environment_id in self.environments


MANUAL_STEP = "Octopus.Manual"


class Step(BaseModel):
    """A deployment process step; the sandbox gives each step exactly one action."""

    id: str
    name: str
    roles: list[str]
    action: Action


class DonorPackage(BaseModel):
    """The package whose version a release takes as its own (``VersioningStrategy.DonorPackage``)."""

    #: the action's name, as ``DeploymentAction`` gives it
    action: str
    #: the package reference's name within the action; "" for the action's primary package
    reference: str = ""


class Prompt(BaseModel):
    label: str
    description: str = ""
    required: bool = False


class Variable(BaseModel):
    id: str
    name: str
    value: str | None = None
    type: str = "String"
    is_sensitive: bool = False
    scope: dict[str, list[str]] = Field(default_factory=dict)
    prompt: Prompt | None = None


#: the versioning template a project has unless one is written (the real server's default)
DEFAULT_VERSIONING_TEMPLATE = "#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}"


class GitCommit(BaseModel):
    """One commit of a version-controlled project's repository: the process it holds, the
    deployment settings (the versioning strategy: a template, or a donor package, which wins) and
    the project's non-sensitive variables (sensitive ones stay in the database, one set for every ref)."""

    hash: str
    message: str = ""
    committed: datetime | None = None
    steps: list[Step] = Field(default_factory=list)
    variables: list[Variable] = Field(default_factory=list)
    versioning_template: str | None = DEFAULT_VERSIONING_TEMPLATE
    versioning_package: DonorPackage | None = None


class GitRepository(BaseModel):
    """Where a version-controlled ("Config as Code") project keeps its process, and the branches
    and tags the sandbox knows of it. Nothing is cloned: each ref names a commit held here, so a
    release can freeze the process of one commit while the branch moves on."""

    url: str
    default_branch: str = "main"
    base_path: str = ".octopus"
    #: ``Anonymous``, or the user name of ``UsernamePassword`` credentials (the password is never kept)
    username: str | None = None
    #: branch name (``main``, ``feature/x``) -> its head commit's hash
    branches: dict[str, str] = Field(default_factory=dict)
    #: tag name -> the hash of the commit it points at
    tags: dict[str, str] = Field(default_factory=dict)
    commits: dict[str, GitCommit] = Field(default_factory=dict)



class Project(Named):
    KIND: ClassVar[str] = "project"
    lifecycle_id: str
    tenanted_mode: str = "Untenanted"
    project_group_id: str = "ProjectGroups-1"
    is_disabled: bool = False
    steps: list[Step] = Field(default_factory=list)
    process_version: int = 1
    #: library variable sets whose variables the project's releases take too, in order (earlier wins)
    included_library_variable_set_ids: list[str] = Field(default_factory=list)
    #: how a release made without a version gets one: this template, unless a donor package is named
    versioning_template: str | None = DEFAULT_VERSIONING_TEMPLATE
    versioning_package: DonorPackage | None = None
    #: where a version-controlled project's process lives; None for a database project
    git: GitRepository | None = None
    #: the commit a copy of the project is seen at (``rules/git.py``'s ``at``); never stored
    at_commit: str | None = Field(default=None, exclude=True)

    @property
    def process_id(self) -> str:
        return f"deploymentprocess-{self.id}"

    @property
    def variable_set_id(self) -> str:
        return f"variableset-{self.id}"


class LibraryVariableSet(Named):
    """Variables kept outside any project, which projects include (``LibraryVariableSets-N``)."""

    KIND: ClassVar[str] = "libraryvariableset"
    content_type: str = "Variables"

    @property
    def variable_set_id(self) -> str:
        return f"variableset-{self.id}"


class VariableSet(Entity):
    """A project's or a library set's variables, or a release's frozen copy of them (``owner_id``
    is the project or the library set)."""

    KIND: ClassVar[str] = "variableset"
    owner_id: str
    version: int = 1
    variables: list[Variable] = Field(default_factory=list)
    is_snapshot: bool = False


class PackageVersion(BaseModel):
    package_id: str
    version: str
    published: datetime
    size_bytes: int = 0


class Feed(Named):
    """The built-in feed of one space; its id (``feeds-builtin``) repeats in every space."""

    KIND: ClassVar[str] = "feed"
    packages: list[PackageVersion] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.space_id}/{self.id}"


class Tenant(Named):
    KIND: ClassVar[str] = "tenant"
    #: project id -> the environment ids the tenant is connected to for that project
    project_environments: dict[str, list[str]] = Field(default_factory=dict)
    #: canonical tag names, ``TagSetName/TagName``
    tenant_tags: list[str] = Field(default_factory=list)

    def has_tags(self, tags: list[str]) -> bool:
        """Octopus's rule for ``tags=`` and ``TenantTags``: any of the tags given of one set, and
        one of each set given (names in any case)."""
        sets: dict[str, set[str]] = {}
        for tag in tags:
            sets.setdefault(tag.partition("/")[0].strip().lower(), set()).add(tag.strip().lower())
        held = {tag.lower() for tag in self.tenant_tags}
        return all(wanted & held for wanted in sets.values())

    def index_keys(self) -> tuple[Hashable, ...]:
        """By each project it is connected to too (``State.tenants_of``)."""
        return (*super().index_keys(), *(("project", p) for p in self.project_environments))


class TagSet(Named):
    """A set of tags tenants carry (``Region``: ``EU``, ``US``); a tag's canonical name is
    ``TagSetName/TagName``."""

    KIND: ClassVar[str] = "tagset"
    sort_order: int = 0
    tags: list[str] = Field(default_factory=list)


class SelectedPackage(BaseModel):
    step_name: str
    action_name: str
    package_id: str
    version: str
    package_reference_name: str = ""


class Release(Entity):
    KIND: ClassVar[str] = "release"
    project_id: str
    channel_id: str
    version: str
    release_notes: str | None = None
    assembled: datetime
    selected_packages: list[SelectedPackage] = Field(default_factory=list)
    variable_snapshot_id: str
    #: frozen copies of the project's library variable sets, in the project's order
    library_variable_snapshot_ids: list[str] = Field(default_factory=list)
    #: the deployment process as it was when the release was created (Octopus snapshots it too)
    steps: list[Step] = Field(default_factory=list)
    process_snapshot_id: str
    #: a version-controlled project's release: the ref asked for and the commit it froze
    git_ref: str | None = None
    git_commit: str | None = None
    #: the commit its non-sensitive variables were taken from (``VariablesGitCommit``): the
    #: release's own commit, until ``snapshot-variables`` takes its branch's newest
    variables_git_commit: str | None = None

    def index_keys(self) -> tuple[Hashable, ...]:
        """By project, and by project and version (``State.releases_of``, ``State.release_of``)."""
        return (*super().index_keys(), ("project", self.project_id),
                ("version", (self.project_id, self.version.lower())))


class Deployment(Entity):
    KIND: ClassVar[str] = "deployment"
    release_id: str
    project_id: str
    channel_id: str
    environment_id: str
    tenant_id: str | None = None
    task_id: str
    created: datetime
    force_package_download: bool = False
    force_package_redeployment: bool = False
    skip_actions: list[str] = Field(default_factory=list)
    specific_machine_ids: list[str] = Field(default_factory=list)
    excluded_machine_ids: list[str] = Field(default_factory=list)
    use_guided_failure: bool = False
    comments: str | None = None
    form_values: dict[str, str | None] = Field(default_factory=dict)
    queue_time: datetime | None = None
    queue_time_expiry: datetime | None = None
    deployed_to_machine_ids: list[str] = Field(default_factory=list)
    failure_encountered: bool = False
    process_id: str = ""
    #: the freezes this deployment overrode (ids) and why
    overridden_freeze_ids: list[str] = Field(default_factory=list)
    freeze_override_reason: str | None = None

    def index_keys(self) -> tuple[Hashable, ...]:
        """By release, project, environment and each machine it deployed to: what deployments
        are filtered by (``State.deployments_of``, ``Backend.deployments``, machine tasks)."""
        return (*super().index_keys(), ("release", self.release_id), ("project", self.project_id),
                ("environment", self.environment_id),
                *(("machine", m) for m in dict.fromkeys(self.deployed_to_machine_ids)))


class LogLine(BaseModel):
    category: str
    occurred_at: datetime
    message: str


class Activity(BaseModel):
    """A node of a task's activity log: the task, a step, or a step on one machine."""

    id: str
    name: str
    status: str = "Pending"
    started: datetime | None = None
    ended: datetime | None = None
    children: list[Activity] = Field(default_factory=list)
    logs: list[LogLine] = Field(default_factory=list)

    def walk(self) -> list[Activity]:
        """This node and all below it, parents first (the order a log is read in)."""
        nodes = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return nodes


class Team(Named):
    """A team of users (``Teams-N``); ``member``: whether the sandbox's user belongs to it (a
    key limited by ``/_sandbox/api-keys`` belongs to the teams it names instead)."""

    KIND: ClassVar[str] = "team"
    member: bool = True


class Interruption(Entity):
    """A task waiting for a person (``Interruptions-N``): a manual intervention step, or a failed
    step under guided failure. ``answer`` is the ``Result`` (Proceed/Abort) or the ``Guidance``
    (Fail/Retry/Ignore/Exclude) submitted; the runner reads it and carries on."""

    KIND: ClassVar[str] = "interruption"
    task_id: str
    type: str  # "ManualIntervention" | "GuidedFailure"
    title: str
    instructions: str = ""
    created: datetime
    #: the activity element that waits (``CorrelationId``)
    correlation_id: str
    related_document_ids: list[str] = Field(default_factory=list)
    responsible_team_ids: list[str] = Field(default_factory=list)
    responsible_user_id: str | None = None
    is_pending: bool = True
    answer: str | None = None
    notes: str | None = None
    answered_by: str | None = None
    answered_on: datetime | None = None

    def index_keys(self) -> tuple[Hashable, ...]:
        """By each document it regards (its task among them): ``regarding=`` and the runner."""
        return (*super().index_keys(), *(("regarding", r.lower()) for r in dict.fromkeys(
            [self.task_id, *self.related_document_ids])))


class DeploymentFreeze(Named):
    """A window in which deployments of some projects to some environments are refused
    (``DeploymentFreezes-N``); ``project_environments``: project id -> environment ids;
    ``recurrence``: the reference's ``RecurringSchedule`` as given (``Type`` Daily/Weekly/...)."""

    KIND: ClassVar[str] = "deploymentfreeze"
    start: datetime
    end: datetime
    project_environments: dict[str, list[str]] = Field(default_factory=dict)
    #: ``TenantProjectEnvironmentScope``: (tenant id, project id, environment id) triples
    tenant_scopes: list[tuple[str, str, str]] = Field(default_factory=list)
    recurrence: dict[str, object] | None = None


TASK_ACTIVE_STATES = ("Queued", "Executing", "Cancelling")


class Task(Entity):
    KIND: ClassVar[str] = "task"
    name: str = "Deploy"
    description: str
    deployment_id: str
    state: str = "Queued"
    queue_time: datetime
    queue_time_expiry: datetime | None = None
    start_time: datetime | None = None
    completed_time: datetime | None = None
    last_updated: datetime
    error_message: str = ""
    has_warnings_or_errors: bool = False
    activity: Activity | None = None
    #: the types of its pending interruptions (``PendingInterruptionTypes``), kept by the runner
    pending_interruption_types: list[str] = Field(default_factory=list)

    @property
    def is_completed(self) -> bool:
        return self.state not in TASK_ACTIVE_STATES

    def index_keys(self) -> tuple[Hashable, ...]:
        """By state too: the runner and ``active=true`` look only at the active ones."""
        return (*super().index_keys(), ("state", self.state))


ENTITY_TYPES: tuple[type[Entity], ...] = (
    Space,
    Environment,
    Machine,
    Lifecycle,
    ProjectGroup,
    Channel,
    Project,
    LibraryVariableSet,
    VariableSet,
    Feed,
    Tenant,
    TagSet,
    Release,
    Deployment,
    Task,
    Team,
    Interruption,
    DeploymentFreeze,
)
