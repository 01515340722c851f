"""What every /api handler stands on: ``Ctx`` (its request, already parsed: path, query, body,
space, caller, paging) and ``route`` (a handler made a Starlette endpoint under the models' lock).
Errors from the models are served by ``middleware.py`` as Octopus's envelope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from octorelease.sandbox.errors import ValidationFailed
from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.binding import Body, parse_bool, parse_csv, read_body
from octorelease.sandbox.http.middleware import BASE_KEY, PATH_KEY
from octorelease.sandbox.http.service import Sandbox
from octorelease.sandbox.rules.models import Backend
from octorelease.sandbox.state.entities import (
    Named,
    Space,
)
from octorelease.sandbox.state.state import UNLIMITED, Caller, select

T = TypeVar("T")
N = TypeVar("N", bound=Named)
Json = dict[str, Any]
ALL = 2147483647


@dataclass
class Ctx:
    """What a route needs from its request, already parsed."""

    request: Request
    sandbox: Sandbox
    body: Body

    @property
    def backend(self) -> Backend:
        return self.sandbox.backend

    @property
    def base(self) -> str:
        return str(self.request.scope.get(BASE_KEY, ""))

    @property
    def caller(self) -> Caller:
        caller = self.request.scope.get("state", {}).get("caller", UNLIMITED)
        return caller if isinstance(caller, Caller) else UNLIMITED

    @property
    def space(self) -> Space:
        return self.backend.space(self.request.path_params.get("space_id"))

    @property
    def space_id(self) -> str:
        return self.space.id

    @property
    def task_space(self) -> str | None:
        """Task routes without a space in the path see the tasks of every space."""
        given = self.request.path_params.get("space_id")
        return self.backend.space(given).id if given else None

    def arg(self, name: str) -> str:
        return str(self.request.path_params[name])

    def require(self, *names: str) -> None:
        """The body must give every field named (the reference's required ones). ``SpaceId`` may
        come from a space-scoped path instead, as the real server binds it: the official npm
        client sends ``spaceIdOrName`` and no ``SpaceId``, and is served."""
        spaced = "space_id" in self.request.path_params
        self.body.require(*(n for n in names if not (spaced and n == "SpaceId")))

    def q(self, name: str) -> str | None:
        for key, value in self.request.query_params.multi_items():
            if key.lower() == name.lower():
                return value
        return None

    def q_list(self, name: str) -> list[str]:
        return parse_csv([v for k, v in self.request.query_params.multi_items() if k.lower() == name.lower()])

    def q_bool(self, name: str) -> bool | None:
        value = self.q(name)
        return None if value is None else parse_bool(value, name)

    def q_int(self, name: str, default: int) -> int:
        value = self.q(name)
        if value is None or not value.strip():
            return default
        try:
            number = int(value)
        except ValueError:
            raise ValidationFailed(f"The value '{value}' of '{name}' is not a valid number.") from None
        if number < 0:
            raise ValidationFailed(f"The value of '{name}' cannot be negative.")
        return number

    def page(self, items: Sequence[T], item_type: str, template: str, render: Callable[[T], Json]) -> Json:
        """Octopus's paged envelope (octopus-api.md §7.1): ``Page.Next`` only when more remain."""
        skip, take = self.q_int("skip", 0), self.q_int("take", 30)
        total = len(items)
        pages = max(1, -(-total // take)) if take else 1
        path = str(self.request.scope.get(PATH_KEY, self.request.url.path))
        others = [(k, v) for k, v in self.request.query_params.multi_items() if k.lower() not in ("skip", "take")]

        def at(s: int, t: int) -> str:
            return f"{path}?{urlencode([*others, ('skip', s), ('take', t)])}"

        links = {"Self": at(skip, take), "Template": template, "Page.All": at(0, ALL), "Page.Current": at(skip, take)}
        if take and skip + take < total:
            links["Page.Next"] = at(skip + take, take)
        links["Page.Last"] = at(take * (pages - 1), take)
        return {"ItemType": item_type, "TotalResults": total, "ItemsPerPage": take, "NumberOfPages": pages,
                "LastPageNumber": pages - 1, "Items": [render(i) for i in items[skip: skip + take] if take],
                "Links": links}

    def every(self, items: Sequence[T], render: Callable[[T], Json]) -> list[Json]:
        """An ``/all`` route's answer: a bare JSON array of every item, no envelope, no paging
        (octopus-api-more.md §1); ``skip``/``take`` are ignored, as Octopus does."""
        return [render(i) for i in items]

    def named(self, items: Sequence[Any]) -> list[Any]:
        return select(items, name=self.q("name"), partial_name=self.q("partialName"), ids=self.q_list("ids"))

    def stored(self, cls: type[N], within: list[N] | None = None) -> list[N]:
        """``named`` for a stored kind: the models find ``name`` and ``ids`` by index."""
        return self.backend.named(cls, self.space_id, name=self.q("name"), partial_name=self.q("partialName"),
                                  ids=self.q_list("ids"), within=within)

    def template(self, name: str) -> str:
        return f"{self.base}/api/{self.space_id}{shape.SPACE_LINKS[name]}"


Handler = Callable[[Ctx], Any]
Endpoint = Callable[[Request], Awaitable[Response]]


def route(status: int = 200) -> Callable[[Handler], Endpoint]:
    """Make a Starlette endpoint: read the body, run the handler under the models' lock (so a
    response never mixes two moments of a running task), serve its dict as JSON."""

    def wrap(handler: Handler) -> Endpoint:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            body = read_body(await request.body()) if request.method != "GET" else Body(None)
            sandbox: Sandbox = request.app.state.sandbox
            with sandbox.backend.lock:
                result = handler(Ctx(request, sandbox, body))
            return result if isinstance(result, Response) else JSONResponse(result, status_code=status)

        return endpoint

    return wrap
