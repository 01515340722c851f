"""Feeds and their packages: search and versions."""

from __future__ import annotations

from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.collections import catalog
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.state.entities import (
    Feed,
)

FEEDS = catalog(Feed, "Feed", "Feeds", shape.feed)


@route()
def package_search(ctx: Ctx) -> Json:
    feed_id = ctx.arg("id")
    return ctx.page(ctx.backend.package_search(ctx.space_id, feed_id, ctx.q("term")), "PackageDescription",
                    f"{ctx.base}/api/{ctx.space_id}/feeds/{feed_id}/packages/search{{?term,take,skip}}",
                    lambda p: shape.package_description(ctx.base, feed_id, p))


@route()
def package_versions(ctx: Ctx) -> Json:
    versions = ctx.backend.package_versions(ctx.space_id, ctx.arg("id"), ctx.q("packageId"), ctx.q("filter"),
                                            ctx.q_bool("includePreRelease"), ctx.q("versionRange"))
    return ctx.page(versions, "PackageVersion", f"{ctx.base}/api/{ctx.space_id}/feeds/{ctx.arg('id')}/packages/"
                    "versions{?packageId,take,skip,includePreRelease,versionRange,preReleaseTag,filter}",
                    lambda p: shape.package_version(ctx.base, ctx.arg("id"), p))
