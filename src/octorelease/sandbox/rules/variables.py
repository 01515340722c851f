"""Project variables, library variable sets, and the frozen copies releases keep of them.

A release snapshots its project's variables, and each library variable set the project includes,
when it is created; deployments use those snapshots, so changing a variable does not change a
release already made (Octopus's rule, and the reason ``snapshot-variables`` exists). Prompted
variables come from the snapshots too: the project's first, then each library set's in order.
"""

from __future__ import annotations

import uuid

from octorelease.sandbox.errors import Conflict, ResourceNotFound, ValidationFailed
from octorelease.sandbox.state.entities import LibraryVariableSet, Project, Release, Variable, VariableSet
from octorelease.sandbox.state.state import State


class VariableRules(State):
    def project_variables(self, space_id: str, project_ref: str) -> VariableSet:
        project = self.project(space_id, project_ref)
        found = self.get(VariableSet, space_id, project.variable_set_id)
        if found is None:
            found = VariableSet(id=project.variable_set_id, space_id=space_id, owner_id=project.id)
            self.put(found)
        return found

    def variable_set(self, space_id: str, set_id: str) -> VariableSet:
        found = self.get(VariableSet, space_id, set_id)
        if found is not None:
            return found
        owner_id = set_id.removeprefix("variableset-")
        owner = self.get(Project, space_id, owner_id) or self.get(LibraryVariableSet, space_id, owner_id)
        if owner is None:
            raise ResourceNotFound(set_id)
        created = VariableSet(id=f"variableset-{owner.id}", space_id=space_id, owner_id=owner.id)
        self.put(created)
        return created

    def variable_sets(self, space_id: str, ids: list[str]) -> list[VariableSet]:
        """``GET /variables?ids=``: the sets named (snapshots too); without ids, every live set."""
        wanted = {i.lower() for i in ids}
        return [v for v in self.all(VariableSet, space_id)
                if (v.id.lower() in wanted if wanted else not v.is_snapshot)]

    # -- library variable sets -------------------------------------------------------------------

    def save_library_variable_set(self, space_id: str, set_id: str | None, name: str | None,
                                  description: str | None, content_type: str | None) -> LibraryVariableSet:
        """Create (``set_id`` None) or rename/redescribe a library set; ``ContentType`` is create-only."""
        current = self.require(LibraryVariableSet, space_id, set_id) if set_id else None
        name = (name or "").strip() or (current.name if current else "")
        if not name:
            raise ValidationFailed("Please provide a name for the library variable set.")
        for other in self.all(LibraryVariableSet, space_id):
            if other.name.lower() == name.lower() and other is not current:
                raise ValidationFailed(f"A library variable set with the name '{name}' already exists.")
        kind = (content_type or "Variables").strip()
        if current is None and kind not in ("Variables", "ScriptModule"):
            raise ValidationFailed(f"The content type '{kind}' is not one of 'Variables', 'ScriptModule'.")
        saved = LibraryVariableSet(
            id=current.id if current else self.new_id("LibraryVariableSets"), space_id=space_id, name=name,
            description=description if description is not None else (current.description if current else ""),
            content_type=current.content_type if current else kind,
        )
        self.put(saved)
        self.variable_set(space_id, saved.variable_set_id)
        return saved

    def replace_variables(
        self, space_id: str, set_id: str, variables: list[Variable], version: int | None
    ) -> VariableSet:
        """PUT: the given list replaces the set and ``Version`` goes up by one.

        A sensitive variable sent back without a value keeps the value it had (clients never see
        sensitive values, so they cannot send them back). A stale ``Version`` is a conflict.
        """
        current = self.variable_set(space_id, set_id)
        if current.is_snapshot:
            raise ValidationFailed("A release's variable snapshot cannot be modified.")
        if version is not None and version != current.version:
            raise Conflict("The variable set has been modified since you loaded it. Please reload it and try again.")
        old = {v.id: v for v in current.variables}
        problems = [f"Variable #{n} has no name." for n, v in enumerate(variables, start=1) if not v.name.strip()]
        if problems:
            raise ValidationFailed(*problems)
        for variable in variables:
            variable.id = variable.id or str(uuid.uuid4())
            if variable.is_sensitive:
                variable.type = "Sensitive"
            if variable.type == "Sensitive":
                variable.is_sensitive = True
                if variable.value is None and variable.id in old:
                    variable.value = old[variable.id].value
        current.variables = variables
        current.version += 1
        self.put(current)
        return current

    def snapshot_of(self, release: Release) -> VariableSet:
        found = self.get(VariableSet, None, release.variable_snapshot_id)
        return found or VariableSet(id=release.variable_snapshot_id, owner_id=release.project_id, is_snapshot=True)

    def release_variables(self, release: Release) -> list[Variable]:
        """Every variable a release's deployments see: its project snapshot's, then each library
        set snapshot's."""
        libraries = [self.get(VariableSet, None, i) for i in release.library_variable_snapshot_ids]
        return [*self.snapshot_of(release).variables, *(v for s in libraries if s for v in s.variables)]

    def snapshot_drift(self, release: Release) -> tuple[bool, bool]:
        """Whether the project's variables, and its library sets, changed since the release
        snapshotted them (the template's ``IsVariableSetModified`` and
        ``IsLibraryVariableSetModified``): what ``snapshot-variables`` would refresh."""
        project = self.require(Project, None, release.project_id)
        live = self.variable_set(release.space_id, project.variable_set_id)
        project_changed = self.snapshot_of(release).version != live.version
        frozen = {s.owner_id: s.version for s in (self.get(VariableSet, None, i)
                                                  for i in release.library_variable_snapshot_ids) if s}
        current = {i: self.variable_set(release.space_id, f"variableset-{i}").version
                   for i in project.included_library_variable_set_ids}
        return project_changed, frozen != current

    def live_variables(self, space_id: str, project: Project) -> list[Variable]:
        """What a release of the project would see if it were snapshotted now."""
        sets = [project.variable_set_id, *(f"variableset-{i}" for i in project.included_library_variable_set_ids)]
        return [v for set_id in sets for v in self.variable_set(space_id, set_id).variables]

    def take_snapshot(self, space_id: str, project: Project) -> VariableSet:
        """A frozen copy of the project's variables, stored under a new snapshot id."""
        return self._freeze(self.project_variables(space_id, project.id))

    def take_library_snapshots(self, space_id: str, project: Project) -> list[str]:
        """Frozen copies of each library set the project includes, in order: their ids."""
        return [self._freeze(self.variable_set(space_id, f"variableset-{i}")).id
                for i in project.included_library_variable_set_ids]

    def _freeze(self, current: VariableSet) -> VariableSet:
        snapshot = current.model_copy(deep=True)
        snapshot.id = f"{current.id}-s-{current.version}-{uuid.uuid4().hex[:5].upper()}"
        snapshot.is_snapshot = True
        self.put(snapshot)
        return snapshot
