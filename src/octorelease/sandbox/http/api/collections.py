"""The endpoints of a space's collection, made once: ``catalog`` for a stored resource (filters,
paging, ``/all``, one item), ``unemulated`` for one the sandbox does not emulate, and
``wrapped_all`` for the newer ``/all/v1`` variant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.routing import BaseRoute

from octorelease.sandbox.errors import ResourceNotFound
from octorelease.sandbox.http.api.context import Ctx, Endpoint, Json, N, route
from octorelease.sandbox.http.routing import Route


@dataclass(frozen=True)
class Collection:
    """The three endpoints of a space's collection: the page, ``/all`` and one item; and what
    ``/all`` answers, for the wrapped variants (``wrapped_all``)."""

    listing: Endpoint
    every: Endpoint
    single: Endpoint
    everything: Callable[[Ctx], list[Json]]

    def routes(self, path: str, *, with_all: bool = True) -> list[BaseRoute]:
        """``/all`` (where Octopus has one) before ``/{id}``, so that "all" is never taken for an id."""
        every = [Route(f"{path}/all", self.every)] if with_all else []
        return [Route(path, self.listing), *every, Route(f"{path}/{{id}}", self.single)]


def catalog(cls: type[N], item_type: str, link: str, render: Callable[[str, N], Json],
            narrow: Callable[[Ctx, list[N]], list[N]] | None = None,
            within: Callable[[Ctx], list[N] | None] | None = None) -> Collection:
    """The endpoints of a named resource: ``name``/``partialName``/``ids`` filters, paging (not
    on ``/all``), 404 for an unknown id; ``narrow`` adds the resource's own filters, ``within``
    the models' query that narrows first (None: it does not apply)."""

    def chosen(ctx: Ctx) -> list[N]:
        items: list[N] = ctx.stored(cls, within(ctx) if within else None)
        return narrow(ctx, items) if narrow else items

    @route()
    def listing(ctx: Ctx) -> Json:
        return ctx.page(chosen(ctx), item_type, ctx.template(link), lambda i: render(ctx.base, i))

    def everything(ctx: Ctx) -> list[Json]:
        return ctx.every(chosen(ctx), lambda i: render(ctx.base, i))

    @route()
    def single(ctx: Ctx) -> Json:
        return render(ctx.base, ctx.backend.require(cls, ctx.space_id, ctx.arg("id")))

    return Collection(listing, route()(everything), single, everything)


def unemulated(item_type: str, link: str) -> Collection:
    """A collection the sandbox does not emulate (docs/guides/sandbox.md): empty pages, an empty ``/all``, and
    404 for any id, so that tools which list it work and find nothing."""

    @route()
    def listing(ctx: Ctx) -> Json:
        return ctx.page([], item_type, ctx.template(link), lambda i: i)

    def everything(ctx: Ctx) -> list[Json]:
        return []

    @route()
    def single(ctx: Ctx) -> Json:
        raise ResourceNotFound(ctx.arg("id"))

    return Collection(listing, route()(everything), single, everything)


def wrapped_all(collection: Collection, key: str) -> Endpoint:
    """The newer wrapped ``/all/v1`` variant of a collection: ``{key: [every item]}``
    (octopus-api-more.md §1), e.g. ``environments/all/v1`` -> ``{"Environments": [...]}``."""

    @route()
    def endpoint(ctx: Ctx) -> Json:
        return {key: collection.everything(ctx)}

    return endpoint
