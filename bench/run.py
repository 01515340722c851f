"""Benchmarks that print figures (not tests): start-up time and the cost of a promotion.

Run with ``make bench``. It starts the sandbox on a free port, then measures:

* how long ``octorelease --help`` takes in a fresh interpreter (median of several runs);
* for a promotion to 1 and to 3 environments with waiting: wall time, requests sent by kind,
  and how many task-poll cycles were needed (each cycle is ONE request for all tasks);
* the promotion to 3 environments again through a flaky sandbox (``--faults``, seeded), with the
  default retry policy: requests sent, faults met, retries, and the price in time.
"""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import time
from collections import Counter

import httpx

from octorelease import Octopus
from octorelease.actions.plan import WaitOptions
from octorelease.sandbox.server import SandboxServer


def startup_seconds(runs: int = 7) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "octorelease.cli", "--help"], check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def request_kind(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("Spaces-")]
    if len(parts) >= 2 and parts[1] in ("tasks",) and len(parts) > 3:
        return "tasks/{id}/" + parts[3]
    return "/".join(parts[1:3]) if len(parts) > 1 else path


def promote_cost(server: SandboxServer, targets: list[str]) -> None:
    control = httpx.Client(base_url=server.url)
    control.post("/_sandbox/reset", json={"seed": "demo"})
    control.post("/_sandbox/speed", json={"seconds_per_step": 0.05})
    control.delete("/_sandbox/requests")
    started = time.perf_counter()
    with Octopus(server.url, server.api_key) as octopus:
        result = octopus.promote("Worker", source="Development", to=targets, wait=WaitOptions(log=False))
    elapsed = time.perf_counter() - started
    requests = control.get("/_sandbox/requests").json()
    kinds = Counter(request_kind(r["path"]) for r in requests)
    polls = kinds.get("tasks", 0)
    print(
        f"promote to {len(targets)} environment(s): ok={result.ok} in {elapsed:.2f}s, "
        f"{len(requests)} requests ({len(requests) - polls} + {polls} poll cycles)"
    )
    for kind, count in sorted(kinds.items()):
        print(f"    {count:3d}  {kind}")


#: Some of every kind of fault, at rates a bad day might bring; seeded, so every run meets the same.
FLAKY = "503:0.1,429:0.05,reset:0.05,lost:0.05,seed=7"


class RetryCounter(logging.Handler):
    """Counts the client's retries (``octopus/http.py`` logs each one in one place)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.retries += record.getMessage().startswith("retrying ")


def promote_through_faults(server: SandboxServer, targets: list[str], spec: str) -> None:
    control = httpx.Client(base_url=server.url)
    control.post("/_sandbox/reset", json={"seed": "demo"})
    control.post("/_sandbox/speed", json={"seconds_per_step": 0.05})
    control.delete("/_sandbox/requests")
    control.post("/_sandbox/faults/http", json={"spec": spec}).raise_for_status()
    counter = RetryCounter()
    http_log = logging.getLogger("octorelease.http")
    http_log.addHandler(counter)
    http_log.setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        with Octopus(server.url, server.api_key) as octopus:
            result = octopus.promote("Worker", source="Development", to=targets, wait=WaitOptions(log=False))
    finally:
        http_log.removeHandler(counter)
    elapsed = time.perf_counter() - started
    requests = control.get("/_sandbox/requests").json()
    control.delete("/_sandbox/faults/http")
    faults = Counter(r["fault"] for r in requests if "fault" in r)
    listed = control.get("/api/Spaces-1/deployments", params={"projects": "Projects-2", "take": 100},
                         headers={"X-Octopus-ApiKey": server.api_key}).json()["Items"]
    created = sum(d["EnvironmentId"] != "Environments-1" for d in listed)  # Development had one already
    posts = sum(r["method"] == "POST" and r["path"].endswith("/deployments") for r in requests)
    print(
        f"promote to {len(targets)} environment(s) with --faults {spec}: ok={result.ok} in {elapsed:.2f}s, "
        f"{len(requests)} requests, {sum(faults.values())} faults met "
        f"({', '.join(f'{k} {v}' for k, v in sorted(faults.items()))}), {counter.retries} retries by the "
        f"HTTP layer, {posts - len(targets)} POSTs sent again after a look, {created} deployments created"
    )


def main() -> None:
    print(f"octorelease --help: median {startup_seconds() * 1000:.0f} ms over 7 runs")
    with SandboxServer(port=0, speed=0.05) as server:
        promote_cost(server, ["Test"])
        promote_cost(server, ["Test", "Staging", "Production"])
        promote_through_faults(server, ["Test", "Staging", "Production"], FLAKY)


if __name__ == "__main__":
    main()
