"""The estate file: a sandbox's spaces, environments, machines, lifecycles, projects, channels,
tenants, packages and history, as YAML that a user writes or ``--export`` writes for them.

``octorelease sandbox --seed estate.yml`` starts a sandbox holding it; the demo seed is such a
file (``demo.yml`` beside this module). A file is checked whole before anything is created, and
every fault is reported, one ``file:line: field: message`` line each, the way the handler file's
are (``yaml_lines.py``), so a hand-edited estate fails with every mistake named at once.

Names, not ids, refer to things (a machine's ``environments``, a project's ``lifecycle``, a
tenant's ``projects``), each within its space; ids are given out in the order things are
written, so the same file always gives the same ids. Short forms: an environment, a channel or a
deployment may be just its name, and a list of one may be its only item.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError

from octorelease.sandbox.rules.editing import MAX_ENVIRONMENT_NAME, MAX_NAME, name_too_long
from octorelease.suggest import closest
from octorelease.yaml_lines import (
    Fault,
    LimitExceeded,
    Limits,
    LineReader,
    Loc,
    check_size,
    compose,
    located,
    pydantic_faults,
)

#: an estate file is untrusted input like a handler file (yaml_lines.py), with more room: a
#: mirror of a space with 2,000 machines is about 200 KiB and 10,000 values, the large seed's export
#: a few hundred thousand; a file past the bound is refused by libyaml's count before any tree is
#: built (``yaml_lines.compose``: 1,000,001 values in seconds, not 39 s and 721 MiB)
LIMITS = Limits(max_bytes=16 * 1024 * 1024, max_values=1_000_000, what="an estate file")
SCRIPT_STEP = "Octopus.Script"
PACKAGE_STEP = "Octopus.TentaclePackage"
#: what a sensitive value is replaced by, in exports and mirrors: the value itself is never written
SENSITIVE_PLACEHOLDER = "********"
#: the project group every space has (a project without ``group`` is in it)
DEFAULT_GROUP = "Default Project Group"


class EstateFileError(Exception):
    """The file is missing, not YAML, or not a valid estate: one located line per fault."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _as_named(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


def _as_template(value: object) -> object:
    return {"template": value} if isinstance(value, str) else value


def _as_deployment(value: object) -> object:
    return {"to": value} if isinstance(value, str) else value


