from __future__ import annotations

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
