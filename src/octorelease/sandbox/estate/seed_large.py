"""The large estate: the demo seed plus thousands of environments, machines, releases and
deployments, for measuring how the sandbox and the client scale (``--seed large``).

The demo's projects, lifecycles and history come first and are unchanged (same ids, same
releases), so every command that works on the demo works here and picks the same release. The
bulk comes after, in the default space:

- ``environments`` environments ``Region 0001`` ... after the demo's in ``SortOrder`` (the
  "Anywhere" lifecycle, and so the Worker project and Web's Hotfix channel, covers them all);
- ``machines`` targets ``bulk-web-00001`` ... spread evenly over them, role ``web``;
- ``projects`` projects ``Service 001`` ... on "Anywhere", one script step each, sharing the
  ``releases`` releases (``1.0.0``, ``1.0.1`` ... per project);
- ``deployments`` finished deployments of those releases to the bulk environments, each with its
  task (one in ten Failed), so the history lies between the demo's and now;
- ``tenants`` tenants ``Customer 0001`` ... connected to ``Service 001`` in a few environments.

The bulk is made as entities and written with one ``executemany`` in the transaction that marks
the database seeded, without replaying the rules (which would take minutes): the full default
size builds in seconds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from octorelease.sandbox.estate.file import SCRIPT_STEP
from octorelease.sandbox.rules.models import Backend
from octorelease.sandbox.state.entities import (
    Action,
    Activity,
    Channel,
    Deployment,
    Entity,
    Environment,
    Lifecycle,
    LogLine,
    Machine,
    Phase,
    Project,
    Release,
    Space,
    Step,
    Task,
    Tenant,
    VariableSet,
)

#: how a seed spec names the large estate: ``large`` or ``large:environments=200,machines=1000``
LARGE = "large"
_NAMESPACE = uuid.UUID("3d0c9e47-8f5a-4b1e-a2c6-7e9f0b1d2c3a")


@dataclass(frozen=True)
class LargeEstate:
    """How big the bulk is (the issue's estate by default)."""

    environments: int = 2000
    machines: int = 10_000
    releases: int = 5000
    deployments: int = 50_000
    projects: int = 20
    tenants: int = 500

    @property
    def spec(self) -> str:
        """This size as a ``--seed`` value, e.g. ``large:environments=200,...``."""
        return f"{LARGE}:" + ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


class LargeSeedError(ValueError):
    """A ``large:...`` seed spec that does not parse; the message says which part and why."""


def is_large(seed: object) -> bool:
    return isinstance(seed, LargeEstate) or (isinstance(seed, str) and (seed == LARGE or seed.startswith(LARGE + ":")))


def parse_large(spec: str) -> LargeEstate:
    """``large`` or ``large:NAME=COUNT,...`` (names: the fields of ``LargeEstate``)."""
    _, _, rest = spec.partition(":")
    known = {f.name for f in fields(LargeEstate)}
    sizes: dict[str, int] = {}
    for part in (p.strip() for p in rest.split(",")):
        if not part:
            continue
        name, eq, value = part.partition("=")
        name = name.strip().lower()
        if name not in known:
            raise LargeSeedError(f"'{name}' is not a size of the large seed (expected {', '.join(sorted(known))})")
        if not eq or not value.strip().isdigit():
            raise LargeSeedError(f"'{part}': the size must be a whole number, 0 or more, e.g. {name}=100")
        sizes[name] = int(value)
    estate = LargeEstate(**sizes)
    if estate.deployments and not (estate.releases and estate.environments):
        raise LargeSeedError("deployments need releases and environments (both more than 0)")
    if estate.releases and not estate.projects:
        raise LargeSeedError("releases need projects (more than 0)")
    return estate


def _guid(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def seed_large_estate(backend: Backend, size: LargeEstate | None = None, *, until: datetime | None = None) -> None:
    """Add the bulk of ``size`` (default: the issue's estate) to the backend's default space, in
    one transaction; the demo seed is expected to be there already (``seed.apply`` does both).

    History lies between the newest thing already there and ``until`` (default: a minute ago)."""
    size = size or LargeEstate()
    with backend.store.transaction():
        _Bulk(backend, size, until or backend.clock() - timedelta(minutes=1)).build()


class _Bulk:
    def __init__(self, backend: Backend, size: LargeEstate, until: datetime) -> None:
        self.backend, self.size = backend, size
        self.space = next(s for s in backend.all(Space) if s.is_default)
        stamps = [t.completed_time or t.last_updated for t in backend.all(Task)]
        stamps += [r.assembled for r in backend.all(Release)]
        start = max(stamps) if stamps else until - timedelta(days=30)
        self.start = min(start, until - timedelta(hours=1))
        self.until = until

    def build(self) -> None:
        backend, size, space_id = self.backend, self.size, self.space.id
        anywhere = next((life for life in backend.all(Lifecycle, space_id) if not any(
            p.environment_ids for p in life.phases) and life.phases), None)
        lifecycle_id = anywhere.id if anywhere else self._anywhere().id
        first_order = max((e.sort_order for e in backend.all(Environment, space_id)), default=-1) + 1
        environments = [Environment(id=backend.new_id("Environments"), space_id=space_id,
                                                    name=f"Region {i:04d}", sort_order=first_order + i)
                        for i in range(1, size.environments + 1)]
        per_env: dict[str, list[str]] = {e.id: [] for e in environments}
        machines = []
        for i in range(1, size.machines + 1):
            env = environments[(i - 1) % len(environments)] if environments else None
            machine = Machine(id=backend.new_id("Machines"), space_id=space_id,
                                              name=f"bulk-web-{i:05d}", environment_ids=[env.id] if env else [],
                                              roles=["web"])
            machines.append(machine)
            if env is not None:
                per_env[env.id].append(machine.id)
        projects, channels, snapshots = self._projects(lifecycle_id)
        releases = self._releases(projects, channels, snapshots)
        history = self._history(releases, environments, per_env, {p.id: p for p in projects})
        connected = {projects[0].id: [e.id for e in environments[:3]]} if projects and environments else {}
        tenants = [Tenant(id=backend.new_id("Tenants"), space_id=space_id, name=f"Customer {i:04d}",
                                          project_environments={k: list(v) for k, v in connected.items()})
                   for i in range(1, size.tenants + 1)]
        backend.put(*environments, *machines, *projects, *channels, *snapshots, *releases, *history, *tenants)

    def _anywhere(self) -> Lifecycle:
        """A lifecycle whose one phase covers every environment, when the estate has none."""
        life = Lifecycle(id=self.backend.new_id("Lifecycles"), space_id=self.space.id, name="Bulk Anywhere",
                         phases=[Phase(id=_guid("bulk-anywhere"), name="Anywhere")])
        self.backend.put(life)
        return life

    def _projects(self, lifecycle_id: str) -> tuple[list[Project], list[Channel], list[VariableSet]]:
        backend, space_id = self.backend, self.space.id
        projects, channels, sets = [], [], []
        for i in range(1, self.size.projects + 1):
            name = f"Service {i:03d}"
            step = Step(id=_guid(name, "step"), name="Deploy service", roles=["web"],
                        action=Action(id=_guid(name, "action"), name="Deploy service", action_type=SCRIPT_STEP,
                                      script="./deploy.sh"))
            project = Project(id=backend.new_id("Projects"), space_id=space_id, name=name,
                              lifecycle_id=lifecycle_id, steps=[step])
            projects.append(project)
            channels.append(Channel(id=backend.new_id("Channels"), space_id=space_id, project_id=project.id,
                                    name="Default", is_default=True))
            live = VariableSet(id=project.variable_set_id, space_id=space_id, owner_id=project.id)
            frozen = VariableSet(id=f"{live.id}-s-1-BULK0", space_id=space_id, owner_id=project.id, is_snapshot=True)
            sets += [live, frozen]
        return projects, channels, sets

    def _moment(self, index: int, total: int) -> datetime:
        """The ``index``-th of ``total`` moments spread evenly between the start and the end."""
        span = (self.until - self.start).total_seconds()
        return self.start + timedelta(seconds=span * (index + 1) / (total + 1))

    def _releases(self, projects: list[Project], channels: list[Channel],
                  snapshots: list[VariableSet]) -> list[Release]:
        backend, size = self.backend, self.size
        total = size.releases + size.deployments
        releases = []
        counts = [0] * len(projects)
        for i in range(size.releases):
            n = i % len(projects)
            project = projects[n]
            releases.append(Release(
                id=backend.new_id("Releases"), space_id=project.space_id, project_id=project.id,
                channel_id=channels[n].id, version=f"1.0.{counts[n]}", assembled=self._moment(i, total),
                variable_snapshot_id=snapshots[2 * n + 1].id, steps=[s.model_copy() for s in project.steps],
                process_snapshot_id=f"{project.process_id}-s-1-BULK0"))
            counts[n] += 1
        return releases

    def _history(self, releases: list[Release], environments: list[Environment], per_env: dict[str, list[str]],
                 projects: dict[str, Project]) -> list[Entity]:
        backend, size = self.backend, self.size
        total = size.releases + size.deployments
        made: list[Entity] = []
        for i in range(size.deployments):
            release = releases[i % len(releases)]
            # a stride coprime with most counts, so one release reaches many environments
            env = environments[(i * 7 + i // len(releases)) % len(environments)]
            created = self._moment(size.releases + i, total)
            started, ended = created + timedelta(seconds=2), created + timedelta(seconds=30)
            failed = i % 10 == 9
            deployment = Deployment(
                id=backend.new_id("Deployments"), space_id=release.space_id, release_id=release.id,
                project_id=release.project_id, channel_id=release.channel_id, environment_id=env.id,
                task_id=backend.new_id("ServerTasks"), created=created, process_id=release.process_snapshot_id,
                deployed_to_machine_ids=[] if failed else list(per_env[env.id]), failure_encountered=failed)
            description = f"Deploy {projects[release.project_id].name} release {release.version} to {env.name}"
            state = "Failed" if failed else "Success"
            message = "The deployment failed because one or more steps failed." if failed else ""
            line = LogLine(category="Fatal" if failed else "Info", occurred_at=ended,
                                           message=message or f"Deployed {release.version} to {env.name}")
            root = Activity(id=deployment.task_id, name=description, status=state, started=started,
                                            ended=ended, logs=[line])
            made += [deployment, Task(
                id=deployment.task_id, space_id=release.space_id, description=description,
                deployment_id=deployment.id, state=state, queue_time=created, start_time=started,
                completed_time=ended, last_updated=ended, error_message=message, has_warnings_or_errors=failed,
                activity=root)]
        return made