Names = Annotated[list[str], BeforeValidator(_as_list)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnvironmentSpec(_Spec):
    name: str
    description: str = ""
    guided_failure: bool = False


class MachineSpec(_Spec):
    """A deployment target (its health is always Healthy, unless disabled)."""

    name: str
    environments: Names
    roles: Names
    disabled: bool = False
    tenants: Names = []
    #: how Octopus would reach it (TentaclePassive, TentacleActive, Ssh, None, ...): kept, never used
    endpoint: str = "TentaclePassive"


class PhaseSpec(_Spec):
    name: str
    automatic: Names = []
    manual: Names = []
    minimum: int = 0
    optional: bool = False


class LifecycleSpec(_Spec):
    name: str
    description: str = ""
    phases: list[PhaseSpec] = []


class PromptSpec(_Spec):
    label: str
    description: str = ""
    required: bool = False


class VariableSpec(_Spec):
    """A variable; ``scope`` maps Environment, Machine, Channel (names) or Role to values."""

    name: str
    value: str | None = None
    sensitive: bool = False
    scope: dict[str, Names] = {}
    prompt: PromptSpec | None = None


class StepSpec(_Spec):
    """A process step with its one action: a package step when ``package`` is given, a manual
    intervention (``Octopus.Manual``) when ``manual`` gives its instructions, else a script."""

    name: str
    roles: Names = []
    package: str | None = None
    script: str = ""
    type: str | None = None  # the action type, when neither a package nor a script step
    disabled: bool = False
    #: a manual intervention's instructions, and the teams (names) who may answer it
    manual: str | None = None
    teams: Names = []
    #: the environments the step runs in (none: all)
    environments: Names = []


class FreezeSpec(_Spec):
    """A deployment freeze of some projects (names) in some environments (names), and of some
    tenants' deployments of some projects to some environments (``tenants``: tenant -> project ->
    environments), from ``start`` to ``end`` (ISO 8601 with an offset), once or ``recurring`` (the
    reference's ``RecurringSchedule``: ``{Type: Weekly, Unit: 1}``). Freezes are the server's,
    not a space's: one named in several spaces is one freeze scoping each space's projects, so
    its window must be written the same in each."""

    name: str
    description: str = ""
    start: datetime
    end: datetime
    projects: dict[str, Names] = {}
    tenants: dict[str, dict[str, Names]] = {}
    recurring: dict[str, Any] | None = None

    def window(self) -> tuple[object, ...]:
        """What must agree between the spaces that name this freeze."""
        return self.description, self.start, self.end, self.recurring


class TeamSpec(_Spec):
    """A team; ``member``: whether the sandbox's user (its main API key) belongs to it."""

    name: str
    description: str = ""
    member: bool = True


class ChannelSpec(_Spec):
    name: str
    description: str = ""
    lifecycle: str | None = None


class FailureSpec(_Spec):
    """How a deployment of the history failed: this step, on this machine (any when absent)."""

    step: str | None = None
    machine: str | None = None
    message: str | None = None


class DeploymentSpec(_Spec):
    to: str
    tenant: str | None = None
    fails: FailureSpec | None = None
    #: values of prompted variables, by name (a required one must have one, as in Octopus)
    prompted: dict[str, str] = {}


class ReleaseSpec(_Spec):
    version: str
    channel: str | None = None
    #: a version-controlled project's release: the branch, tag or commit it is made from (none
    #: written: the default branch)
    git_ref: str | None = None
    notes: str | None = None
    #: step name (or package id) -> version; steps not named take the newest in the feed
    packages: dict[str, str] = {}
    deployments: list[Annotated[DeploymentSpec, BeforeValidator(_as_deployment)]] = []


class VersioningSpec(_Spec):
    """How a release made without a version gets one: a ``template`` (Octopus's variable syntax,
    ``#{Octopus.Version.LastMajor}...``), or the version of the ``package`` step's package."""

    template: str | None = None
    package: str | None = None


def _as_ref(value: object) -> object:
    return {} if value is None else value


class GitRefSpec(_Spec):
    """A branch or a tag: one commit holding this process and versioning strategy (none written:
    the project's ``steps`` and ``versioning``)."""

    steps: list[StepSpec] | None = None
    versioning: Annotated[VersioningSpec | None, BeforeValidator(_as_template)] = None


GitRefs = dict[str, Annotated[GitRefSpec, BeforeValidator(_as_ref)]]


class GitSpec(_Spec):
    """Where a version-controlled ("Config as Code") project keeps its process."""

    url: str
    default_branch: str = "main"
    base_path: str = ".octopus"
    #: the user name of username-and-password credentials; none: anonymous
    username: str | None = None
    #: branch name -> its process; the default branch is always there (with the project's ``steps``)
    branches: GitRefs = {}
    tags: GitRefs = {}


class GroupSpec(_Spec):
    name: str
    description: str = ""


class ProjectSpec(_Spec):
    name: str
    description: str = ""
    #: a group of ``project_groups``; none written: "Default Project Group"
    group: str | None = None
    lifecycle: str
    tenanted: Literal["Untenanted", "Tenanted", "TenantedOrUntenanted"] = "Untenanted"
    disabled: bool = False
    steps: list[StepSpec] = []
    variables: list[VariableSpec] = []
    library_variable_sets: Names = []
    #: the first is the default channel; none written: one channel called Default
    channels: list[Annotated[ChannelSpec, BeforeValidator(_as_named)]] = []
    releases: list[ReleaseSpec] = []
    #: a template (a string), or ``{package: STEP}``; none written: the server's default template
    versioning: Annotated[VersioningSpec | None, BeforeValidator(_as_template)] = None
    #: a version-controlled project's repository; none: the process is in the database
    git: GitSpec | None = None


class LibrarySetSpec(_Spec):
    name: str
    description: str = ""
    variables: list[VariableSpec] = []


class TenantSpec(_Spec):
    name: str
    description: str = ""
    #: project name -> the environments the tenant is connected to for it
    projects: dict[str, Names] = {}
    #: tags, each ``TagSetName/TagName`` of a tag set of the space
    tags: Names = []


class TagSetSpec(_Spec):
    name: str
    description: str = ""
    tags: Names = []


class SpaceSpec(_Spec):
    name: str
    description: str = ""
    default: bool = False
    environments: list[Annotated[EnvironmentSpec, BeforeValidator(_as_named)]] = []
    project_groups: list[Annotated[GroupSpec, BeforeValidator(_as_named)]] = []
    machines: list[MachineSpec] = []
    lifecycles: list[LifecycleSpec] = []
    #: package id -> versions in the built-in feed
    packages: dict[str, Names] = {}
    library_variable_sets: list[LibrarySetSpec] = []
    projects: list[ProjectSpec] = []
    tenants: list[TenantSpec] = []
    tag_sets: list[TagSetSpec] = []
    teams: list[Annotated[TeamSpec, BeforeValidator(_as_named)]] = []
    freezes: list[FreezeSpec] = []


class Estate(_Spec):
    spaces: list[SpaceSpec] = Field(min_length=1)
    _name: str = PrivateAttr(default="estate")
    _lines: dict[Loc, int] = PrivateAttr(default_factory=dict)

    def fault(self, loc: Loc, message: str) -> EstateFileError:
        """An error about the thing written at ``loc``, naming its file and line when the estate
        came from a file (the seed finds some faults only when it replays the history)."""
        return EstateFileError(located(self._name, self._lines, [(loc, message)]))


# ---------------------------------------------------------------------------------------------
# Loading


def demo_path() -> str:
    """The demo seed, shipped with the package."""
    return str(resources.files("octorelease.sandbox.estate").joinpath("demo.yml"))


def load_estate(path: str | os.PathLike[str]) -> Estate:
    """Read and check the estate file at ``path``; errors name it as given."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            data = file.read(LIMITS.max_bytes + 1)  # a huge file is refused, not read whole
        check_size(data, LIMITS)
    except FileNotFoundError:
        raise EstateFileError([f"{name}: no such file"]) from None
    except OSError as exc:
        raise EstateFileError([f"{name}: cannot be read ({exc.strerror})"]) from None
    except LimitExceeded as exc:
        raise EstateFileError([f"{name}:{exc.line}: {exc.message}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise EstateFileError([f"{name}: not a UTF-8 text file"]) from None
    return parse_estate(text, name=name)


class _Reader(LineReader):
    def error(self, line: int, loc: Loc, message: str) -> EstateFileError:
        return EstateFileError(located(self.name, {loc: line}, [(loc, message)]))


def parse_estate(text: str, *, name: str = "estate.yml") -> Estate:
    """Check estate ``text``; ``name`` is what error lines call the file."""
    try:
        root = compose(text, LIMITS)
    except LimitExceeded as exc:
        raise EstateFileError([f"{name}:{exc.line}: {exc.message}"]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, most controls)
        raise EstateFileError([f"{name}:{text.count(chr(10), 0, exc.position) + 1}: YAML syntax error: "
                               f"unacceptable character #x{exc.character:04x}: {exc.reason}"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise EstateFileError([f"{name}:{mark.line + 1 if mark else 1}: YAML syntax error: "
                               f"{exc.problem or exc.context}"]) from None
    if root is None:
        raise EstateFileError([f"{name}:1: the file is empty; it needs a spaces: list"])
    reader = _Reader(name)
    data = reader.read(root, ())
    try:
        estate = Estate.model_validate(data)
    except ValidationError as exc:
        raise EstateFileError(located(name, reader.lines, pydantic_faults(exc, Estate))) from None
    faults = located(name, reader.lines, _estate_faults(estate))
    if faults:
        raise EstateFileError(faults)
    estate._name, estate._lines = name, reader.lines
    return estate


def check_estate(estate: Estate, *, name: str) -> None:
    """Check an estate built in code (a mirror) by the rules a file is checked by."""
    faults = located(name, {}, _estate_faults(estate))
    if faults:
        raise EstateFileError(faults)


# ---------------------------------------------------------------------------------------------
# Rules across fields: every name refers to something in its space, and names are unique


def _estate_faults(estate: Estate) -> Iterator[Fault]:
    yield from _unique(estate.spaces, ("spaces",), "space")
    defaults = [i for i, s in enumerate(estate.spaces) if s.default]
    for index in defaults[1:]:
        yield ("spaces", index, "default"), f"only one space can be the default (spaces[{defaults[0]}] is)"
    for index, space in enumerate(estate.spaces):
        yield from _space_faults(space, ("spaces", index))
    yield from _shared_freeze_faults(estate)


def _shared_freeze_faults(estate: Estate) -> Iterator[Fault]:
    """A freeze named in several spaces is one freeze: its window is written the same in each."""
    first: dict[str, tuple[str, FreezeSpec]] = {}
    for index, space in enumerate(estate.spaces):
        for i, freeze in enumerate(space.freezes):
            seen = first.setdefault(freeze.name.strip().lower(), (space.name, freeze))
            if seen[1] is not freeze and seen[1].window() != freeze.window():
                yield (("spaces", index, "freezes", i, "name"),
                       f"freeze {freeze.name!r} is also in space {seen[0]!r}, where its description, start, end "
                       "or recurring differ (a freeze named in several spaces is one freeze)")


def _unique(items: Sequence[Any], loc: Loc, kind: str) -> Iterator[Fault]:
    """Names are unique within their list (in any letter case, as Octopus compares them)."""
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        key = item.name.strip().lower()
        if not key:
            yield (*loc, index, "name"), f"a {kind} needs a name"
        elif key in seen:
            yield (*loc, index, "name"), f"{item.name!r} is also the name of {loc[-1]}[{seen[key]}]"
        seen.setdefault(key, index)


def _refers(name: str, known: list[str], loc: Loc, kind: str, space: str) -> Iterator[Fault]:
    if name.strip().lower() not in {k.lower() for k in known}:
        close = closest(name, known, ignore_case=True)
        hint = f" (did you mean {close!r}?)" if close else ""
        yield loc, f"no {kind} {name!r} in space {space!r}{hint}"


def _space_faults(space: SpaceSpec, loc: Loc) -> Iterator[Fault]:
    envs = [e.name for e in space.environments]
    lifecycles = [life.name for life in space.lifecycles]
    projects = [p.name for p in space.projects]
    tenants = [t.name for t in space.tenants]
    sets = [s.name for s in space.library_variable_sets]
    for key, items, kind in (("environments", space.environments, "environment"),
                             ("machines", space.machines, "machine"),
                             ("lifecycles", space.lifecycles, "lifecycle"), ("projects", space.projects, "project"),
                             ("tenants", space.tenants, "tenant"), ("project_groups", space.project_groups, "group"),
                             ("library_variable_sets", space.library_variable_sets, "library variable set"),
                             ("tag_sets", space.tag_sets, "tag set"), ("teams", space.teams, "team"),
                             ("freezes", space.freezes, "freeze")):
        yield from _unique(items, (*loc, key), kind)
    yield from _name_lengths(space, loc)
    for i, group in enumerate(space.project_groups):
        if group.name.strip().lower() == DEFAULT_GROUP.lower():
            yield (*loc, "project_groups", i, "name"), f"every space has '{DEFAULT_GROUP}': leave it out"
    for i, machine in enumerate(space.machines):
        at = (*loc, "machines", i)
        if not machine.environments:
            yield (*at, "environments"), "a machine needs at least one environment"
        for j, env in enumerate(machine.environments):
            yield from _refers(env, envs, (*at, "environments", j), "environment", space.name)
        for j, tenant_name in enumerate(machine.tenants):
            yield from _refers(tenant_name, tenants, (*at, "tenants", j), "tenant", space.name)
    for i, life in enumerate(space.lifecycles):
        for j, phase in enumerate(life.phases):
            for key in ("automatic", "manual"):
                for k, env in enumerate(getattr(phase, key)):
                    yield from _refers(env, envs, (*loc, "lifecycles", i, "phases", j, key, k), "environment",
                                       space.name)
    for i, library_set in enumerate(space.library_variable_sets):
        yield from _variable_faults(library_set.variables, (*loc, "library_variable_sets", i), space, None)
    for i, project in enumerate(space.projects):
        yield from _project_faults(project, (*loc, "projects", i), space, lifecycles, sets, tenants)
    for i, freeze in enumerate(space.freezes):
        if freeze.end <= freeze.start:
            yield (*loc, "freezes", i, "end"), "a freeze must end after it starts"
        for project_name, frozen in freeze.projects.items():
            at = (*loc, "freezes", i, "projects", project_name)
            yield from _refers(project_name, projects, at, "project", space.name)
            for j, env in enumerate(frozen):
                yield from _refers(env, envs, (*at, j), "environment", space.name)
        for tenant_name, tenant_projects in freeze.tenants.items():
            at = (*loc, "freezes", i, "tenants", tenant_name)
            yield from _refers(tenant_name, tenants, at, "tenant", space.name)
            for project_name, frozen in tenant_projects.items():
                yield from _refers(project_name, projects, (*at, project_name), "project", space.name)
                for j, env in enumerate(frozen):
                    yield from _refers(env, envs, (*at, project_name, j), "environment", space.name)
    for i, tenant in enumerate(space.tenants):
        for project_name, connected in tenant.projects.items():
            at = (*loc, "tenants", i, "projects", project_name)
            yield from _refers(project_name, projects, at, "project", space.name)
            for j, env in enumerate(connected):
                yield from _refers(env, envs, (*at, j), "environment", space.name)
        tags = [f"{s.name}/{tag}" for s in space.tag_sets for tag in s.tags]
        for j, tag in enumerate(tenant.tags):
            yield from _refers(tag, tags, (*loc, "tenants", i, "tags", j), "tag", space.name)


def _name_lengths(space: SpaceSpec, loc: Loc) -> Iterator[Fault]:
    """Names no longer than the API takes them (an estate is seeded without the API's checks)."""
    named: list[tuple[Loc, Sequence[Any], str, int]] = [
        ((*loc, "environments"), space.environments, "environment", MAX_ENVIRONMENT_NAME),
        ((*loc, "machines"), space.machines, "machine", MAX_NAME),
        ((*loc, "project_groups"), space.project_groups, "project group", MAX_NAME),
        ((*loc, "projects"), space.projects, "project", MAX_NAME),
        ((*loc, "tenants"), space.tenants, "tenant", MAX_NAME),
        ((*loc, "freezes"), space.freezes, "deployment freeze", MAX_NAME),
    ]
    named += [((*loc, "projects", i, "channels"), project.channels, "channel", MAX_NAME)
              for i, project in enumerate(space.projects)]
    for at, items, kind, limit in named:
        for i, item in enumerate(items):
            if len(item.name.strip()) > limit:
                yield (*at, i, "name"), name_too_long(kind, limit)


def _versioning_faults(versioning: VersioningSpec | None, steps: list[StepSpec], project: str,
                       loc: Loc) -> Iterator[Fault]:
    if versioning is None:
        return
    if (versioning.template is None) == (versioning.package is None):
        yield loc, "give either a template or the package step whose version releases take"
    elif versioning.template is not None and not versioning.template.strip():
        yield (*loc, "template"), "a template cannot be blank"
    elif versioning.package is not None:
        packaged = [s.name for s in steps if s.package]
        if versioning.package.strip().lower() not in (n.lower() for n in packaged):
            close = closest(versioning.package, packaged, ignore_case=True)
            hint = f" (did you mean {close!r}?)" if close else ""
            yield (*loc, "package"), f"no package step {versioning.package!r} in project {project!r}{hint}"


def _project_faults(project: ProjectSpec, loc: Loc, space: SpaceSpec, lifecycles: list[str], sets: list[str],
                    tenants: list[str]) -> Iterator[Fault]:
    yield from _refers(project.lifecycle, lifecycles, (*loc, "lifecycle"), "lifecycle", space.name)
    if project.group is not None:
        groups = [DEFAULT_GROUP, *(g.name for g in space.project_groups)]
        yield from _refers(project.group, groups, (*loc, "group"), "project group", space.name)
    yield from _unique(project.steps, (*loc, "steps"), "step")
    yield from _versioning_faults(project.versioning, project.steps, project.name, (*loc, "versioning"))
    yield from _unique(project.channels, (*loc, "channels"), "channel")
    for j, channel in enumerate(project.channels):
        if channel.lifecycle is not None:
            yield from _refers(channel.lifecycle, lifecycles, (*loc, "channels", j, "lifecycle"), "lifecycle",
                               space.name)
    for j, step in enumerate(project.steps):
        if step.package is not None and step.type == SCRIPT_STEP:
            yield (*loc, "steps", j, "type"), "a script step has no package"
        if step.manual is not None and step.package is not None:
            yield (*loc, "steps", j, "manual"), "a manual intervention has no package"
        for k, team in enumerate(step.teams):
            yield from _refers(team, [t.name for t in space.teams], (*loc, "steps", j, "teams", k), "team",
                               space.name)
        for k, env in enumerate(step.environments):
            yield from _refers(env, [e.name for e in space.environments], (*loc, "steps", j, "environments", k),
                               "environment", space.name)
    if project.git is not None:
        for kind, refs in (("branches", project.git.branches), ("tags", project.git.tags)):
            for name, ref in refs.items():
                if not name.strip() or name != name.strip():
                    yield (*loc, "git", kind), f"{name!r} is not a valid name"
                yield from _versioning_faults(ref.versioning, project.steps if ref.steps is None else ref.steps,
                                              project.name, (*loc, "git", kind, name, "versioning"))
                if ref.steps is not None:
                    yield from _unique(ref.steps, (*loc, "git", kind, name, "steps"), "step")
    for j, library_set in enumerate(project.library_variable_sets):
        yield from _refers(library_set, sets, (*loc, "library_variable_sets", j), "library variable set",
                           space.name)
    yield from _variable_faults(project.variables, loc, space, project)
    seen: dict[str, int] = {}
    channels = [c.name for c in project.channels] or ["Default"]
    envs = [e.name for e in space.environments]
    for j, release in enumerate(project.releases):
        at = (*loc, "releases", j)
        key = release.version.strip().lower()
        if key in seen:
            yield (*at, "version"), f"{release.version!r} is also the version of releases[{seen[key]}]"
        seen.setdefault(key, j)
        if release.channel is not None:
            yield from _refers(release.channel, channels, (*at, "channel"), "channel", space.name)
        if release.git_ref is not None and project.git is None:
            yield (*at, "git_ref"), "the project is not version controlled (it has no git:)"
        for k, deployment in enumerate(release.deployments):
            yield from _refers(deployment.to, envs, (*at, "deployments", k, "to"), "environment", space.name)
            if deployment.tenant is not None:
                yield from _refers(deployment.tenant, tenants, (*at, "deployments", k, "tenant"), "tenant",
                                   space.name)


_SCOPES = ("Environment", "Machine", "Channel", "Role")


def _variable_faults(variables: list[VariableSpec], loc: Loc, space: SpaceSpec,
                     project: ProjectSpec | None) -> Iterator[Fault]:
    known = {"Environment": [e.name for e in space.environments], "Machine": [m.name for m in space.machines],
             "Channel": [c.name for c in project.channels] if project else []}
    for j, variable in enumerate(variables):
        at = (*loc, "variables", j)
        if not variable.name.strip():
            yield (*at, "name"), "a variable needs a name"
        for kind, values in variable.scope.items():
            if kind not in _SCOPES:
                close = closest(kind, _SCOPES, ignore_case=True)
                yield (*at, "scope", kind), (f"unknown scope {kind!r}; expected one of {', '.join(_SCOPES)}"
                                             + (f" (did you mean {close!r}?)" if close else ""))
                continue
            for k, value in enumerate(values):
                if kind in known:
                    yield from _refers(value, known[kind], (*at, "scope", kind, k), kind.lower(), space.name)
