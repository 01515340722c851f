"""The sandbox's starting data, and its test controls.

A seed is an estate (``file.py``): ``apply`` creates its spaces, environments, machines,
lifecycles, feed, library variable sets, projects with their channels and variables, and tenants,
in the order written (so ids follow it), then replays its releases and deployments through the
sandbox's own rules on a simulated clock, so the history lies in the recent past and what the
rules refuse is a fault of the file. All in one transaction: a refused seed leaves nothing.

Seeds (``--seed``, applied only when the database is new; ``POST /_sandbox/reset`` re-applies one):

``empty``
    What a fresh Octopus has: space "Default" (Spaces-1, the default space) with an empty
    built-in feed and "Default Lifecycle" (Lifecycles-1, no phases).

``FILE``
    An estate file (``sandbox --seed estate.yml``).

``large`` / ``large:environments=N,machines=N,...``
    The demo plus a large bulk estate (``seed_large.py``), for scale measurements.

``demo``
    The estate file ``demo.yml`` beside this module. Space **Default** (Spaces-1, default):

    - Environments: Development (Environments-1), Test (-2), Staging (-3), Production (-4),
      Disaster Recovery (-5), in that ``SortOrder``.
    - Machines (Machines-1 to -14): dev-web-01 [Development, web]; test-web-01, test-web-02
      [Test, web]; stage-web-01, stage-web-02 [Staging, web]; prod-web-01, prod-web-02,
      prod-web-03 [Production, web]; prod-web-04 [Production, web, disabled]; dr-web-01
      [Disaster Recovery, web]; dev-worker-01, test-worker-01, stage-worker-01, prod-worker-01
      [one per environment up to Production, role worker]. All Healthy.
    - Lifecycles: "Web Lifecycle" (Lifecycles-1): Development -> Test -> Staging -> Production,
      one manual environment per phase, all required (Disaster Recovery is not in it).
      "Anywhere" (Lifecycles-2): one phase with no environments, so every environment.
      "Default Lifecycle" (Lifecycles-3): no phases, so one phase per environment by SortOrder.
    - Built-in feed: Web 1.0.0, 1.1.0, 1.2.0, 1.3.0; Worker 2.0.0, 2.1.0; Billing 3.0.0, 3.1.0.
    - Projects: **Web** (Projects-1, slug ``web``, Web Lifecycle, TenantedOrUntenanted; channels
      "Default" Channels-1 and "Hotfix" Channels-2 on the Anywhere lifecycle; steps "Deploy web"
      [web, package Web] and "Smoke test" [web, script]; variables Greeting="hello" and the
      optional prompted ChangeTicket, label "Change ticket"; it includes the library variable
      set "Shared settings", LibraryVariableSets-1, with Region="eu-west-1").
      **Worker** (Projects-2, Anywhere, channel Channels-3; step "Deploy worker" [worker, package
      Worker]). **Billing** (Projects-3, Default Lifecycle, channel Channels-4; step "Run migration"
      [worker, package Billing]; required prompted variable Approver, label "Approver").
    - Tenants: Acme (Tenants-1, tags Region/EU, Tier/Gold) and Globex (Tenants-2, tags Region/US,
      Tier/Gold), connected to Web for Test, Staging and Production; tag sets Region (EU, US) and
      Tier (Gold, Silver).
    - History, finished in the last days with full logs: Web 1.0.0 (Releases-1) to Development
      and Test, succeeded; Web 1.1.0 (Releases-2) to Development, succeeded; Web 1.2.0
      (Releases-3) to Development, **failed** in "Smoke test" on dev-web-01 ("Smoke test failed:
      GET /health returned 503"); Worker 2.0.0 (Releases-4) to Development, succeeded; Billing
      3.0.0 (Releases-5), never deployed. Machines remember what those runs installed: dev-web-01
      has Web 1.2.0 (its package step succeeded), test-web-01/02 Web 1.0.0, dev-worker-01
      Worker 2.0.0.

    Space **Operations** (Spaces-2): environment Ops (Environments-6), machine ops-01 (Machines-15,
    role ops), "Ops Lifecycle" (Lifecycles-4, no phases), project **Infra** (Projects-4, channel
    Channels-5, step "Deploy infra" [ops, package Infra]) and package Infra 0.9.0 in its feed.

Test controls (outside ``/api``, no API key needed; JSON in, ``{"ok": true}`` out):

- ``POST /_sandbox/reset`` ``{"seed": "demo"|"empty"|"large:..."}``: stop running tasks, wipe everything,
  re-seed; also clears faults, limited API keys and the request log.
- ``POST /_sandbox/faults`` ``{"step", "machine", "environment", "message"}``, all optional: that
  step fails on the machines that match every criterion given, logging ``message`` as an error.
  A fault without ``step`` fails any process step (never package acquisition).
  ``DELETE /_sandbox/faults`` clears them.
- ``POST /_sandbox/faults/http`` ``{"spec": "503:0.1,lost:0.05,seed=7"}``: fail ``/api`` requests on
  purpose, as ``--faults SPEC`` does (grammar and kinds: ``faults.py``), from the start of the
  spec's random sequence; 400 with the parser's message for a bad spec. ``DELETE`` serves every
  request again. A reset goes back to the ``--faults`` the sandbox started with (none by default).
- ``POST /_sandbox/speed`` ``{"seconds_per_step": 0.2}``: how long each step takes on each machine.
- ``POST /_sandbox/hold`` ``{"held": true}``: queued tasks stay queued (those under way go on)
  until ``{"held": false}`` or a reset.
- ``POST /_sandbox/api-keys`` ``{"key": "API-...", "environments": ["Development"], "teams": []}``:
  another valid key, allowed to deploy only to those environments (403 elsewhere, absent from
  ``PromoteTo``; any without ``environments``), its user in those teams only (``teams`` given).
- ``POST /_sandbox/packages`` ``{"packageId": "Web", "version": "1.4.0", "space": null}``: publish a
  package version to a space's built-in feed (the default space's when ``space`` is absent).
- ``POST /_sandbox/rename`` ``{"kind": "environment"|"machine"|"project"|"tenant"|"step", "from":
  "Test", "to": "any text", "space": null}``: rename one thing, as if it had always been called so
  (a step in its project and in every release's snapshot); the new name is taken verbatim, control
  characters and all, as a hostile or broken server would send it. 404 when nothing has that name.
- ``GET /_sandbox/requests``: every ``/api`` request so far, ``[{"method", "path", "query",
  "status"}]`` (never headers; an ``apikey`` query value is masked; ``status`` is null until it is
  answered, and for a request whose connection was dropped), plus ``"fault"`` (its kind) for a
  request that got an HTTP fault. ``DELETE`` clears the list.
- ``GET /_sandbox/census``: how many entities of each kind the sandbox holds (``release``,
  ``deployment``, ``task``, ...), ``variable`` (variables in all variable sets) and
  ``last_modified`` (the newest write): equal before and after a run means it touched nothing.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from octorelease.sandbox.errors import SandboxError
from octorelease.sandbox.estate.file import (
    DEFAULT_GROUP,
    PACKAGE_STEP,
    SCRIPT_STEP,
    Estate,
    GitSpec,
    LifecycleSpec,
    ProjectSpec,
    SpaceSpec,
    StepSpec,
    VariableSpec,
    VersioningSpec,
    demo_path,
    load_estate,
)
from octorelease.sandbox.estate.seed_large import LargeEstate, is_large, parse_large, seed_large_estate
from octorelease.sandbox.rules import git
from octorelease.sandbox.rules.editing import DEFAULT_GROUP_ID
from octorelease.sandbox.rules.models import Backend
from octorelease.sandbox.rules.requests import DeploymentRequest, Fault, ReleaseRequest
from octorelease.sandbox.rules.runner import drive
from octorelease.sandbox.state.entities import (
    MANUAL_STEP,
    Action,
    Channel,
    DeploymentFreeze,
    DonorPackage,
    Environment,
    Feed,
    GitRepository,
    LibraryVariableSet,
    Lifecycle,
    Machine,
    Named,
    PackageReference,
    PackageVersion,
    Phase,
    Project,
    ProjectGroup,
    Prompt,
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
from octorelease.sandbox.state.state import UNLIMITED
from octorelease.yaml_lines import Loc

SEEDS = ("demo", "empty")
#: what names a seed: ``demo``, ``empty``, ``large[:SIZES]``, a loaded estate file, or a large estate's size
Seed = str | Estate | LargeEstate
#: how the large seed is written (``seed_large.py``)
LARGE_SPEC = "large[:environments=N,machines=N,releases=N,deployments=N,projects=N,tenants=N]"
_NAMESPACE = uuid.UUID("0b5c9a3e-2f7d-4c1e-9a8b-5d6e7f8a9b0c")
#: what a fresh Octopus has
EMPTY = Estate(spaces=[SpaceSpec(name="Default", description="The default space", default=True,
                                 lifecycles=[LifecycleSpec(name="Default Lifecycle")])])


def _guid(*parts: str) -> str:
    """Stable GUIDs for seeded steps and variables, so every run of a seed shows the same ids."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


