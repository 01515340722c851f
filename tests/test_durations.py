"""DURATION spellings shared by --timeout and the handler file's timeout:."""

from __future__ import annotations

import pytest

from octorelease.errors import InvalidInput
from octorelease.schedule import format_duration, parse_duration


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
