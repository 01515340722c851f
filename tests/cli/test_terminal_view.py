"""What a user sees in a real terminal, 80 and 120 columns wide (tmux): the live lines in the
order given, no line of an earlier handler left on the live view, a result table that fits the
width, and a failure's message said once. The real command line runs against the sandbox."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from testing.cli import CliRun
from testing.sandbox import SandboxControl
from testing.terminal import Terminal

OpenTerminal = Callable[..., Terminal]
Octorelease = Callable[..., CliRun]

#: An environment that waits for a person (add_approval) holds the live view still to be read.
WAITING = "waiting for a person"
DISK_FULL = "ENOSPC: no space left on device while extracting package Web 1.1.0 into /opt/octopus/applications/Test"


@pytest.fixture
def terminal(sandbox: SandboxControl, tmp_path: Path) -> Iterator[OpenTerminal]:
    """``terminal(width, *args)``: ``octorelease *args`` against the sandbox in a terminal
    ``width`` columns wide, as on a developer's machine (no CI variables)."""
    opened: list[Terminal] = []

    def open_terminal(width: int, *args: str) -> Terminal:
        env = {"TERM": "tmux-256color", "OCTOPUS_URL": sandbox.url, "OCTOPUS_API_KEY": sandbox.api_key}
        if "PYTHONPATH" in os.environ:  # the code under test, where the suite was pointed at another tree
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        folder = tmp_path / f"terminal{len(opened)}"
        folder.mkdir()
        command = [sys.executable, "-m", "octorelease.cli", *args]
        opened.append(Terminal(command, width=width, height=60, env=env, folder=folder))
        return opened[-1]

    yield open_terminal
    for terminal in opened:
        terminal.close()


def proceed(sandbox: SandboxControl) -> None:
    """Answer the one pending approval, as a release manager would."""
    (pending,) = sandbox.get("/api/Spaces-1/interruptions", pendingOnly="true")["Items"]
    sandbox.answer(pending["Id"], Result="Proceed")


def live_rows(lines: list[str]) -> list[str]:
    """The environments of the live view's rows (a spinner or a mark, then the environment)."""
    return [line.split()[1] for line in lines if line[:1] in "✓✗⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏" and len(line.split()) > 1]


def assert_table_fits(terminal: Terminal, environments: list[str]) -> list[str]:
    """The result table (its heading, rule, and rows with their wrapped cells) as written, each
    line at most the terminal's width, so the terminal wrapped none of them; its lines."""
    lines = terminal.screen(joined=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("Environment "))
    table = [lines[start]]
    for line in lines[start + 1:]:
        if not (line.startswith(("─", " ")) or line.split(" ", 1)[0] in environments):
            break
        table.append(line)
    too_wide = [line for line in table if len(line) > terminal.width]
    assert not too_wide, f"wider than {terminal.width} columns:\n" + "\n".join(too_wide)
    return table


@pytest.mark.parametrize("width", [80, 120])
def test_promote_shows_its_live_lines_in_the_order_given_and_a_table_that_fits(
    sandbox: SandboxControl, octorelease: Octorelease, terminal: OpenTerminal, width: int
) -> None:
    # A release made after the approval step was added (a release keeps the process it was made
    # with), taken through Test to Staging, so that the lifecycle lets one promotion go to all
    # three (Production created first, as the later phase).
    sandbox.add_approval()
    web = ("--project", "Web", "--no-log")
    assert octorelease("create", *web, "--version", "1.9.0", "--deploy-to", "Development").code == 0
    assert octorelease("promote", *web, "--from", "Development", "--to", "Test").code == 0
    assert octorelease("promote", *web, "--from", "Test", "--to", "Staging").code == 0
    shown = terminal(width, "promote", *web, "--from", "Development", "--to", "Test", "--to", "Staging",
                     "--to", "Production", "--redeploy")
    lines = shown.wait_for("Production waiting with three live lines",
                           lambda lines: any(WAITING in line for line in lines) and len(live_rows(lines)) == 3)
    assert live_rows(lines) == ["Test", "Staging", "Production"], "\n".join(lines)
    proceed(sandbox)
    assert shown.wait_to_end() == 0, "\n".join(shown.screen())
    table = assert_table_fits(shown, ["Test", "Staging", "Production"])
    assert table[1].startswith("──") and len(table) == 5, table  # heading, rule, three rows
    screen = shown.screen()  # as the terminal shows it: each link whole on one line
    links = [line for line in screen if "/app#/Spaces-1/deployments/Deployments-" in line]
    assert len(links) == 3 and all(line.split("/")[-1].removeprefix("Deployments-").isdigit() for line in links), screen


@pytest.mark.parametrize("width", [80, 120])
def test_a_failure_is_said_once_and_its_row_fits(
    sandbox: SandboxControl, terminal: OpenTerminal, width: int
) -> None:
    sandbox.fail(step="Deploy web", environment="Test", message=DISK_FULL)
    shown = terminal(width, "promote", "--project", "Web", "--from", "Development", "--to", "Test", "--no-log")
    assert shown.wait_to_end() == 1, "\n".join(shown.screen())
    table = assert_table_fits(shown, ["Test"])
    text = "\n".join(shown.screen())
    assert text.count("ENOSPC") == 1, text
    assert "Failed" in table[2] and "ENOSPC" in table[2], text
    assert text.splitlines()[-1].startswith("Error: 1 of 1 deployments did not succeed"), text


HANDLERS = """\
server: ${OCTOPUS_URL}
api_key: ${OCTOPUS_API_KEY}
handlers:
  - name: Release
    project: Web
    on: {event: build-completed}
    create: {version: 1.9.0, deploy_to: Development}
    log_messages: false
  - name: To Test
    project: Web
    on: {event: build-completed}
    promote: {from: Development, to: Test}
    log_messages: false
"""


def test_run_shows_only_the_waiting_handlers_live_line(
    sandbox: SandboxControl, terminal: OpenTerminal, tmp_path: Path
) -> None:
    sandbox.add_approval(environment="Environments-2")  # Test waits for a person
    handlers = tmp_path / "octorelease.yml"
    handlers.write_text(HANDLERS, encoding="utf-8")
    shown = terminal(80, "run", str(handlers))
    lines = shown.wait_for("Test waiting", lambda lines: any(WAITING in line for line in lines))
    assert live_rows(lines) == ["Test"], "\n".join(lines)  # not Development's, from the first handler
    proceed(sandbox)
    assert shown.wait_to_end() == 0, "\n".join(shown.screen())
    assert_table_fits(shown, ["Test"])