class SimulatedClock:
    """A clock the seed moves by hand, so its history lies in the recent past."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def check(seed: Seed) -> None:
    """Raise ``ValueError`` (one line) unless ``seed`` names a seed: ``demo``, ``empty``,
    ``large[:SIZES]`` (``seed_large.py``) or an estate already loaded."""
    if isinstance(seed, (Estate, LargeEstate)) or seed in SEEDS:
        return
    if is_large(seed):
        parse_large(seed)  # LargeSeedError is a ValueError
        return
    raise ValueError(f"unknown seed {seed!r} (expected one of {', '.join(SEEDS)}, {LARGE_SPEC})")


def estate_of(seed: str | Estate) -> Estate:
    """The estate a seed names: ``demo`` (the shipped file), ``empty``, or one already loaded."""
    if isinstance(seed, Estate):
        return seed
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r} (expected one of {', '.join(SEEDS)})")
    return EMPTY if seed == "empty" else _demo_estate()


@functools.cache
def _demo_estate() -> Estate:
    """The shipped demo, read once: every reset re-seeds it (the test suite thousands of times),
    and parsing its YAML was most of a reset's time. Seeding only reads the estate."""
    return load_estate(demo_path())


def apply(backend: Backend, seed: Seed, skipped: list[str] | None = None) -> None:
    """Wipe nothing, add the estate, and mark the database seeded, all in one transaction: a
    seed that fails half-way leaves nothing behind.

    A release or deployment of the history that the rules refuse is a fault of the estate
    (``EstateFileError``), unless ``skipped`` is given: then it is left out and said there (a
    mirror replays a real server's history, which its lifecycles may no longer allow).

    ``large`` (``large:SIZES``, or a ``LargeEstate``) is the demo plus the bulk of ``seed_large.py``."""
    if isinstance(seed, LargeEstate) or is_large(seed):
        large: LargeEstate | None = seed if isinstance(seed, LargeEstate) else parse_large(str(seed))
        estate = estate_of("demo")
    else:
        large, estate = None, estate_of(seed)
    with backend.store.transaction():
        real_clock = backend.clock
        clock = SimulatedClock(real_clock() - timedelta(days=3))
        backend.clock = clock
        try:
            published = clock.now - timedelta(days=10)
            builders = [_Builder(backend, space, published) for space in estate.spaces]
            for builder in builders:
                builder.catalog()
            for index, builder in enumerate(builders):
                builder.freezes(estate, ("spaces", index))
            history = _History(backend, clock, estate, skipped)
            for index, builder in enumerate(builders):
                history.releases(builder, ("spaces", index))
            for index, builder in enumerate(builders):
                history.deployments(builder, ("spaces", index))
        finally:
            backend.clock = real_clock
        if large is not None:
            seed_large_estate(backend, large)
        backend.store.mark_seeded(large.spec if large is not None else seed if isinstance(seed, str) else "estate")


