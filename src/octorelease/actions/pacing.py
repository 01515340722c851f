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

Within that budget the polls go where a finish is likely:

- one early poll (``first``), for the short tasks of small projects and of the sandbox;
- when the target's previous deployment says how long this one should take, sparse polls
  (``far``) until then, which save tokens, a poll just after the expected end, and then polls
  every ``near`` seconds while the saved tokens last;
- without an expectation, one poll a second.

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
    #: polls saved up at most, spent around an expected finish (besides the final reads)
    saved: float = 3.0
    #: tokens in hand when the wait starts: the early poll, and one more
    start: float = 2.0
    #: the first poll, this soon after the wait starts
    first: float = 0.1
    #: never two polls closer than this
    min_gap: float = 0.1
    #: the poll after an expected finish comes this much after it (the finish is rarely early)
    margin: float = 0.05
    #: gap between polls once an expected finish has passed
    near: float = 0.25
    #: gap between polls while no finish is expected soon, and without an expectation
    far: float = 1.5
    steady: float = 1.0


#: The pace of every wait unless a test or a benchmark gives another.
DEFAULT_PACE = Pace()


class Pacer:
    """Decides when the next poll of a wait goes out, and whether a running task's changed log
    may be read now. ``start``: the clock when the wait began; ``tasks``: how many it follows."""

    def __init__(self, start: float, tasks: int, log: bool, pace: Pace = DEFAULT_PACE) -> None:
        self.pace = pace
        self.start = start
        rate = pace.log_rate if log else pace.rate
        self.budget = Bucket(rate, pace.saved + (tasks if log else 0), pace.start, start)
        self.last_poll: float | None = None

    def polled(self, now: float) -> None:
        """A poll went out at ``now``."""
        self.budget.spend(now)
        self.last_poll = now

    def next_poll(self, now: float, expected_ends: Iterable[float | None]) -> float:
        """When to poll next, given each pending task's expected end (None: unknown)."""
        pace, last = self.pace, self.last_poll
        if last is None:
            return max(now, self.start + pace.first)
        wanted = [self._wanted(last, end) for end in expected_ends] or [last + pace.steady]
        return self.budget.ready_at(max(min(wanted), last + pace.min_gap, now))

    def _wanted(self, last: float, end: float | None) -> float:
        """When one task would like the next poll."""
        pace = self.pace
        if end is None:
            return last + pace.steady
        just_after = end + pace.margin
        if last >= just_after:  # the expected end has passed: look often while tokens last
            return last + pace.near
        sparse = last + pace.far
        # No sparse poll shortly before the expected end: its token is worth more just after.
        return just_after if just_after <= sparse + pace.far else sparse

    def may_read_log(self, now: float, running: int) -> bool:
        """Whether a running task's changed log may be read now: only while the tokens held
        cover this read, the final read of every task still running, and the next poll."""
        return self.budget.fill(now) >= running + 2.0

    def read_log(self, now: float, *, final: bool = False) -> None:
        """A log read went out at ``now``. A final read takes what tokens are left and no more:
        it cannot wait, and must not hold back the poll that sees the next task end."""
        self.budget.spend(now, debt=not final)
