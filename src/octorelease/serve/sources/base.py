"""What every webhook source gives the service: a verified sender and a build event.

Each module in ``sources/`` (``github``, ``gitlab``, ``azure``, ``jenkins``, ``generic``)
exposes a :class:`Source`. The app calls :meth:`Source.verify` on the raw body before it parses
anything (an unsigned request must cost nothing), then :meth:`Source.parse`, which returns a
:class:`BuildEvent` for a payload that maps to one of ContinuaCI's events, or :class:`Ignored`
for a well-formed payload of a kind we do not act on (answered 202 and recorded).

A payload that cannot be read at all raises :class:`BadPayload` (answered 400).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class BadPayload(ValueError):
    """A signed request whose body is not the JSON this source sends; the message is one line."""


@dataclass(frozen=True)
class BuildEvent:
    """One of ContinuaCI's build events, as ``octorelease run --event/--status/--stage`` takes it.

    ``values`` are the ``{build.*}`` values (keys without the ``build.`` prefix, as
    :func:`octorelease.handler.build_values.build_values` gives them) that the payload carries;
    ``delivery`` is the sender's idempotency key (the same delivery, sent twice, runs once);
    ``signed_key`` and ``body_sha256`` keep a replay from running again where that key is not
    signed (see "Replays" in ``store.py``).
    """

    source: str
    delivery: str
    event: str
    status: str | None = None
    stage: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    #: The sender's own name for what happened ("workflow_run completed"), for the history page.
    kind: str = ""
    #: What the signature covers that names this event once ("workflow_run 42 attempt 1
    #: completed"), for a sender whose delivery id is not signed: a replay under a new delivery id
    #: is the same event. Empty when the sender signs its delivery id, or signs nothing.
    signed_key: str = ""
    #: The SHA-256 of the raw body (set by the app): an identical body within the replay window
    #: is the same event, whatever delivery id it carries (``store.REPLAY_WINDOW_SECONDS``).
    body_sha256: str = ""


@dataclass(frozen=True)
class Ignored:
    """A well-formed payload that is not a build event we act on, kept in the history with why."""

    source: str
    delivery: str
    kind: str
    reason: str
    signed_key: str = ""
    body_sha256: str = ""


class Source(Protocol):
    """One CI's webhook: its route name, how it signs, and how its payloads map to events."""

    name: str

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """True when the request comes from the holder of ``secret`` (compare in constant time).

        ``headers`` are case-insensitive (Starlette's ``Headers``); ``body`` is the raw bytes.
        """
        ...

    def parse(self, headers: Mapping[str, str], body: bytes) -> BuildEvent | Ignored:
        """The build event this verified payload is, or why it is ignored."""
        ...