class _Builder:
    """One space of an estate turned into entities; names resolve within the space."""

    def __init__(self, backend: Backend, spec: SpaceSpec, published: datetime) -> None:
        self.backend, self.spec, self.published = backend, spec, published
        self.space_id = backend.new_id("Spaces")
        self.by_name: dict[tuple[type[Named], str], str] = {}
        self.release_ids: dict[tuple[str, str], str] = {}

    def id_of(self, cls: type[Named], name: str) -> str:
        return self.by_name[(cls, name.strip().lower())]

    def _keep(self, *entities: Named) -> None:
        for entity in entities:
            self.by_name[(type(entity), entity.name.strip().lower())] = entity.id
        self.backend.put(*entities)

    def catalog(self) -> None:
        spec, backend, space_id = self.spec, self.backend, self.space_id
        self._keep(Space(id=space_id, space_id=space_id, name=spec.name, is_default=spec.default,
                         description=spec.description))
        self._keep(*(Environment(id=backend.new_id("Environments"), space_id=space_id, name=e.name,
                                 description=e.description, sort_order=i, use_guided_failure=e.guided_failure)
                     for i, e in enumerate(spec.environments)))
        for group in spec.project_groups:
            self._keep(backend.save_project_group(space_id, None, group.name, group.description))
        self._keep(*(Team(id=backend.new_id("Teams"), space_id=space_id, name=t.name, description=t.description,
                          member=t.member) for t in spec.teams))
        self._keep(*(TagSet(id=backend.new_id("TagSets"), space_id=space_id, name=s.name, description=s.description,
                            sort_order=i, tags=list(s.tags)) for i, s in enumerate(spec.tag_sets)))
        canonical = {f"{s.name}/{tag}".lower(): f"{s.name}/{tag}" for s in spec.tag_sets for tag in s.tags}
        self._keep(*(Tenant(id=backend.new_id("Tenants"), space_id=space_id, name=t.name,
                            description=t.description, tenant_tags=[canonical[tag.lower()] for tag in t.tags])
                     for t in spec.tenants))
        self._keep(*(Machine(id=backend.new_id("Machines"), space_id=space_id, name=m.name,
                             environment_ids=[self.id_of(Environment, e) for e in m.environments],
                             roles=list(m.roles), is_disabled=m.disabled, communication_style=m.endpoint,
                             tenant_ids=[self.id_of(Tenant, t) for t in m.tenants])
                     for m in spec.machines))
        self._keep(*(Lifecycle(id=backend.new_id("Lifecycles"), space_id=space_id, name=life.name,
                               description=life.description, phases=[
                                   Phase(id=_guid(life.name, p.name), name=p.name, minimum=p.minimum,
                                         is_optional_phase=p.optional,
                                         automatic=[self.id_of(Environment, e) for e in p.automatic],
                                         optional=[self.id_of(Environment, e) for e in p.manual])
                                   for p in life.phases])
                     for life in spec.lifecycles))
        backend.put(Feed(id="feeds-builtin", space_id=space_id, name="Octopus Server (built-in)", packages=[
            PackageVersion(package_id=package, version=v, published=self.published, size_bytes=1_048_576 + i)
            for package, versions in spec.packages.items() for i, v in enumerate(versions)]))
        for library_set in spec.library_variable_sets:
            shared = LibraryVariableSet(id=backend.new_id("LibraryVariableSets"), space_id=space_id,
                                        name=library_set.name, description=library_set.description)
            self._keep(shared)
            backend.put(VariableSet(id=shared.variable_set_id, space_id=space_id, owner_id=shared.id,
                                    variables=self._variables(library_set.name, library_set.variables, {})))
        for project in spec.projects:
            self._project(project)
        for t in spec.tenants:
            tenant = backend.require(Tenant, space_id, self.id_of(Tenant, t.name))
            tenant.project_environments = {self.id_of(Project, p): [self.id_of(Environment, e) for e in envs]
                                           for p, envs in t.projects.items()}
            backend.put(tenant)

    def freezes(self, estate: Estate, loc: Loc) -> None:
        """The space's freezes; one already made by an earlier space of the same name is the same
        freeze (freezes are the server's), which gains this space's scopes."""
        backend, env = self.backend, functools.partial(self.id_of, Environment)
        for i, f in enumerate(self.spec.freezes):
            projects = {self.id_of(Project, p): [env(e) for e in es] for p, es in f.projects.items()}
            tenants = [(self.id_of(Tenant, t), self.id_of(Project, p), env(e))
                       for t, scoped in f.tenants.items() for p, es in scoped.items() for e in es]
            same = next((known for known in backend.all(DeploymentFreeze)
                         if known.name.strip().lower() == f.name.strip().lower()), None)
            if same is not None:
                projects = {**same.project_environments, **projects}
                tenants = [*same.tenant_scopes, *tenants]
            try:
                backend.save_freeze(same.id if same else None, name=same.name if same else f.name,
                                    description=f.description, start=f.start, end=f.end,
                                    project_environments=projects, tenant_scopes=tenants, recurrence=f.recurring)
            except SandboxError as exc:
                raise estate.fault((*loc, "freezes", i), "; ".join(exc.errors) or exc.message) from None

    def _project(self, spec: ProjectSpec) -> None:
        backend, space_id = self.backend, self.space_id
        project = Project(
            id=backend.new_id("Projects"), space_id=space_id, name=spec.name, description=spec.description,
            lifecycle_id=self.id_of(Lifecycle, spec.lifecycle), tenanted_mode=spec.tenanted,
            project_group_id=self.id_of(ProjectGroup, spec.group)
            if spec.group and spec.group.strip().lower() != DEFAULT_GROUP.lower() else DEFAULT_GROUP_ID,
            is_disabled=spec.disabled,
            included_library_variable_set_ids=[self.id_of(LibraryVariableSet, s)
                                               for s in spec.library_variable_sets],
            steps=self._steps(spec.name, spec.steps),
        )
        project.versioning_template, project.versioning_package = _strategy(
            spec.versioning, spec.steps, (project.versioning_template, None))
        if spec.git is not None:
            project = _repository(project, spec.git, spec.steps, self.published, self._steps)
        self._keep(project)
        channels: dict[str, str] = {}
        for number, channel in enumerate(spec.channels or [None]):
            entity = Channel(id=backend.new_id("Channels"), space_id=space_id, project_id=project.id,
                             name=channel.name if channel else "Default", is_default=number == 0,
                             description=channel.description if channel else "",
                             lifecycle_id=self.id_of(Lifecycle, channel.lifecycle)
                             if channel and channel.lifecycle else None)
            channels[entity.name.strip().lower()] = entity.id
            backend.put(entity)
        variables = self._variables(spec.name, spec.variables, channels)
        if project.git is not None:  # non-sensitive variables in Git, at every ref; sensitive ones in the database
            for commit in project.git.commits.values():
                commit.variables = [v.model_copy(deep=True) for v in variables if not v.is_sensitive]
            variables = [v for v in variables if v.is_sensitive]
            backend.put(project)
        backend.put(VariableSet(id=project.variable_set_id, space_id=space_id, owner_id=project.id,
                                variables=variables))

    def _steps(self, project: str, specs: list[StepSpec]) -> list[Step]:
        return [Step(id=_guid(project, step.name), name=step.name, roles=list(step.roles), action=Action(
            id=_guid(project, step.name, "action"), name=step.name,
            action_type=step.type or (MANUAL_STEP if step.manual is not None else PACKAGE_STEP if step.package
                                      else SCRIPT_STEP),
            packages=[PackageReference(id=_guid(project, step.name, "package"), package_id=step.package)]
            if step.package else [],
            script=step.script, is_disabled=step.disabled, instructions=step.manual or "",
            responsible_team_ids=[self.id_of(Team, t) for t in step.teams],
            environments=[self.id_of(Environment, e) for e in step.environments],
        )) for step in specs]

    def _variables(self, owner: str, specs: list[VariableSpec], channels: dict[str, str]) -> list[Variable]:
        variables: list[Variable] = []
        seen: set[str] = set()
        for spec in specs:
            key = _guid(owner, spec.name) if spec.name not in seen else _guid(owner, spec.name, str(len(variables)))
            seen.add(spec.name)
            scope: dict[str, list[str]] = {}
            for kind, values in spec.scope.items():
                if kind == "Environment":
                    scope[kind] = [self.id_of(Environment, v) for v in values]
                elif kind == "Machine":
                    scope[kind] = [self.id_of(Machine, v) for v in values]
                elif kind == "Channel":
                    scope[kind] = [channels[v.strip().lower()] for v in values]
                else:
                    scope[kind] = list(values)
            variables.append(Variable(
                id=key, name=spec.name, value=spec.value, is_sensitive=spec.sensitive,
                type="Sensitive" if spec.sensitive else "String", scope=scope,
                prompt=Prompt(label=spec.prompt.label, description=spec.prompt.description,
                              required=spec.prompt.required) if spec.prompt else None))
        return variables


