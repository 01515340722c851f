"""YAML files whose errors point at a line: the handler file's and the sandbox estate's.

Both files are written by hand and read by a program that must say *where* a fault is, so both
are read the same way: ``yaml.compose`` builds the node tree, which knows the line of every key
and value, and ``LineReader`` turns it into plain dicts, lists and strings while noting the line
of every path (every scalar stays a string: ``version: 1.10`` stays ``1.10``). pydantic then
checks the shape; its error ``loc`` is such a path, so ``pydantic_faults`` and ``located`` turn
its errors into ``file:line: field: message`` lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from octorelease.suggest import closest

Loc = tuple[str | int, ...]
#: a fault found in a file: where (a path into the data) and what
Fault = tuple[Loc, str]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NULL_TAG = "tag:yaml.org,2002:null"
UNKNOWN_KEY = "unknown key"


class LineReader:
    """Turns a node tree into dicts, lists and strings, noting the line of every path.

    ``error`` builds the exception a fault found while reading raises (a duplicate key, a key
    that is a list); subclasses may check or rewrite scalars in ``scalar``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: dict[Loc, int] = {}

    def read(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.read(item, (*loc, position)) for position, item in enumerate(node.value)]
        if node.tag == _NULL_TAG:
            return None
        return self.scalar(str(node.value), loc)

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(line, loc, "a key must be a plain word, not a list or mapping")
            key = str(key_node.value)
            if key in result:
                raise self.error(line, (*loc, key), f"duplicate key {key!r}")
            at = (*loc, key)
            self.lines[at] = line
            result[key] = self.read(value_node, at)
        return result

    def scalar(self, text: str, loc: Loc) -> str:
        return text

    def error(self, line: int, loc: Loc, message: str) -> Exception:
        return ValueError(f"{self.name}:{line}: {render_loc(loc)}: {message}")


def pydantic_faults(exc: ValidationError, root: type[BaseModel]) -> Iterator[Fault]:
    """pydantic's errors as faults in plain words (``root``: the model of the whole file, for
    "did you mean" on unknown keys)."""
    for error in exc.errors():
        yield pydantic_fault(error, root)


def pydantic_fault(error: Mapping[str, Any], root: type[BaseModel]) -> Fault:
    loc: Loc = tuple(error["loc"])
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        return loc[:-1], f"missing required field {loc[-1]!r}"
    if kind == "extra_forbidden":
        close = closest(str(loc[-1]), known_keys(root, loc[:-1]))
        return loc, f"{UNKNOWN_KEY} {loc[-1]!r}" + (f" (did you mean {close!r}?)" if close else "")
    if kind == "value_error":
        return loc, str(error["ctx"]["error"])
    expected = _EXPECTED.get(kind)
    if expected is None:
        return loc, str(error["msg"])
    return loc, f"expected {expected}, got {_describe(given)}"


_EXPECTED = {
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "list_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
}


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def known_keys(root: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed in the mapping at ``loc``, found by walking the models along the path."""
    model: type[BaseModel] = root
    for part in loc:
        if isinstance(part, int):
            continue
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        found = _model_in(fields[str(part)].annotation) if str(part) in fields else None
        if found is None:
            return []
        model = found
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``annotation`` (``list[Handler]``, ``Create | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def located(name: str, lines: Mapping[Loc, int], faults: Iterable[Fault]) -> list[str]:
    """Each fault as ``file:line: field: message``, in the order they are written in the file
    (on one line, an unknown key first: it explains the "missing field" beside it)."""
    ranked = sorted(
        ((line_of(lines, loc), 0 if message.startswith(UNKNOWN_KEY) else 1, order, loc, message)
         for order, (loc, message) in enumerate(faults)),
        key=lambda fault: fault[:3],
    )
    return [f"{name}:{line}: {render_loc(loc)}: {message}" for line, _, _, loc, message in ranked]


def render_loc(loc: Loc) -> str:
    """``handlers[0].create.packages['Deploy web']``, or ``(top level)`` for the root."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _NAME.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "(top level)"


def line_of(lines: Mapping[Loc, int], loc: Loc) -> int:
    """The line of ``loc``, or of its nearest parent that was written (a missing field)."""
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)
