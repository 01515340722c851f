from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _one_attempt(_plain_ci_job: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """One attempt per request (on top of the root's plain CI job), so that an unreachable server
    is refused at once rather than after the retries."""
    monkeypatch.setenv("OCTORELEASE_RETRY_ATTEMPTS", "1")


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Each row starts with the logging of a fresh process: an earlier in-process run with -v may
    have left the ``octorelease`` logger on, writing to a stream captured by another test."""
    logger = logging.getLogger("octorelease")
    handlers, level = list(logger.handlers), logger.level
    for handler in handlers:
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    yield
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for handler in handlers:
        logger.addHandler(handler)
    logger.setLevel(level)
