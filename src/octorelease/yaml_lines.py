"""YAML files whose errors point at a line: the handler file's and the sandbox estate's.

Both files are written by hand and read by a program that must say *where* a fault is, so both
are read the same way: ``yaml.compose`` builds the node tree, which knows the line of every key
and value, and ``LineReader`` turns it into plain dicts, lists and strings while noting the line
of every path (every scalar stays a string: ``version: 1.10`` stays ``1.10``). pydantic then
checks the shape; its error ``loc`` is such a path, so ``pydantic_faults`` and ``located`` turn
its errors into ``file:line: field: message`` lines.

Composing stays within bounds of size, aliases, depth and values (``compose``, ``Limits``).
A handler file often comes from a pull request, so it is untrusted input read on a CI agent.
PyYAML's safe loader is safe from code execution, not from exhaustion: nine levels of nine
aliases ("billion laughs") expand to 387 million values when the tree is walked (3.5 GB and
two minutes before this module), and a list nested 20,000 deep overflows Python's stack in
the recursive composer. So the document is composed with four bounds, each far above what a
real handler file needs (the demo's file has 6 levels, no aliases and about 40 values):

=============== ============ ===================================================================
bound           limit        why
=============== ============ ===================================================================
size            256 KiB      refused before it is read whole (comments cost little to parse)
aliases         100          ``*name`` references; a few share deployment options
depth           50 levels    nesting; the schema needs 5
values          10,000       scalars, lists and mappings, every alias counted as what it stands
                             for: the bound that defuses an alias bomb, and the one that bounds
                             parsing time (the pure-Python parser is the slow part)
=============== ============ ===================================================================

The size is checked before parsing; the others are counted while the document is composed, so
parsing stops where a bound is passed.
A bound passed raises ``LimitExceeded`` with the line where it was passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
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
LONE_SURROGATE = "not valid Unicode text (a lone surrogate, such as \\ud800)"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


MAX_BYTES = 256 * 1024
MAX_ALIASES = 100
MAX_DEPTH = 50
MAX_VALUES = 10_000


@dataclass(frozen=True)
class Limits:
    """The four bounds, and what the messages call the file (another kind of file, such as the
    sandbox's estate file, may need more room: it is read with its own)."""

    max_bytes: int = MAX_BYTES
    max_aliases: int = MAX_ALIASES
    max_depth: int = MAX_DEPTH
    max_values: int = MAX_VALUES
    what: str = "a handler file"


HANDLER_FILE = Limits()


class LimitExceeded(Exception):
    """The document passes one of the bounds; ``line`` (1-based) is where it does."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def check_size(data: bytes, limits: Limits = HANDLER_FILE) -> None:
    """Refuse ``data`` (the file's first bytes, read up to one past the bound) when it is too long."""
    if len(data) > limits.max_bytes:
        line = data.count(b"\n", 0, limits.max_bytes) + 1
        raise LimitExceeded(line, f"the file is larger than {limits.max_bytes // 1024:,} KiB "
                                  f"({limits.what} may be at most {limits.max_bytes // 1024:,} KiB)")


def compose(text: str, limits: Limits = HANDLER_FILE) -> yaml.Node | None:
    """The node tree of ``text`` (``None`` when it is empty), refused past any bound above.

    Raises ``LimitExceeded``, or ``yaml.MarkedYAMLError`` for a syntax error."""
    check_size(text.encode("utf-8"), limits)
    _count_values(text, limits)
    loader = _BoundedLoader(text, limits)
    try:
        root: yaml.Node | None = loader.get_single_node()
    finally:
        loader.dispose()
    return root


def _count_values(text: str, limits: Limits) -> None:
    """Refuse a document of too many values before composing it, when libyaml is there: its C
    parser counts the events of a million values in about 4 s without building a tree, where
    composing them in Python took 39 s and 721 MiB before refusing (aliases are counted, and
    bounded, while composing; a syntax error is left to the composer to report)."""
    if not getattr(yaml, "__with_libyaml__", False):
        return
    values = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                values += 1
                if values > limits.max_values:
                    mark = event.start_mark
                    raise LimitExceeded(mark.line + 1 if mark is not None else 1,
                                        f"more than {limits.max_values:,} values once aliases are expanded "
                                        f"({limits.what} may hold at most {limits.max_values:,})")
    except yaml.YAMLError:
        return


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, counting aliases, depth and values as it composes, so a hostile document
    is refused as soon as it passes a bound, before the rest is even parsed (parsing costs
    about as much per value as anything done with the values later)."""

    def __init__(self, stream: str, limits: Limits) -> None:
        super().__init__(stream)
        self._limits = limits
        self._aliases = 0
        self._depth = 0
        self._values = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values it holds, its aliases expanded
        self._composing: set[str] = set()  # anchors whose values are being composed

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self._limits.max_aliases:
                raise LimitExceeded(line, f"more than {self._limits.max_aliases} aliases (*name) "
                                          f"({self._limits.what} may use at most {self._limits.max_aliases})")
            if event.anchor in self._composing:  # inside the value it names: it expands without end
                raise LimitExceeded(line, "an alias (*name) refers to a value that contains it")
            node: yaml.Node | None = super().compose_node(parent, index)
            if node is not None:
                self._count(line, _expanded_size(node, self._sizes) - 1)
            return node
        self._count(line, 0)
        self._depth += 1
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._composing.add(anchor)
        try:
            if self._depth > self._limits.max_depth:
                raise LimitExceeded(line, f"nested more than {self._limits.max_depth} levels deep "
                                          f"({self._limits.what} needs fewer than 10)")
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1
            self._composing.discard(anchor)

    def _count(self, line: int, more: int) -> None:
        """Count one more value (an alias: the values it stands for) written at ``line``."""
        self._values += 1 + more
        if self._values > self._limits.max_values:
            raise LimitExceeded(line, f"more than {self._limits.max_values:,} values once aliases are expanded "
                                      f"({self._limits.what} may hold at most {self._limits.max_values:,})")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _expanded_size(root: yaml.Node, sizes: dict[int, int]) -> int:
    """The values ``root`` holds once its aliases are expanded, counted without expanding them.

    An alias is the very node object of its anchor, so the document is a graph (acyclic: the
    loader refuses an alias inside its own anchor) whose sizes are counted once per node;
    ``sizes`` remembers them across calls, so an alias bomb is measured in a few hundred steps."""
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_counted = stack.pop()
        if id(node) in sizes:
            continue
        if children_counted:
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in _children(node))
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


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
        return self.scalar(self._text(str(node.value), node, loc), loc)

    def _text(self, text: str, node: yaml.Node, loc: Loc) -> str:
        """A scalar as written, unless it holds a lone surrogate (``"\\ud800"`` in double quotes):
        text no UTF-8 can hold, which would fail far from the file (a request, a database)."""
        if _LONE_SURROGATE.search(text):
            raise self.error(node.start_mark.line + 1, loc, LONE_SURROGATE)
        return text

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(line, loc, "a key must be a plain word, not a list or mapping")
            key = self._text(str(key_node.value), key_node, loc)
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
        return loc, f"{UNKNOWN_KEY} {loc[-1]!r}" + (f" (did you mean {close!r}?)" if close else _misplaced(root, loc))
    if kind == "value_error":
        return loc, str(error["ctx"]["error"])
    expected = _EXPECTED.get(kind)
    if expected is None:
        return loc, str(error["msg"])
    return loc, f"expected {expected}, got {_describe(given)}"


def _misplaced(root: type[BaseModel], loc: Loc) -> str:
    """Where an unknown key belongs when a mapping around this one has it (``timeout:`` under
    ``promote:`` is the handler's): `` ('timeout' is a field of handlers[0]: put it beside
    promote:, not under it)``; "" when none has it."""
    key = loc[-1]
    for depth in range(len(loc) - 2, -1, -1):
        section = loc[depth]
        if isinstance(section, str) and key in known_keys(root, loc[:depth]):
            return (f" ({key!r} is a field of {render_loc(loc[:depth])}: "
                    f"put it beside {section}:, not under it)")
    return ""


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
