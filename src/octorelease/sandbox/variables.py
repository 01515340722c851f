"""Project variables and the frozen copies releases keep of them.

A release snapshots its project's variables when it is created, and deployments use that snapshot,
so changing a variable does not change a release already made (Octopus's rule, and the reason
``snapshot-variables`` exists). Prompted variables come from the snapshot too.
"""

from __future__ import annotations

import uuid

from octorelease.sandbox.entities import Project, Release, Variable, VariableSet
from octorelease.sandbox.errors import Conflict, ResourceNotFound, ValidationFailed
from octorelease.sandbox.state import State


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
        if found is None:
            project = self.get(Project, space_id, set_id.removeprefix("variableset-"))
            if project is None:
                raise ResourceNotFound(set_id)
            return self.project_variables(space_id, project.id)
        return found

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

    def take_snapshot(self, space_id: str, project: Project) -> VariableSet:
        """A frozen copy of the project's variables, stored under a new snapshot id."""
        current = self.project_variables(space_id, project.id)
        snapshot = current.model_copy(deep=True)
        snapshot.id = f"{current.id}-s-{current.version}-{uuid.uuid4().hex[:5].upper()}"
        snapshot.is_snapshot = True
        self.put(snapshot)
        return snapshot
