"""TIME spellings shared by --deploy-at/--no-deploy-after and the handler fields deploy_at/no_deploy_after."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from octorelease.errors import InvalidInput
from octorelease.schedule import SKEW, check_schedule, octopus_time, parse_time

TEN = timezone(timedelta(hours=10))
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-05-01T22:00:00+10:00", datetime(2026, 5, 1, 22, 0, tzinfo=TEN)),
        ("2026-05-01T22:00:00.000+10:00", datetime(2026, 5, 1, 22, 0, tzinfo=TEN)),
        ("2026-05-01T12:00Z", datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)),
        ("2026-05-01 22:00+10:00", datetime(2026, 5, 1, 22, 0, tzinfo=TEN)),
        ("+10m", NOW + timedelta(minutes=10)),
        ("+1h30m", NOW + timedelta(hours=1, minutes=30)),
    ],
)
def test_parse_time_reads_iso_8601_and_relative_times(text: str, moment: datetime) -> None:
    assert parse_time(text, "--deploy-at", now=lambda: NOW) == moment


@pytest.mark.parametrize(
    "text",
    ["2026-05-01 22:00", "2026/05/01 22:00", "05/01/2026 22:00", "05/01/2026 10:00 PM", "05/01/2026 10:00:00 pm"],
)
def test_octo_forms_without_an_offset_are_local_time(text: str) -> None:
    assert parse_time(text, "--deploy-at") == datetime(2026, 5, 1, 22, 0).astimezone()


@pytest.mark.parametrize("text", ["", "soon", "tomorrow", "2026-13-01T00:00Z", "+", "+soon", "31/12/2026 10:00"])
def test_an_unreadable_time_is_one_line_naming_the_flag(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^--deploy-at '.*'"):
        parse_time(text, "--deploy-at")


def test_a_time_in_the_past_is_refused_beyond_a_small_skew() -> None:
    check_schedule(NOW - SKEW + timedelta(seconds=1), None, now=lambda: NOW)  # a clock a little behind is fine
    with pytest.raises(InvalidInput, match=r"^--deploy-at 2026-05-01 11:00:00\+00:00 is in the past"):
        check_schedule(NOW - timedelta(hours=1), None, now=lambda: NOW)
    with pytest.raises(InvalidInput, match=r"^--no-deploy-after .* is in the past"):
        check_schedule(None, NOW - timedelta(hours=1), now=lambda: NOW)


def test_no_deploy_after_must_come_after_deploy_at() -> None:
    with pytest.raises(InvalidInput, match=r"^no_deploy_after .* is not after deploy_at .*could never start"):
        check_schedule(NOW + timedelta(hours=2), NOW + timedelta(hours=1), ("deploy_at", "no_deploy_after"),
                       now=lambda: NOW)


def test_octopus_gets_milliseconds_and_the_offset_as_given() -> None:
    assert octopus_time(datetime(2026, 5, 1, 22, 0, tzinfo=TEN)) == "2026-05-01T22:00:00.000+10:00"
    assert octopus_time(None) is None
