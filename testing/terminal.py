"""A real terminal of a given size for tests of what a user sees: a private tmux server whose one
pane runs one command.

rich decides how to draw from the terminal it writes to (its width, whether it is one), so the
live view and the tables can only be checked in a terminal. tmux gives one of any size, and says
what is on the screen (``capture-pane``) and whether a line was wrapped by the terminal itself
(``-J`` joins such lines again), without any window on the machine.

The command runs with exactly the environment given (``env -i``): no CI variable of the test run
leaks in, so octorelease draws its live view as on a developer's terminal.
"""

from __future__ import annotations

import shlex
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

#: How to get tmux when it is missing (the tests that need it skip, saying so).
TMUX_HINT = "apt-get install -y tmux (.ci/run installs it)"


class Terminal:
    """One tmux pane ``width`` x ``height`` running ``command``; ``close`` ends the server.

    The pane stays when the command ends (``remain-on-exit``), so its last screen and exit code
    can still be read."""

    def __init__(self, command: Sequence[str], *, width: int, height: int, env: Mapping[str, str],
                 folder: Path) -> None:
        self.width = width
        # A server of its own, by a short name: a socket path under pytest's long tmp_path can pass
        # the 107 bytes a Unix socket's path may have, and two cut to the same would share a server.
        self.server = f"octorelease-test-{uuid.uuid4().hex[:12]}"
        config = folder / "tmux.conf"
        # Read as the server starts, before the command runs: a command quicker than a second
        # `set-option` would otherwise take its pane with it.
        config.write_text("set -g remain-on-exit on\nset -g history-limit 10000\n", encoding="utf-8")
        # The exit code, written by the pane's shell: tmux may be slow to reap a command that ended
        # (seen as a zombie for a minute under load), and ``pane_dead_status`` waits for that.
        self._status = folder / "exit-code"
        line = shlex.join(["env", "-i", *(f"{k}={v}" for k, v in env.items()), *command])
        line += f"; echo $? > {shlex.quote(str(self._status))}"
        self._tmux("-f", str(config), "new-session", "-d", "-x", str(width), "-y", str(height), "-s", "t", line)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.server, *args], capture_output=True, text=True, timeout=30,
                              env={"PATH": "/usr/bin:/bin:/usr/local/bin", "TERM": "xterm-256color"})
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args[:2])} failed: {done.stderr.strip()}")
        return done.stdout

    def screen(self, *, joined: bool = False) -> list[str]:
        """The lines of the pane and its history, right-trimmed; ``joined``: each line the
        terminal wrapped is one line again, as long as it was written."""
        text = self._tmux("capture-pane", "-p", "-t", "t", "-S", "-", *(["-J"] if joined else []))
        lines = [line.rstrip() for line in text.splitlines() if not line.startswith("Pane is dead")]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def wait_for(self, what: str, holds: Callable[[list[str]], bool], timeout: float = 30) -> list[str]:
        """Poll the screen until ``holds(lines)``; the lines then. Fails naming ``what`` and
        showing the screen when ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.screen()
            if holds(lines):
                return lines
            if self.exit_code() is not None or time.monotonic() > deadline:
                lines = self.screen()
                if holds(lines):
                    return lines
                raise AssertionError(f"the terminal never showed {what}; it shows:\n" + "\n".join(lines))
            time.sleep(0.05)

    def exit_code(self) -> int | None:
        """The command's exit code once it has ended, else None."""
        written = self._status.read_text(encoding="utf-8") if self._status.exists() else ""
        return int(written) if written.endswith("\n") else None

    def wait_to_end(self, timeout: float = 60) -> int:
        """The command's exit code, once it has ended (failing after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while (code := self.exit_code()) is None:
            if time.monotonic() > deadline:
                raise AssertionError("the command did not end; the terminal shows:\n" + "\n".join(self.screen()))
            time.sleep(0.05)
        return code

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.server, "kill-server"], capture_output=True, timeout=30)
