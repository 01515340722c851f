"""The API root, spaces and the one user (with its API keys and permissions)."""

from __future__ import annotations

from octorelease.sandbox.errors import ResourceNotFound
from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.state.entities import (
    Space,
)
from octorelease.sandbox.state.state import USER_ID


@route()
def api_root(ctx: Ctx) -> Json:
    defaults = [s for s in ctx.backend.all(Space) if s.is_default]
    return shape.root(ctx.base, defaults[0] if defaults else None)


@route()
def spaces(ctx: Ctx) -> Json:
    return ctx.page(ctx.named(ctx.backend.all(Space)), "Space",
                    f"{ctx.base}/api/spaces{{/id}}{{?name,skip,ids,take,partialName}}",
                    lambda s: shape.space(ctx.base, s))


@route()
def all_spaces(ctx: Ctx) -> list[Json]:
    return ctx.every(ctx.named(ctx.backend.all(Space)), lambda s: shape.space(ctx.base, s))


@route()
def space(ctx: Ctx) -> Json:
    return shape.space(ctx.base, ctx.backend.space(ctx.arg("id")))


@route()
def space_root(ctx: Ctx) -> Json:
    return shape.space_root(ctx.base, ctx.space)


@route()
def current_user(ctx: Ctx) -> Json:
    return shape.user(ctx.base)


@route()
def all_users(ctx: Ctx) -> list[Json]:
    return [shape.user(ctx.base)]


@route()
def user(ctx: Ctx) -> Json:
    if ctx.arg("id").lower() != "users-1":
        raise ResourceNotFound(ctx.arg("id"))
    return shape.user(ctx.base)


def _sandbox_user(ctx: Ctx) -> None:
    if ctx.arg("id").lower() not in ("users-1", "me"):
        raise ResourceNotFound(ctx.arg("id"))


@route()
def users(ctx: Ctx) -> Json:
    return ctx.page([shape.user(ctx.base)], "User", f"{ctx.base}/api/users{{/id}}{{?skip,take,ids,filter}}",
                    lambda u: u)


def _api_keys(ctx: Ctx) -> list[Json]:
    """The sandbox user's keys: its own, then each limited one (``/_sandbox/api-keys``)."""
    _sandbox_user(ctx)
    now = ctx.backend.clock()
    return [shape.api_key(ctx.base, n, now) for n in range(1, len(ctx.backend.api_keys) + 2)]


@route()
def user_api_keys(ctx: Ctx) -> Json:
    return ctx.page(_api_keys(ctx), "ApiKey", f"{ctx.base}/api/users/{USER_ID}/apikeys{{/id}}{{?skip,take}}",
                    lambda k: k)


@route()
def user_api_key(ctx: Ctx) -> Json:
    for key in _api_keys(ctx):
        if key["Id"].lower() == ctx.arg("key").lower():
            return key
    raise ResourceNotFound(ctx.arg("key"))


@route()
def user_permissions(ctx: Ctx) -> Json:
    _sandbox_user(ctx)
    return shape.user_permissions(ctx.base, [s.id for s in ctx.backend.all(Space)])


@route()
def user_spaces(ctx: Ctx) -> list[Json]:
    if ctx.arg("id").lower() not in ("users-1", "me"):
        raise ResourceNotFound(ctx.arg("id"))
    return [shape.space(ctx.base, s) for s in ctx.backend.all(Space)]


#: the feature toggles the sandbox reports, all on: it serves what each of them enables (the
#: Go CLI asks for ``indicate-missing-packages-for-release`` before a deployment, then reads
#: ``releases/{id}/missingpackages``)
FEATURE_TOGGLES = ("indicate-missing-packages-for-release",)


@route()
def feature_toggles(ctx: Ctx) -> Json:
    """``configuration/feature-toggles{?Name}``: the toggles, or only the one named (none when the
    name is unknown, which the Go CLI reads as off)."""
    name = (ctx.q("Name") or "").strip().lower()
    return {"FeatureToggles": [{"Name": toggle, "IsEnabled": True} for toggle in FEATURE_TOGGLES
                               if not name or toggle == name]}
