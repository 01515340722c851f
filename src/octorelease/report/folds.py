"""Task logs in a CI's folds (GitHub ``::group::``, GitLab sections, Azure ``##[group]``,
TeamCity blocks), streamed as the task runs.

A fold's lines must be contiguous in the build log: folds cannot interleave, and GitHub's
cannot nest. So one task's fold streams at a time, opened at its first log line and closed
when the task ends; while it is open, everything about the other tasks (their log lines and
their state lines) is held, and follows when it closes: a task that ended meanwhile as one
whole fold, the first still running as the next fold to stream. A promotion to one
environment, the usual case, streams all the way.

GitLab shows a section's duration from the times in its markers, so every fold is opened at
the moment its task's log began and closed at the moment the task ended, even one held back
and printed later (``LogGroups.open``'s and ``close``'s ``at``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.text import Text


class LogGroups(Protocol):
    """A CI's way of folding a run of log lines under a title (GitHub ``::group::``, GitLab
    sections, Azure ``##[group]``, TeamCity blocks). ``report/ci.py`` provides them; each
    method returns the marker line to print, verbatim, its title already cleaned; ``at`` is
    when the fold began or ended (GitLab's markers carry it), by default now."""

    def open(self, title: str, at: float | None = None) -> str:
        """The line that starts a fold named ``title``."""

    def close(self, title: str, at: float | None = None) -> str:
        """The line that ends the fold named ``title`` ("" where a CI has none)."""


@dataclass
class _Fold:
    """One task's part of the log while it is held: its state lines before its log, its log,
    the state line it ended with, and when its log began and the task ended."""

    title: str
    before: list[Text] = field(default_factory=list)
    lines: list[Text] = field(default_factory=list)
    after: list[Text] = field(default_factory=list)
    began: float | None = None
    ended: float | None = None


class FoldedLog:
    """The log lines and state lines of tasks, written in folds as described above.

    ``write`` prints a line of text; ``marker`` writes a fold marker verbatim. Tasks are told
    apart by a key (``key``); ``title`` names the fold a task's log goes in."""

    def __init__(self, groups: LogGroups, write: Callable[[Text], None], marker: Callable[[str], None],
                 clock: Callable[[], float] = time.time) -> None:
        self._groups = groups
        self._write = write
        self._marker = marker
        self._clock = clock
        self._held: dict[str, _Fold] = {}
        self._streaming: tuple[str, str] | None = None  # (key, title) of the fold that is open

    def log(self, key: str, title: str, lines: list[Text], *, began: float | None = None) -> None:
        """New log lines of a task: into its open fold, or opening it when none is open, or
        held. ``began``: when the task began (its fold's start), by default now."""
        if self._streaming is not None and self._streaming[0] == key:
            self._write_all(lines)
            return
        fold = self._held.setdefault(key, _Fold(title))
        if fold.began is None:
            fold.began = self._clock() if began is None else began
        fold.lines.extend(lines)
        if self._streaming is None:
            self._stream(key, self._held.pop(key))

    def state(self, key: str, title: str, line: Text, *, finished: bool) -> None:
        """A task's state line (``[Test] Executing``, ``[Test] Success in 3s``): outside every
        fold, so held while another task's fold is open; a task's last one closes its fold."""
        if self._streaming is None:
            self._write(line)
            return
        if self._streaming[0] == key:
            if finished:
                self._marker_line(self._groups.close(self._streaming[1], self._clock()))
                self._streaming = None
                self._write(line)
                self._release()
            else:
                self._write(line)
            return
        fold = self._held.setdefault(key, _Fold(title))
        if finished:
            fold.after.append(line)
            fold.ended = self._clock()
        else:
            fold.before.append(line)

    def close(self) -> None:
        """Close the open fold and print every held one whole (tasks that did not end: an
        interrupted or timed-out wait, or one not waited for); safe to call more than once."""
        if self._streaming is not None:
            self._marker_line(self._groups.close(self._streaming[1], self._clock()))
            self._streaming = None
        for key in list(self._held):
            self._whole(self._held.pop(key))

    def _stream(self, key: str, fold: _Fold) -> None:
        self._write_all(fold.before)
        self._marker_line(self._groups.open(fold.title, fold.began))
        self._write_all(fold.lines)
        self._streaming = (key, fold.title)

    def _release(self) -> None:
        """After a fold closed: the tasks that ended meanwhile, each whole, then the first one
        still running with a log, as the fold that streams next (the others stay held)."""
        for key in [key for key, fold in self._held.items() if fold.ended is not None]:
            self._whole(self._held.pop(key))
        for key in list(self._held):
            fold = self._held.pop(key)
            if fold.lines:
                self._stream(key, fold)
                return
            self._write_all(fold.before)

    def _whole(self, fold: _Fold) -> None:
        self._write_all(fold.before)
        if fold.lines:
            self._marker_line(self._groups.open(fold.title, fold.began))
            self._write_all(fold.lines)
            self._marker_line(self._groups.close(fold.title, fold.ended if fold.ended is not None else self._clock()))
        self._write_all(fold.after)

    def _write_all(self, lines: list[Text]) -> None:
        for line in lines:
            self._write(line)

    def _marker_line(self, marker: str) -> None:
        if marker:  # Jenkins's fold is a headed run of lines: it has no closing line
            self._marker(marker)
