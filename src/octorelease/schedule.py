"""TIME values for scheduled deployments: ``--deploy-at`` and ``--no-deploy-after`` (handler
fields ``deploy_at:`` and ``no_deploy_after:``), Octopus's ``QueueTime`` and ``QueueTimeExpiry``.

Accepted spellings:

- ISO 8601, best with an offset: ``2026-05-01T22:00:00+10:00``, ``2026-05-01T12:00Z``,
  ``2026-05-01 22:00`` (a space for the ``T``);
- octo's usual forms, which .NET's ``DateTimeOffset.Parse`` reads: ``2026/05/01 22:00``,
  ``05/01/2026 22:00`` (month first, as the invariant culture has it), with seconds and
  ``AM``/``PM`` or not;
- relative to now: ``+10m``, ``+1h30m``, ``+90s`` (a DURATION after a ``+``).

A time without an offset is the machine's local time, as octo takes it. Like ``durations.py``
it imports only the error family, so the command line can check a time before it connects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from octorelease.octopus.errors import InvalidInput

if TYPE_CHECKING:
    from collections.abc import Callable

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
        from octorelease.durations import parse_duration

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


def check_schedule(
    deploy_at: datetime | None,
    no_deploy_after: datetime | None,
    labels: tuple[str, str] = ("--deploy-at", "--no-deploy-after"),
    *,
    now: Callable[[], datetime] = _now,
) -> None:
    """Refuse a schedule Octopus could never keep: a time already past (beyond ``SKEW``), or a
    last start time that is not after the first."""
    moment = now()
    for value, label in zip((deploy_at, no_deploy_after), labels, strict=True):
        if value is not None and value < moment - SKEW:
            raise InvalidInput(f"{label} {format_time(value)} is in the past (it is {format_time(moment)} now).")
    if deploy_at is not None and no_deploy_after is not None and no_deploy_after <= deploy_at:
        raise InvalidInput(
            f"{labels[1]} {format_time(no_deploy_after)} is not after {labels[0]} {format_time(deploy_at)}: "
            "the deployment could never start."
        )


def format_time(value: datetime) -> str:
    """A time as the messages show it: ``2026-05-01 22:00:00+10:00`` (its own offset)."""
    return value.isoformat(sep=" ", timespec="seconds")


def octopus_time(value: datetime | None) -> str | None:
    """A time as Octopus takes ``QueueTime``: ISO 8601 with milliseconds and the offset."""
    return value.isoformat(timespec="milliseconds") if value is not None else None
