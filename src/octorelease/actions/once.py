"""Creating something over a connection that may lose the answer, without creating it twice.

A POST that fails ambiguously (the connection dropped, the answer lost, a 5xx) may or may not
have been carried out, so it is never repeated blindly: after each such failure we look for what
it would have created and adopt it if it is there. Only when it is not do we post again, and as
often and as patiently as the client's retry policy allows, because a flaky server can fail the
second try as well as the first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from octorelease.octopus.http import OctopusHttp, RequestOutcomeUnknown

T = TypeVar("T")


def create_once(
    http: OctopusHttp, create: Callable[[], T], find: Callable[[], T | None], *, look_first: bool = False
) -> T:
    """``create()``'s result; after an ambiguous failure, what ``find()`` finds, else ``create()``
    again. The look comes right before each new try, after the pause, so that what a concurrent
    run made meanwhile is seen; ``look_first`` looks before the first try too. The last
    ``RequestOutcomeUnknown`` propagates when the retry policy is spent and nothing is found."""
    started = time.monotonic()
    retry_number = 0
    if look_first and (found := find()) is not None:
        return found
    while True:
        try:
            return create()
        except RequestOutcomeUnknown:
            spent = retry_number + 1 >= http.retry.attempts
            if spent or time.monotonic() - started > http.retry.total_seconds:
                if (found := find()) is not None:
                    return found
                raise
            http.pause_before_retry(retry_number)
            retry_number += 1
            if (found := find()) is not None:
                return found
