"""The conformance table (``tests/conformance/routes.yaml``) as objects, and the checks that read it.

The table says, for each route, what the real Octopus Server documents: where it answers, which
body fields it requires, which status and answer fields it gives. Tests read it both ways: a
request octorelease sent (as the sandbox's request log saw it) is matched to its row and must
carry the row's required fields; the sandbox's answer to a row's sample must have the row's
status and fields. Keeping the facts as data lets both engineers and tests share one copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TABLE = Path(__file__).resolve().parent.parent / "tests" / "conformance" / "routes.yaml"

#: the JSON type each table type names; "string|null" allows either
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "boolean": (bool,), "integer": (int,), "number": (int, float),
    "object": (dict,), "array": (list,), "null": (type(None),),
}


@dataclass(frozen=True)
class Row:
    """One route of the table (see the key list at the top of routes.yaml)."""

    method: str
    path: str
    also: tuple[str, ...]
    ok: int
    client: str | None = None
    required: tuple[str, ...] = ()
    answer: dict[str, str] = field(default_factory=dict)
    not_yet: tuple[str, ...] = ()
    collection: bool = False
    emulated: str = "full"
    sample: dict[str, Any] | None = None
    source: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def paths(self) -> tuple[str, ...]:
        """The documented path and every alias."""
        return (self.path, *self.also)

    def matches(self, method: str, path: str) -> bool:
        """True when a request (a concrete path, e.g. ``/api/Spaces-1/tasks``) is this route at
        one of its documented paths: letter case ignored, as Octopus ignores it."""
        return method.upper() == self.method and any(_pattern(p).fullmatch(path) for p in self.paths)


@cache
def _pattern(documented: str) -> re.Pattern[str]:
    """A documented path as a regular expression: ``{spaceId}`` is a space id, any other
    parameter one path segment."""
    parts = re.split(r"(\{[^}]+\})", documented)
    regex = "".join(
        r"Spaces-\d+" if part == "{spaceId}" else r"[^/]+" if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(regex, re.IGNORECASE)


def route_key(method: str, path: str) -> str:
    """A route as the sandbox's routing table and the table can both be compared: space prefixes
    dropped, parameters anonymous, letter case ignored (``GET /api/projects/{}``)."""
    path = re.sub(r"^/api/spaces/\{[^}]*\}(?=/)", "/api", path)
    path = re.sub(r"^/api/\{(spaceId|space_id[^}]*)\}(?=/)", "/api", path)
    return f"{method.upper()} {re.sub(r'{[^}]*}', '{}', path).lower().rstrip('/')}"


@cache
def rows() -> tuple[Row, ...]:
    """Every row of the table."""
    document = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    found = []
    for raw in document["routes"]:
        found.append(Row(
            method=raw["method"], path=raw["path"], also=tuple(raw.get("also") or ()), ok=int(raw["ok"]),
            client=raw.get("client"), required=tuple(raw.get("required") or ()),
            answer=dict(raw.get("answer") or {}), not_yet=tuple(raw.get("not_yet") or ()),
            collection=bool(raw.get("collection")), emulated=str(raw.get("emulated", "full")),
            sample=raw.get("sample"), source=dict(raw.get("source") or {}),
        ))
    return tuple(found)


def minimum_server_version() -> str:
    """The oldest Octopus Server the table's executions routes need."""
    return str(yaml.safe_load(TABLE.read_text(encoding="utf-8"))["minimum_server_version"])


def row_for(method: str, path: str) -> Row | None:
    """The row a concrete request is, or None when it is at no documented path."""
    return next((row for row in rows() if row.matches(method, path)), None)


def missing_required(row: Row, given: list[str] | None) -> list[str]:
    """The row's required fields a body does not give a value (names compared ignoring case:
    the server binds JSON that way, and the official npm client sends ``spaceIdOrName``)."""
    present = {name.lower() for name in given or ()}
    return [name for name in row.required if name.lower() not in present]


def answer_problems(row: Row, document: Any) -> list[str]:
    """What an answer lacks or gives with the wrong type, by the row's ``answer``; the fields in
    ``not_yet`` must be absent (so that the table is updated once the sandbox gives them). A
    null passes for any type: the reference does not say which fields may be null."""
    if row.collection and isinstance(document, dict):
        items = document.get("Items")
    else:  # a bare array (an ``/all`` route, the deployment previews) is its items
        items = document if isinstance(document, list) else [document]
    if not isinstance(items, list) or not items:
        return [f"{row.name}: no item to check (a page needs Items with at least one)"]
    problems = []
    for item in items:
        if not isinstance(item, dict):
            return [f"{row.name}: an item is {type(item).__name__}, not an object"]
        for name, kind in row.answer.items():
            if name in row.not_yet:
                if name in item:
                    problems.append(f"{row.name}: {name} is given now; take it out of not_yet")
                continue
            if name not in item:
                problems.append(f"{row.name}: the answer lacks {name} ({kind})")
                continue
            allowed = tuple(t for part in kind.split("|") for t in _TYPES[part])
            value = item[name]
            wrong_bool = isinstance(value, bool) and bool not in allowed  # a bool is an int in Python
            if value is not None and (wrong_bool or not isinstance(value, allowed)):
                problems.append(f"{row.name}: {name} is {type(value).__name__} {value!r:.40}, not {kind}")
    return sorted(set(problems))
