"""Server tasks: listing, one, details, raw log, queued-behind and cancel; without a space in the
path they see every space.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.state.entities import (
    Deployment,
    Task,
)


def task_json(ctx: Ctx, t: Task) -> Json:
    d = ctx.backend.get(Deployment, None, t.deployment_id)
    return shape.task(ctx.base, t, ctx.backend.clock(), d.project_id if d else None)


@route()
def tasks(ctx: Ctx) -> Json:
    items = ctx.backend.tasks(ctx.task_space, ids=ctx.q_list("ids"), states=ctx.q_list("states"),
                              project=ctx.q("project"), environment=ctx.q("environment"), active=ctx.q_bool("active"))
    prefix = f"/api/{ctx.request.path_params['space_id']}" if "space_id" in ctx.request.path_params else "/api"
    return ctx.page(items, "Task", f"{ctx.base}{prefix}{shape.TASKS_TEMPLATE}", lambda t: task_json(ctx, t))


@route()
def task(ctx: Ctx) -> Json:
    return task_json(ctx, ctx.backend.task(ctx.task_space, ctx.arg("id")))


@route()
def task_details(ctx: Ctx) -> Json:
    t = ctx.backend.task(ctx.task_space, ctx.arg("id"))
    d = ctx.backend.get(Deployment, None, t.deployment_id)
    tail = ctx.q_int("tail", 0) or None
    return shape.task_details(ctx.base, t, ctx.backend.clock(), d.project_id if d else None, tail)


@route()
def task_raw(ctx: Ctx) -> Response:
    t = ctx.backend.task(ctx.task_space, ctx.arg("id"))
    d = ctx.backend.get(Deployment, None, t.deployment_id)
    related = [i for i in (t.deployment_id, d.release_id if d else None, d.project_id if d else None,
                           d.environment_id if d else None, t.space_id) if i]
    return PlainTextResponse(shape.raw_log(t, related))


@route()
def queued_behind(ctx: Ctx) -> Json:
    items = ctx.backend.queued_behind(ctx.task_space, ctx.arg("id"))
    prefix = f"/api/{ctx.request.path_params['space_id']}" if "space_id" in ctx.request.path_params else "/api"
    return ctx.page(items, "Task", f"{ctx.base}{prefix}/tasks/{ctx.arg('id')}/queued-behind{{?skip,take}}",
                    lambda t: task_json(ctx, t))


@route()
def cancel_task(ctx: Ctx) -> Json:
    return task_json(ctx, ctx.backend.cancel_task(ctx.task_space, ctx.arg("id")))
