"""The schedule of a wait, exactly: it is arithmetic on the times it is given; and how a log
read with ``?tail=`` continues where the last read stopped."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from octorelease.actions.pacing import Expectation, Pacer
from octorelease.actions.wait import TAIL, _LogCursor


def _polls(pacer: Pacer, until: float, expected: Expectation | None) -> list[float]:
    """The poll times of a wait that lasts ``until`` seconds, for one task."""
    times: list[float] = []
    now = 0.0
    while True:
        now = pacer.next_poll(now, [expected])
        if now > until:
            return times
        pacer.polled(now)
        times.append(round(now, 3))


def test_without_an_expectation_it_looks_early_then_once_a_second_or_faster_with_logs():
    assert _polls(Pacer(0.0, 1, log=False), 5.0, None) == [0.1, 1.1, 2.1, 3.1, 4.1]
    assert _polls(Pacer(0.0, 1, log=True), 3.0, None) == [0.1, 0.85, 1.6, 2.35]


def test_it_looks_sparsely_before_the_likely_end_densely_around_it_and_just_after_it():
    """The previous deployment ran 20 s: the end is likely within 16-24 s."""
    times = _polls(Pacer(0.0, 1, log=False), 30.0, Expectation(20.0, 20.0))
    before = [t for t in times if t <= 16.0]
    around = [t for t in times if 16.0 <= t <= 24.0]
    assert before == [0.1, 1.6, 3.1, 4.6, 6.1, 7.6, 9.1, 10.6, 12.1, 13.6, 15.1, 16.0]
    assert all(b - a <= 0.67 for a, b in itertools.pairwise(around)), around
    assert any(20.05 <= t <= 20.15 for t in times), times
    assert [t for t in times if t > 25.0] == [25.1, 26.1, 27.1, 28.1, 29.1]


@pytest.mark.parametrize("seconds", [None, 2.0, 30.0, 290.0])
@pytest.mark.parametrize("log", [False, True])
def test_a_wait_never_costs_more_than_its_rate(seconds, log):
    rate = 2.0 if log else 1.0
    expected = Expectation(seconds, seconds) if seconds is not None else None
    for until in (1.0, 3.0, 10.0, 60.0, 300.0):
        assert len(_polls(Pacer(0.0, 1, log=log), until, expected)) <= 2 + rate * until


def test_a_running_log_is_read_only_while_the_final_reads_are_covered():
    pacer = Pacer(0.0, 3, log=True)  # three tasks: three final reads to keep in hand, and a poll
    assert not pacer.may_read_log(0.5, running=3)
    assert pacer.may_read_log(1.5, running=3)  # 2 + 2 * 1.5 tokens
    pacer.read_log(1.5)
    assert not pacer.may_read_log(1.5, running=3)
    assert pacer.may_read_log(1.5, running=1)


def _details(count: int, tail: int | None = None) -> dict[str, Any]:
    """A task's details whose one machine element has ``count`` lines, as ``?tail=`` gives them."""
    entries = [{"OccurredAt": f"t{n}", "Category": "Info", "MessageText": f"line {n}"} for n in range(count)]
    machine = {"Id": "T/2/M", "Name": "web01", "LogElements": entries[-tail:] if tail else entries}
    step = {"Id": "T/2", "Name": "Step 1: Deploy", "LogElements": [], "Children": [machine]}
    return {"ActivityLogs": [{"Id": "T", "Children": [step]}]}


def test_a_tail_read_passes_on_just_the_new_lines_and_finds_a_gap_it_cannot_fill():
    cursor = _LogCursor()
    assert len(cursor.new_lines(_details(250)) or []) == 250
    again = cursor.new_lines(_details(260, TAIL), TAIL)
    assert [line.text for line in again or []] == [f"line {n}" for n in range(250, 260)]
    assert cursor.new_lines(_details(260, TAIL), TAIL) == []
    assert cursor.new_lines(_details(400, TAIL), TAIL) is None  # 140 new lines: more than a tail
    assert [line.text for line in cursor.new_lines(_details(400)) or []] == [f"line {n}" for n in range(260, 400)]
