"""A handler's ``variables:``: project variables set on the server before its actions run.

This is ContinuaCI's Variables tab: "these project variables will be set on the Octopus Deploy
server before each action is run". Setting one means: the unscoped variable of that name gets
the value (names compare case-insensitively, as in Octopus); a name with no unscoped variable
gets a new one; scoped variables are left alone. The variable set is written back only when a
value changed, in one PUT, so a rerun costs one GET.

A release keeps a snapshot of the variables it was created with, so new values reach releases
created afterwards (a ``create:`` in the same handler), not a deploy or promote of an existing
release. The report says so when a handler sets variables without creating a release.

A version-controlled ("Config as Code") project keeps its non-sensitive variables in Git, a set
per branch (``/projects/{id}/{gitRef}/variables``), and its sensitive ones in the database
(``/projects/{id}/variables``). Its variables are set on the branch its release is made at (the
create action's ``git_ref``, else the build's branch, else the project's default branch), as a
commit; a variable that is sensitive is set in the database. A tag or a commit cannot change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from octorelease import errors
from octorelease.actions.result import ActionResult, Ref
from octorelease.errors import OctoreleaseError

if TYPE_CHECKING:
    from octorelease.octopus.api import SpaceApi
    from octorelease.octopus.models import Project


@dataclass(frozen=True)
class ReleaseAt:
    """Where the handler's release is made, for a version-controlled project: the create
    action's ``git_ref`` and ``git_commit``, and the build's branch, commit and their source."""

    git_ref: str | None = None
    git_commit: str | None = None
    build: tuple[str | None, str | None, str] | None = None


def set_project_variables(
    space: SpaceApi, project: str, variables: Mapping[str, str], *, dry_run: bool = False,
    at: ReleaseAt | None = None, why: str | None = None,
) -> ActionResult:
    """Set ``variables`` on ``project``; errors are captured in the result, as actions do. On a
    version-controlled project the commit's message names the variables and ``why`` (the
    handler and its build), so the repository's history says who changed them."""
    from octorelease.actions.create import is_version_controlled

    result = ActionResult("variables", dry_run=dry_run)
    where = ""
    try:
        found = space.project(project)
        result.project = Ref(found.id, found.name)
        branch = _branch(space, found, at or ReleaseAt()) if is_version_controlled(found) else None
        # a Git project: its variables at the branch first (new ones go there), then its sensitive ones
        sets = [space.variable_set(found, branch[0]), space.variable_set(found)] if branch else \
            [space.variable_set(found)]
        changed, touched = _apply([s.setdefault("Variables", []) for s in sets], variables)
        if branch:
            where = f" on {branch[0]} ({branch[1]})"
        if not dry_run:
            for index, written in sorted(touched.items()):
                change = f"octorelease: set project variables {', '.join(written)}" + (f" ({why})" if why else "")
                space.save_variable_set(found, sets[index], branch[0] if branch and index == 0 else None, change)
    except OctoreleaseError as exc:
        result.error = exc
        return result
    except KeyboardInterrupt as interrupt:  # Ctrl-C or SIGTERM: the run stops, and says where
        from octorelease.actions.interrupt import interrupted_error, signal_of

        result.error = interrupted_error(
            signal_of(interrupt), f" while setting project variables of {project}: they may or may not be saved."
        )
        return result
    names = ", ".join(variables)
    if not changed:
        result.messages.append(f"Project variables {names} of {found.name}{where} already had these values.")
    else:
        verb = "Would set" if dry_run else "Set"
        result.messages.append(f"{verb} project variables {', '.join(changed)} of {found.name}{where}.")
    return result


def _branch(space: SpaceApi, project: Project, at: ReleaseAt) -> tuple[str, str]:
    """The branch a version-controlled project's variables are set on, and where it came from;
    a tag or a commit is refused before anything is written (Git keeps them as they are)."""
    if at.git_ref and at.git_ref.strip():
        ref, source = at.git_ref.strip(), "the create action's git_ref"
    elif at.git_commit and at.git_commit.strip():
        raise errors.OctopusRejected(
            f"Project {project.name} keeps its variables in Git, on branches: they cannot be set at commit "
            f"{at.git_commit.strip()}.",
            hint="Give the create action the branch as well (git_ref), and the variables are set there.",
        )
    elif at.build is not None and at.build[0]:
        ref, source = at.build[0], at.build[2]
    else:
        branch = (project.raw.get("PersistenceSettings") or {}).get("DefaultBranch") or "main"
        ref, source = f"refs/heads/{branch}", "the project's default branch"
    if ref.startswith("refs/tags/") or not space.is_git_branch(project, ref):
        raise errors.OctopusRejected(
            f"Project {project.name} keeps its variables in Git: they can be set on a branch, and "
            f"{ref.removeprefix('refs/tags/')} ({source}) is none.",
            hint="Give the create action a git_ref that is a branch (push the branch first if it is new).",
        )
    return ref, source


def _apply(sets: list[list[dict[str, Any]]], variables: Mapping[str, str]) -> tuple[list[str], dict[int, list[str]]]:
    """Update ``sets`` in place: each name's unscoped variable in the first set that has one, else a
    new variable in the first set. Return the names whose value changed or that were added, and
    those names by the index of the set they changed."""
    changed: list[str] = []
    touched: dict[int, list[str]] = {}
    for name, value in variables.items():
        found = next(((index, variable) for index, existing in enumerate(sets) for variable in existing
                      if str(variable.get("Name", "")).lower() == name.lower()
                      and not any((variable.get("Scope") or {}).values())), None)
        if found is None:
            sets[0].append({"Name": name, "Value": value, "Type": "String", "IsSensitive": False, "Scope": {}})
        elif found[1].get("Value") != value:
            found[1]["Value"] = value
        else:
            continue
        changed.append(name)
        touched.setdefault(found[0] if found else 0, []).append(name)
    return changed, touched
