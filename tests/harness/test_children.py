"""The children tests start behave as if started from a terminal, even when the suite runs as a
background job of a script (which starts it with SIGINT ignored), and none outlives its deadline.

Each test ignores SIGINT in this process for the moment it starts a child, as ``bash -c 'make
test & wait'`` does for the whole run, and shows first that a plain ``Popen`` child inherits it:
what ``testing.children`` undoes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from testing import children

#: A child that says whether SIGINT reaches it as KeyboardInterrupt, then waits to be signalled.
REPORT_AND_WAIT = (
    "import signal, sys, time\n"
    "print('default' if signal.getsignal(signal.SIGINT) is signal.default_int_handler else 'ignored', flush=True)\n"
    "time.sleep(120)\n"
)


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """This process as a background job of a non-interactive shell starts: SIGINT ignored."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def started(start: Callable[..., subprocess.Popen[str]]) -> tuple[subprocess.Popen[str], str]:
    with sigint_ignored():
        process = start([sys.executable, "-c", REPORT_AND_WAIT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def test_a_plain_child_of_a_background_job_ignores_sigint() -> None:
    """The trap itself: without ``spawn`` the child keeps the ignored SIGINT."""
    process, seen = started(subprocess.Popen)
    try:
        assert seen == "ignored"
    finally:
        process.kill()
        process.communicate(timeout=10)


def test_a_spawned_child_of_a_background_job_stops_on_sigint() -> None:
    process, seen = started(children.spawn)
    assert seen == "default"
    assert children.stop(process, signal.SIGINT, timeout=20) == -signal.SIGINT  # KeyboardInterrupt, uncaught
    assert process.stderr is not None
    assert "KeyboardInterrupt" in process.stderr.read()


def test_a_spawned_octorelease_reports_the_interrupt_of_a_background_job(sandbox: Any) -> None:
    """The failure as the suite met it: ``octorelease`` signalled during a deployment exits 130."""
    from testing.processes import collect, executing_task, start_cli

    sandbox.set_speed(1.0)
    with sigint_ignored():
        process = start_cli(sandbox, "promote", "--project", "Worker", "--from", "Development", "--to", "Test")
    executing_task(sandbox, process)
    process.send_signal(signal.SIGINT)
    assert collect(process).code == 130


def test_finish_kills_a_child_that_outlives_its_deadline() -> None:
    process = children.spawn([sys.executable, "-c", "import time; time.sleep(120)"])
    began = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        children.finish(process, timeout=0.5)
    assert process.poll() == -signal.SIGKILL
    assert time.monotonic() - began < 30


def test_stop_kills_a_child_that_ignores_the_signal() -> None:
    process = children.spawn([sys.executable, "-c", "import signal, time\n"
                              "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\n"
                              "time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    with pytest.raises(subprocess.TimeoutExpired):
        children.stop(process, signal.SIGTERM, timeout=0.5)
    assert process.poll() == -signal.SIGKILL


def test_what_a_test_leaves_running_is_killed() -> None:
    process = children.spawn([sys.executable, "-c", "import time; time.sleep(120)"])
    assert children.kill_left_running() == [str(process.args)]
    assert process.poll() == -signal.SIGKILL
    assert children.kill_left_running() == []
