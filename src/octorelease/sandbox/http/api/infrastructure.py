"""Environments and machines (deployment targets): the collections with their filters, an
environment's machines, roles, operating systems and shells, a machine's connection and tasks.
"""

from __future__ import annotations

from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.collections import catalog
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.http.api.tasks import task_json
from octorelease.sandbox.state.entities import (
    Environment,
    Machine,
)


def _machine_filters(ctx: Ctx, items: list[Machine]) -> list[Machine]:
    env_ids = {e.lower() for e in ctx.q_list("environmentIds")}
    roles = {r.lower() for r in ctx.q_list("roles")}
    health = {h.lower() for h in ctx.q_list("healthStatuses")}
    disabled = ctx.q_bool("isDisabled")
    return [m for m in items
            if (not env_ids or env_ids & {e.lower() for e in m.environment_ids})
            and (not roles or roles & {r.lower() for r in m.roles})
            and (not health or m.health_status.lower() in health)
            and (disabled is None or m.is_disabled == disabled)]


ENVIRONMENTS = catalog(Environment, "Environment", "Environments", shape.environment,
                       lambda ctx, items: sorted(items, key=lambda e: e.sort_order))
MACHINES = catalog(Machine, "Machine", "Machines", shape.machine, _machine_filters,
                   lambda ctx: ctx.backend.machines_in_any(ctx.space_id, ids) if (ids := ctx.q_list("environmentIds"))
                   else None)


@route()
def environments_v2(ctx: Ctx) -> Json:
    """``environments/v2{?name,skip,ids,take,partialName,type}``: environments with their ``Type``.
    Every sandbox environment is ``Static``: ephemeral environments are not emulated."""
    kind = (ctx.q("type") or "").strip().lower()
    items = sorted(ctx.stored(Environment), key=lambda e: e.sort_order) if kind in ("", "static") else []
    return ctx.page(items, "Environment",
                    f"{ctx.base}/api/{ctx.space_id}/environments/v2{{?name,skip,ids,take,partialName,type}}",
                    lambda e: {**shape.environment(ctx.base, e), "Type": "Static", "ParentEnvironmentId": None})


@route()
def machine_roles(ctx: Ctx) -> list[str]:
    """``machineroles/all``: every role in use in the space, as a plain array of strings."""
    return sorted({r for m in ctx.backend.all(Machine, ctx.space_id) for r in m.roles}, key=str.lower)


@route()
def operating_systems(ctx: Ctx) -> list[str]:
    """``machines/operatingsystem/names/all``: every target runs the same OS (``shape.machine``)."""
    return [shape.MACHINE_OS] if ctx.backend.all(Machine, ctx.space_id) else []


@route()
def shells(ctx: Ctx) -> list[str]:
    """``machines/operatingsystem/shells/all``: every target has the same shell (``shape.machine``)."""
    return [shape.MACHINE_SHELL] if ctx.backend.all(Machine, ctx.space_id) else []


@route()
def machine_connection(ctx: Ctx) -> Json:
    m = ctx.backend.require(Machine, ctx.space_id, ctx.arg("id"))
    return shape.machine_connection(ctx.base, m, ctx.backend.clock())


@route()
def machine_tasks(ctx: Ctx) -> Json:
    items = ctx.backend.machine_tasks(ctx.space_id, ctx.arg("id"))
    return ctx.page(items, "Task", f"{ctx.base}/api/{ctx.space_id}/machines/{ctx.arg('id')}/tasks{{?skip,take,type}}",
                    lambda t: task_json(ctx, t))


@route()
def environment_machines(ctx: Ctx) -> Json:
    items = ctx.backend.environment_machines(ctx.space_id, ctx.arg("id"))
    return ctx.page(_machine_filters(ctx, items), "Machine",
                    f"{ctx.base}/api/{ctx.space_id}/environments/{ctx.arg('id')}/machines{{?skip,take,partialName,"
                    "roles,isDisabled,healthStatuses}", lambda m: shape.machine(ctx.base, m))
