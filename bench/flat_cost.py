"""Flat cost: promote, deploy and create on the demo and on the large estate, side by side.

For each command it prints the requests sent, the bytes downloaded (response bodies as they
came over the wire) and the wall time (median of several runs), on the demo seed and on the
large seed (``--seed large``: 2,000 environments, 10,000 machines, 5,000 releases, 50,000
deployments by default), and their ratios. The targets (issue 11): the same number of requests,
at most 2x the bytes, at most 1.5x the wall time.

Commands queue and return (no waiting: what waiting costs is measured apart), and each run
deploys for real (promote with ``redeploy``, create with a new version), so every run does the
same work. Run with ``python bench/flat_cost.py [--runs N] [--large SIZES]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from octorelease.actions.plan import WaitOptions
from octorelease.client import Octopus
from octorelease.sandbox.http.server import SandboxServer

NO_WAIT = WaitOptions(wait=False)


@dataclass
class Cost:
    requests: int
    bytes: int
    seconds: float


def commands() -> dict[str, Callable[[Octopus, int], Any]]:
    """What is measured: run ``n`` of each (a fresh version for create)."""
    return {
        "promote Web Test -> Staging": lambda o, n: o.promote(
            "Web", source="Test", to=["Staging"], redeploy=True, wait=NO_WAIT
        ),
        "deploy Web latest -> Development, one machine": lambda o, n: o.deploy(
            "Web", release="latest", to=["Development"], machines=["dev-web-01"], wait=NO_WAIT
        ),
        "create Web": lambda o, n: o.create("Web", version=f"7.0.{n}", default_package_version="1.3.0"),
        "create Web --deploy-to Development": lambda o, n: o.create(
            "Web", version=f"8.0.{n}", default_package_version="1.3.0", deploy_to=["Development"], wait=NO_WAIT
        ),
    }


def measure(server: SandboxServer, command: Callable[[Octopus, int], Any], runs: int) -> Cost:
    control = httpx.Client(base_url=server.url)
    costs = []
    for n in range(runs):
        responses: list[httpx.Response] = []
        control.delete("/_sandbox/requests")
        started = time.perf_counter()
        with Octopus(server.url, server.api_key) as octopus:
            octopus.http._client.event_hooks["response"].append(responses.append)  # counting only
            result = command(octopus, n)
        seconds = time.perf_counter() - started
        assert result.ok, result.error
        sent = len(control.get("/_sandbox/requests").json())
        costs.append(Cost(sent, sum(r.num_bytes_downloaded for r in responses), seconds))
    control.close()
    return Cost(costs[-1].requests, costs[-1].bytes, statistics.median(c.seconds for c in costs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--large", default="large", help="the large seed, e.g. large:environments=2000")
    args = parser.parse_args()
    print(f"{'command':48} {'requests':>15} {'bytes':>24} {'wall ms (median)':>24}")
    with SandboxServer(port=0, speed=0.001, seed="demo") as demo, \
            SandboxServer(port=0, speed=0.001, seed=args.large) as large:
        for name, command in commands().items():
            small, big = measure(demo, command, args.runs), measure(large, command, args.runs)
            print(
                f"{name:48} {small.requests:>4} -> {big.requests:<4} {big.requests / small.requests:4.2f}x"
                f" {small.bytes:>8} -> {big.bytes:<8} {big.bytes / small.bytes:4.2f}x"
                f" {small.seconds * 1000:>7.0f} -> {big.seconds * 1000:<7.0f} {big.seconds / small.seconds:4.2f}x"
            )


if __name__ == "__main__":
    main()
