"""What the sandbox's pages show, read from its rules and turned into plain rows for the templates.

The grid is made from the dashboard API's own document (``resources.dashboard`` over
``Backend.dashboard``, what ``GET /api/{space}/dashboard`` serves), so the page and the API show
one thing. The other pages read the same rules the API routes call, under the same lock, and
change nothing: acting is ``pages.py``'s, through the rules the API's routes use.

Every value here may come from outside (a project named by a pipeline, a task's log): the
templates escape them all, and this module only picks and formats.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.service import Sandbox
from octorelease.sandbox.rules.interrupting import GUIDANCE, MANUAL, RESULTS
from octorelease.sandbox.rules.models import Backend
from octorelease.sandbox.state.entities import (
    Activity,
    Channel,
    Deployment,
    Environment,
    Interruption,
    Lifecycle,
    LogLine,
    Machine,
    Project,
    Release,
    Space,
    Task,
    Tenant,
)
from octorelease.sandbox.state.state import Caller, id_order

Row = dict[str, Any]

#: A task state as the pages say it; the colour comes from ``state_class``.
STATE_WORDS = {"Success": "Success", "Failed": "Failed", "TimedOut": "Timed out", "Canceled": "Cancelled",
               "Cancelling": "Cancelling", "Executing": "Running", "Queued": "Queued"}
#: How many requests the request log page shows: the newest.
REQUESTS_SHOWN = 200
#: a button's words where they are not its answer's, as Octopus labels them
_BUTTONS = {"Exclude": "Exclude machine"}
_ERROR_CATEGORIES = frozenset({"error", "fatal"})


def state_class(state: str, waiting: bool = False) -> str:
    """The CSS class that colours a state: green, red, grey, blue, or amber while a person is awaited."""
    if waiting:
        return "waiting"
    return {"Success": "success", "Failed": "failed", "TimedOut": "failed", "Canceled": "cancelled",
            "Cancelling": "cancelled", "Executing": "running", "Queued": "queued",
            "Running": "running", "Skipped": "cancelled", "Pending": "queued"}.get(state, "unknown")


def state_word(state: str, waiting: bool = False) -> str:
    return "Waiting for a person" if waiting else STATE_WORDS.get(state, state)


def ago(when: datetime | None, now: datetime) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 days ago``: when, at a glance."""
    if when is None:
        return ""
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'' if days == 1 else 's'} ago"


def stamp(when: datetime | None) -> str:
    """``2026-12-07 12:31:05 UTC``; ``""`` when unknown."""
    return f"{when:%Y-%m-%d %H:%M:%S} UTC" if when else ""


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def spaces(backend: Backend) -> list[Row]:
    return [{"id": s.id, "name": s.name} for s in sorted(backend.all(Space), key=id_order)]


# -- the dashboard -------------------------------------------------------------------------------


def _lifecycle_order(backend: Backend, project: Project) -> tuple[str, str, list[str]]:
    """The project's lifecycle (id, name) and its environments in phase order."""
    life = backend.require(Lifecycle, None, project.lifecycle_id)
    ordered: list[str] = []
    for phase in backend.phases_of(life, project.space_id):
        ordered.extend(e for e in phase.environment_ids if e not in ordered)
    return life.id, life.name, ordered


def dashboard(backend: Backend, space: Space, now: datetime) -> Row:
    """Projects by environments, grouped by lifecycle, environments in the lifecycle's order; a
    row per tenant under a tenanted project. Each cell: the current deployment there (the
    dashboard API's ``IsCurrent`` item), its release, state and when."""
    doc = shape.dashboard("", backend.dashboard(space.id, [], [], False), now)
    current = {(i["ProjectId"], i["EnvironmentId"], i["TenantId"]): i for i in doc["Items"] if i["IsCurrent"]}
    names = {e["Id"]: e["Name"] for e in doc["Environments"]}
    sort_order = {e.id: n for n, e in enumerate(backend.environments_in_order(space.id))}
    groups: dict[str, Row] = {}
    for p in doc["Projects"]:
        project = backend.require(Project, space.id, p["Id"])
        life_id, life_name, ordered = _lifecycle_order(backend, project)
        group = groups.setdefault(life_id, {"name": life_name, "lifecycle": ordered, "extra": set(), "projects": []})
        reached = {e for (pid, e, _) in current if pid == project.id}
        group["extra"].update(e for e in reached if e not in ordered)
        tenants = [t for t in doc["Tenants"] if project.id in t["ProjectEnvironments"]]
        untenanted = p["CanPerformUntenantedDeployment"] or any(k[0] == project.id and k[2] is None for k in current)
        group["projects"].append({"project": p, "tenants": tenants, "untenanted": untenanted})
    tables = []
    for group in groups.values():
        columns = group["lifecycle"] + sorted(group["extra"], key=lambda e: sort_order.get(e, len(sort_order)))
        rows = []
        for entry in group["projects"]:
            p = entry["project"]
            if entry["untenanted"] or not entry["tenants"]:
                rows.append(_grid_row(p, None, columns, current, names, now))
            for t in entry["tenants"]:
                rows.append(_grid_row(p, t, columns, current, names, now))
        tables.append({"name": group["name"], "environments": [{"id": e, "name": names.get(e, e)} for e in columns],
                       "rows": rows})
    live = any(not i["IsCompleted"] for i in doc["Items"])
    return {"space": {"id": space.id, "name": space.name}, "tables": tables, "live": live,
            "empty": not doc["Projects"]}


