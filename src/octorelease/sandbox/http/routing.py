"""Routes whose literal words match in any letter case, as Octopus's do.

Octopus answers ``/api/Spaces-1/DeploymentProcesses/...`` and ``/api/Spaces-1/Projects/...`` as
well as the lower-case forms its Links use (octopus-api-more.md §2; the solutions team's own
scripts send both). Ids and slugs were already matched ignoring case by the models; these two
classes make the route words do the same, so every route in the table gets it without a rewrite
of the path anywhere else.

A mount's routes are also grouped by their first word (``/tasks/{id}`` under ``tasks``), so a
request tries the few routes that can match it instead of all 170 in turn: a task poll spent more
time finding its route than answering.

The ``space`` convertor (``{space_id:space}``) matches a space id only, so that a space-scoped
mount never takes a word of another route for one.
"""

from __future__ import annotations

import re
from typing import Any

from starlette import routing
from starlette._utils import get_route_path
from starlette.convertors import Convertor, register_url_convertor
from starlette.types import Receive, Scope, Send


class SpaceIdConvertor(Convertor[str]):
    """Matches ``Spaces-N`` only, so ``/api/{spaceId}/...`` never swallows ``/api/tasks/...``."""

    regex = "[Ss][Pp][Aa][Cc][Ee][Ss]-[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("space", SpaceIdConvertor())


def _ignoring_case(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(pattern.pattern, pattern.flags | re.IGNORECASE)


class Route(routing.Route):
    """Starlette's ``Route``, matched ignoring letter case."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.path_regex = _ignoring_case(self.path_regex)


class Mount(routing.Mount):
    """Starlette's ``Mount``, matched ignoring letter case, its routes tried by first word."""

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.path_regex = _ignoring_case(self.path_regex)
        if "routes" in kwargs and self.app is self._base_app:
            self._base_app = self.app = _WordRouter(routes=kwargs["routes"])


def _first_word(path: str) -> str | None:
    """``/tasks/{id}`` -> ``tasks``; ``None`` for a path that starts with a parameter."""
    word = path.lstrip("/").split("/", 1)[0].lower()
    return None if word.startswith("{") else word


class _WordRouter(routing.Router):
    """A router that tries, in table order, only the routes whose first word is the path's (and
    those that start with a parameter). A path no route takes falls back to the whole table, so
    405s, slash redirects and 404s are Starlette's own."""

    def __init__(self, routes: list[routing.BaseRoute]) -> None:
        super().__init__(routes=routes)
        words = {_first_word(getattr(r, "path", "")) for r in routes}
        self._anywhere = [r for r in routes if _first_word(getattr(r, "path", "")) is None]
        self._by_word = {w: [r for r in routes if _first_word(getattr(r, "path", "")) in (w, None)]
                         for w in words if w is not None}

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        candidates = self._by_word.get(_first_word(get_route_path(scope)) or "", self._anywhere)
        for route in candidates:
            match, child_scope = route.matches(scope)
            if match is routing.Match.FULL:
                scope.setdefault("router", self)
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        # no route takes it whole: Starlette's 405 (a route for another method), redirect or 404
        await super().app(scope, receive, send)
