"""DURATION spellings shared by --timeout and the handler file's timeout:."""

from __future__ import annotations

import pytest

from octorelease.durations import format_duration, parse_duration
from octorelease.octopus.errors import InvalidInput


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
