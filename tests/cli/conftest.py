from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testing.cli import CliRun, connection, run_cli


@pytest.fixture
def octorelease(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """``octorelease(*args)`` runs the command line against the sandbox (no-color, CI-like)."""

    def run(*args: str) -> CliRun:
        return run_cli(capsys, *args, *connection(sandbox))

    return run


@pytest.fixture(autouse=True)
def _plain_ci_console(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Behave as in a CI job with no colour, whatever the developer's environment is; a
    simulated GitLab's dotenv report lands in the test's own directory, not the checkout."""
    for name in (
        *("OCTOPUS_URL", "OCTOPUS_API_KEY", "OCTOPUS_CLI_SERVER", "OCTOPUS_CLI_API_KEY", "OCTOPUS_SPACE"),
        *("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"),
        *("GITLAB_CI", "TF_BUILD", "TEAMCITY_VERSION", "JENKINS_URL", "OCTORELEASE_DOTENV"),
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OCTORELEASE_DOTENV", str(tmp_path / "octorelease.env"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("CI", "true")
