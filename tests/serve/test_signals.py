"""Stopping ``octorelease serve`` with signals: a second SIGINT stops at once, and quietly."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from testing.sandbox import SandboxControl
from testing.serve import HANDLERS, ServeProcess

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def stopping(process: ServeProcess, timeout: float = 10) -> None:
    """Wait until the service no longer accepts connections: its first stop is under way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            process.client.http.get("/healthz", timeout=1)
        except httpx.TransportError:
            return
        time.sleep(0.02)
    raise AssertionError("the service still answers after SIGINT")


def press_again_until_it_exits(process: ServeProcess, timeout: float = 20) -> str:
    """Ctrl-C pressed again every 0.2 s until the service exits (two signals sent too close
    together reach Python as one, as two key presses do not); its stderr."""
    deadline = time.monotonic() + timeout
    while process.process.poll() is None and time.monotonic() < deadline:
        process.process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.process.wait(0.2)
    _, err = process.process.communicate(timeout=10)
    return str(err)


@pytest.mark.parametrize("second", ["at once", "during the stop"])
def test_a_second_sigint_stops_at_once_without_a_traceback_and_the_run_resumes_later(
    sandbox: SandboxControl, tmp_path: Path, second: str
) -> None:
    sandbox.set_speed(3.0)  # the run outlasts the 5 s a first stop waits for runs under way
    handlers = tmp_path / "handlers.yml"
    handlers.write_text(HANDLERS, encoding="utf-8")
    db = tmp_path / "serve.db"
    first = ServeProcess(handlers, sandbox, db)
    try:
        answer = first.client.event("sigint-1", branch="release")
        first.client.wait(answer["id"], states=("running",))
        first.process.send_signal(signal.SIGINT)
        if second == "during the stop":
            stopping(first)
        asked = time.monotonic()
        err = press_again_until_it_exits(first)
        took = time.monotonic() - asked
    finally:
        if first.process.poll() is None:
            first.process.kill()
            first.process.communicate()
        first.client.close()
    assert first.process.returncode == 0, err
    assert "Traceback" not in err and "CancelledError" not in err, err
    assert took < 3.0, f"the second SIGINT took {took:.1f} s to stop the service"
    assert "they resume at the next start" in err, err
    sandbox.set_speed(0.05)
    second = ServeProcess(handlers, sandbox, db)
    try:
        run = second.client.wait(answer["id"], timeout=60)
        assert run["state"] == "succeeded" and run["attempts"] == 2, run
    finally:
        second.kill()
