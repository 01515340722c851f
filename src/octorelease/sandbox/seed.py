"""The sandbox's starting data, and its test controls.

Seeds (``--seed``, applied only when the database is new; ``POST /_sandbox/reset`` re-applies one):

``empty``
    What a fresh Octopus has: space "Default" (Spaces-1, the default space) with an empty
    built-in feed and "Default Lifecycle" (Lifecycles-1, no phases).

``demo``
    Space **Default** (Spaces-1, default):

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
    - Tenants: Acme (Tenants-1) and Globex (Tenants-2), connected to Web for Test, Staging and
      Production.
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

- ``POST /_sandbox/reset`` ``{"seed": "demo"|"empty"}``: stop running tasks, wipe everything,
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
- ``POST /_sandbox/api-keys`` ``{"key": "API-...", "environments": ["Development"]}``: another valid
  key, allowed to deploy only to those environments (403 elsewhere, absent from ``PromoteTo``).
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

import random
import uuid
from datetime import datetime, timedelta

from octorelease.sandbox.entities import (
    Action,
    Channel,
    Environment,
    Feed,
    LibraryVariableSet,
    Lifecycle,
    Machine,
    PackageReference,
    PackageVersion,
    Phase,
    Project,
    Prompt,
    Space,
    Step,
    Task,
    Tenant,
    Variable,
    VariableSet,
)
from octorelease.sandbox.models import Backend
from octorelease.sandbox.requests import DeploymentRequest, Fault, ReleaseRequest
from octorelease.sandbox.runner import drive
from octorelease.sandbox.state import UNLIMITED

SEEDS = ("demo", "empty")
_NAMESPACE = uuid.UUID("0b5c9a3e-2f7d-4c1e-9a8b-5d6e7f8a9b0c")


def _guid(*parts: str) -> str:
    """Stable GUIDs for seeded steps and variables, so every demo run shows the same ids."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


class SimulatedClock:
    """A clock the seed moves by hand, so its history lies in the recent past."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def apply(backend: Backend, seed: str) -> None:
    """Wipe nothing, add the seed's data, and mark the database seeded, all in one transaction."""
    if seed not in SEEDS:
        raise ValueError(f"unknown seed {seed!r} (expected one of {', '.join(SEEDS)})")
    with backend.store.transaction():
        if seed == "empty":
            _empty(backend)
        else:
            _demo(backend)
        backend.store.mark_seeded(seed)


def _empty(backend: Backend) -> None:
    space_id = backend.new_id("Spaces")
    backend.put(
        Space(id=space_id, space_id=space_id, name="Default", is_default=True, description="The default space"),
        Feed(id="feeds-builtin", space_id=space_id, name="Octopus Server (built-in)"),
        Lifecycle(id=backend.new_id("Lifecycles"), space_id=space_id, name="Default Lifecycle"),
    )


class _Builder:
    """Short constructors for the demo, each taking the next id of its kind."""

    def __init__(self, backend: Backend, space_id: str, published: datetime) -> None:
        self.backend, self.space_id, self.published = backend, space_id, published

    def environments(self, *names: str) -> list[Environment]:
        envs = [Environment(id=self.backend.new_id("Environments"), space_id=self.space_id, name=n, sort_order=i)
                for i, n in enumerate(names)]
        self.backend.put(*envs)
        return envs

    def machine(self, name: str, env: Environment, role: str, disabled: bool = False) -> None:
        self.backend.put(Machine(id=self.backend.new_id("Machines"), space_id=self.space_id, name=name,
                                 environment_ids=[env.id], roles=[role], is_disabled=disabled))

    def lifecycle(self, name: str, phases: list[tuple[str, list[Environment]]]) -> Lifecycle:
        life = Lifecycle(
            id=self.backend.new_id("Lifecycles"), space_id=self.space_id, name=name,
            phases=[Phase(id=_guid(name, p), name=p, optional=[e.id for e in envs]) for p, envs in phases],
        )
        self.backend.put(life)
        return life

    def feed(self, packages: dict[str, list[str]]) -> None:
        versions = [PackageVersion(package_id=pkg, version=v, published=self.published, size_bytes=1_048_576 + i)
                    for pkg, vs in packages.items() for i, v in enumerate(vs)]
        self.backend.put(Feed(id="feeds-builtin", space_id=self.space_id, name="Octopus Server (built-in)",
                              packages=versions))

    def project(self, name: str, life: Lifecycle, steps: list[tuple[str, str, str | None]],
                tenanted: str = "Untenanted", variables: list[Variable] | None = None,
                channels: list[tuple[str, Lifecycle | None]] | None = None) -> Project:
        """``steps`` are (step name, role, package id or None for a script step)."""
        project_id = self.backend.new_id("Projects")
        project = Project(
            id=project_id, space_id=self.space_id, name=name, lifecycle_id=life.id, tenanted_mode=tenanted,
            steps=[
                Step(id=_guid(name, step), name=step, roles=[role], action=Action(
                    id=_guid(name, step, "action"), name=step,
                    action_type="Octopus.TentaclePackage" if package else "Octopus.Script",
                    packages=[PackageReference(id=_guid(name, step, "package"), package_id=package)] if package
                    else [],
                    script="" if package else "curl --fail http://localhost/health",
                ))
                for step, role, package in steps
            ],
        )
        self.backend.put(project, VariableSet(id=project.variable_set_id, space_id=self.space_id,
                                              owner_id=project_id, variables=variables or []))
        for number, (channel, channel_life) in enumerate(channels or [("Default", None)]):
            self.backend.put(Channel(id=self.backend.new_id("Channels"), space_id=self.space_id,
                                     project_id=project_id, name=channel, is_default=number == 0,
                                     lifecycle_id=channel_life.id if channel_life else None))
        return project


