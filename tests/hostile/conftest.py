from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _plain_ci_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI job with no colour and no connection settings of the developer's; one attempt per
    request, so that an unreachable server is refused at once rather than after the retries."""
    for name in ("OCTOPUS_URL", "OCTOPUS_API_KEY", "OCTOPUS_SPACE", "OCTOPUS_CA_BUNDLE", "GITHUB_ACTIONS",
                 "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "TF_BUILD", "TEAMCITY_VERSION", "GITLAB_CI", "JENKINS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("CI", "true")
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
