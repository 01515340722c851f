"""How soon octorelease sees a task end, and what its wait costs: figures, not a test.

Run with ``PYTHONPATH=. .venv/bin/python bench/detection.py [--short-runs N] [--long-runs N]
[--long SECONDS]``. From another script: ``detection(server, task_seconds, runs, name)`` on a
started ``SandboxServer`` returns a ``Detection`` (``median``, ``p95``, ``per_second``, ``line()``).

Each run deploys Worker 2.0.0 to its four environments at once (four tasks, one wait; package
download and redeploy forced, so each task is two units of ``speed`` seconds) through the Python
API, against a sandbox in this process, so the server's ``CompletedTime`` and our clock are the
same clock. A task's *detection latency* is the time from its ``CompletedTime`` to the moment
octorelease tells its verdict (``Observer.task_updated`` with the final state): every task of
every run is one sample. The sandbox's speed varies by +/-20 % from run to run (seeded), so the
previous deployment's duration, which the wait uses to look just after the expected end, is a
guess as it is on a real server, and the first run of each class has only the seed's history
(minutes-long tasks) to go by.

Also printed per class: requests a second over the waits (task polls and log reads, from the
sandbox's request log) with logs on, as the command line defaults.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
from dataclasses import dataclass

from octorelease import Octopus
from octorelease.actions.plan import WaitOptions
from octorelease.octopus.models import parse_time
from octorelease.sandbox.http.server import SandboxServer
from testing.sandbox import SandboxControl
from testing.timeline import Timeline, wait_requests

TARGETS = ["Development", "Test", "Staging", "Production"]
UNITS = 2  # download, deploy: a task lasts UNITS * speed seconds
JITTER = 0.2


@dataclass
class Detection:
    """The figures of one class of tasks."""

    name: str
    task_seconds: float
    latencies: list[float]
    requests: int
    waited: float

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def per_second(self) -> float:
        return self.requests / self.waited

    def line(self) -> str:
        return (
            f"{self.name:<6} tasks of ~{self.task_seconds:g} s: detection median {self.median:.3f} s, "
            f"p95 {self.p95:.3f} s, max {max(self.latencies):.3f} s over {len(self.latencies)} tasks; "
            f"wait {self.per_second:.2f} requests/s with logs ({self.requests} in {self.waited:.1f} s)"
        )


def one_run(control: SandboxControl, speed: float, log: bool = True) -> tuple[list[float], int, float]:
    """Deploy to the four targets and follow them; the latency of each, requests, seconds waited."""
    control.set_speed(speed)
    control.clear_requests()
    timeline = Timeline()
    with Octopus(control.url, control.api_key, observer=timeline) as octopus:
        result = octopus.deploy(
            "Worker", release="2.0.0", to=TARGETS, wait=WaitOptions(log=log),
            force_package_download=True, force_redeploy=True,
        )
    if not result.ok:
        raise SystemExit(f"the deployment failed: {result.error}")
    sent = len(wait_requests(control.requests()))
    latencies = []
    for deployment in result.deployments:
        task = control.get(f"/api/tasks/{deployment.task_id}")
        completed = parse_time(task["CompletedTime"])
        assert completed is not None
        latencies.append(timeline.told_at[deployment.task_id or ""] - completed.timestamp())
    return latencies, sent, timeline.waited


def detection(server: SandboxServer, task_seconds: float, runs: int, name: str, seed: int = 11) -> Detection:
    """``runs`` waits of four tasks of about ``task_seconds`` each (+/- JITTER), on a fresh demo."""
    control = SandboxControl(server)
    rng = random.Random(seed)
    try:
        control.reset("demo")
        latencies: list[float] = []
        requests, waited = 0, 0.0
        for _ in range(runs):
            speed = task_seconds / UNITS * rng.uniform(1 - JITTER, 1 + JITTER)
            found, sent, seconds = one_run(control, speed)
            latencies += found
            requests += sent
            waited += seconds
        return Detection(name, task_seconds, latencies, requests, waited)
    finally:
        control.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=float, default=1.0, help="seconds a short task takes")
    parser.add_argument("--short-runs", type=int, default=10)
    parser.add_argument("--long", type=float, default=20.0, help="seconds a long task takes")
    parser.add_argument("--long-runs", type=int, default=4)
    args = parser.parse_args()
    print(f"{platform.machine()} {platform.python_version()} {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    with SandboxServer(port=0) as server:
        print(detection(server, args.short, args.short_runs, "short").line(), flush=True)
        print(detection(server, args.long, args.long_runs, "long").line(), flush=True)


if __name__ == "__main__":
    main()
