"""DURATION and TIME values: how long to wait, and when a scheduled deployment may start.

DURATION values are ``90s``, ``10m``, ``1h30m``, plain seconds, or octo's ``hh:mm:ss``. One
parser serves the ``--timeout`` flag and the handler file's ``timeout:``, so both accept the
same spellings and fail with the same message.

TIME values are for scheduled deployments: ``--deploy-at`` and ``--no-deploy-after`` (handler
fields ``deploy_at:`` and ``no_deploy_after:``), Octopus's ``QueueTime`` and ``QueueTimeExpiry``.

Accepted spellings:

- ISO 8601, best with an offset: ``2026-05-01T22:00:00+10:00``, ``2026-05-01T12:00Z``,
  ``2026-05-01 22:00`` (a space for the ``T``);
- octo's usual forms, which .NET's ``DateTimeOffset.Parse`` reads: ``2026/05/01 22:00``,
  ``05/01/2026 22:00`` (month first, as the invariant culture has it), with seconds and
  ``AM``/``PM`` or not;
- relative to now: ``+10m``, ``+1h30m``, ``+90s`` (a DURATION after a ``+``).

A time without an offset is the machine's local time, as octo takes it. This module imports only
the error family, so the command line can check a duration or a time before it connects, without
paying for pydantic or YAML.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from octorelease.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Callable

#: How each unit letter scales, in the order a duration must give them (``1h30m``, not ``30m1h``).
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}

_UNITS = re.compile(r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?")
_SECONDS = re.compile(r"\d+(?:\.\d+)?")
# .NET TimeSpan, as octo's --deploymentTimeout takes it: [d.]hh:mm:ss[.fff]
_CLOCK = re.compile(r"(?:(?P<d>\d+)\.)?(?P<h>\d+):(?P<m>\d{1,2}):(?P<s>\d{1,2}(?:\.\d+)?)")

DURATION_SPELLINGS = "90s, 10m, 1h30m, plain seconds or hh:mm:ss"

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
        raise InvalidInput(f"invalid duration {str(text)!r}: use {DURATION_SPELLINGS}")
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


# -- TIME ----------------------------------------------------------------------------------------

#: How far in the past a time may be and still be taken (as "now"): clocks of a CI agent and
#: an Octopus server differ by a little, and ``--deploy-at "$(date -Iseconds)"`` is a second old.
SKEW = timedelta(seconds=60)

SPELLINGS = "ISO 8601 with an offset (2026-05-01T22:00:00+10:00), yyyy-MM-dd HH:mm, MM/dd/yyyy HH:mm or +10m"

#: octo's forms beyond ISO 8601 that .NET's invariant culture reads, without an offset.
_OCTO_FORMATS = tuple(
    f"{date} {time}"
    for date in ("%Y/%m/%d", "%m/%d/%Y")
    for time in ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p")
)


def _now() -> datetime:
    return datetime.now().astimezone()


def parse_time(text: str, label: str, *, now: Callable[[], datetime] = _now) -> datetime:
    """The moment ``text`` names, with an offset; ``label`` (``--deploy-at``) names it in the
    one-line error an unreadable time gets."""
    spelled = text.strip()
    if spelled.startswith("+"):
        try:
            return now() + timedelta(seconds=parse_duration(spelled[1:]))
        except InvalidInput as exc:
            raise InvalidInput(f"{label} {text!r}: {exc}".lstrip()) from None
    parsed = _absolute(spelled)
    if parsed is None:
        raise InvalidInput(f"{label} {text!r} is not a time: use {SPELLINGS}".lstrip())
    return parsed if parsed.tzinfo is not None else parsed.astimezone()  # no offset: local time


def _absolute(spelled: str) -> datetime | None:
    if not spelled:
        return None
    try:
        return datetime.fromisoformat(spelled[:-1] + "+00:00" if spelled[-1:] in "zZ" else spelled)
    except ValueError:
        pass
    for form in _OCTO_FORMATS:
        try:
            return datetime.strptime(spelled.upper(), form)
        except ValueError:
            continue
    return None


#: The handler fields (and the Python API's keyword arguments) of a schedule: what a fault of one
#: is ``about``, so a handler file points at the line it was written on.
SCHEDULE_FIELDS = ("deploy_at", "no_deploy_after")


def check_schedule(
    deploy_at: datetime | None,
    no_deploy_after: datetime | None,
    labels: tuple[str, str] = ("--deploy-at", "--no-deploy-after"),
    *,
    now: Callable[[], datetime] = _now,
) -> None:
    """Refuse a schedule Octopus could never keep: a time already past (beyond ``SKEW``), or a
    last start time that is not after the first.

    The error's line names the values as ``labels`` (the face's spelling: flags by default); it
    is ``about`` the field at fault, its ``detail`` naming them as ``SCHEDULE_FIELDS``."""
    moment = now()
    for index, value in enumerate((deploy_at, no_deploy_after)):
        if value is not None and value < moment - SKEW:
            past = f"{format_time(value)} is in the past (it is {format_time(moment)} now)."
            field = SCHEDULE_FIELDS[index]
            raise InvalidInput(f"{labels[index]} {past}").about(field, (), f"{field} {past}")
    if deploy_at is not None and no_deploy_after is not None and no_deploy_after <= deploy_at:

        def order(names: tuple[str, str]) -> str:
            return (f"{names[1]} {format_time(no_deploy_after)} is not after {names[0]} {format_time(deploy_at)}: "
                    "the deployment could never start.")

        raise InvalidInput(order(labels)).about(SCHEDULE_FIELDS[1], (), order(SCHEDULE_FIELDS))


def format_time(value: datetime) -> str:
    """A time as the messages show it: ``2026-05-01 22:00:00+10:00`` (its own offset)."""
    return value.isoformat(sep=" ", timespec="seconds")


def octopus_time(value: datetime | None) -> str | None:
    """A time as Octopus takes ``QueueTime``: ISO 8601 with milliseconds and the offset."""
    return value.isoformat(timespec="milliseconds") if value is not None else None
