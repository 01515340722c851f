"""Interruptions (list with ``regarding`` and ``pendingOnly``, get, ``responsible`` GET/PUT,
``submit``) and the teams that answer them; the rules are in ``rules/interrupting.py``."""

from __future__ import annotations

from octorelease.sandbox.errors import ResourceNotFound
from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.state.entities import Interruption, Team


def _render(ctx: Ctx, i: Interruption) -> Json:
    return shape.interruption(ctx.base, i, ctx.backend.may_act_on(ctx.caller, i),
                              ctx.backend.has_responsibility(ctx.caller, i))


@route()
def interruptions(ctx: Ctx) -> Json:
    items = ctx.backend.interruptions(ctx.space_id, regarding=ctx.q("regarding"),
                                      pending_only=bool(ctx.q_bool("pendingOnly")), ids=ctx.q_list("ids"))
    return ctx.page(items, "Interruption", ctx.template("Interruptions"), lambda i: _render(ctx, i))


@route()
def interruption(ctx: Ctx) -> Json:
    return _render(ctx, ctx.backend.require(Interruption, ctx.space_id, ctx.arg("id")))


@route()
def responsible(ctx: Ctx) -> Json | None:
    """The user responsible for it, or ``null`` while nobody has taken responsibility."""
    return shape.user(ctx.base) if ctx.backend.responsibility_taken(ctx.space_id, ctx.arg("id")) else None


@route()
def take_responsibility(ctx: Ctx) -> Json:
    ctx.backend.take_responsibility(ctx.space_id, ctx.arg("id"), ctx.caller)
    return shape.user(ctx.base)


@route()
def submit(ctx: Ctx) -> Json:
    found = ctx.backend.submit_interruption(ctx.space_id, ctx.arg("id"), ctx.caller, result=ctx.body.text("Result"),
                                            guidance=ctx.body.text("Guidance"), notes=ctx.body.text("Notes"),
                                            body_id=ctx.body.text("Id"))
    return _render(ctx, found)


@route()
def teams(ctx: Ctx) -> Json:
    items = ctx.stored(Team)
    return ctx.page(items, "Team", f"{ctx.base}/api/teams{{/id}}{{?skip,take,ids,partialName,spaces,"
                    "includeSystem}}", lambda t: shape.team(ctx.base, t))


@route()
def all_teams(ctx: Ctx) -> list[Json]:
    return ctx.every(ctx.stored(Team), lambda t: shape.team(ctx.base, t))


@route()
def team(ctx: Ctx) -> Json:
    found = ctx.backend.get(Team, None, ctx.arg("id"))
    if found is None:
        raise ResourceNotFound(ctx.arg("id"))
    return shape.team(ctx.base, found)
