"""Octopus's own description of its API, as the PyPI package ``octopus-deploy-swagger-client``
holds it (generated from the swagger document of Octopus Server 2019.6; a test-only dependency).

Two things are read from it: the routes (each generated API method calls ``call_api(path,
method, ..., response_type=...)``), and the models (each class's ``swagger_types`` and
``attribute_map`` give every JSON field of a resource and its type). ``conforms`` checks a JSON
document against a model, recursively, and says what does not fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import octopus_deploy_swagger_client.models as models

_CALL = re.compile(r"call_api\(\s*'([^']+)', '(\w+)'.*?response_type=([^,]+),", re.S)


@dataclass(frozen=True)
class SwaggerRoute:
    method: str
    path: str
    #: the model name (``ProjectResource``, ``list[ProjectResource]``), ``file``, or None
    response_type: str | None

    @property
    def key(self) -> str:
        return route_key(self.method, self.path)


def route_key(method: str, path: str) -> str:
    """Routes compared as Octopus matches them: words in any case, parameters by position only,
    a space prefix (``{baseSpaceId}``, ``(?<spaceId>...)``) like any parameter."""
    path = re.sub(r"\(\?<\w+>[^)]*\)", "{}", path)
    return f"{method.upper()} {re.sub(r'{[^}]*}', '{}', path).lower().rstrip('/')}"


@cache
def routes() -> dict[str, SwaggerRoute]:
    """Every route of the swagger document, by ``route_key``."""
    found: dict[str, SwaggerRoute] = {}
    package = resources.files("octopus_deploy_swagger_client") / "octopus_deploy_client"
    for entry in package.iterdir():
        if entry.name.endswith("_api.py"):
            for path, method, response in _CALL.findall(entry.read_text()):
                kind = response.strip().strip("'")
                route = SwaggerRoute(method, path, None if kind == "None" else kind)
                found.setdefault(route.key, route)
    return found


def model(name: str) -> Any:
    return getattr(models, name)


def fields(name: str) -> dict[str, str]:
    """A model's JSON fields and their swagger types: ``{"Id": "str", "Links": "dict(str, str)"}``."""
    cls = model(name)
    return {cls.attribute_map[attr]: kind for attr, kind in cls.swagger_types.items()}


#: models whose fields are keys that appear only when used (a variable's scope, a user's
#: permissions): present fields are checked, absent ones are not demanded
OPEN_MODELS = frozenset({"VariableResourceScope", "UserPermissionSetResourceSpacePermissions"})

_PRIMITIVES: dict[str, tuple[type, ...]] = {"str": (str,), "bool": (bool,), "int": (int,), "float": (int, float),
                                            "object": (object,)}


def conforms(value: Any, kind: str, where: str = "$", skip: frozenset[str] = frozenset()) -> list[str]:
    """What in ``value`` does not fit the swagger type ``kind`` (empty when it all fits).

    Null fits every type (Octopus sends null for unset fields). A model's every field must be
    present; fields the sandbox adds beyond the 2019.6 model are fine. ``skip`` holds
    "Model.Field" entries not to demand, each with its reason where it is declared.
    """
    if value is None:
        return []
    if kind.startswith("list["):
        if not isinstance(value, list):
            return [f"{where}: expected a list ({kind}), got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in conforms(item, kind[5:-1], f"{where}[{i}]", skip)]
    if kind.startswith("dict("):
        if not isinstance(value, dict):
            return [f"{where}: expected an object ({kind}), got {type(value).__name__}"]
        inner = kind[5:-1].split(", ", 1)[1]
        return [p for k, item in value.items() for p in conforms(item, inner, f"{where}.{k}", skip)]
    if kind == "datetime":
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            return [f"{where}: expected an ISO 8601 date, got {value!r}"]
        return []
    if kind in _PRIMITIVES:
        ok = isinstance(value, _PRIMITIVES[kind]) and not (kind in ("int", "float") and isinstance(value, bool))
        return [] if ok else [f"{where}: expected {kind}, got {type(value).__name__} {value!r}"]
    if kind == "PropertyValueResource" and isinstance(value, str):
        return []  # Octopus writes a property that is not sensitive as its bare string value
    if not isinstance(value, dict):
        return [f"{where}: expected a {kind} object, got {type(value).__name__}"]
    problems = []
    for name, field_kind in fields(kind).items():
        if f"{kind}.{name}" in skip or (kind in OPEN_MODELS and name not in value):
            continue
        if name not in value:
            problems.append(f"{where}: {kind} lacks {name} ({field_kind})")
        else:
            problems.extend(conforms(value[name], field_kind, f"{where}.{name}", skip))
    return problems
