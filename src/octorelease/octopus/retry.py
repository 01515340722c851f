"""How hard to try again: the retry policy of every request octorelease sends.

Idempotent requests retry transient failures (5xx, 429, resets) with capped exponential backoff
and jitter, bounded by attempts *and* total time (stamina's shape); ``Retry-After`` replaces the
computed wait. ``http.py`` applies the policy; this module only says what it is.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from octorelease import errors

#: Methods whose repetition cannot create anything twice.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

#: Statuses that mean "try again later" rather than "no".
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

#: Even when the total retry budget is nearly spent, an attempt gets this long.
MIN_ATTEMPT_SECONDS = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` tries in all, within ``total_seconds``, waiting
    ``min(max_wait, initial_wait * 2**retry) + uniform(0, jitter)`` between them.
    A ``Retry-After`` from the server replaces the computed wait (still capped by the total)."""

    attempts: int = 6
    total_seconds: float = 90.0
    initial_wait: float = 0.5
    max_wait: float = 15.0
    jitter: float = 0.5


def retry_policy_from_env(environ: Mapping[str, str]) -> RetryPolicy:
    """The default policy, with ``OCTORELEASE_RETRY_ATTEMPTS`` and ``OCTORELEASE_RETRY_SECONDS``
    (total time) applied when set: CI owners tune how long a flaky server is tolerated."""
    policy = RetryPolicy()
    try:
        attempts = int(environ.get("OCTORELEASE_RETRY_ATTEMPTS") or policy.attempts)
        total = float(environ.get("OCTORELEASE_RETRY_SECONDS") or policy.total_seconds)
    except ValueError:
        raise errors.InvalidInput(
            "OCTORELEASE_RETRY_ATTEMPTS must be a whole number and OCTORELEASE_RETRY_SECONDS a number of seconds."
        ) from None
    return RetryPolicy(
        attempts=max(attempts, 1),
        total_seconds=max(total, 0.0),
        initial_wait=policy.initial_wait,
        max_wait=policy.max_wait,
        jitter=policy.jitter,
    )


#: For tests: retry at once, a few times.
TESTING_RETRY_POLICY = RetryPolicy(attempts=3, total_seconds=5.0, initial_wait=0.0, max_wait=0.0, jitter=0.0)


def compute_backoff(retry_number: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry ``retry_number`` (0-based): capped exponential plus jitter.

    The exponent is clamped so that huge retry numbers cannot overflow a float."""
    exponent = min(max(retry_number, 0), 60)
    wait = min(policy.max_wait, policy.initial_wait * (2.0**exponent))
    jitter = (rng or random).uniform(0, policy.jitter) if policy.jitter > 0 else 0.0
    return float(wait + jitter)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (only the delta-seconds form; dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(seconds, 0.0)
