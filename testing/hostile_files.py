"""Handler files built to exhaust a reader: alias bombs, deep nesting, too many values.

Shared by the hostile-input tests and the benchmark that measures what each one costs now
that the reader is bounded (``bench/handler_limits.py``, figures in docs/reliability.md).
"""

from __future__ import annotations

#: One valid handler, after which a hostile file adds its payload (as a key the schema refuses,
#: which the reader never gets to validate).
HEAD = """\
handlers:
  - name: Ship
    project: Web
    on: {event: build-completed}
    deploy: {to: Development, release: latest}
"""


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each level lists the level before it ``width`` times (9**9 values)."""
    lines = ["a0: &a0 [x]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    lines.append(HEAD)
    return "\n".join(lines)


def many_aliases(count: int) -> str:
    """A flat file with ``count`` small aliases: no bomb, but more aliases than a handler file needs."""
    return f"x: &x one\ny: [{', '.join(['*x'] * count)}]\n{HEAD}"


def deep_list(depth: int) -> str:
    return f"x: {'[' * depth}{']' * depth}\n{HEAD}"


def deep_mapping(depth: int) -> str:
    return f"x: {'{a: ' * depth}b{'}' * depth}\n{HEAD}"


def many_values(count: int) -> str:
    """One block list of ``count`` values: the slowest shape for the parser, per byte."""
    return "x:\n" + "- 1\n" * count + HEAD


def padded(size: int) -> str:
    """A valid file padded with comments to ``size`` bytes or a little more."""
    return HEAD + "# padding\n" * (max(0, size - len(HEAD)) // 10 + 1)


def with_handler_line(line: str) -> str:
    """The handler with one more line (``timeout: ...``, ``conditions: [...]``) at line 6."""
    return HEAD + f"    {line}\n"
