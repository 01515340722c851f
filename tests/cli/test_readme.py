"""The README's examples work as written: its sandbox quick start runs, its every-field handler validates."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from octorelease.config import load_handler_file
from testing.cli import run_cli
from testing.sandbox import SandboxControl

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def block_after(marker: str) -> str:
    """The first fenced block after ``marker`` in the README."""
    match = re.search(re.escape(marker) + r".*?```[a-z]*\n(.*?)```", README, re.S)
    assert match is not None, f"no block after {marker!r} in README.md"
    return match[1]


def test_the_sandbox_quick_start_runs_verbatim(sandbox: SandboxControl, capsys: pytest.CaptureFixture[str]) -> None:
    lines = block_after("<!-- sandbox quick start -->").splitlines()
    assert lines[0].startswith("export OCTOPUS_URL=http://127.0.0.1:8065")
    commands = [shlex.split(line) for line in lines[1:]]
    assert len(commands) == 4 and all(command[0] == "octorelease" for command in commands)
    for command in commands:
        # the sandbox of the tests listens on another port, with the same key
        run = run_cli(capsys, *command[1:], "--server", sandbox.url, "--api-key", sandbox.api_key)
        assert run.code == 0, f"{shlex.join(command)}\n{run.err}"
    assert "API-SANDBOX0000000000000000000000" in lines[0] and sandbox.api_key == "API-SANDBOX0000000000000000000000"


def test_the_every_field_handler_example_validates(tmp_path: Path) -> None:
    path = tmp_path / "octorelease.yml"
    path.write_text(block_after("Every field:"), encoding="utf-8")
    loaded = load_handler_file(str(path), {"OCTOPUS_URL": "http://127.0.0.1:8065", "OCTOPUS_API_KEY": "API-X"})
    assert [handler.name for handler in loaded.handlers] == ["Ship to Test"]
