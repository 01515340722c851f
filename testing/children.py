"""Start the processes that tests and benchmarks need, so that Ctrl-C reaches them and none outlives its test.

A script that runs ``make test &`` starts it with SIGINT ignored (a non-interactive shell does that
to every background job), and an ignored signal stays ignored across ``exec``. A child started
plainly would then shrug off the SIGINT a test sends it: ``octorelease`` would never report the
interrupt under test, and a sandbox stopped that way would run on after the suite. ``spawn``
restores SIGINT's default in the child before it runs, so the child's own Python turns SIGINT
into ``KeyboardInterrupt`` again, as it does when started from a terminal.

Every child ``spawn`` starts is remembered until it ends. ``finish``, ``wait`` and ``stop`` kill it
when its deadline passes, and ``kill_left_running`` (the root conftest calls it after each test)
kills whatever a failed or careless test left behind.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Callable, Sequence
from typing import Any

_started: list[subprocess.Popen[Any]] = []


def _default_sigint() -> None:
    """Runs in the child between ``fork`` and ``exec``: an ignored SIGINT would survive the exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def spawn(command: Sequence[str], *, before_exec: Callable[[], None] | None = None,
          **options: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(command, **options)`` with SIGINT at its default in the child;
    ``before_exec`` runs in the child too, after that (a resource limit, say)."""

    def prepare() -> None:
        _default_sigint()
        if before_exec is not None:
            before_exec()

    process: subprocess.Popen[Any] = subprocess.Popen(command, preexec_fn=prepare, **options)
    _started[:] = [child for child in _started if child.poll() is None]
    _started.append(process)
    return process


def finish(process: subprocess.Popen[Any], timeout: float) -> tuple[Any, Any]:
    """Wait for the process to end, reading its output; killed if it has not within ``timeout``
    seconds, and then ``TimeoutExpired`` is raised with what it had printed."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        process.kill()
        expired.output, expired.stderr = process.communicate()
        raise


def wait(process: subprocess.Popen[Any], timeout: float) -> int:
    """Wait for the process to end, leaving its output to whoever reads it; killed if it has not
    within ``timeout`` seconds, and then ``TimeoutExpired`` is raised. Its exit code."""
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def stop(process: subprocess.Popen[Any], signum: int = signal.SIGTERM, timeout: float = 10) -> int:
    """Send ``signum`` and ``wait``: killed if it has not ended within ``timeout`` seconds."""
    if process.poll() is None:
        process.send_signal(signum)
    return wait(process, timeout)


def kill_left_running() -> list[str]:
    """Kill every child ``spawn`` started that is still running; the command lines of those killed."""
    killed = []
    for process in _started:
        if process.poll() is None:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
                process.communicate(timeout=10)
            killed.append(str(process.args))
    _started.clear()
    return killed
