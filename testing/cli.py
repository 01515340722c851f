"""Run the command line in-process, the way a CI job would, and capture what it printed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from octorelease.cli import main


@dataclass
class CliRun:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        """stdout parsed: it must hold exactly one JSON object."""
        return json.loads(self.out)

    @property
    def everything(self) -> str:
        return self.out + self.err


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> CliRun:
    """``octorelease ARGS`` in this process; returns exit code, stdout and stderr."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return CliRun(code, captured.out, captured.err)


def connection(sandbox: Any) -> list[str]:
    """The global options that point the command line at the sandbox."""
    return ["--server", sandbox.url, "--api-key", sandbox.api_key]
