"""Lifecycles: the collection, create and modify, the preview of their phases, and their projects."""

from __future__ import annotations

from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.collections import catalog
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.state.entities import (
    Lifecycle,
    Phase,
)

LIFECYCLES = catalog(Lifecycle, "Lifecycle", "Lifecycles", shape.lifecycle)


@route()
def save_lifecycle(ctx: Ctx) -> Json:
    b = ctx.body
    phases = [Phase(id=p.text("Id") or "", name=p.text("Name") or "", automatic=p.strings("AutomaticDeploymentTargets"),
                    optional=p.strings("OptionalDeploymentTargets"),
                    minimum=p.number("MinimumEnvironmentsBeforePromotion") or 0,
                    is_optional_phase=p.flag("IsOptionalPhase")) for p in b.objects("Phases")]
    saved = ctx.backend.save_lifecycle(ctx.space_id, ctx.request.path_params.get("id"), b.text("Name"),
                                       b.text("Description"), phases)
    return shape.lifecycle(ctx.base, saved)


@route()
def lifecycle_preview(ctx: Ctx) -> Json:
    life, phases = ctx.backend.lifecycle_preview(ctx.space_id, ctx.arg("id"))
    return shape.lifecycle(ctx.base, life, phases)


@route()
def lifecycle_projects(ctx: Ctx) -> list[Json]:
    return [shape.project(ctx.base, p) for p in ctx.backend.lifecycle_projects(ctx.space_id, ctx.arg("id"))]