def _strategy(versioning: VersioningSpec | None, steps: list[StepSpec],
              otherwise: tuple[str | None, DonorPackage | None]) -> tuple[str | None, DonorPackage | None]:
    """A versioning strategy as written (a template, or the step whose package version a release
    takes), else ``otherwise``."""
    if versioning is not None and versioning.package is not None:
        donor = versioning.package.strip().lower()
        step_name = next(s.name for s in steps if s.name.lower() == donor)  # checked: it exists
        return None, DonorPackage(action=step_name)
    if versioning is not None:
        return versioning.template, None
    return otherwise


def _repository(project: Project, spec: GitSpec, spec_steps: list[StepSpec], when: datetime,
                steps_of: Callable[[str, list[StepSpec]], list[Step]]) -> Project:
    """A version-controlled project: one commit per branch and per tag written, each holding its
    own process and versioning strategy (the project's where none is written); the default branch
    is always there, and its process and strategy are the project's own."""
    project = project.model_copy(update={"git": GitRepository(
        url=spec.url, default_branch=spec.default_branch, base_path=spec.base_path, username=spec.username)})
    repo = project.git
    assert repo is not None
    branches = {spec.default_branch: spec.branches.get(spec.default_branch), **spec.branches}
    for kind, refs in (("branch", branches), ("tag", spec.tags)):
        for name, ref in refs.items():
            steps = steps_of(project.name, ref.steps) if ref and ref.steps is not None else project.steps
            commit = git.new_commit(project, steps, f"The {kind} {name}", when)
            commit.versioning_template, commit.versioning_package = _strategy(
                ref.versioning if ref else None, spec_steps if ref is None or ref.steps is None else ref.steps,
                (project.versioning_template, project.versioning_package))
            repo.commits[commit.hash] = commit
            (repo.branches if kind == "branch" else repo.tags)[name] = commit.hash
    return git.at(project, repo.commits[repo.branches[spec.default_branch]]).model_copy(update={"at_commit": None})


