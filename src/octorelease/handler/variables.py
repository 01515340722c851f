"""A handler's ``variables:``: project variables set on the server before its actions run.

This is ContinuaCI's Variables tab: "these project variables will be set on the Octopus Deploy
server before each action is run". Setting one means: the unscoped variable of that name gets
the value (names compare case-insensitively, as in Octopus); a name with no unscoped variable
gets a new one; scoped variables are left alone. The variable set is written back only when a
value changed, in one PUT, so a rerun costs one GET.

A release keeps a snapshot of the variables it was created with, so new values reach releases
created afterwards (a ``create:`` in the same handler), not a deploy or promote of an existing
release. The report says so when a handler sets variables without creating a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from octorelease.actions.result import ActionResult, Ref
from octorelease.errors import OctoreleaseError

if TYPE_CHECKING:
    from octorelease.octopus.api import SpaceApi


def set_project_variables(
    space: SpaceApi, project: str, variables: Mapping[str, str], *, dry_run: bool = False
) -> ActionResult:
    """Set ``variables`` on ``project``; errors are captured in the result, as actions do."""
    result = ActionResult("variables", dry_run=dry_run)
    try:
        found = space.project(project)
        result.project = Ref(found.id, found.name)
        variable_set = space.variable_set(found)
        changed = _apply(variable_set.setdefault("Variables", []), variables)
        if changed and not dry_run:
            space.save_variable_set(found, variable_set)
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
        result.messages.append(f"Project variables {names} of {found.name} already had these values.")
    else:
        verb = "Would set" if dry_run else "Set"
        result.messages.append(f"{verb} project variables {', '.join(changed)} of {found.name}.")
    return result


def _apply(existing: list[dict[str, Any]], variables: Mapping[str, str]) -> list[str]:
    """Update ``existing`` in place; return the names whose value changed or that were added."""
    changed: list[str] = []
    for name, value in variables.items():
        unscoped = [
            variable
            for variable in existing
            if str(variable.get("Name", "")).lower() == name.lower() and not any((variable.get("Scope") or {}).values())
        ]
        if not unscoped:
            existing.append({"Name": name, "Value": value, "Type": "String", "IsSensitive": False, "Scope": {}})
            changed.append(name)
        elif unscoped[0].get("Value") != value:
            unscoped[0]["Value"] = value
            changed.append(name)
    return changed
