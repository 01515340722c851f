"""Deployment freezes, seen from the client: which are in force, or coming, for each target of a
plan, and what to say about them.

Octopus (2024.2 and later) refuses a deployment inside a freeze. Its refusal does not say when
the freeze ends nor how to get past it, so the plan reads the project's freezes (one request)
and says it in our words: the freeze, when it ends, and how to override it (``--freeze-override
REASON``). A dry run names every freeze in force or to come for each target, a ``--deploy-at``
that falls inside one is refused before anything is created, and a target in a freeze that the
user overrides is created through ``POST deployments/override`` with the freezes' ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from octorelease import errors, freeze_windows
from octorelease.actions.plan import DeploymentPlan, FreezeWindow, TargetPlan
from octorelease.actions.wording import COMMAND_LINE, Wording
from octorelease.octopus.models import DeploymentFreeze
from octorelease.schedule import format_time

if TYPE_CHECKING:
    from octorelease.octopus.api import SpaceApi


def override_hint(wording: Wording) -> str:
    """How the refusal tells the user to get past a freeze, in the face's words."""
    return (f"deploy once it ends, or override it with a reason: {wording.setting('freeze_override', 'REASON')} "
            "(the API key needs the DeploymentFreezeAdminister permission)")


def starts_at(deploy_at: datetime | None) -> datetime:
    """When the deployments would start: ``--deploy-at``, else now."""
    now = datetime.now(timezone.utc)
    return deploy_at if deploy_at is not None and deploy_at > now else now


def windows_for(freezes: Sequence[DeploymentFreeze], project_id: str, environment_id: str,
                tenant_id: str | None, moment: datetime) -> tuple[FreezeWindow, ...]:
    """The window, in force at ``moment`` or the next to come, of each freeze of the target."""
    found = []
    for freeze in freezes:
        if not freeze.scopes(project_id, environment_id, tenant_id):
            continue
        window = freeze_windows.next_window(freeze.start, freeze.end, freeze.recurring, moment)
        if window is not None:
            found.append(FreezeWindow(freeze.id, freeze.name, *window, in_force=window[0] <= moment))
    return tuple(sorted(found, key=lambda w: (w.start, w.name)))


def refuse_frozen(plan: DeploymentPlan, wording: Wording = COMMAND_LINE) -> None:
    """Refuse, before anything is created, a plan with a target inside a freeze that is not
    overridden: each such target, its freezes and when they end, and how to get past them
    (``wording``: the flag or the handler field)."""
    if plan.options.freeze_override:
        return
    frozen = [(t, t.freezes_in_force) for t in plan.targets if t.already is None and t.freezes_in_force]
    if not frozen:
        return
    where = "; ".join(f"{t.environment.name}{f' (tenant {t.tenant.name})' if t.tenant else ''}: "
                      + ", ".join(w.describe() for w in windows) for t, windows in frozen)
    deploy_at = plan.options.deploy_at
    if deploy_at is not None and deploy_at > datetime.now(timezone.utc):
        why = f"its scheduled start ({format_time(deploy_at)}, --deploy-at) falls inside a deployment freeze"
    else:
        why = "a deployment freeze is in force"
    raise errors.DeploymentNotAllowed(
        f"{plan.project.name} cannot be deployed: {why}: {where}. Nothing was created.", hint=override_hint(wording))


def with_freezes(space: SpaceApi, project_id: str, targets: Sequence[TargetPlan], deploy_at: datetime | None,
                 warnings: list[str]) -> tuple[TargetPlan, ...]:
    """The targets, each with its freezes' windows (one request for all). A key that may not
    read freezes leaves them unknown, said in ``warnings``: Octopus still refuses a frozen one."""
    environment_ids = sorted({t.environment.id for t in targets})
    try:
        freezes = space.deployment_freezes(project_id, environment_ids)
    except errors.PermissionDenied:
        warnings.append("the API key may not read deployment freezes: a freeze in force is found only when "
                        "Octopus refuses the deployment")
        return tuple(targets)
    moment = starts_at(deploy_at)
    return tuple(replace(t, freezes=windows_for(freezes, project_id, t.environment.id,
                                                t.tenant.id if t.tenant else None, moment)) for t in targets)


def overriding(targets: Sequence[TargetPlan], reason: str | None) -> list[str]:
    """What the plan says of each freeze in force that ``reason`` overrides (a warning: a
    deliberate block on deploying is bypassed)."""
    if not reason:
        return []
    return [f"{t.environment.name}{f' (tenant {t.tenant.name})' if t.tenant else ''}: overriding {w.describe()}, "
            f"reason {reason!r}" for t in targets if t.already is None for w in t.freezes_in_force]
