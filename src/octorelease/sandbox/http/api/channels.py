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


def _releases_of(ctx: Ctx, channel_id: str, template: str) -> Json:
    """A channel's releases, newest first; ``searchByVersion`` keeps those whose version holds it."""
    search = (ctx.q("searchByVersion") or "").strip().lower()
    items = [r for r in ctx.backend.channel_releases(ctx.space_id, channel_id) if search in r.version.lower()]
    return ctx.page(items, "Release", template, lambda r: shape.release(ctx.base, r))


@route()
def channel_releases(ctx: Ctx) -> Json:
    return _releases_of(ctx, ctx.arg("id"), f"{ctx.base}/api/{ctx.space_id}/channels/{ctx.arg('id')}/releases"
                        "{?skip,take,searchByVersion}")


@route()
def project_channel_releases(ctx: Ctx) -> Json:
    """The same under the project (the official Go CLI lists a channel's releases so)."""
    channel = ctx.backend.project_channel(ctx.space_id, ctx.arg("ref"), ctx.arg("id"))
    return _releases_of(ctx, channel.id, f"{ctx.base}/api/{ctx.space_id}/projects/{channel.project_id}/channels/"
                        f"{channel.id}/releases{{?skip,take,searchByVersion}}")


@route()
def project_channels(ctx: Ctx) -> Json:
    items = ctx.backend.project_channels(ctx.space_id, ctx.arg("ref"))
    return ctx.page(ctx.named(items), "Channel",
                    f"{ctx.base}/api/{ctx.space_id}/projects/{ctx.arg('ref')}/channels{{/id}}{{?skip,take,partialName}}",
                    lambda c: shape.channel(ctx.base, c))
