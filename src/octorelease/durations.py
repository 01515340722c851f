"""DURATION values: ``90s``, ``10m``, ``1h30m``, plain seconds, or octo's ``hh:mm:ss``.

One parser serves the ``--timeout`` flag and the handler file's ``timeout:``, so both accept the
same spellings and fail with the same message. It lives alone, importing only the error family,
so the command line can use it without paying for pydantic or YAML.
"""

from __future__ import annotations

import re

from octorelease.octopus.errors import InvalidInput

#: How each unit letter scales, in the order a duration must give them (``1h30m``, not ``30m1h``).
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}

_UNITS = re.compile(r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?")
_SECONDS = re.compile(r"\d+(?:\.\d+)?")
# .NET TimeSpan, as octo's --deploymentTimeout takes it: [d.]hh:mm:ss[.fff]
_CLOCK = re.compile(r"(?:(?P<d>\d+)\.)?(?P<h>\d+):(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?)")

SPELLINGS = "90s, 10m, 1h30m, plain seconds or hh:mm:ss"


def parse_duration(text: str | float) -> float:
    """Return the seconds a DURATION stands for; a non-positive or unreadable one is refused.

    Numbers (from YAML or Python) are taken as seconds. Zero is refused because every
    duration we take is a timeout, and a timeout of nothing would fail every wait at once.
    """
    seconds = _seconds(text)
    if seconds is None:
        raise InvalidInput(f"invalid duration {str(text)!r}: use {SPELLINGS}")
    if seconds <= 0:
        raise InvalidInput(f"invalid duration {str(text)!r}: it must be longer than zero")
    return seconds


def _seconds(text: str | float) -> float | None:
    """The seconds in ``text``, or None when it is none of the accepted spellings."""
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    spelled = text.strip().lower()
    if _SECONDS.fullmatch(spelled):
        return float(spelled)
    clock = _CLOCK.fullmatch(spelled)
    if clock:
        days = float(clock["d"] or 0)
        return days * 86400 + float(clock["h"]) * 3600 + float(clock["m"]) * 60 + float(clock["s"])
    units = _UNITS.fullmatch(spelled)
    if spelled and units:
        return sum(float(units[unit] or 0) * scale for unit, scale in _UNIT_SECONDS.items())
    return None


def format_duration(seconds: float) -> str:
    """Render seconds the way users write them back (``1h30m``, ``10m``, ``2.5s``)."""
    if seconds < 60:
        return f"{seconds:g}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{value}{unit}" for value, unit in parts if value)
