"""The schedule of a wait, exactly: it is arithmetic on the times it is given; and how a log
read with ``?tail=`` continues where the last read stopped."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from octorelease.actions.pacing import Pacer
from octorelease.actions.wait import TAIL, _LogCursor


def _polls(pacer: Pacer, until: float, end: float | None) -> list[float]:
    """The poll times of a wait that lasts ``until`` seconds, for one task expected at ``end``."""
    times: list[float] = []
    now = 0.0
    while True:
        now = pacer.next_poll(now, [end])
        if now > until:
            return times
        pacer.polled(now)
        times.append(round(now, 3))


def test_without_an_expectation_it_looks_early_then_once_a_second():
    assert _polls(Pacer(0.0, 1, log=False), 5.0, None) == [0.1, 1.1, 2.1, 3.1, 4.1]


def test_it_looks_just_after_the_expected_end_and_often_after_it_while_saved_polls_last():
    times = _polls(Pacer(0.0, 1, log=False), 9.0, 5.0)
    # sparse until the expected end, then every quarter second on the polls saved meanwhile
    assert times[:6] == [0.1, 1.6, 3.1, 5.05, 5.3, 5.55]
    assert all(b - a >= 0.999 for a, b in itertools.pairwise(times[7:])), times


@pytest.mark.parametrize("end", [None, 2.0, 30.0, 290.0])
@pytest.mark.parametrize("log", [False, True])
def test_a_long_wait_never_costs_more_than_its_rate(end, log):
    rate = 2.0 if log else 1.0
    for until in (1.0, 3.0, 10.0, 60.0, 300.0):
        assert len(_polls(Pacer(0.0, 1, log=log), until, end)) <= 2 + rate * until


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
