"""Deployment freezes: windows in which deployments of some projects to some environments are refused.

While a freeze is active for a project and environment (OctopusDeploy/docs deployments/
deployment-freezes): new deployments are refused, unless the caller overrides the freeze with a
reason; and a deployment already queued that would start inside it fails when it falls due. A
freeze is one window (``Start`` to ``End``) or, with ``RecurringSchedule``, that window again
every ``Unit`` days, weeks, months or years until its ``EndType`` says stop
(``octorelease/freeze_windows.py``, which the client reads freezes with too).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from octorelease import freeze_windows
from octorelease.freeze_windows import END_TYPES, RECURRENCES
from octorelease.sandbox.errors import ValidationFailed
from octorelease.sandbox.rules.requests import DeploymentRequest
from octorelease.sandbox.state.entities import DeploymentFreeze, Environment, Project, Tenant
from octorelease.sandbox.state.state import State, id_order


@dataclass(frozen=True)
class Window:
    """One occurrence of a freeze."""

    freeze: DeploymentFreeze
    start: datetime
    end: datetime


def windows(freeze: DeploymentFreeze, after: datetime) -> list[Window]:
    """The occurrences of the freeze that end after ``after``, soonest first (two at most)."""
    found = freeze_windows.windows(freeze.start, freeze.end, freeze.recurrence, after)
    return [Window(freeze, start, end) for start, end in itertools.islice(found, 2)]


def window_at(freeze: DeploymentFreeze, moment: datetime) -> Window | None:
    """The occurrence of the freeze in force at ``moment``, if any."""
    found = freeze_windows.window_at(freeze.start, freeze.end, freeze.recurrence, moment)
    return Window(freeze, *found) if found is not None else None


def overridden(window: Window, request: DeploymentRequest) -> bool:
    """Whether the request overrides this freeze: a reason, and the freeze named (or none named)."""
    if not (request.freeze_override_reason or "").strip():
        return False
    named = {n.strip().lower() for n in request.freeze_names}
    return not named or window.freeze.id.lower() in named or window.freeze.name.lower() in named


def frozen_message(project: Project, environment: Environment, window: Window) -> str:
    """Why a deployment is refused (or, when it falls due, fails) inside a freeze."""
    return (f"Deployments of project '{project.name}' to environment '{environment.name}' are frozen by "
            f"deployment freeze '{window.freeze.name}' until {window.end.isoformat()}; to deploy anyway, "
            "override the freeze with a reason (DeploymentFreezeOverrideReason).")


@dataclass(frozen=True)
class TargetFreezes:
    """The freezes one deployment meets, read once when it is asked for: those in force now that
    its request does not override (it is refused), whether it overrides one in force now (which
    takes ``DeploymentFreezeAdminister``), and every freeze it overrides, now or when its
    ``QueueTime`` falls due (a deployment scheduled into a freeze it overrides does not fail then)."""

    refusing: tuple[Window, ...] = ()
    overrides_now: bool = False
    overridden_ids: tuple[str, ...] = ()

    def problems(self, project: Project, environment: Environment) -> list[str]:
        return [frozen_message(project, environment, w) for w in self.refusing]


def _normalized(schedule: dict[str, Any] | None, problems: list[str]) -> dict[str, Any] | None:
    """The schedule with its counts as numbers (an estate file's YAML reads them as text)."""
    if not schedule:
        return None
    kept = dict(schedule)
    for key in ("Unit", "EndAfterOccurrences", "UserUtcOffsetInMinutes"):
        if kept.get(key) is not None:
            try:
                kept[key] = int(str(kept[key]))
            except ValueError:
                problems.append(f"RecurringSchedule.{key} must be a whole number.")
    return kept


class FreezeRules(State):
    def freezes_on(self, project: Project, environment: Environment, tenant: Tenant | None,
                   moment: datetime) -> list[Window]:
        """The freezes in force at ``moment`` for a deployment of the project to the environment
        (for the tenant): scoped by project and environment, or by tenant, project and environment."""
        found = []
        for freeze in self.all(DeploymentFreeze):
            scoped = environment.id in freeze.project_environments.get(project.id, []) or (
                tenant is not None and (tenant.id, project.id, environment.id) in freeze.tenant_scopes)
            window = window_at(freeze, moment) if scoped else None
            if window is not None:
                found.append(window)
        return found

    def target_freezes(self, project: Project, environment: Environment, tenant: Tenant | None,
                       request: DeploymentRequest) -> TargetFreezes:
        """The freezes a deployment of the project to the environment (for the tenant) meets."""
        now = self.freezes_on(project, environment, tenant, self.clock())
        due = request.queue_time
        later = self.freezes_on(project, environment, tenant, due) if due is not None else []
        return TargetFreezes(
            refusing=tuple(w for w in now if not overridden(w, request)),
            overrides_now=any(overridden(w, request) for w in now),
            overridden_ids=tuple(dict.fromkeys(w.freeze.id for w in (*now, *later) if overridden(w, request))),
        )

    def list_freezes(self, *, ids: list[str], partial_name: str | None, project_ids: list[str],
                     environment_ids: list[str], tenant_ids: list[str], include_complete: bool,
                     moment: datetime) -> list[DeploymentFreeze]:
        """``GET deploymentfreezes``: every filter given must hold; ``includeComplete=false``
        leaves out freezes with no window to come."""
        chosen = []
        wanted_ids = {i.lower() for i in ids}
        for freeze in sorted(self.all(DeploymentFreeze), key=id_order):
            envs = {e for es in freeze.project_environments.values() for e in es} | {
                s[2] for s in freeze.tenant_scopes}
            projects = set(freeze.project_environments) | {s[1] for s in freeze.tenant_scopes}
            if ((wanted_ids and freeze.id.lower() not in wanted_ids)
                    or (partial_name and partial_name.strip().lower() not in freeze.name.lower())
                    or (project_ids and not projects & set(project_ids))
                    or (environment_ids and not envs & set(environment_ids))
                    or (tenant_ids and not {s[0] for s in freeze.tenant_scopes} & set(tenant_ids))
                    or (not include_complete and not windows(freeze, moment))):
                continue
            chosen.append(freeze)
        return chosen

    def save_freeze(self, freeze_id: str | None, *, name: str | None, description: str | None,
                    start: datetime | None, end: datetime | None, project_environments: dict[str, list[str]],
                    tenant_scopes: list[tuple[str, str, str]], recurrence: dict[str, Any] | None) -> DeploymentFreeze:
        """Create (``freeze_id`` None) or replace a freeze, checked as Octopus checks one."""
        current = self.require(DeploymentFreeze, None, freeze_id) if freeze_id else None
        problems = []
        name = (name or "").strip()
        if not name:
            problems.append("The Name field is required.")
        elif len(name) > 200:
            problems.append("The field Name must be a string with a maximum length of 200.")
        elif any(f.name.lower() == name.lower() and f is not current for f in self.all(DeploymentFreeze)):
            problems.append(f"A deployment freeze with the name '{name}' already exists.")
        if start is None:
            problems.append("The Start field is required.")
        if end is None:
            problems.append("The End field is required.")
        if start is not None and end is not None and end <= start:
            problems.append("The end of a deployment freeze must be after its start.")
        for project_id, environment_ids in project_environments.items():
            if self.get(Project, None, project_id) is None:
                problems.append(f"The project '{project_id}' does not exist.")
            problems += [f"The environment '{e}' does not exist." for e in environment_ids
                         if self.get(Environment, None, e) is None]
        problems += self._tenant_scope_problems(tenant_scopes)
        recurrence = _normalized(recurrence, problems)
        if recurrence:
            if recurrence.get("Type") not in RECURRENCES:
                problems.append(f"RecurringSchedule.Type must be one of {', '.join(RECURRENCES)}.")
            if recurrence.get("EndType", "Never") not in END_TYPES:
                problems.append(f"RecurringSchedule.EndType must be one of {', '.join(END_TYPES)}.")
        if problems:
            raise ValidationFailed(*problems)
        assert start is not None and end is not None
        freeze = DeploymentFreeze(
            id=current.id if current else self.new_id("DeploymentFreezes"), name=name,
            description=description or "", start=start, end=end,
            project_environments={p: list(dict.fromkeys(es)) for p, es in project_environments.items()},
            tenant_scopes=list(tenant_scopes), recurrence=recurrence or None)
        self.put(freeze)
        return freeze

    def _tenant_scope_problems(self, scopes: list[tuple[str, str, str]]) -> list[str]:
        """What is wrong with ``TenantProjectEnvironmentScope``: each (tenant, project, environment)
        is required (the reference marks all three) and must exist, as a project scope's must."""
        problems: list[str] = []
        for tenant_id, project_id, environment_id in scopes:
            for cls, kind, wanted in ((Tenant, "tenant", tenant_id), (Project, "project", project_id),
                                      (Environment, "environment", environment_id)):
                if wanted and self.get(cls, None, wanted) is None:
                    problems.append(f"The {kind} '{wanted}' does not exist.")
        if not all(all(scope) for scope in scopes):
            problems.append("TenantProjectEnvironmentScope needs a TenantId, a ProjectId and an EnvironmentId "
                            "in each scope.")
        return list(dict.fromkeys(problems))

    def delete_freeze(self, freeze_id: str) -> None:
        self.remove(self.require(DeploymentFreeze, None, freeze_id))
