"""Deployment freezes (``/api/deploymentfreezes``, system-wide as in the reference: list, create,
get, replace, delete); the rules are in ``rules/freezing.py``."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from octorelease.sandbox.errors import ValidationFailed
from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.state.entities import DeploymentFreeze


@route()
def freezes(ctx: Ctx) -> Json:
    """``{"DeploymentFreezes": [...], "Count": N}``: ``Count`` is every match, the list one page."""
    found = ctx.backend.list_freezes(
        ids=ctx.q_list("ids"), partial_name=ctx.q("partialName"), project_ids=ctx.q_list("projectIds"),
        environment_ids=ctx.q_list("environmentIds"), tenant_ids=ctx.q_list("tenantIds"),
        include_complete=ctx.q_bool("includeComplete") is not False, moment=ctx.backend.clock())
    skip, take = ctx.q_int("skip", 0), ctx.q_int("take", 30)
    return {"DeploymentFreezes": [shape.freeze(f) for f in found[skip: skip + take]], "Count": len(found)}


def _save(ctx: Ctx, freeze_id: str | None) -> DeploymentFreeze:
    b = ctx.body
    scope = b.raw("ProjectEnvironmentScope") or {}
    if not isinstance(scope, dict) or not all(isinstance(v, list) for v in scope.values()):
        raise ValidationFailed("ProjectEnvironmentScope must map project ids to lists of environment ids.")
    tenants = [(t.text("TenantId") or "", t.text("ProjectId") or "", t.text("EnvironmentId") or "")
               for t in b.objects("TenantProjectEnvironmentScope")]
    recurrence: Any = b.raw("RecurringSchedule")
    if recurrence is not None and not isinstance(recurrence, dict):
        raise ValidationFailed("RecurringSchedule must be an object.")
    return ctx.backend.save_freeze(
        freeze_id, name=b.text("Name"), description=b.text("Description"), start=b.when("Start"), end=b.when("End"),
        project_environments={str(k): [str(e) for e in v] for k, v in scope.items()}, tenant_scopes=tenants,
        recurrence=recurrence)


@route(201)
def create_freeze(ctx: Ctx) -> Json:
    return shape.freeze(_save(ctx, None))


@route()
def freeze(ctx: Ctx) -> Json:
    return shape.freeze(ctx.backend.require(DeploymentFreeze, None, ctx.arg("id")))


@route()
def replace_freeze(ctx: Ctx) -> Json:
    return shape.freeze(_save(ctx, ctx.arg("id")))


@route()
def delete_freeze(ctx: Ctx) -> Response:
    ctx.backend.delete_freeze(ctx.arg("id"))
    return Response(status_code=200)
