"""ContinuaCI's build events and statuses, and the spellings we accept for them.

The names are ContinuaCI's events in kebab-case ("On Build Completed" is ``build-completed``).
ContinuaCI's own labels are accepted too, in any case, with spaces or underscores, so a handler
copied from a ContinuaCI screen reads as its author expects.

Which events know a stage and which a status follows ContinuaCI's handler pages: a status
(success or failure) exists only for stage-completed and build-completed. A stage exists for
the stage events and for the promotion events, which happen between two stages (ContinuaCI
does not say so in words; its Create handler offers them beside the stage events).
"""

from __future__ import annotations

from collections.abc import Iterable

from octorelease.errors import InvalidInput
from octorelease.suggest import closest

BUILD_EVENTS = (
    "build-created",
    "before-build-queued",
    "before-build-start",
    "after-build-started",
    "before-stage-start",
    "sending-stage-to-agent",
    "stage-completed",
    "build-pending-promotion",
    "before-build-continue",
    "after-build-continued",
    "build-stopping",
    "build-completed",
)

#: Events that carry a build status; other events ignore ``--status``.
STATUS_EVENTS = frozenset({"stage-completed", "build-completed"})

#: Events that happen at a stage; a handler's ``stage:`` is allowed only on these.
STAGE_EVENTS = frozenset(
    {
        "before-stage-start",
        "sending-stage-to-agent",
        "stage-completed",
        "build-pending-promotion",
        "before-build-continue",
        "after-build-continued",
    }
)

#: Words people use for ContinuaCI's, so that ``build-finished`` suggests ``build-completed``.
_EVENT_SYNONYMS = {
    "finished": "completed",
    "finish": "completed",
    "done": "completed",
    "ended": "completed",
    "end": "completed",
    "complete": "completed",
    "succeeded": "completed",
    "failed": "completed",
    "queue": "queued",
    "begin": "start",
    "starting": "start",
    "begun": "started",
}

STATUSES = ("success", "failure")
_STATUS_ALIASES = {"successful": "success", "succeeded": "success", "failed": "failure"}


def parse_event(text: str) -> str:
    """The canonical name of a build event; an unknown one fails with a did-you-mean."""
    name = _kebab(text)
    if name.startswith("on-"):
        name = name[3:]
    if name in BUILD_EVENTS:
        return name
    synonym = "-".join(_EVENT_SYNONYMS.get(word, word) for word in name.split("-"))
    suggestion = synonym if synonym in BUILD_EVENTS else closest(name, BUILD_EVENTS)
    hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
    raise InvalidInput(f"unknown build event {text!r}{hint}")


def parse_status(text: str) -> str:
    """The canonical build status (``success`` or ``failure``); ContinuaCI's labels also work."""
    name = _kebab(text)
    name = _STATUS_ALIASES.get(name, name)
    if name in STATUSES:
        return name
    raise InvalidInput(f"unknown build status {text!r}: use success or failure")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or nothing when none is close."""
    close = closest(word, choices)
    return f" (did you mean {close!r}?)" if close else ""


def _kebab(text: str) -> str:
    return "-".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
