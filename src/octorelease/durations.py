"""DURATION values: ``90s``, ``10m``, ``1h30m``, plain seconds, or octo's ``hh:mm:ss``.

One parser serves the ``--timeout`` flag and the handler file's ``timeout:``, so both accept the
same spellings and fail with the same message. It lives alone, importing only the error family,
so the command line can use it without paying for pydantic or YAML.
"""

from __future__ import annotations

import math
import re

from octorelease.octopus.errors import InvalidInput

#: How each unit letter scales, in the order a duration must give them (``1h30m``, not ``30m1h``).
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}

_UNITS = re.compile(r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?")
_SECONDS = re.compile(r"\d+(?:\.\d+)?")
# .NET TimeSpan, as octo's --deploymentTimeout takes it: [d.]hh:mm:ss[.fff]
_CLOCK = re.compile(r"(?:(?P<d>\d+)\.)?(?P<h>\d+):(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?)")

SPELLINGS = "90s, 10m, 1h30m, plain seconds or hh:mm:ss"

#: The longest duration taken: every duration is a wait, and no CI job outlives a week (GitHub
#: stops one at 6 hours, Azure DevOps at 6 hours on hosted agents, GitLab's longest is a month but
#: is an administrator's choice). Anything longer is a typo, such as ``99999999999999h``.
MAX_SECONDS = 7 * 86400.0
MAX_SPELLED = "7 days"


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
    if seconds > MAX_SECONDS:
        raise InvalidInput(f"invalid duration {str(text)!r}: it must be at most {MAX_SPELLED}")
    return seconds


def _seconds(text: str | float) -> float | None:
    """The seconds in ``text``, or None when it is none of the accepted spellings.

    Raises InvalidInput for a clock whose fields are out of range: ``25:99:99`` is a typo,
    not 26 hours 40 minutes 39 seconds."""
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return None if math.isnan(text) else float(text)
    spelled = text.strip().lower()
    if _SECONDS.fullmatch(spelled):
        return float(spelled)
    clock = _CLOCK.fullmatch(spelled)
    if clock:
        _check_clock(text, clock)
        days = float(clock["d"] or 0)
        return days * 86400 + float(clock["h"]) * 3600 + float(clock["m"]) * 60 + float(clock["s"])
    units = _UNITS.fullmatch(spelled)
    if spelled and units:
        return sum(float(units[unit] or 0) * scale for unit, scale in _UNIT_SECONDS.items())
    return None


def _check_clock(text: str, clock: re.Match[str]) -> None:
    """Refuse the fields .NET's ``TimeSpan`` would refuse: minutes and seconds past 59, and
    hours past 23 once days are given (without days, ``25:00:00`` is 25 hours)."""
    if int(clock["m"]) > 59 or float(clock["s"]) >= 60:
        raise InvalidInput(f"invalid duration {text!r}: minutes and seconds run from 0 to 59")
    if clock["d"] is not None and int(clock["h"]) > 23:
        raise InvalidInput(f"invalid duration {text!r}: hours run from 0 to 23 after a day count")


def format_duration(seconds: float) -> str:
    """Render seconds the way users write them back (``1h30m``, ``10m``, ``2.5s``)."""
    if seconds < 60:
        return f"{seconds:g}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{value}{unit}" for value, unit in parts if value)
