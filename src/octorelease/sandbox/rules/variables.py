"""Project variables, library variable sets, and the frozen copies releases keep of them.

A release snapshots its project's variables, and each library variable set the project includes,
when it is created; deployments use those snapshots, so changing a variable does not change a
release already made (Octopus's rule, and the reason ``snapshot-variables`` exists). Prompted
variables come from the snapshots too: the project's first, then each library set's in order.

A version-controlled project keeps its non-sensitive variables in Git, one set per commit
(``/projects/{id}/{gitRef}/variables``), and its sensitive ones in the database, one set for
every ref (``/projects/{id}/variables``): a release takes both, the Git ones at its commit.
"""

from __future__ import annotations

import uuid

from octorelease.sandbox.errors import Conflict, ResourceNotFound, ValidationFailed
from octorelease.sandbox.rules import git
from octorelease.sandbox.state.entities import GitCommit, LibraryVariableSet, Project, Release, Variable, VariableSet
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
        _check(variables, current.variables)
        owner = self.get(Project, space_id, current.owner_id)
        if owner is not None and owner.git is not None:
            kept_in_git = sorted({v.name for v in variables if not v.is_sensitive})
            if kept_in_git:
                # the sandbox's own wording: the real server's refusal is not published
                raise ValidationFailed(
                    f"The project '{owner.name}' keeps its non-sensitive variables in Git: save "
                    f"{', '.join(kept_in_git)} at a branch (/projects/{owner.id}/{{gitRef}}/variables); "
                    "this set holds only sensitive variables.")
        current.variables = variables
        current.version += 1
        self.put(current)
        return current

    # -- a version-controlled project's variables at a ref ----------------------------------------

    def variables_at(self, space_id: str, project_ref: str, git_ref: str) -> VariableSet:
        """``GET /projects/{id}/{gitRef}/variables``: the non-sensitive variables of the commit the
        ref names, as a set of the project's (its ``Version`` counts the repository's commits)."""
        project = self.project(space_id, project_ref)
        commit = git.resolve(project, git_ref).commit
        return self._git_set(project, commit)

    def save_variables_at(self, space_id: str, project_ref: str, git_ref: str,
                          variables: list[Variable], message: str | None = None) -> VariableSet:
        """``PUT /projects/{id}/{gitRef}/variables``: a new commit on the branch holding
        ``variables`` (``message``: the body's ``ChangeDescription``); a tag or a commit cannot
        change, and a sensitive value is never written to Git (it belongs in the database set,
        ``/projects/{id}/variables``)."""
        project = self.project(space_id, project_ref)
        head = git.resolve(project, git_ref).commit
        _check(variables, head.variables)
        sensitive = sorted({v.name for v in variables if v.is_sensitive})
        if sensitive:
            # the sandbox's own wording: the real server's refusal is not published
            raise ValidationFailed(
                f"Sensitive variables are kept in the database, never in Git: save {', '.join(sensitive)} at "
                f"/projects/{project.id}/variables.")
        project = git.commit_to(project, git_ref, self.clock(), message, variables=variables)
        self.put(project)
        return self._git_set(project, git.resolve(project, git_ref).commit)

    @staticmethod
    def _git_set(project: Project, commit: GitCommit) -> VariableSet:
        repo = git.repository(project)
        return VariableSet(id=project.variable_set_id, space_id=project.space_id, owner_id=project.id,
                           version=list(repo.commits).index(commit.hash) + 1,
                           variables=[v.model_copy(deep=True) for v in commit.variables])

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
        ``IsLibraryVariableSetModified``): what ``snapshot-variables`` would refresh. A
        version-controlled project's Git variables are those of the release's ref now."""
        project = self.require(Project, None, release.project_id)
        live = self.variable_set(release.space_id, project.variable_set_id)
        project_changed = self.snapshot_of(release).version != live.version
        newest = self.variables_commit(project, release)
        if newest is not None and project.git is not None:
            taken = project.git.commits.get(release.variables_git_commit or "")
            project_changed = project_changed or taken is None or taken.variables != newest.variables
        frozen = {s.owner_id: s.version for s in (self.get(VariableSet, None, i)
                                                  for i in release.library_variable_snapshot_ids) if s}
        current = {i: self.variable_set(release.space_id, f"variableset-{i}").version
                   for i in project.included_library_variable_set_ids}
        return project_changed, frozen != current

    @staticmethod
    def variables_commit(project: Project, release: Release | None = None) -> GitCommit | None:
        """The commit a version-controlled project's variables are read at now: the head of the
        release's ref (its commit, for a release made at a tag or a commit), else the commit the
        project is seen at, else the default branch's head; None for a database project. A ref
        since deleted leaves the release's own."""
        if project.git is None:
            return None
        if release is None and project.at_commit:
            return project.git.commits.get(project.at_commit)
        ref = release.git_ref if release is not None and release.git_ref else project.git.default_branch
        try:
            return git.resolve(project, ref).commit
        except ResourceNotFound:
            return project.git.commits.get(release.variables_git_commit or "") if release else None

    def live_variables(self, space_id: str, project: Project, release: Release | None = None) -> list[Variable]:
        """What a release of the project would see if it were snapshotted now."""
        own = self.project_variable_set(space_id, project, self.variables_commit(project, release)).variables
        sets = [f"variableset-{i}" for i in project.included_library_variable_set_ids]
        return [*own, *(v for set_id in sets for v in self.variable_set(space_id, set_id).variables)]

    def project_variable_set(self, space_id: str, project: Project, commit: GitCommit | None) -> VariableSet:
        """The project's variables as a release would take them: the database set, and for a
        version-controlled project the non-sensitive ones of ``commit`` before them."""
        stored = self.project_variables(space_id, project.id)
        if commit is None:
            return stored
        return stored.model_copy(update={"variables": [*commit.variables, *stored.variables]}, deep=True)

    def take_snapshot(self, space_id: str, project: Project, commit: GitCommit | None = None) -> VariableSet:
        """A frozen copy of the project's variables (a version-controlled project's Git ones at
        ``commit``), stored under a new snapshot id."""
        return self._freeze(self.project_variable_set(space_id, project, commit))

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


def _check(variables: list[Variable], old_variables: list[Variable]) -> None:
    """Every variable named; each gets an id; a sensitive one sent back without a value keeps the
    value it had (clients never see sensitive values, so they cannot send them back)."""
    problems = [f"Variable #{n} has no name." for n, v in enumerate(variables, start=1) if not v.name.strip()]
    if problems:
        raise ValidationFailed(*problems)
    old = {v.id: v for v in old_variables}
    for variable in variables:
        variable.id = variable.id or str(uuid.uuid4())
        if variable.is_sensitive:
            variable.type = "Sensitive"
        if variable.type == "Sensitive":
            variable.is_sensitive = True
            if variable.value is None and variable.id in old:
                variable.value = old[variable.id].value
