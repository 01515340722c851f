"""What a pipeline sent, seen from the sandbox: ``/_sandbox/requests`` records each request's
status, and ``octorelease sandbox -v`` prints one line per request (never a header, never a key)."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from octorelease.sandbox.http.server import SandboxServer
from testing.sandbox import SandboxControl

LINE = re.compile(r"^(GET|POST|PUT|DELETE) (\S+) (\d{3}|dropped) \d+\.\d ms( \(fault: \w+\))?$")


def test_the_request_log_records_each_status(sandbox: SandboxControl) -> None:
    sandbox.call("GET", "/api/Spaces-1/projects/Projects-1")
    sandbox.call("GET", "/api/Spaces-1/projects/Projects-99")
    sandbox.call("POST", "/api/Spaces-1/releases", json={})
    sandbox.call("GET", "/api/Spaces-1/projects", key="API-WRONG")
    assert [(r["method"], r["path"], r["status"]) for r in sandbox.requests()] == [
        ("GET", "/api/Spaces-1/projects/Projects-1", 200), ("GET", "/api/Spaces-1/projects/Projects-99", 404),
        ("POST", "/api/Spaces-1/releases", 400), ("GET", "/api/Spaces-1/projects", 401)]


def test_a_dropped_request_has_no_status(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("reset:1,only=POST")
    with pytest.raises(httpx.TransportError):
        sandbox.call("POST", "/api/Spaces-1/releases", json={})
    assert sandbox.requests()[-1] == {"method": "POST", "path": "/api/Spaces-1/releases", "query": "",
                                      "status": None, "fault": "reset"}


def test_the_access_log_has_one_line_per_request_with_method_path_status_and_time() -> None:
    lines: list[str] = []
    server = SandboxServer(port=0, speed=0.005, access_log=lines.append, api_key="API-ACCESSLOG0000000001")
    with server, httpx.Client(base_url=server.url) as http:
        http.get("/api")
        http.get("/api/Spaces-1/environments", params={"take": 1}, headers={"X-Octopus-ApiKey": server.api_key})
        http.get("/api/Spaces-1/projects/Projects-99", params={"apikey": server.api_key})
        http.post("/_sandbox/speed", json={"seconds_per_step": 0.01})
    assert len(lines) == 4
    assert all(LINE.match(line) for line in lines), lines
    assert [line.rsplit(" ", 2)[0] for line in lines] == [
        "GET /api 200", "GET /api/Spaces-1/environments?take=1 200",
        "GET /api/Spaces-1/projects/Projects-99?apikey=%5Bredacted%5D 404", "POST /_sandbox/speed 200"]
    assert not any("API-ACCESSLOG" in line for line in lines)


def test_sandbox_dash_v_prints_the_access_log_on_stderr(spawn) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    process = spawn([sys.executable, "-m", "octorelease.cli", "sandbox", "--port", "0", "-v", "--speed", "0.01"],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    err_lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    reader = threading.Thread(target=lambda: [err_lines.put(line.rstrip("\n")) for line in process.stderr],
                              daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[-1]
        assert url.startswith("http://127.0.0.1:"), url
        assert httpx.get(f"{url}/api").status_code == 200  # the URL is printed once it listens
        # the line is written once the answer is sent: wait for it (with a deadline), then stop
        deadline = time.monotonic() + 20
        while not any(LINE.match(line) for line in seen) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                seen.append(err_lines.get(timeout=0.1))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    reader.join(timeout=5)
    while not err_lines.empty():
        seen.append(err_lines.get())
    access = [line for line in seen if LINE.match(line)]
    assert access and access[0].startswith("GET /api 200 "), seen
