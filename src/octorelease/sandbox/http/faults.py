"""HTTP faults on purpose (``--faults SPEC``): the spec, its parser, and which request gets which fault.

A client is only as reliable as the failures it has met. The sandbox can fail ``/api`` requests
the ways a real server, proxy or network does, so that retries, ``Retry-After`` and "did my
POST happen?" checks run against real HTTP. This module only decides; ``middleware.py`` carries
the decision out, and the models never hear of it.

The spec is a comma-separated list of items::

    SPEC    := ITEM ("," ITEM)*
    ITEM    := KIND ["@" SECONDS ["s"]] ":" RATE  |  "seed=" INTEGER  |  "only=" METHOD  |  "path=" TEXT
    KIND    := 500 | 502 | 503 | 429 | reset | lost | slow
    RATE    := a number from 0 to 1: the share of matching requests that get this fault

e.g. ``503:0.1,429@0.2s:0.05,lost:0.05,seed=7`` or ``lost:1,only=POST,path=/deployments``.

===========  ==================================================================================
``500``      answer 500 (502, 503 alike) with Octopus's error envelope; the request is not
``502``      carried out. ``@SECONDS`` adds a ``Retry-After`` header.
``503``
``429``      answer 429 Too Many Requests with ``Retry-After`` (1 s unless ``@SECONDS``); not
             carried out.
``reset``    drop the connection before the request is handled: nothing happens on the server,
             the client sees a transport error.
``lost``     carry the request out, then drop the connection: the answer never arrives. The
             nasty case for a POST, which did create its deployment.
``slow``     wait ``@SECONDS`` (1 s unless given), then answer normally.
===========  ==================================================================================

``only=METHOD`` and ``path=TEXT`` (the path contains TEXT, ignoring case) narrow the requests
that can get a fault; both must hold when both are given. Faults apply to every ``/api``
request, the root ``GET /api`` included (a flaky server is flaky there too), and never to the
test controls under ``/_sandbox``.

Runs repeat: one ``random.Random``, seeded by ``seed=`` (0 unless given), draws one number per
matching request, in the order requests arrive. The same requests in the same order get the
same faults; requests that do not match draw nothing, so they cannot shift the sequence.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

#: Every fault kind, in the order the docs list them.
KINDS = ("500", "502", "503", "429", "reset", "lost", "slow")
STATUS_KINDS = frozenset({"500", "502", "503", "429"})
#: ``@SECONDS`` when not given: the ``Retry-After`` of a 429, the delay of ``slow``.
DEFAULT_SECONDS = {"429": 1.0, "slow": 1.0}
DEFAULT_SEED = 0
USAGE = "expected KIND:RATE, KIND@SECONDS:RATE, seed=N, only=METHOD or path=TEXT"

_ITEM = re.compile(r"^(?P<kind>[^@:=]+)(?:@(?P<seconds>[^:]*))?:(?P<rate>.*)$")


class FaultSpecError(ValueError):
    """A ``--faults`` spec that cannot be understood; the message is one line for the user."""


@dataclass(frozen=True)
class FaultRule:
    """One ``KIND[@SECONDS]:RATE`` item."""

    kind: str
    rate: float
    seconds: float | None = None


@dataclass(frozen=True)
class HttpFault:
    """What to do to one request: a ``kind`` and, for some kinds, ``seconds``."""

    kind: str
    seconds: float | None = None

    @property
    def status(self) -> int | None:
        """The status to answer with, for the kinds that answer at all."""
        return int(self.kind) if self.kind in STATUS_KINDS else None

    @property
    def retry_after(self) -> str | None:
        """The ``Retry-After`` value, written as given (``1``, ``0.2``), for status kinds with seconds."""
        if self.status is None or self.seconds is None:
            return None
        return f"{self.seconds:g}"


@dataclass(frozen=True)
class FaultSpec:
    """A parsed spec; ``text`` is what was given, for messages and ``GET``-style echoes."""

    text: str
    rules: tuple[FaultRule, ...]
    seed: int = DEFAULT_SEED
    method: str | None = None
    path: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and method.upper() != self.method:
            return False
        return self.path is None or self.path in path.lower()


def parse_spec(text: str) -> FaultSpec:
    """Parse ``text``, or raise ``FaultSpecError`` naming the first thing wrong with it."""
    items = [item.strip() for item in text.split(",")]
    if not text.strip():
        raise FaultSpecError(f"the fault spec is empty; {USAGE}")
    rules: list[FaultRule] = []
    seed, method, path = DEFAULT_SEED, None, None
    for item in items:
        key, equals, value = item.partition("=")
        key = key.strip().lower()
        if not equals:
            rule = _rule(item)
            if any(r.kind == rule.kind for r in rules):
                raise FaultSpecError(f"fault kind {rule.kind} is given twice")
            rules.append(rule)
        elif key == "seed":
            seed = _seed(value)
        elif key == "only":
            method = _method(value)
        elif key == "path" and value.strip():
            path = value.strip().lower()
        elif key == "path":
            raise FaultSpecError("path= needs the text the request path must contain")
        else:
            raise FaultSpecError(f"{item!r}: {USAGE}")
    if not rules:
        raise FaultSpecError(f"no fault kind given in {text.strip()!r}; {USAGE}")
    total = sum(r.rate for r in rules)
    if total > 1 + 1e-9:
        raise FaultSpecError(f"the rates add up to {total:g}; at most 1 in all")
    return FaultSpec(text=text.strip(), rules=tuple(rules), seed=seed, method=method, path=path)


def _rule(item: str) -> FaultRule:
    match = _ITEM.match(item)
    if match is None:
        raise FaultSpecError(f"{item!r}: {USAGE}")
    kind = match["kind"].strip().lower()
    if kind not in KINDS:
        raise FaultSpecError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
    rate = _number(match["rate"])
    if rate is None or not 0 <= rate <= 1:
        raise FaultSpecError(f"{item!r}: the rate must be a number from 0 to 1")
    seconds = DEFAULT_SECONDS.get(kind)
    if match["seconds"] is not None:
        if kind in ("reset", "lost"):
            raise FaultSpecError(f"{item!r}: {kind} takes no @SECONDS")
        seconds = _number(match["seconds"].strip().removesuffix("s"))
        if seconds is None or seconds < 0:
            raise FaultSpecError(f"{item!r}: @SECONDS must be a number of seconds, 0 or more")
    return FaultRule(kind, rate, seconds)


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def _seed(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise FaultSpecError(f"seed={value}: the seed must be a whole number") from None


def _method(value: str) -> str:
    method = value.strip().upper()
    if not method.isalpha():
        raise FaultSpecError(f"only={value}: expected an HTTP method such as POST")
    return method


class HttpFaults:
    """A spec in action: one seeded random source, one draw per matching request."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self._random = random.Random(spec.seed)
        # requests are decided on uvicorn's loop, but a lock keeps the sequence whole if not
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, text: str) -> HttpFaults:
        return cls(parse_spec(text))

    def decide(self, method: str, path: str) -> HttpFault | None:
        """The fault for this request, if any (``path`` as requested, ``/api/...``)."""
        if not self.spec.matches(method, path):
            return None
        with self._lock:
            draw = self._random.random()
        threshold = 0.0
        for rule in self.spec.rules:
            threshold += rule.rate
            if draw < threshold:
                return HttpFault(rule.kind, rule.seconds)
        return None
