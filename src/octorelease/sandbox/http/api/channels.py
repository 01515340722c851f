"""Channels: the collection, a project's channels, and a channel's releases."""

from __future__ import annotations

from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.collections import catalog
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.state.entities import (
    Channel,
)

CHANNELS = catalog(Channel, "Channel", "Channels", shape.channel)


@route()
def project_channel(ctx: Ctx) -> Json:
    return shape.channel(ctx.base, ctx.backend.project_channel(ctx.space_id, ctx.arg("ref"), ctx.arg("id")))


@route()
def channel_releases(ctx: Ctx) -> Json:
    items = ctx.backend.channel_releases(ctx.space_id, ctx.arg("id"))
    return ctx.page(items, "Release", f"{ctx.base}/api/{ctx.space_id}/channels/{ctx.arg('id')}/releases"
                    "{?skip,take,searchByVersion}", lambda r: shape.release(ctx.base, r))


@route()
def project_channels(ctx: Ctx) -> Json:
    items = ctx.backend.project_channels(ctx.space_id, ctx.arg("ref"))
    return ctx.page(ctx.named(items), "Channel",
                    f"{ctx.base}/api/{ctx.space_id}/projects/{ctx.arg('ref')}/channels{{/id}}{{?skip,take,partialName}}",
                    lambda c: shape.channel(ctx.base, c))
