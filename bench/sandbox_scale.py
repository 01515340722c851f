"""How the sandbox holds up on a large estate (issue 11, target 4): figures, not a test.

``measure()`` starts ``octorelease sandbox --seed large[:SIZES]`` in a child process (so that its
CPU is its own) and returns ``ScaleFigures``:

* how long the seed took to build and serve (``seed_seconds``) and the server's memory;
* the median answer time of every endpoint the client uses: the GETs that ``promote``,
  ``deploy`` and ``create --deploy-to`` sent on this estate, each replayed ``samples`` times, and
  the POSTs that create releases and deployments, timed as they create (``medians_ms``);
* task polls per second (``GET /api/tasks/{id}`` over 3,000 tasks, several keep-alive
  connections at once);
* the server's CPU while idle, from ``/proc/PID/stat`` over ``idle_seconds`` (Linux only);
* how many entries the request log holds after all that (it must stay bounded).

``python bench/sandbox_scale.py [SEED]`` prints them (SEED: ``large`` by default, or e.g.
``large:environments=200,machines=1000,releases=500,deployments=5000``).
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from octorelease.sandbox.http.service import DEFAULT_API_KEY, REQUEST_LOG_LIMIT
from testing.children import spawn, stop

#: the targets of issue 11 (target 4)
MEDIAN_TARGET_MS = 10.0
POLLS_TARGET = 500.0
IDLE_CPU_TARGET = 2.0
POLLED_TASKS = 3000
_ID = re.compile(r"(?<=/)[A-Za-z]+-\d+(?=/|$)|(?<=/)deploymentprocess-Projects-\d+")
_VERSION = re.compile(r"(?<=/releases/)[^/]+$")
#: every /api request this process sent (``next`` on a count is atomic under the GIL)
_SENT = itertools.count()


@dataclass
class ScaleFigures:
    seed: str
    seed_seconds: float
    #: the server's CPU from its start until it listened: the seed's cost, whatever the load
    seed_cpu_seconds: float
    rss_mib: float
    medians_ms: dict[str, float] = field(default_factory=dict)
    #: the server's own CPU per request of each endpoint (user + system, from /proc): what the
    #: median would be on an idle machine, less the network and the client
    cpu_ms: dict[str, float] = field(default_factory=dict)
    load_average: float = 0.0
    polls_per_second: float = 0.0
    idle_cpu_percent: float = 0.0
    request_log_entries: int = 0
    requests_sent: int = 0

    def rows(self) -> list[tuple[str, str, str, bool | None]]:
        """(figure, value, target, met) for a table; ``met`` None where there is no target."""
        worst = max(self.medians_ms.values(), default=0.0)
        rows: list[tuple[str, str, str, bool | None]] = [
            ("seed build and start", f"{self.seed_seconds:.1f} s (CPU {self.seed_cpu_seconds:.1f} s)", "< 60 s",
             self.seed_seconds < 60),
            ("server memory (RSS)", f"{self.rss_mib:.0f} MiB", "", None),
        ]
        rows += [(f"median {label}", f"{ms:.1f} ms (CPU {self.cpu_ms.get(label, 0):.1f} ms)",
                  f"<= {MEDIAN_TARGET_MS:.0f} ms", ms <= MEDIAN_TARGET_MS)
                 for label, ms in sorted(self.medians_ms.items())]
        rows += [
            ("worst endpoint median", f"{worst:.1f} ms", f"<= {MEDIAN_TARGET_MS:.0f} ms", worst <= MEDIAN_TARGET_MS),
            (f"task polls ({POLLED_TASKS} tasks)", f"{self.polls_per_second:.0f}/s", f">= {POLLS_TARGET:.0f}/s",
             self.polls_per_second >= POLLS_TARGET),
            ("idle CPU", f"{self.idle_cpu_percent:.1f} %", f"<= {IDLE_CPU_TARGET:.0f} %",
             self.idle_cpu_percent <= IDLE_CPU_TARGET),
            ("request log entries", f"{self.request_log_entries} after {self.requests_sent} requests",
             f"<= {REQUEST_LOG_LIMIT}", self.request_log_entries <= REQUEST_LOG_LIMIT),
        ]
        return rows


def label(method: str, path: str) -> str:
    """``GET /api/Spaces-1/releases/Releases-9/deployments/template`` -> ``GET releases/{id}/...``."""
    path = _VERSION.sub("{version}", _ID.sub("{id}", path)) if "/projects/" in path else _ID.sub("{id}", path)
    parts = [p for p in path.split("/") if p and p != "api"]
    if parts[:1] == ["{id}"]:  # the space
        parts = parts[1:]
    return f"{method} {'/'.join(parts) or '/api'}"


class Sandbox:
    """``octorelease sandbox`` in a child process, on a free port."""

    def __init__(self, seed: str, speed: float) -> None:
        started = time.perf_counter()
        self.process = spawn(
            [sys.executable, "-m", "octorelease.cli", "sandbox", "--seed", seed, "--port", "0", "--speed", str(speed)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if "listening on" in line:
                self.url = line.rsplit(" ", 1)[1].strip()
                break
        else:
            raise RuntimeError(f"the sandbox did not start (exit {self.process.wait()})")
        self.seconds = time.perf_counter() - started
        self.start_cpu = self.cpu_seconds()  # building the seed is most of it
        netloc = urlsplit(self.url)
        self.host, self.port = netloc.hostname or "127.0.0.1", netloc.port or 80

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def cpu_seconds(self) -> float:
        """User plus system CPU the server has used, from ``/proc/PID/stat``."""
        with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):  # killed then
            stop(self.process, timeout=10)


def call(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> tuple[int, Any, float]:
    """One request on a kept-alive connection: status, parsed JSON (or None) and seconds taken."""
    headers = {"X-Octopus-ApiKey": DEFAULT_API_KEY, "Content-Type": "application/json"}
    if path.startswith("/api"):
        next(_SENT)
    payload = json.dumps(body) if body is not None else None
    started = time.perf_counter()
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionError):  # the server closed an idle connection
        conn.close()
        started = time.perf_counter()
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
    data = response.read()
    took = time.perf_counter() - started
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    return response.status, parsed, took


def _client_jobs(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Run promote, deploy and create --deploy-to as a user would; the requests they sent."""
    conn = sandbox.connect()
    call(conn, "DELETE", "/_sandbox/requests")
    connect = ["--server", sandbox.url, "--api-key", DEFAULT_API_KEY]
    jobs = [["promote", "--project", "Web", "--from", "Development", "--to", "Test"],
            ["deploy", "--project", "Web", "--release", "1.0.0", "--to", "Staging"],
            ["create", "--project", "Web", "--version", "7.0.0", "--package", "Deploy web=1.3.0",
             "--deploy-to", "Development"]]
    for job in jobs:
        subprocess.run([sys.executable, "-m", "octorelease.cli", *job, *connect], check=True, capture_output=True)
    _, requests, _ = call(conn, "GET", "/_sandbox/requests")
    conn.close()
    return list(requests or [])