def _demo(backend: Backend) -> None:
    real_clock = backend.clock
    clock = SimulatedClock(real_clock() - timedelta(days=3))
    backend.clock = clock
    try:
        _demo_catalog(backend, clock.now - timedelta(days=10))
        _demo_history(backend, clock)
    finally:
        backend.clock = real_clock


def _demo_catalog(backend: Backend, published: datetime) -> None:
    default_id, operations_id = backend.new_id("Spaces"), backend.new_id("Spaces")
    backend.put(Space(id=default_id, space_id=default_id, name="Default", is_default=True,
                      description="The default space"),
                Space(id=operations_id, space_id=operations_id, name="Operations", description="Infrastructure work"))
    default = _Builder(backend, default_id, published)
    dev, test, staging, prod, dr = default.environments(
        "Development", "Test", "Staging", "Production", "Disaster Recovery")
    for name, env in (("dev-web-01", dev), ("test-web-01", test), ("test-web-02", test),
                      ("stage-web-01", staging), ("stage-web-02", staging), ("prod-web-01", prod),
                      ("prod-web-02", prod), ("prod-web-03", prod)):
        default.machine(name, env, "web")
    default.machine("prod-web-04", prod, "web", disabled=True)
    default.machine("dr-web-01", dr, "web")
    for name, env in (("dev-worker-01", dev), ("test-worker-01", test), ("stage-worker-01", staging),
                      ("prod-worker-01", prod)):
        default.machine(name, env, "worker")
    web_life = default.lifecycle("Web Lifecycle", [(e.name, [e]) for e in (dev, test, staging, prod)])
    anywhere = default.lifecycle("Anywhere", [("Anywhere", [])])
    default_life = default.lifecycle("Default Lifecycle", [])
    default.feed({"Web": ["1.0.0", "1.1.0", "1.2.0", "1.3.0"], "Worker": ["2.0.0", "2.1.0"],
                  "Billing": ["3.0.0", "3.1.0"]})
    web = default.project(
        "Web", web_life, [("Deploy web", "web", "Web"), ("Smoke test", "web", None)],
        tenanted="TenantedOrUntenanted", channels=[("Default", None), ("Hotfix", anywhere)],
        variables=[
            Variable(id=_guid("Web", "Greeting"), name="Greeting", value="hello"),
            Variable(id=_guid("Web", "ChangeTicket"), name="ChangeTicket", value="",
                     prompt=Prompt(label="Change ticket", description="The change ticket for this deployment")),
        ],
    )
    shared = LibraryVariableSet(id=backend.new_id("LibraryVariableSets"), space_id=default_id, name="Shared settings",
                                description="Settings every web deployment reads")
    web.included_library_variable_set_ids = [shared.id]
    backend.put(shared, web, VariableSet(id=shared.variable_set_id, space_id=default_id, owner_id=shared.id,
                                         variables=[Variable(id=_guid("Shared", "Region"), name="Region",
                                                             value="eu-west-1")]))
    default.project("Worker", anywhere, [("Deploy worker", "worker", "Worker")])
    default.project("Billing", default_life, [("Run migration", "worker", "Billing")], variables=[
        Variable(id=_guid("Billing", "Approver"), name="Approver", value="",
                 prompt=Prompt(label="Approver", description="Who approved this migration", required=True)),
    ])
    backend.put(*(Tenant(id=backend.new_id("Tenants"), space_id="Spaces-1", name=name,
                         project_environments={web.id: [test.id, staging.id, prod.id]})
                  for name in ("Acme", "Globex")))
    ops = _Builder(backend, operations_id, published)
    (ops_env,) = ops.environments("Ops")
    ops.machine("ops-01", ops_env, "ops")
    ops_life = ops.lifecycle("Ops Lifecycle", [])
    ops.feed({"Infra": ["0.9.0"]})
    ops.project("Infra", ops_life, [("Deploy infra", "ops", "Infra")])


def _demo_history(backend: Backend, clock: SimulatedClock) -> None:
    rng = random.Random(20240310)  # one seeded source: every demo shows the same durations

    def release(project: str, version: str) -> str:
        clock.advance(rng.uniform(3600, 5 * 3600))
        created, _ = backend.create_release("Spaces-1", ReleaseRequest(project=project, version=version,
                                                                        package_version=version))
        return created.id

    def deploy(release_id: str, environment_id: str) -> None:
        clock.advance(rng.uniform(600, 3600))
        deployment = backend.create_deployment("Spaces-1", DeploymentRequest(release_id, environment_id), UNLIMITED)
        task = backend.require(Task, None, deployment.task_id)
        clock.advance(rng.uniform(2, 8))
        drive(backend, task, step_takes_a_few_seconds)

    def step_takes_a_few_seconds() -> bool:
        clock.advance(rng.uniform(3, 12))
        return True

    web_1_0, web_1_1, web_1_2 = release("Web", "1.0.0"), release("Web", "1.1.0"), release("Web", "1.2.0")
    worker_2_0 = release("Worker", "2.0.0")
    release("Billing", "3.0.0")
    deploy(web_1_0, "Environments-1")
    deploy(web_1_0, "Environments-2")
    deploy(web_1_1, "Environments-1")
    backend.add_fault(Fault(step="Smoke test", machine="dev-web-01",
                            message="Smoke test failed: GET /health returned 503"))
    deploy(web_1_2, "Environments-1")
    backend.faults.clear()
    deploy(worker_2_0, "Environments-1")
