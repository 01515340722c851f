from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from testing.cli import CliRun, connection, run_cli


@pytest.fixture
def octorelease(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """``octorelease(*args)`` runs the command line against the sandbox (no-color, CI-like)."""

    def run(*args: str) -> CliRun:
        return run_cli(capsys, *args, *connection(sandbox))

    return run
