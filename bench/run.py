"""Benchmarks that print figures (not tests): start-up time and the cost of a promotion.

Run with ``make bench``. It starts the sandbox on a free port, then measures:

* how long ``octorelease --help`` takes in a fresh interpreter (median of several runs);
* for a promotion to 1 and to 3 environments with waiting: wall time, requests sent by kind,
  and how many task-poll cycles were needed (each cycle is ONE request for all tasks).
"""

from __future__ import annotations

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


def main() -> None:
    print(f"octorelease --help: median {startup_seconds() * 1000:.0f} ms over 7 runs")
    with SandboxServer(port=0, speed=0.05) as server:
        promote_cost(server, ["Test"])
        promote_cost(server, ["Test", "Staging", "Production"])


if __name__ == "__main__":
    main()
