"""The sandbox's state in memory, written through to the store, with the lookups every rule needs.

``State`` owns the entities (keyed by kind, then key, in creation order), hands out ids like
``Projects-7``, and resolves references the way Octopus does: by id, slug or name, exactly or
case-insensitively. The rules in ``models.py`` build on it.

Every lookup a request makes goes through an index kept here (``Index``), updated by ``put`` and
``remove``, so its cost does not grow with the estate: by space, by lower-cased id, name and
slug, machines by environment, releases by project and version, deployments by release, project,
environment and machine, tasks by state. A bulk estate of 50,000 deployments answers a task poll
or a new deployment as fast as the demo does.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar, cast

from octorelease.sandbox.errors import ResourceNotFound
from octorelease.sandbox.state.entities import (
    ENTITY_TYPES,
    TASK_ACTIVE_STATES,
    Deployment,
    Entity,
    Environment,
    Feed,
    Machine,
    Named,
    Project,
    Release,
    Space,
    Task,
    Tenant,
    VariableSet,
)
from octorelease.sandbox.state.store import Store

T = TypeVar("T", bound=Entity)
R = TypeVar("R")
N = TypeVar("N", bound=Named)

_ID_NUMBER = re.compile(r"^(.*)-(\d+)$")
#: the sandbox's one user, who makes every change and answers every interruption, whatever key
#: it acts through (``GET /api/users/me``)
USERNAME = "sandbox"
USER_ID = "Users-1"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def id_order(entity: Entity) -> tuple[str, int]:
    """Sort key that puts ``Releases-10`` after ``Releases-9``."""
    match = _ID_NUMBER.match(entity.key)
    return (match.group(1), int(match.group(2))) if match else (entity.key, 0)


def select(
    items: Iterable[N], *, name: str | None = None, partial_name: str | None = None, ids: list[str] | None = None
) -> list[N]:
    """Octopus's list filters: ``name`` exact and ``partialName`` contained (both case-insensitive)."""
    chosen = list(items)
    if ids:
        wanted = {i.lower() for i in ids}
        chosen = [i for i in chosen if i.id.lower() in wanted]
    if name:
        chosen = [i for i in chosen if i.name.lower() == name.strip().lower()]
    if partial_name:
        chosen = [i for i in chosen if partial_name.strip().lower() in i.name.lower()]
    return chosen


class Index:
    """The entities of one kind, grouped under each key their ``index_keys`` give (a machine
    under each of its environments); each group keeps the order entities were first put in,
    which is their id order. ``add`` again after a change moves an entity between groups."""

    def __init__(self) -> None:
        self._groups: dict[Hashable, dict[str, Entity]] = {}
        self._placed: dict[str, tuple[Hashable, ...]] = {}

    def add(self, entity: Entity) -> None:
        key, groups = entity.key, self._groups
        new = entity.index_keys()
        old = self._placed.get(key)
        if old is not None and old != new:
            self._leave(key, [k for k in old if k not in new])
        for group_key in new:  # an entity replaced by a new object of the same key takes its place
            group = groups.get(group_key)
            if group is None:
                groups[group_key] = {key: entity}
            else:
                group[key] = entity
        self._placed[key] = new

    def discard(self, entity: Entity) -> None:
        self._leave(entity.key, self._placed.pop(entity.key, ()))

    def _leave(self, key: str, group_keys: Iterable[Hashable]) -> None:
        for group_key in group_keys:
            group = self._groups[group_key]
            group.pop(key, None)
            if not group:
                del self._groups[group_key]

    def keys(self, tag: str) -> list[Hashable]:
        """The values filed under ``tag`` (every task state there is, ...)."""
        return [k[1] for k in self._groups if isinstance(k, tuple) and k[0] == tag]

    def get(self, group_key: Hashable) -> list[Entity]:
        return list(self._groups.get(group_key, {}).values())


@dataclass(frozen=True)
class Caller:
    """Who sent a request: an API key, unlimited or limited to some environments (by name), and
    in the sandbox user's teams or only in the teams named (lower-cased names or ids)."""

    environments: frozenset[str] | None = None
    teams: frozenset[str] | None = None

    def may_deploy_to(self, environment: Environment) -> bool:
        return self.environments is None or environment.name.lower() in self.environments


UNLIMITED = Caller()


