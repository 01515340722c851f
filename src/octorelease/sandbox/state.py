"""The sandbox's state in memory, written through to the store, with the lookups every rule needs.

``State`` owns the entities (keyed by kind, then key, in creation order), hands out ids like
``Projects-7``, and resolves references the way Octopus does: by id, slug or name, exactly or
case-insensitively. The rules in ``models.py`` build on it.
"""

from __future__ import annotations

import hmac
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar, cast

from octorelease.sandbox.entities import (
    ENTITY_TYPES,
    Entity,
    Environment,
    Feed,
    Machine,
    Named,
    Project,
    Release,
    Space,
    VariableSet,
)
from octorelease.sandbox.errors import ResourceNotFound
from octorelease.sandbox.store import Store

T = TypeVar("T", bound=Entity)
N = TypeVar("N", bound=Named)

_ID_NUMBER = re.compile(r"^(.*)-(\d+)$")
#: the user every change is made by (``GET /api/users/me``)
USERNAME = "sandbox"


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


@dataclass(frozen=True)
class Caller:
    """Who sent a request: an API key, unlimited or limited to some environments (by name)."""

    environments: frozenset[str] | None = None

    def may_deploy_to(self, environment: Environment) -> bool:
        return self.environments is None or environment.name.lower() in self.environments


UNLIMITED = Caller()


def same_secret(given: str, known: str) -> bool:
    """Whether ``given`` is the secret ``known``, in time that depends only on their lengths.

    Compared as UTF-8 bytes: ``hmac.compare_digest`` refuses ``str`` that is not ASCII, and a
    header may hold anything."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), known.encode("utf-8", "surrogateescape"))


class State:
    """Entities in memory plus the store they are written to; ``lock`` guards both."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock
        self.lock = threading.RLock()
        self._data: dict[str, dict[str, Entity]] = {cls.KIND: {} for cls in ENTITY_TYPES}
        self._next: dict[str, int] = {}
        self.load()

    # -- storage ---------------------------------------------------------------------------------

    def load(self) -> None:
        """Replace what is in memory by what the store holds."""
        self._data = {cls.KIND: {} for cls in ENTITY_TYPES}
        self._next = {}
        for entity in sorted(self.store.load(), key=id_order):
            self._data[entity.KIND][entity.key] = entity
            prefix, number = id_order(entity)
            self._next[prefix] = max(self._next.get(prefix, 1), number + 1)

    def put(self, *entities: Entity) -> None:
        """Keep the entities and write them to the store in one transaction, stamped with when
        and by whom (the sandbox's one user) they were last modified."""
        now = self.clock()
        for entity in entities:
            entity.last_modified_on, entity.last_modified_by = now, USERNAME
            self._data[entity.KIND][entity.key] = entity
        self.store.save(*entities)

    def remove(self, *entities: Entity) -> None:
        """Forget the entities, in memory and in the store, in one transaction."""
        for entity in entities:
            self._data[entity.KIND].pop(entity.key, None)
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
        items = cast("list[T]", list(self._data[cls.KIND].values()))
        return items if space_id is None else [i for i in items if i.space_id == space_id]

    def get(self, cls: type[T], space_id: str | None, entity_id: str) -> T | None:
        """The entity with this id (ids are matched case-insensitively), optionally in one space."""
        exact = self._data[cls.KIND].get(entity_id)  # the usual case, without a scan
        if exact is not None and space_id in (None, exact.space_id):
            return cast("T", exact)
        for item in self.all(cls, space_id):
            if item.id.lower() == entity_id.lower():
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
        items = self.all(cls, space_id)
        for found in ([i for i in items if i.id.lower() == wanted], [i for i in items if i.slug == wanted],
                      [i for i in items if i.name.lower() == wanted]):
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
        return [m for m in self.all(Machine) if environment_id in m.environment_ids]

    def releases_of(self, project_id: str) -> list[Release]:
        return [r for r in self.all(Release) if r.project_id == project_id]