def _grid_row(p: Row, tenant: Row | None, columns: list[str], current: dict[tuple[str, str, str | None], Row],
              names: dict[str, str], now: datetime) -> Row:
    connected = set(tenant["ProjectEnvironments"][p["Id"]]) if tenant else None
    cells = []
    for env in columns:
        item = current.get((p["Id"], env, tenant["Id"] if tenant else None))
        cells.append({"environment": names.get(env, env), "environment_id": env,
                      "connected": connected is None or env in connected,
                      "item": _cell(item, now) if item else None})
    return {"project": p["Name"], "project_id": p["Id"], "slug": p["Slug"], "cells": cells,
            "tenant": tenant["Name"] if tenant else None, "tenant_id": tenant["Id"] if tenant else None}


def _cell(item: Row, now: datetime) -> Row:
    waiting = bool(item["HasPendingInterruptions"])
    when = _parse(item["CompletedTime"]) or _parse(item["StartTime"]) or _parse(item["QueueTime"])
    return {"version": item["ReleaseVersion"], "state": item["State"], "word": state_word(item["State"], waiting),
            "class": state_class(item["State"], waiting), "ago": ago(when, now), "when": stamp(when),
            "deployment": item["DeploymentId"], "task": item["TaskId"], "release": item["ReleaseId"],
            "waiting": waiting, "error": item["ErrorMessage"]}


# -- a deployment and its task -------------------------------------------------------------------


def task(backend: Backend, t: Task, caller: Caller, now: datetime) -> Row:
    """A deployment's task: what was deployed where, its state and duration, the log by step and
    machine, and the interruptions it raised (a pending one with the answers it takes)."""
    d = backend.get(Deployment, None, t.deployment_id)
    release = backend.get(Release, None, d.release_id) if d else None
    project = backend.get(Project, None, d.project_id) if d else None
    environment = backend.get(Environment, None, d.environment_id) if d else None
    tenant = backend.get(Tenant, None, d.tenant_id) if d and d.tenant_id else None
    channel = backend.get(Channel, None, d.channel_id) if d else None
    waiting = bool(t.pending_interruption_types)
    root = t.activity
    steps = [_step(child) for child in root.children] if root else []
    return {
        "id": t.id, "space_id": t.space_id, "description": t.description, "state": t.state,
        "word": state_word(t.state, waiting), "class": state_class(t.state, waiting), "waiting": waiting,
        "completed": t.is_completed, "error": t.error_message,
        "queued": stamp(t.queue_time), "started": stamp(t.start_time), "finished": stamp(t.completed_time),
        "queued_ago": ago(t.queue_time, now), "started_ago": ago(t.start_time, now),
        "finished_ago": ago(t.completed_time, now),
        "duration": shape.duration(t.start_time, t.completed_time, now) or "",
        "deployment": d.id if d else None, "comments": d.comments if d else None,
        "project": project.name if project else "", "project_slug": project.slug if project else "",
        "release": release.version if release else "", "channel": channel.name if channel else "",
        "environment": environment.name if environment else "", "tenant": tenant.name if tenant else None,
        "machines": _machines(backend, d, root),
        "intro": [_line(line) for line in root.logs] if root else [],
        "steps": steps, "lines": sum(len(s["lines"]) + sum(len(m["lines"]) for m in s["machines"]) for s in steps),
        "interruptions": [_interruption(backend, i, caller) for i in backend.interruptions(
            t.space_id, regarding=t.id, pending_only=False, ids=[])],
    }


def _machines(backend: Backend, d: Deployment | None, root: Activity | None) -> list[str]:
    """The machines deployed to; before any is, those the plan names in the log."""
    if d and d.deployed_to_machine_ids:
        found = (backend.get(Machine, None, m) for m in d.deployed_to_machine_ids)
        return [m.name for m in found if m is not None]
    names: list[str] = []
    for step in root.children if root else []:
        names.extend(m.name for m in step.children if not m.id.endswith("/manual") and m.name not in names)
    return names