class State:
    """Entities in memory plus the store they are written to; ``lock`` guards both."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock
        self.lock = threading.RLock()
        self._data: dict[str, dict[str, Entity]] = {cls.KIND: {} for cls in ENTITY_TYPES}
        self._indexes: dict[str, Index] = {}
        self._next: dict[str, int] = {}
        #: how many times each kind was written: what a derived value cached for a kind checks
        self.generation: dict[str, int] = {}
        self._cache: dict[Hashable, tuple[tuple[int, ...], object]] = {}
        self.load()

    # -- storage ---------------------------------------------------------------------------------

    def load(self) -> None:
        """Replace what is in memory by what the store holds."""
        self._data = {cls.KIND: {} for cls in ENTITY_TYPES}
        self._indexes = {cls.KIND: Index() for cls in ENTITY_TYPES}
        self._next = {}
        self.generation = {cls.KIND: self.generation.get(cls.KIND, 0) + 1 for cls in ENTITY_TYPES}
        for entity in sorted(self.store.load(), key=id_order):
            self._keep(entity)
            prefix, number = id_order(entity)
            self._next[prefix] = max(self._next.get(prefix, 1), number + 1)

    def _keep(self, entity: Entity) -> None:
        self._data[entity.KIND][entity.key] = entity
        self._indexes[entity.KIND].add(entity)

    def put(self, *entities: Entity) -> None:
        """Keep the entities and write them to the store in one transaction, stamped with when
        and by whom (the sandbox's one user) they were last modified."""
        now = self.clock()
        for entity in entities:
            entity.last_modified_on, entity.last_modified_by = now, USERNAME
            self._keep(entity)
            self.generation[entity.KIND] += 1
        self.store.save(*entities)

    def remove(self, *entities: Entity) -> None:
        """Forget the entities, in memory and in the store, in one transaction."""
        for entity in entities:
            self._data[entity.KIND].pop(entity.key, None)
            self._indexes[entity.KIND].discard(entity)
            self.generation[entity.KIND] += 1
        self.store.delete(*entities)

    def new_id(self, prefix: str) -> str:
        number = self._next.get(prefix, 1)
        self._next[prefix] = number + 1
        return f"{prefix}-{number}"

    def census(self) -> dict[str, int | str | None]:
        """How many entities of each kind there are, how many variables the variable sets hold,
        and when anything was last written: two equal censuses mean nothing was created or
        changed in between (tests take one before and after a run that must change nothing)."""
        counts: dict[str, int | str | None] = {kind: len(items) for kind, items in self._data.items()}
        counts["variable"] = sum(len(s.variables) for s in self.all(VariableSet))
        stamps = [e.last_modified_on for items in self._data.values() for e in items.values() if e.last_modified_on]
        counts["last_modified"] = max(stamps).isoformat() if stamps else None
        return counts

    # -- lookups ---------------------------------------------------------------------------------

    def all(self, cls: type[T], space_id: str | None = None) -> list[T]:
        if space_id is None:
            return cast("list[T]", list(self._data[cls.KIND].values()))
        return self.indexed(cls, "space", space_id)

    def indexed(self, cls: type[T], tag: str, value: Hashable) -> list[T]:
        """The entities of a kind filed under ``(tag, value)`` by their ``index_keys``, in id order
        (under a field that changes, a task's state, in the order they came there)."""
        return cast("list[T]", self._indexes[cls.KIND].get((tag, value)))

    def cached(self, key: Hashable, kinds: tuple[type[Entity], ...], compute: Callable[[], R]) -> R:
        """A value derived from whole kinds (every environment of a space in order, a lifecycle's
        phases), computed again only once one of those kinds has been written since."""
        stamp = tuple(self.generation[k.KIND] for k in kinds)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == stamp:
            return cast("R", hit[1])
        value = compute()
        self._cache[key] = (stamp, value)
        return value

    def index_values(self, cls: type[Entity], tag: str) -> list[Hashable]:
        """Every value something of the kind is filed under ``tag`` (the task states there are, ...)."""
        return self._indexes[cls.KIND].keys(tag)

    def named(self, cls: type[N], space_id: str, *, name: str | None = None, partial_name: str | None = None,
              ids: list[str] | None = None, within: list[N] | None = None) -> list[N]:
        """A space's entities of a kind that Octopus's list filters keep (``select``), found
        through the id and name indexes when ``ids`` or ``name`` is given; ``within``: only among
        these (already narrowed by another index, in id order)."""
        if ids:
            found = {e.key: e for i in ids for e in self.indexed(cls, "id", i.lower()) if e.space_id == space_id}
            candidates = sorted(found.values(), key=id_order)
        elif name:
            candidates = self.indexed(cls, "name", (space_id, name.strip().lower()))
        else:
            candidates = within if within is not None else self.all(cls, space_id)
        if within is not None and (ids or name):
            allowed = {e.key for e in within}
            candidates = [e for e in candidates if e.key in allowed]
        return select(candidates, name=name, partial_name=partial_name, ids=ids)

    def get(self, cls: type[T], space_id: str | None, entity_id: str) -> T | None:
        """The entity with this id (ids are matched case-insensitively), optionally in one space."""
        exact = self._data[cls.KIND].get(entity_id)  # the usual case
        if exact is not None and space_id in (None, exact.space_id):
            return cast("T", exact)
        for item in self.indexed(cls, "id", entity_id.lower()):
            if space_id in (None, item.space_id):
                return item
        return None

    def require(self, cls: type[T], space_id: str | None, entity_id: str) -> T:
        """As ``get``, but a missing entity is a 404: for ids that come from the path."""
        found = self.get(cls, space_id, entity_id)
        if found is None:
            raise ResourceNotFound(entity_id)
        return found

    def find(self, cls: type[N], space_id: str, ref: str) -> N | None:
        """An entity by id, slug or name (case-insensitive), as Octopus resolves user input."""
        wanted = ref.strip().lower()
        for found in ([i for i in self.indexed(cls, "id", wanted) if i.space_id == space_id],
                      self.indexed(cls, "slug", (space_id, wanted)), self.indexed(cls, "name", (space_id, wanted))):
            if found:
                return found[0]
        return None

    def space(self, space_id: str | None) -> Space:
        """The space a route is scoped to; ``None`` means the default space."""
        spaces = self.all(Space)
        if space_id is None:
            for space in spaces:
                if space.is_default:
                    return space
            raise ResourceNotFound("default space")
        for space in spaces:
            if space.id.lower() == space_id.lower() or space.slug == space_id.lower():
                return space
        raise ResourceNotFound(space_id)

    def project(self, space_id: str, ref: str) -> Project:
        found = self.find(Project, space_id, ref)
        if found is None:
            raise ResourceNotFound(ref)
        return found

    def feed(self, space_id: str) -> Feed:
        feeds = self.all(Feed, space_id)
        if not feeds:
            raise ResourceNotFound("feeds-builtin")
        return feeds[0]

    def machines_in(self, environment_id: str) -> list[Machine]:
        return self.indexed(Machine, "environment", environment_id)

    def machines_in_any(self, space_id: str, environment_ids: list[str]) -> list[Machine]:
        """The space's machines in any of these environments (ids in any letter case), in id order."""
        environments = (self.get(Environment, space_id, e) for e in environment_ids)
        found = {m.key: m for e in environments if e is not None for m in self.machines_in(e.id)}
        return sorted(found.values(), key=id_order)

    def releases_of(self, project_id: str) -> list[Release]:
        return self.indexed(Release, "project", project_id)

    def release_of(self, project_id: str, version: str) -> Release | None:
        """A project's release with this version (ignoring case)."""
        found = self.indexed(Release, "version", (project_id, version.strip().lower()))
        return found[0] if found else None

    def deployments_of(self, release_id: str) -> list[Deployment]:
        """A release's deployments, oldest first."""
        return self.indexed(Deployment, "release", release_id)

    def tenants_of(self, project_id: str) -> list[Tenant]:
        """The tenants connected to a project (in any environment)."""
        return self.indexed(Tenant, "project", project_id)

    def environments_in_order(self, space_id: str) -> list[Environment]:
        """A space's environments by ``SortOrder`` (then id), as lifecycles and lists show them."""
        return self.cached(("environments", space_id), (Environment,),
                           lambda: sorted(self.all(Environment, space_id), key=lambda e: (e.sort_order, e.id)))

    def active_tasks(self) -> list[Task]:
        """Tasks queued, executing or being cancelled, in id order."""
        return sorted((t for state in TASK_ACTIVE_STATES for t in self.indexed(Task, "state", state)), key=id_order)
