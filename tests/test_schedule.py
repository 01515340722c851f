"""TIME spellings shared by --deploy-at/--no-deploy-after and the handler fields deploy_at/no_deploy_after;
DURATION spellings shared by --timeout and the handler file's timeout:."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from octorelease.errors import InvalidInput
from octorelease.schedule import SKEW, check_schedule, format_duration, octopus_time, parse_duration, parse_time

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


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("1h", 3600.0),
        ("1h30m15s", 5415.0),
        ("90", 90.0),
        ("2.5", 2.5),
        ("00:10:00", 600.0),
        ("1.00:00:00", 86400.0),
        (" 10M ", 600.0),
        (45, 45.0),
    ],
)
def test_parse_duration_accepts_every_documented_spelling(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "30m1h", "h", "10 minutes", "-5"])
def test_parse_duration_names_the_spellings_when_it_cannot_read_one(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_duration(text)
    assert str(caught.value) == f"invalid duration {text!r}: use 90s, 10m, 1h30m, plain seconds or hh:mm:ss"


def test_parse_duration_refuses_zero_because_every_duration_is_a_timeout() -> None:
    with pytest.raises(InvalidInput, match=r"^invalid duration '0s': it must be longer than zero$"):
        parse_duration("0s")


@pytest.mark.parametrize(("seconds", "text"), [(2.5, "2.5s"), (600, "10m"), (5400, "1h30m"), (3725, "1h2m5s")])
def test_format_duration_writes_what_parse_duration_reads(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("25:99:99", "minutes and seconds run from 0 to 59"),
        ("00:60:00", "minutes and seconds run from 0 to 59"),
        ("00:00:60", "minutes and seconds run from 0 to 59"),
        ("1.24:00:00", "hours run from 0 to 23 after a day count"),
        ("99999999999999h", "it must be at most 7 days"),
        ("8.00:00:00", "it must be at most 7 days"),
        ("604801", "it must be at most 7 days"),
        (float("inf"), "it must be at most 7 days"),
    ],
)
def test_parse_duration_refuses_fields_and_totals_out_of_range(text: str | float, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_duration(text)
    assert str(caught.value) == f"invalid duration {str(text)!r}: {reason}"


@pytest.mark.parametrize(("text", "seconds"), [("7.00:00:00", 604800.0), ("168h", 604800.0), ("25:00:00", 90000.0),
                                                ("00:59:59", 3599.0), ("90m", 5400.0)])
def test_parse_duration_accepts_up_to_the_maximum(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_parse_duration_refuses_not_a_number() -> None:
    with pytest.raises(InvalidInput, match=r"^invalid duration 'nan': use "):
        parse_duration(float("nan"))