def _step(element: Activity) -> Row:
    return {"name": element.name, "status": element.status, "class": state_class(element.status),
            "lines": [_line(line) for line in element.logs],
            "machines": [{"name": m.name, "status": m.status, "class": state_class(m.status),
                          "lines": [_line(line) for line in _all_logs(m)]} for m in element.children],
            "failed": element.status == "Failed"}


def _all_logs(element: Activity) -> Iterable[LogLine]:
    for node in element.walk():
        yield from node.logs


def _line(line: LogLine) -> Row:
    category = line.category.lower()
    kind = "error" if category in _ERROR_CATEGORIES else "warning" if category == "warning" else "info"
    return {"time": f"{line.occurred_at:%H:%M:%S}", "category": line.category, "message": line.message, "class": kind}


def _interruption(backend: Backend, i: Interruption, caller: Caller) -> Row:
    field, answers = ("Result", RESULTS) if i.type == MANUAL else ("Guidance", GUIDANCE)
    return {"id": i.id, "title": i.title, "type": "Manual intervention" if i.type == MANUAL else "Guided failure",
            "instructions": i.instructions, "pending": i.is_pending, "field": field,
            "answers": [{"value": a, "label": _BUTTONS.get(a, a)} for a in answers],
            "may_act": backend.may_act_on(caller, i), "teams": backend.team_names(i.responsible_team_ids),
            "answer": i.answer, "notes": i.notes, "answered_by": i.answered_by, "answered_on": stamp(i.answered_on)}


# -- a release -----------------------------------------------------------------------------------


def release(backend: Backend, r: Release, now: datetime) -> Row:
    """A release: its packages and notes, where it stands in its lifecycle, and its deployments."""
    project = backend.require(Project, None, r.project_id)
    channel = backend.get(Channel, None, r.channel_id)
    progression = backend.release_progression(r.space_id, r.id)
    names = {e.id: e.name for e in backend.environments_in_order(r.space_id)}
    phases = []
    for phase in progression.progression.phases:
        environments = []
        for env in phase.phase.environment_ids:
            latest = progression.deployments.get(env, [])
            d, t = latest[0] if latest else (None, None)
            waiting = bool(t and t.pending_interruption_types)
            environments.append({"name": names.get(env, env), "deployment": d.id if d else None,
                                 "state": t.state if t else None, "word": state_word(t.state, waiting) if t else "",
                                 "class": state_class(t.state, waiting) if t else "none"})
        phases.append({"name": phase.phase.name, "progress": phase.progress, "environments": environments})
    deployments = []
    for d in backend.deployments(r.space_id, release_id=r.id):
        t = backend.get(Task, None, d.task_id)
        environment = backend.get(Environment, None, d.environment_id)
        tenant = backend.get(Tenant, None, d.tenant_id) if d.tenant_id else None
        waiting = bool(t and t.pending_interruption_types)
        deployments.append({"id": d.id, "environment": environment.name if environment else d.environment_id,
                            "tenant": tenant.name if tenant else None, "state": t.state if t else "",
                            "word": state_word(t.state, waiting) if t else "",
                            "class": state_class(t.state, waiting) if t else "unknown",
                            "ago": ago(d.created, now), "when": stamp(d.created),
                            "duration": (shape.duration(t.start_time, t.completed_time, now) or "") if t else ""})
    return {"id": r.id, "space_id": r.space_id, "version": r.version, "project": project.name,
            "project_slug": project.slug, "channel": channel.name if channel else "", "notes": r.release_notes,
            "assembled": stamp(r.assembled), "ago": ago(r.assembled, now),
            "packages": [{"step": p.step_name, "package": p.package_id, "version": p.version}
                         for p in r.selected_packages],
            "git": {"ref": r.git_ref, "commit": r.git_commit} if r.git_commit else None,
            "phases": phases, "deployments": deployments,
            "live": any(not d["state"] or d["state"] in ("Queued", "Executing", "Cancelling") for d in deployments)}


# -- the sandbox's controls ----------------------------------------------------------------------


def controls(sandbox: Sandbox) -> Row:
    """Speed, the faults in force, the environments a fault may name, and the newest requests."""
    backend = sandbox.backend
    environments = [e.name for s in backend.all(Space) for e in backend.environments_in_order(s.id)]
    recent = list(sandbox.requests)[-REQUESTS_SHOWN:]
    return {"speed": sandbox.runner.speed, "environments": environments,
            "faults": [{"step": f.step, "machine": f.machine, "environment": f.environment, "message": f.message}
                       for f in backend.faults],
            "http_faults": sandbox.http_faults is not None,
            "requests": [{"method": r["method"], "path": r["path"], "query": r["query"], "status": r["status"],
                          "fault": r.get("fault"), "fields": r.get("fields")} for r in reversed(recent)],
            "request_count": len(sandbox.requests)}
