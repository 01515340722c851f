"""Variable sets (a project's, by id, ``/variables/all``) and library variable sets."""

from __future__ import annotations

from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.collections import catalog
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.http.binding import Body
from octorelease.sandbox.state.entities import (
    Environment,
    LibraryVariableSet,
    Prompt,
    Variable,
)

LIBRARY_VARIABLE_SETS = catalog(
    LibraryVariableSet, "LibraryVariableSet", "LibraryVariables", shape.library_variable_set,
    lambda ctx, items: [s for s in sorted(items, key=lambda s: s.name.lower())
                        if (ctx.q("contentType") or s.content_type).lower() == s.content_type.lower()])


@route(201)
def create_library_variable_set(ctx: Ctx) -> Json:
    b = ctx.body
    return shape.library_variable_set(ctx.base, ctx.backend.save_library_variable_set(
        ctx.space_id, None, b.text("Name"), b.text("Description"), b.text("ContentType")))


@route()
def update_library_variable_set(ctx: Ctx) -> Json:
    b = ctx.body
    return shape.library_variable_set(ctx.base, ctx.backend.save_library_variable_set(
        ctx.space_id, ctx.arg("id"), b.text("Name"), b.text("Description"), None))


def variables_body(body: Body) -> list[Variable]:
    """The ``Variables`` of a variable set sent with ``PUT``."""
    variables = []
    for item in body.objects("Variables"):
        prompt = item.object("Prompt")
        scope = item.raw("Scope")
        variables.append(Variable(
            id=item.text("Id") or "", name=item.text("Name") or "", value=item.text("Value"),
            type=item.text("Type") or "String", is_sensitive=item.flag("IsSensitive"),
            scope={str(k): [str(v) for v in vs] for k, vs in scope.items() if isinstance(vs, list)}
            if isinstance(scope, dict) else {},
            prompt=Prompt(label=prompt.text("Label") or item.text("Name") or "",
                          description=prompt.text("Description") or "", required=prompt.flag("Required"))
            if prompt else None,
        ))
    return variables


def _variables(ctx: Ctx, set_id: str) -> Json:
    if ctx.request.method == "PUT":
        variables = variables_body(ctx.body)
        result = ctx.backend.replace_variables(ctx.space_id, set_id, variables, ctx.body.number("Version"))
    else:
        result = ctx.backend.variable_set(ctx.space_id, set_id)
    return shape.variable_set(ctx.base, result, ctx.backend.all(Environment, ctx.space_id))


@route()
def variable_set(ctx: Ctx) -> Json:
    return _variables(ctx, ctx.arg("id"))


@route()
def variable_sets(ctx: Ctx) -> list[Json]:
    """``GET /variables?ids=`` and ``/variables/all``: a bare array of variable sets."""
    environments = ctx.backend.all(Environment, ctx.space_id)
    return [shape.variable_set(ctx.base, v, environments)
            for v in ctx.backend.variable_sets(ctx.space_id, ctx.q_list("ids"))]


@route()
def project_variables(ctx: Ctx) -> Json:
    return _variables(ctx, ctx.backend.project(ctx.space_id, ctx.arg("ref")).variable_set_id)
