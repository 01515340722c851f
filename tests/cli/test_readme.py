"""The documentation's examples work as written: the sandbox quick start (in the README and on the
getting started page) runs, and the every-field handler of the handler file reference validates."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from octorelease.handler.file import load_handler_file
from testing.cli import run_cli
from testing.docs import block_after
from testing.sandbox import SandboxControl

#: The pages that show the sandbox quick start; the README and the site must not drift apart.
QUICK_START_PAGES = ("README.md", "docs/getting-started.md")


def test_the_sandbox_quick_start_runs_verbatim(sandbox: SandboxControl, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = {name: block_after(name, "<!-- sandbox quick start -->") for name in QUICK_START_PAGES}
    assert len(set(blocks.values())) == 1, f"the quick start differs between {', '.join(QUICK_START_PAGES)}"
    lines = blocks["README.md"].splitlines()
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
    path.write_text(block_after("docs/reference/handler-file.md", "Every field:"), encoding="utf-8")
    loaded = load_handler_file(str(path), {"OCTOPUS_URL": "http://127.0.0.1:8065", "OCTOPUS_API_KEY": "API-X"})
    assert [handler.name for handler in loaded.handlers] == ["Ship to Test"]
