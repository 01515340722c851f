"""When a wait asks the server again: soon enough to see a finished task within half a second,
seldom enough that any number of tasks costs the server one request a second (two with logs).

One token bucket bounds the cost of a wait: it earns one token a second, two when logs are on,
and starts with two, so a wait of ``T`` seconds sends at most ``2 + rate * T`` requests
(task polls, one request for every task, and log reads together). A running task's log is read
only when its task resource says it changed, and only while the tokens held also cover the
final read of every task still running: each task's last lines must come before its verdict,
so that read is never put off, and is paid for in advance whenever the wait lasts longer than
there are tasks to read. When it does not, the final reads are the only excess (at most one
per task), and they take no more than the tokens left, so they never delay the next poll.

Within that budget the polls go where an end is likely:

- one early poll (``first``), for the short tasks of small projects and of the sandbox;
- without an expectation, one poll a second (every 0.75 s with logs, leaving a third of the
  budget to log reads);
- when the target's previous deployment says how long this one should take, polls sparser
  until the window where it may end (``spread``: 20 % of that duration either side), as much
  denser within it (``stretch``: 1.5 times, twice with logs), with one just after the expected
  end, and steady after it. The sparse polls save the tokens the dense ones spend.

Everything here is arithmetic on the times it is given, so the schedule is the same in every
run and tests can assert it exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``capacity`` held. Spending may run
    into debt (a final log read cannot wait); the debt is repaid before the next ``ready``."""

    rate: float
    capacity: float
    tokens: float
    at: float

    def fill(self, now: float) -> float:
        """The tokens held at ``now`` (which never goes back)."""
        if now > self.at:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
            self.at = now
        return self.tokens

    def ready_at(self, now: float, need: float = 1.0) -> float:
        """The earliest time, not before ``now``, at which ``need`` tokens are held."""
        held = self.fill(now)
        return now if held >= need else now + (need - held) / self.rate

    def spend(self, now: float, cost: float = 1.0, *, debt: bool = True) -> None:
        """Take ``cost`` tokens; without ``debt``, take no more than are held."""
        held = self.fill(now)
        self.tokens = held - cost if debt else max(held - cost, min(held, 0.0))


@dataclass(frozen=True)
class Pace:
    """The numbers of the schedule, in seconds (rates in requests a second)."""

    #: requests a second without logs, on average over a wait
    rate: float = 1.0
    #: requests a second when logs are on (polls and log reads together)
    log_rate: float = 2.0
    #: gap between polls without an expectation: the budget's pace, and with logs a little
    #: faster, leaving a third of the budget to log reads
    steady: float = 1.0
    log_steady: float = 0.75
    #: tokens saved up at most (besides one final read per task), spent around an expected end
    saved: float = 120.0
    #: tokens in hand when the wait starts: the early poll, and one more
    start: float = 2.0
    #: the first poll, this soon after the wait starts
    first: float = 0.1
    #: never two polls closer than this
    min_gap: float = 0.1
    #: the poll after an expected end comes this much after it
    margin: float = 0.05
    #: how far, as a share of the previous deployment's duration, this one may end from it:
    #: polls are ``stretch`` times as sparse before that window and as many times as dense
    #: within it, which costs about what the sparse ones saved
    spread: float = 0.2
    stretch: float = 1.5
    #: with logs the budget is twice as large, and the polls save more of it
    log_stretch: float = 2.0
    #: the window is at least this wide on each side of the expected end
    least_spread: float = 0.5


#: The pace of every wait unless a test or a benchmark gives another.
DEFAULT_PACE = Pace()


@dataclass(frozen=True)
class Expectation:
    """When a task should end on our clock, and how long its previous deployment ran."""

    end: float
    seconds: float

    def window(self, pace: Pace) -> tuple[float, float]:
        """Where the end is likely: ``spread`` of the duration either side (``least_spread`` at least)."""
        half = max(pace.spread * self.seconds, pace.least_spread)
        return self.end - half, self.end + half


class Pacer:
    """Decides when the next poll of a wait goes out, and whether a running task's changed log
    may be read now. ``start``: the clock when the wait began; ``tasks``: how many it follows."""

    def __init__(self, start: float, tasks: int, log: bool, pace: Pace = DEFAULT_PACE) -> None:
        self.pace = pace
        self.start = start
        self.steady = pace.log_steady if log else pace.steady
        self.stretch = pace.log_stretch if log else pace.stretch
        rate = pace.log_rate if log else pace.rate
        self.budget = Bucket(rate, pace.saved + (tasks if log else 0), pace.start, start)
        self.last_poll: float | None = None

    def polled(self, now: float) -> None:
        """A poll went out at ``now``."""
        self.budget.spend(now)
        self.last_poll = now

    def next_poll(self, now: float, expected: Iterable[Expectation | None]) -> float:
        """When to poll next, given what is expected of each pending task (None: nothing)."""
        pace, last = self.pace, self.last_poll
        if last is None:
            return max(now, self.start + pace.first)
        wanted = [self._wanted(last, e) for e in expected] or [last + self.steady]
        return self.budget.ready_at(max(min(wanted), last + pace.min_gap, now))

    def _wanted(self, last: float, expected: Expectation | None) -> float:
        """When one task would like the next poll."""
        if expected is None:
            return last + self.steady
        opens, closes = expected.window(self.pace)
        if last < opens:  # sparse, but into the window, not past its start
            return min(last + self.steady * self.stretch, opens)
        if last < closes:  # dense, and right after the expected end
            after = expected.end + self.pace.margin
            return min(last + self.steady / self.stretch, after if after > last else float("inf"))
        return last + self.steady

    def may_read_log(self, now: float, running: int) -> bool:
        """Whether a running task's changed log may be read now: only while the tokens held
        cover this read, the final read of every task still running, and the next poll."""
        return self.budget.fill(now) >= running + 2.0

    def read_log(self, now: float, *, final: bool = False) -> None:
        """A log read went out at ``now``. A final read takes what tokens are left and no more:
        it cannot wait, and must not hold back the poll that sees the next task end."""
        self.budget.spend(now, debt=not final)
