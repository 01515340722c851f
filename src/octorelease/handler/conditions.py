"""Handler conditions: ``LEFT OPERATOR RIGHT``, parsed by a small tokenizer, never by ``eval``.

A condition comes from a file that a pull request may change, so it is read as data: a word,
an operator, a word (or a list). All conditions of a handler must hold for it to run.

Operands are bare words (``main``, ``release/1.4``) or quoted (``'two words'``, ``"it's"``; no
escapes inside quotes). ``{build.*}`` placeholders are replaced *after* the condition is split
into words, so a branch name with spaces or quotes in it stays one operand. Operators:

======================== ==============================================================
``==`` ``!=``            equal / not equal
``<`` ``<=`` ``>`` ``>=`` ordered comparison
``contains``             the left side contains the right side
``starts with``          the left side starts with the right side
``ends with``            the left side ends with the right side
``matches``              the regular expression on the right is *found* in the left side
                         (``re.search``; anchor it with ``^...$`` for a whole match). The
                         rest of the condition is the pattern, so it needs no quotes.
                         Python's syntax, run by RE2 (see below).
``in [a, b, 'c d']``     the left side equals one of the list
======================== ==============================================================

Each word operator may be negated (``not in``, ``not contains``, ``not matches``, ...), and a
whole condition may start with ``not``. Comparisons (``==`` to ``>=`` and ``in``) are numeric
when both sides are numbers (``-12``, ``3.5``), by version when both look like versions
(``1.10.0 > 1.9.0``, ``1.0.0-beta < 1.0.0``; a two-part ``1.10`` is a number), and else by
text. Everything is case-sensitive.

A pattern comes from a file a pull request may change, and the text it is matched against from
the build (a branch name), so with a backtracking engine a pattern such as ``(x+x+)+y`` could
hold the CI job forever, and ``(a{65535}){65535}`` could take all memory just compiling. So
patterns are run by RE2 (``google-re2``), which matches in time linear in the text and bounds
a compiled pattern's size (counted repeats up to 1,000, 8 MiB of program). It reads Python's
syntax but for lookarounds (``(?=``, ``(?!``, ``(?<=``) and backreferences (``\1``), which it
refuses, as it refuses a pattern over its bounds: an error naming the condition. Python's
``re`` checks the syntax first, for its clearer messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import re2

from octorelease.errors import InvalidInput
from octorelease.handler.build_values import expand_build_values, placeholders
from octorelease.handler.events import did_you_mean

_SYMBOLS = ("==", "!=", "<=", ">=", "<", ">")
_WORD_OPERATORS = ("contains", "starts with", "ends with", "matches", "in")
_OPERATORS = _SYMBOLS + _WORD_OPERATORS
#: Operators from other languages, and what they are here (difflib ranks '=' nearer '>=').
_SYMBOL_TYPOS = {"=": "==", "<>": "!=", "=<": "<=", "=>": ">=", "===": "=="}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted>'[^']*'|"[^"]*")
      | (?P<unterminated>['"])
      | (?P<punct>[\[\],])
      | (?P<symbol>[=!<>]+)
      | (?P<word>[^\s\[\],'"=!<>]+)
    )""",
    re.VERBOSE,
)

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_VERSION = re.compile(r"v?(?P<release>\d+(?:\.\d+)+)(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would also print each refused pattern on stderr


@dataclass(frozen=True)
class _Token:
    kind: str  # quoted, punct, symbol or word
    text: str  # the value: quotes removed from a quoted token
    end: int  # offset just past the token in the condition

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


@dataclass(frozen=True)
class Condition:
    """One parsed condition; operands still hold their ``{build.*}`` placeholders."""

    source: str
    left: str
    operator: str  # one of _OPERATORS
    right: tuple[str, ...]  # one operand, or the list of ``in``
    negated_operator: bool = False  # ``not in``, ``not contains``, ...
    negated: bool = False  # ``not`` before the whole condition


@dataclass(frozen=True)
class Evaluation:
    """What a condition came to, and the values that decided it."""

    condition: str
    detail: str  # the comparison with the values filled in: 'feature/x' == 'main'
    holds: bool

    @property
    def text(self) -> str:
        """``{build.branch} == main: 'feature/x' == 'main' is false``."""
        return f"{self.condition}: {self.detail} is {'true' if self.holds else 'false'}"


def parse_condition(source: str) -> Condition:
    """Parse ``source``; any fault raises InvalidInput naming the condition."""
    try:
        return _Parser(source).parse()
    except _Fault as fault:
        raise InvalidInput(f"invalid condition {source!r}: {fault}") from None


def evaluate(condition: str | Condition, values: Mapping[str, str]) -> Evaluation:
    """Fill in the build values and decide ``condition``."""
    parsed = parse_condition(condition) if isinstance(condition, str) else condition
    left = expand_build_values(parsed.left, values)
    right = [expand_build_values(operand, values) for operand in parsed.right]
    operator = f"not {parsed.operator}" if parsed.negated_operator else parsed.operator
    if parsed.operator == "in":
        holds = any(_compare(left, item)[0] == 0 for item in right)
        detail = f"{left!r} {operator} [{', '.join(repr(item) for item in right)}]"
    elif parsed.operator in _SYMBOLS:
        order, kind = _compare(left, right[0])
        holds = _ORDERED[parsed.operator](order)
        detail = _render_comparison(left, operator, right[0], kind)
    else:
        holds = _text_test(parsed, left, right[0])
        detail = f"{left!r} {operator} {right[0]!r}"
    if parsed.negated_operator:
        holds = not holds
    if parsed.negated:
        holds, detail = not holds, f"not ({detail})"
    return Evaluation(condition=parsed.source, detail=detail, holds=holds)


_ORDERED: dict[str, Callable[[int], bool]] = {
    "==": lambda order: order == 0,
    "!=": lambda order: order != 0,
    "<": lambda order: order < 0,
    "<=": lambda order: order <= 0,
    ">": lambda order: order > 0,
    ">=": lambda order: order >= 0,
}


def _text_test(parsed: Condition, left: str, right: str) -> bool:
    if parsed.operator == "contains":
        return right in left
    if parsed.operator == "starts with":
        return left.startswith(right)
    if parsed.operator == "ends with":
        return left.endswith(right)
    try:
        return _compile(right).search(left) is not None
    except _Fault as fault:
        raise InvalidInput(f"invalid condition {parsed.source!r}: {fault}") from None


def _compile(pattern: str) -> Any:
    """``pattern`` compiled by RE2, after Python's ``re`` has checked its syntax (the syntax
    documented is ``re``'s, and so are its clearer errors)."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise _Fault(f"bad regular expression {pattern!r}: {exc}") from None
    except RecursionError:  # re's parser recurses once per group
        raise _Fault(f"bad regular expression {pattern!r}: groups nested too deeply") from None
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise _Fault(
            f"bad regular expression {pattern!r}: {reason} (RE2 matches in linear time, so it has no lookarounds "
            "or backreferences, and bounds repeats and size)"
        ) from None


def _compare(left: str, right: str) -> tuple[int, str]:
    """(-1, 0 or 1, how they were compared): as numbers, versions, or text."""
    if _NUMBER.fullmatch(left) and _NUMBER.fullmatch(right):
        a: object = Decimal(left)
        b: object = Decimal(right)
        kind = "number"
    elif _VERSION.fullmatch(left) and _VERSION.fullmatch(right):
        a, b, kind = _version_key(left), _version_key(right), "version"
    else:
        a, b, kind = left, right, "text"
    return (a > b) - (a < b), kind  # type: ignore[operator]


def _version_key(text: str) -> tuple[tuple[int, ...], int, tuple[tuple[int, int | str], ...]]:
    """Sort key of a version: release numbers (padded), then prerelease before release."""
    match = _VERSION.fullmatch(text)
    assert match is not None
    release = tuple(int(part) for part in match["release"].split("."))
    release += (0,) * (8 - len(release))
    pre = match["pre"]
    if pre is None:
        return release, 1, ()
    ids = tuple((0, int(part)) if part.isdigit() else (1, part) for part in pre.split("."))
    return release, 0, ids


def _render_comparison(left: str, operator: str, right: str, kind: str) -> str:
    if kind == "number":
        return f"{left} {operator} {right}"
    if kind == "version":
        return f"{left} {operator} {right} (as versions)"
    return f"{left!r} {operator} {right!r}"


class _Fault(Exception):
    """A parse problem, worded without the condition (``parse_condition`` adds it)."""


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.position = 0

    def parse(self) -> Condition:
        if not self.tokens:
            raise _Fault("it is empty")
        negated = self._peek().is_word("not") and not self._operator_at(1)
        if negated:
            self.position += 1
        left = self._operand("a value before the operator")
        operator, negated_operator, operator_end = self._operator(left)
        if operator == "matches":
            right: tuple[str, ...] = (self._rest(operator_end),)
        elif operator == "in":
            right = self._list()
        else:
            right = (self._operand(f"a value after {operator!r}"),)
        if self.position < len(self.tokens):
            raise _Fault(f"unexpected {self.tokens[self.position].text!r} (quote values with spaces)")
        return Condition(self.source, left, operator, right, negated_operator, negated)

    def _peek(self, offset: int = 0) -> _Token:
        index = self.position + offset
        if index >= len(self.tokens):
            return _Token("end", "", len(self.source))
        return self.tokens[index]

    def _operator_at(self, offset: int) -> bool:
        token = self._peek(offset)
        return token.kind == "symbol" or token.is_word("not", "contains", "starts", "ends", "matches", "in")

    def _operand(self, expected: str) -> str:
        token = self._peek()
        if token.kind not in ("word", "quoted"):
            raise _Fault(f"expected {expected}")
        self.position += 1
        return token.text

    def _operator(self, left: str) -> tuple[str, bool, int]:
        """The operator at the cursor, whether ``not`` negates it, and where it ends."""
        negated = self._peek().is_word("not")
        if negated:
            self.position += 1
        token = self._peek()
        self.position += 1
        if token.kind == "symbol" and token.text in _SYMBOLS and not negated:
            return token.text, False, token.end
        word = token.text.lower() if token.kind == "word" else ""
        if word in ("starts", "ends"):
            follower = self._peek()
            if not follower.is_word("with"):
                raise _Fault(f"expected '{word} with'")
            self.position += 1
            return f"{word} with", negated, follower.end
        if word in _WORD_OPERATORS:
            return word, negated, token.end
        if token.kind == "end":
            raise _Fault(f"expected an operator after {left!r}")
        return self._unknown_operator(token, negated)

    def _unknown_operator(self, token: _Token, negated: bool) -> tuple[str, bool, int]:
        if negated and token.text in _SYMBOLS:
            raise _Fault(f"'not' cannot negate {token.text!r}; use the opposite operator")
        if token.text in _SYMBOL_TYPOS:
            raise _Fault(f"unknown operator {token.text!r} (did you mean {_SYMBOL_TYPOS[token.text]!r}?)")
        choices = _WORD_OPERATORS if token.kind == "word" else _SYMBOLS
        raise _Fault(f"unknown operator {token.text!r}{did_you_mean(token.text, choices)}")

    def _rest(self, offset: int) -> str:
        """Everything after ``matches``: the pattern, its quotes removed when it is quoted whole."""
        pattern = self.source[offset:].strip()
        self.position = len(self.tokens)
        if len(pattern) >= 2 and pattern[0] == pattern[-1] and pattern[0] in "'\"":
            pattern = pattern[1:-1]
        if not pattern:
            raise _Fault("expected a regular expression after 'matches'")
        if not placeholders(pattern):
            _compile(pattern)  # a fixed pattern can be checked now, before anything runs
        return pattern

    def _list(self) -> tuple[str, ...]:
        if self._peek().text != "[" or self._peek().kind != "punct":
            raise _Fault("expected a list like [a, b] after 'in'")
        self.position += 1
        items: list[str] = []
        while not (self._peek().kind == "punct" and self._peek().text == "]"):
            if items:
                if self._peek().text != ",":
                    raise _Fault("expected ',' or ']' in the list")
                self.position += 1
            items.append(self._operand("a value in the list"))
        self.position += 1
        return tuple(items)


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    offset = 0
    while source[offset:].strip():
        match = _TOKEN.match(source, offset)
        assert match is not None and match.lastgroup is not None  # the alternatives cover every char
        kind, text, offset = match.lastgroup, match.group(match.lastgroup), match.end()
        if kind == "unterminated":
            raise _Fault(f"a quote ({text}) is not closed")
        if kind == "quoted":
            text = text[1:-1]
        tokens.append(_Token(kind, text, offset))
    return tokens
