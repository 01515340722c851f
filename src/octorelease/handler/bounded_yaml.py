"""Reading a handler file's YAML within bounds of size, aliases, depth and values.

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

from dataclasses import dataclass
from typing import Any

import yaml

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
    loader = _BoundedLoader(text, limits)
    try:
        root: yaml.Node | None = loader.get_single_node()
    finally:
        loader.dispose()
    return root


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