class _History:
    """Replays an estate's releases and deployments on a simulated clock, in the recent past, with
    one seeded random source: every run of the same estate shows the same durations."""

    def __init__(self, backend: Backend, clock: SimulatedClock, estate: Estate, skipped: list[str] | None) -> None:
        self.backend, self.clock, self.estate, self.skipped = backend, clock, estate, skipped
        self.rng = random.Random(20240310)

    @contextmanager
    def _refused_at(self, loc: Loc, what: str) -> Iterator[None]:
        """What the rules refuse while replaying (a deployment the lifecycle forbids, a prompted
        variable with no value) is a fault of the file, at the release or deployment written."""
        try:
            yield
        except SandboxError as exc:
            reason = "; ".join(exc.errors) or exc.message
            if self.skipped is None:
                raise self.estate.fault(loc, reason) from None
            self.skipped.append(f"{what}: {reason}")

    def releases(self, builder: _Builder, loc: Loc) -> None:
        for i, project in enumerate(builder.spec.projects):
            for j, spec in enumerate(project.releases):
                self.clock.advance(self.rng.uniform(3600, 5 * 3600))
                with self._refused_at((*loc, "projects", i, "releases", j), f"{project.name} {spec.version}"):
                    created, _ = self.backend.create_release(builder.space_id, ReleaseRequest(
                        project=builder.id_of(Project, project.name), version=spec.version, channel=spec.channel,
                        release_notes=spec.notes, packages=dict(spec.packages),
                        git_ref=spec.git_ref or (project.git.default_branch if project.git else None)))
                    builder.release_ids[(project.name, spec.version)] = created.id

    def deployments(self, builder: _Builder, loc: Loc) -> None:
        for i, project in enumerate(builder.spec.projects):
            for j, release in enumerate(project.releases):
                for k, spec in enumerate(release.deployments):
                    fault = Fault(step=spec.fails.step, machine=spec.fails.machine, message=spec.fails.message) \
                        if spec.fails else None
                    release_id = builder.release_ids.get((project.name, release.version))
                    if release_id is None:  # the release was refused and skipped
                        continue
                    with self._refused_at((*loc, "projects", i, "releases", j, "deployments", k),
                                          f"{project.name} {release.version} to {spec.to}"):
                        self._deploy(builder.space_id, DeploymentRequest(
                            release_id, builder.id_of(Environment, spec.to),
                            tenant_id=builder.id_of(Tenant, spec.tenant) if spec.tenant else None,
                            form_values=self._form_values(release_id, spec.prompted)), fault)

    def _form_values(self, release_id: str, prompted: dict[str, str]) -> dict[str, str | None]:
        """Prompted values by name, as the deployment's ``FormValues`` (by variable id)."""
        if not prompted:
            return {}
        wanted = {name.strip().lower(): value for name, value in prompted.items()}
        release = self.backend.require(Release, None, release_id)
        return {v.id: wanted[v.name.lower()] for v in self.backend.release_variables(release)
                if v.prompt is not None and v.name.lower() in wanted}

    def _deploy(self, space_id: str, request: DeploymentRequest, fault: Fault | None) -> None:
        backend = self.backend
        self.clock.advance(self.rng.uniform(600, 3600))
        deployment = backend.create_deployment(space_id, request, UNLIMITED)
        task = backend.require(Task, None, deployment.task_id)
        self.clock.advance(self.rng.uniform(2, 8))
        kept = list(backend.faults)
        backend.faults[:] = [fault] if fault else []
        try:
            drive(backend, task, self._step_takes_a_few_seconds)
        finally:
            backend.faults[:] = kept

    def _step_takes_a_few_seconds(self) -> bool:
        self.clock.advance(self.rng.uniform(3, 12))
        return True