def _medians(sandbox: Sandbox, requests: list[dict[str, Any]],
             samples: int) -> tuple[dict[str, float], dict[str, float]]:
    """Replay each GET the client sent ``samples`` times; time the creating POSTs as they create.
    Median milliseconds per endpoint, and the server's CPU milliseconds per request of each."""
    conn = sandbox.connect()
    timings: dict[str, list[float]] = {}
    cpu: dict[str, float] = {}
    for target in sorted({(r["path"], r["query"]) for r in requests if r["method"] == "GET"}):
        path = f"{target[0]}?{target[1]}" if target[1] else target[0]
        before = sandbox.cpu_seconds()
        for _ in range(samples):
            status, _, took = call(conn, "GET", path)
            timings.setdefault(label("GET", target[0]), []).append(took)
        cpu[label("GET", target[0])] = cpu.get(label("GET", target[0]), 0.0) + sandbox.cpu_seconds() - before
    before = sandbox.cpu_seconds()
    for i in range(samples):
        status, release, took = call(conn, "POST", "/api/Spaces-1/releases",
                                     {"ProjectId": "Projects-5", "Version": f"8.0.{i}"})
        timings.setdefault("POST releases", []).append(took)
        if status != 201:
            raise RuntimeError(f"POST releases answered {status}: {release}")
        status, deployment, took = call(conn, "POST", "/api/Spaces-1/deployments",
                                        {"ReleaseId": release["Id"], "EnvironmentId": f"Environments-{7 + i}"})
        timings.setdefault("POST deployments", []).append(took)
        if status != 201:
            raise RuntimeError(f"POST deployments answered {status}: {deployment}")
    cpu["POST releases"] = cpu["POST deployments"] = (sandbox.cpu_seconds() - before) / 2  # the two together
    conn.close()
    medians = {name: statistics.median(values) * 1000 for name, values in timings.items()}
    return medians, {name: 1000 * seconds / len(timings[name]) for name, seconds in cpu.items()}


