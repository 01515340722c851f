"""Tenants with their filters, their variables, and tag sets."""

from __future__ import annotations

from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.collections import catalog
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.state.entities import (
    TagSet,
    Tenant,
)


def _tenant_filters(ctx: Ctx, items: list[Tenant]) -> list[Tenant]:
    """``projectId``, and ``tags`` (canonical names): any tag of one set, one of each set given."""
    project_id, tags = ctx.q("projectId"), ctx.q_list("tags")
    return [t for t in items if (not project_id or project_id in t.project_environments) and t.has_tags(tags)]


TENANTS = catalog(Tenant, "Tenant", "Tenants", shape.tenant, _tenant_filters)


TAG_SETS = catalog(TagSet, "TagSet", "TagSets", shape.tag_set,
                   lambda ctx, items: sorted(items, key=lambda s: s.sort_order))


@route()
def tenant_variables(ctx: Ctx) -> Json:
    return shape.tenant_variables(ctx.base, ctx.backend.tenant_variables(ctx.space_id, ctx.arg("id")))


@route()
def all_tenant_variables(ctx: Ctx) -> list[Json]:
    """``tenantvariables/all``: every tenant's variables, as ``/tenants/{id}/variables`` gives them."""
    return [shape.tenant_variables(ctx.base, ctx.backend.tenant_variables(ctx.space_id, t.id))
            for t in ctx.backend.all(Tenant, ctx.space_id)]
