"""When a deployment freeze is in force: its window, repeated by its ``RecurringSchedule``.

A freeze is one window (``Start`` to ``End``) or, with a schedule, that window again every
``Unit`` days, weeks, months or years (``Type`` Daily, Weekly, Monthly, Annually) until its
``EndType`` says stop (``Never``; ``OnDate`` with ``EndOnDate``; ``AfterOccurrences`` with
``EndAfterOccurrences``). Plain data in, plain data out: the sandbox's rules and the client both
read freezes through this, so they agree on when one is in force.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

RECURRENCES = ("Daily", "Weekly", "Monthly", "Annually")
END_TYPES = ("Never", "OnDate", "AfterOccurrences")
#: how many occurrences of a recurring freeze are looked through for a window
LOOKAHEAD = 400


def _end_on(schedule: Mapping[str, Any]) -> datetime | None:
    """``EndOnDate``: a ``datetime`` (the sandbox's) or ISO 8601 text (the API's), else None."""
    value = schedule.get("EndOnDate")
    if isinstance(value, datetime) or not isinstance(value, str):
        return value if isinstance(value, datetime) else None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def _number(schedule: Mapping[str, Any], key: str, default: int) -> int:
    value = schedule.get(key)
    try:
        return int(str(value)) if value not in (None, "") else default
    except ValueError:
        return default


def _occurrence(start: datetime, schedule: Mapping[str, Any] | None, number: int) -> datetime | None:
    """When occurrence ``number`` (0: the first) starts, or ``None`` past the schedule's end."""
    if number == 0:
        return start
    if not schedule:
        return None
    unit = max(_number(schedule, "Unit", 1), 1) * number
    kind = str(schedule.get("Type") or "Daily")
    begins = (start + timedelta(days=unit) if kind == "Daily" else
              start + timedelta(weeks=unit) if kind == "Weekly" else
              _add_months(start, unit * (12 if kind == "Annually" else 1)))
    end_type = str(schedule.get("EndType") or "Never")
    if end_type == "AfterOccurrences" and number >= _number(schedule, "EndAfterOccurrences", 1):
        return None
    until = _end_on(schedule)
    if end_type == "OnDate" and until is not None and begins > until:
        return None
    return begins


def windows(start: datetime, end: datetime, schedule: Mapping[str, Any] | None,
            after: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The freeze's windows that end after ``after``, soonest first."""
    length = end - start
    for number in range(LOOKAHEAD):
        begins = _occurrence(start, schedule, number)
        if begins is None:
            return
        if begins + length > after:
            yield begins, begins + length


def next_window(start: datetime, end: datetime, schedule: Mapping[str, Any] | None,
                after: datetime) -> tuple[datetime, datetime] | None:
    """The window in force at ``after``, else the next one to come, else None."""
    return next(windows(start, end, schedule, after), None)


def window_at(start: datetime, end: datetime, schedule: Mapping[str, Any] | None,
              moment: datetime) -> tuple[datetime, datetime] | None:
    """The window in force at ``moment``, if any."""
    found = next_window(start, end, schedule, moment)
    return found if found is not None and found[0] <= moment < found[1] else None
