"""Clients that never finish a request cannot take ``octorelease serve`` down: a child process
with 256 file descriptors, 300 sockets that send a request line and headers' start, and nothing
more. (The same guard serves the sandbox: ``uvicorn_thread.py``.)"""

from __future__ import annotations

import resource
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.serve.conftest import StartServe

from octorelease.serve.app import build_app
from octorelease.uvicorn_thread import HEADER_TIMEOUT_SECONDS, UvicornThread
from testing.sandbox import SandboxControl
from testing.serve import HANDLERS, ServeProcess

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE is POSIX")

SOCKETS = 300
DESCRIPTORS = 256
TIMED_OUT = b"HTTP/1.1 408 Request Timeout"
BUSY = b"HTTP/1.1 503 Service Unavailable"
#: Closed with our unread bytes in its buffer (an over-the-cap one, answered 503 at once), TCP may
#: reset the connection before its answer is read: it was closed all the same.
RESET = b"(reset)"


def first_line_then_closed(sock: socket.socket) -> bytes:
    """The answer's status line, read until the service closes the connection."""
    answer = b""
    try:
        while chunk := sock.recv(4096):
            answer += chunk
    except ConnectionResetError:
        return answer.split(b"\r\n", 1)[0] or RESET
    return answer.split(b"\r\n", 1)[0]


@pytest.fixture
def slow_sockets() -> Iterator[list[socket.socket]]:
    """Room for 300 sockets in this process (raised up to the hard limit, if need be), closed after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < SOCKETS + 200:
        if hard != resource.RLIM_INFINITY and hard < SOCKETS + 200:
            pytest.skip(f"this process may open only {hard} files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (SOCKETS + 200, hard))
    opened: list[socket.socket] = []
    yield opened
    for sock in opened:
        sock.close()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_half_sent_requests_are_timed_out_capped_and_the_service_stays_up(
    sandbox: SandboxControl, tmp_path: Path, slow_sockets: list[socket.socket]
) -> None:
    handlers = tmp_path / "handlers.yml"
    handlers.write_text(HANDLERS, encoding="utf-8")
    serve = ServeProcess(handlers, sandbox, tmp_path / "serve.db", max_descriptors=DESCRIPTORS)
    try:
        host, port = serve.url.removeprefix("http://").rsplit(":", 1)
        for _ in range(SOCKETS):
            sock = socket.create_connection((host, int(port)), timeout=10)
            sock.sendall(b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
            slow_sockets.append(sock)
        started = time.monotonic()
        deadline = started + HEADER_TIMEOUT_SECONDS + 20
        with httpx.Client(timeout=5) as client:
            while True:  # at once 503 while the cap is full; 200 once the slow ones are cut
                assert time.monotonic() < deadline, "the service did not answer /healthz 200"
                assert serve.process.poll() is None, serve.process.communicate()
                if client.get(f"{serve.url}/healthz").status_code == 200:
                    break
                time.sleep(0.1)
        answers = []
        for sock in slow_sockets:  # every one was answered and closed by the service
            sock.settimeout(max(1.0, deadline - time.monotonic()))
            answers.append(first_line_then_closed(sock))
        assert set(answers) <= {TIMED_OUT, BUSY, RESET}, set(answers)
        assert TIMED_OUT in answers
    finally:
        serve.process.kill()
        _, err = serve.process.communicate(timeout=10)
        serve.client.close()
    assert "Too many open files" not in err and len(err.splitlines()) < 20, err[-2000:]


def test_a_body_sent_too_slowly_is_cut_and_nothing_is_recorded(start: StartServe) -> None:
    """The body deadline, shortened: headers complete, half the body, then nothing."""
    served = start()
    slow = UvicornThread(build_app(served.server.service), "127.0.0.1", 0, name="slow-body", timeouts=(5.0, 0.5))
    slow.start()
    try:
        with socket.create_connection(("127.0.0.1", slow.port), timeout=10) as sock:
            sock.sendall(b"POST /hooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"event\":")
            assert first_line_then_closed(sock) == TIMED_OUT
        assert served.runs() == []
    finally:
        slow.stop()
