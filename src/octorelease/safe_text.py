"""Text that is safe to write to a build log or a terminal, and which CI reads that log.

What octorelease prints mixes its own words with text it did not write: task logs from
deployment scripts, error messages and names (environments, steps, machines, projects) from the
server, handler names from a handler file that may come from a pull request. A CI agent acts on
some lines of the log it reads, and a terminal acts on escape sequences:

========== ============================================ ==========================================
who        acts on                                      where
========== ============================================ ==========================================
GitHub     ``::command ...::``                          at a line's start, after whitespace;
           the older ``##[command]``                    anywhere in a line
Azure      ``##vso[area.action]``                       anywhere in a line (``IndexOf``); a bare CR
           ``##[group]``, ``##[error]`` ...             ends a line; formatting at a line's start
TeamCity   ``##teamcity[message ...]``                  anywhere in a line
GitLab     ``section_start:`` / ``section_end:``        inside ``ESC[0K ... CR ESC[0K``
Jenkins    console notes ``ESC[8mha:...``               ESC sequences
terminals  CSI, OSC (titles, links), BEL, BS, CR ...    control characters
========== ============================================ ==========================================

So every piece of text we did not write passes through ``clean`` (or ``one_line`` where it must
fit on one line, ``safe_lines`` where each line gets its own prefix) before it is printed:

1. ANSI escape sequences go whole, then every other control character (C0 but tab and newline,
   DEL, C1) and the Unicode bidirectional controls that make text read unlike it is;
2. every line break a CI or a terminal honours (CR, CRLF, VT, FF, NEL, LS, PS) becomes ``\\n``,
   so the caller decides where lines start;
3. every CI marker is defused by a zero-width space after its first character
   (``:\\u200b:error::``, ``#\\u200b#vso[``): ``##vso[``, ``##teamcity[``, ``##[`` and the GitLab
   section words wherever they are, ``::`` wherever a word starts (a line that rich wraps starts at
   a word). The text reads the same to a person, and no agent recognises it.

The markers octorelease writes itself (``report/ci.py``) are built around text already cleaned.
``safe_json`` keeps the ``--json`` document exact instead: JSON already escapes control
characters, and a marker's first character is written as a ``\\u`` escape, so the line is inert
while the decoded value is the server's own.

Which CI runs us is ``ci_env.py``'s; redaction is ``secrets.py``'s.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import logging

#: ESC (or its 8-bit forms) and what follows it: CSI ``ESC[...final``, OSC/DCS/APC/PM/SOS strings
#: up to BEL or ST (an unterminated one up to the end of its line only), and two-character ones.
_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[\x20-\x3f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
_LINE_BREAK = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MARKER = re.compile(r"#(?=#(?:vso\[|teamcity\[|\[))|:(?=:)|section(?=_(?:start|end):)", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"
_JSON_MARKER = re.compile(r"#(?=#(?:vso\[|teamcity\[|\[))|(?<=section)_(?=(?:start|end):)", re.IGNORECASE)


def clean(text: str) -> str:
    """``text`` with escapes and control characters removed, line breaks as ``\\n`` and CI markers
    defused: safe to print, whatever it was."""
    if not text.isprintable():  # the usual line is printable: skip three scans of it
        text = _ESCAPE.sub("", text)
        text = _LINE_BREAK.sub("\n", text)
        text = _CONTROL.sub("", text)
    if "##" not in text and "::" not in text and "section_" not in text.lower():
        return text
    return _MARKER.sub(_defuse, text)


def _defuse(match: re.Match[str]) -> str:
    """A zero-width space after the marker's first part; ``::`` only where a word starts."""
    start = match.start()
    if match.group(0) == ":" and start > 0 and not match.string[start - 1].isspace():
        return ":"
    return match.group(0) + _ZERO_WIDTH_SPACE


def one_line(text: str) -> str:
    """``clean`` text on one line: a line break becomes a space (names, error messages, titles)."""
    return clean(text).replace("\n", " ")


def safe_lines(text: str) -> list[str]:
    """``clean`` text cut into its lines, for a caller that prefixes each one (task log messages)."""
    return clean(text).split("\n")


def safe_json(value: Any, *, compact: bool = False) -> str:
    """``value`` as one line of JSON that no CI acts on, and that decodes to ``value`` exactly."""
    import json

    text = json.dumps(value, separators=(",", ":") if compact else None)
    return _JSON_MARKER.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def log_formatter(fmt: str) -> logging.Formatter:
    """A log formatter whose lines (``-v``: retries, requests, tracebacks) are ``clean``: a
    request path or a server's reason in them is text we did not write. (``logging`` is imported
    only here, so that ``--help`` does not pay for it.)"""
    import logging

    class SafeFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return clean(super().format(record))

    return SafeFormatter(fmt)