def _task_ids(sandbox: Sandbox, count: int) -> list[str]:
    conn = sandbox.connect()
    _, page, _ = call(conn, "GET", f"/api/tasks?take={count}")
    conn.close()
    return [t["Id"] for t in page["Items"]]


def _polls_per_second(sandbox: Sandbox, task_ids: list[str], seconds: float, connections: int) -> float:
    done = [0] * connections
    stop = time.perf_counter() + seconds

    def poll(n: int) -> None:
        conn = sandbox.connect()
        i = n
        while time.perf_counter() < stop:
            call(conn, "GET", f"/api/tasks/{task_ids[i % len(task_ids)]}")
            done[n] += 1
            i += connections
        conn.close()

    threads = [threading.Thread(target=poll, args=(n,)) for n in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


def _until_idle(sandbox: Sandbox, deadline_seconds: float = 120) -> None:
    """Wait (with a deadline) until no task is queued or running."""
    conn = sandbox.connect()
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        _, page, _ = call(conn, "GET", "/api/tasks?active=true&take=1")
        if page["TotalResults"] == 0:
            break
        time.sleep(0.2)
    conn.close()


def measure(seed: str = "large", *, samples: int = 15, poll_seconds: float = 3.0, poll_connections: int = 4,
            idle_seconds: float = 10.0, speed: float = 0.01) -> ScaleFigures:
    """Start a sandbox with ``seed`` and measure it (see the module's docstring)."""
    sandbox = Sandbox(seed, speed)
    try:
        figures = ScaleFigures(seed=seed, seed_seconds=sandbox.seconds, seed_cpu_seconds=sandbox.start_cpu,
                               rss_mib=sandbox.rss_mib())
        requests = _client_jobs(sandbox)
        figures.load_average = os.getloadavg()[0]
        figures.medians_ms, figures.cpu_ms = _medians(sandbox, requests, samples)
        ids = _task_ids(sandbox, POLLED_TASKS)
        figures.polls_per_second = _polls_per_second(sandbox, ids, poll_seconds, poll_connections)
        _until_idle(sandbox)
        time.sleep(1)  # let the last task's worker end
        before, started = sandbox.cpu_seconds(), time.perf_counter()
        time.sleep(idle_seconds)
        figures.idle_cpu_percent = 100 * (sandbox.cpu_seconds() - before) / (time.perf_counter() - started)
        conn = sandbox.connect()
        _, log, _ = call(conn, "GET", "/_sandbox/requests")
        conn.close()
        figures.request_log_entries = len(log)
        figures.requests_sent = len(requests) + next(_SENT)
        figures.rss_mib = max(figures.rss_mib, sandbox.rss_mib())
        return figures
    finally:
        sandbox.stop()


def print_figures(figures: ScaleFigures) -> None:
    print(f"Sandbox scale: --seed {figures.seed} ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} CPUs, load average {figures.load_average:.1f})")
    for name, value, target, met in figures.rows():
        mark = "" if met is None else ("  met" if met else "  MISSED")
        print(f"  {name:<58} {value:>22}  {target:<10}{mark}")


if __name__ == "__main__":
    print_figures(measure(sys.argv[1] if len(sys.argv) > 1 else "large"))
