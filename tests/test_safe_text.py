"""``safe_text``: what text we did not write becomes before it reaches a terminal or a build log."""

from __future__ import annotations

import json
import logging

import pytest

from octorelease.safe_text import clean, log_formatter, one_line, safe_json, safe_lines

ZWSP = "\u200b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("::error::x", f":{ZWSP}:error::x", id="github command"),
        pytest.param("  ::endgroup::", f"  :{ZWSP}:endgroup::", id="github command after whitespace"),
        pytest.param("a ::b", f"a :{ZWSP}:b", id="github command where a wrapped line may start"),
        pytest.param("std::vector at [::1]:80", "std::vector at [::1]:80", id="colons inside a word stay"),
        pytest.param("x ##vso[task.setvariable variable=a]1", f"x #{ZWSP}#vso[task.setvariable variable=a]1",
                     id="azure command anywhere"),
        pytest.param("##[group]x", f"#{ZWSP}#[group]x", id="azure formatting and github v1"),
        pytest.param("x ##TeamCity[message text='a']", f"x #{ZWSP}#TeamCity[message text='a']", id="teamcity"),
        pytest.param("\x1b[0Ksection_start:1:a\r\x1b[0KTitle", f"section{ZWSP}_start:1:a\nTitle", id="gitlab section"),
        pytest.param("\x1b[1;31mred\x1b[0m", "red", id="colour"),
        pytest.param("\x1b]0;title\x07text", "text", id="window title"),
        pytest.param("\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\", "link", id="hyperlink"),
        pytest.param("\x9b2J\x1bcreset", "reset", id="8-bit CSI and RIS"),
        pytest.param("\x1b]unterminated\nnext line", "\nnext line", id="unterminated OSC ends at its line"),
        pytest.param("bell\x07 back\x08space del\x7f nul\x00", "bell backspace del nul", id="C0 and DEL"),
        pytest.param("a\r\nb\rc\x0bd\x0ce\x85f\u2028g\u2029h", "a\nb\nc\nd\ne\nf\ng\nh", id="every line break"),
        pytest.param("abc\u202edcba\u2066x\u2069", "abcdcbax", id="bidi controls"),
        pytest.param("tab\tstays, ünïcödé too", "tab\tstays, ünïcödé too", id="ordinary text"),
    ],
)
def test_clean(text: str, expected: str) -> None:
    assert clean(text) == expected


def test_one_line_and_safe_lines_cut_where_the_text_breaks() -> None:
    text = "first\r\n::error::second\rthird"
    assert one_line(text) == f"first :{ZWSP}:error::second third"
    assert safe_lines(text) == ["first", f":{ZWSP}:error::second", "third"]


def test_safe_json_is_inert_yet_decodes_to_the_same_value() -> None:
    value = {"name": "##vso[task.complete]\n::error::x \x1b[31m section_end:1:a", "##[k]": ["##teamcity[x]"]}
    text = safe_json(value)
    assert "\n" not in text and "\x1b" not in text
    for marker in ("##vso[", "##teamcity[", "##[", "section_end:"):
        assert marker not in text
    assert json.loads(text) == value
    assert json.loads(safe_json(value, compact=True)) == value


def test_log_lines_are_cleaned() -> None:
    reason = "503\n::error::x\x1b[2J"
    record = logging.LogRecord("octorelease", logging.INFO, __file__, 1, "retrying after %s", (reason,), None)
    assert log_formatter("%(message)s").format(record) == f"retrying after 503\n:{ZWSP}:error::x"
