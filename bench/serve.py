"""What ``octorelease serve`` takes in and how soon it acts: figures for docs/guides/serve.md and
docs/benchmarks.md; run with ``PYTHONPATH=. .venv/bin/python bench/serve.py``.

The service runs as its own process (``octorelease serve``), the sandbox in this one, and every
webhook is a signed generic event over HTTP on 127.0.0.1. Three set-ups, one after the other on
the same machine: one replica on its SQLite file (the default), one replica on PostgreSQL, and two
replicas sharing that PostgreSQL (a throwaway cluster, ``testing/postgres.py``; skipped, saying
why, without one). With two replicas the clients alternate between them, so half the events are
run by the replica that did not accept them (it sees them at its next ``--poll``, 1 s).

1. Accepted per second: BURST events, each a new delivery, sent by CLIENTS threads with
   keep-alive connections; every answer must be 202. The events select no handler, so the
   worker's share is its bookkeeping, not Octopus's work.
2. Webhook to handler start: SINGLE events one after the other on an idle service, each
   selecting one handler (a deployment of Worker 2.0.0 to Test). Two figures: accepted to the
   run started (the store's timestamps, per run), and accepted to the first handler started
   (``octorelease_serve_start_delay_seconds`` from /metrics, summed over the replicas: its
   mean, and the bucket that holds the 95th percentile).
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

from octorelease.sandbox.http.server import SandboxServer
from testing import postgres
from testing.sandbox import SandboxControl
from testing.serve import HANDLERS, ServeClient, ServeProcess

BURST = 1000
CLIENTS = 8
SINGLE = 30


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def burst(urls: list[str]) -> tuple[float, list[float]]:
    """Seconds to get BURST events accepted (the clients spread over ``urls``), and each request's latency."""
    latencies: list[float] = []
    lock = threading.Lock()

    def send(offset: int) -> None:
        client = ServeClient(urls[offset % len(urls)])
        mine = []
        for n in range(offset, BURST, CLIENTS):
            started = time.perf_counter()
            client.event(f"burst-{n}", branch="feature", number=str(n))
            mine.append(time.perf_counter() - started)
        client.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=send, args=(offset,)) for offset in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies


def handler_start_histogram(clients: list[ServeClient]) -> tuple[float, str]:
    """Mean seconds from accepted to first handler started, and the bucket holding the 95th
    percentile, over every replica's histogram."""
    total = count = 0.0
    buckets: dict[str, float] = {}
    for client in clients:
        text = client.http.get("/metrics").text
        total += float(re.search(r"^octorelease_serve_start_delay_seconds_sum (\S+)$", text, re.M)[1])  # type: ignore[index]
        count += float(re.search(r"^octorelease_serve_start_delay_seconds_count (\S+)$", text, re.M)[1])  # type: ignore[index]
        for m in re.finditer(r'^octorelease_serve_start_delay_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M):
            buckets[m[1]] = buckets.get(m[1], 0.0) + float(m[2])
    p95 = next(le for le, seen in buckets.items() if seen >= 0.95 * count)
    return total / count, p95


def measure(label: str, services: list[ServeProcess]) -> None:
    """Both figures for one set-up: the burst, then single events on the idle service(s)."""
    clients = [service.client for service in services]
    seconds, latencies = burst([client.url for client in clients])
    print(f"{label}: accepted {BURST} events from {CLIENTS} clients in {seconds:.2f} s = {BURST / seconds:.0f} "
          f"events/s; answer median {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms")
    deadline = time.monotonic() + 300
    while clients[0].http.get("/healthz").json()["queued"] and time.monotonic() < deadline:
        time.sleep(0.1)
    picked: list[float] = []
    for n in range(SINGLE):
        client = clients[n % len(clients)]
        run = client.wait(client.event(f"single-{n}", branch="release")["id"], timeout=60)
        assert run["state"] == "succeeded", run
        picked.append(run["started_at"] - run["received_at"])
    mean, p95_bucket = handler_start_histogram(clients)
    print(f"{label}: accepted to run started ({SINGLE} runs, idle service): "
          f"median {statistics.median(picked) * 1000:.1f} ms, p95 {percentile(picked, 0.95) * 1000:.1f} ms, "
          f"max {max(picked) * 1000:.1f} ms")
    print(f"{label}: accepted to first handler started: mean {mean * 1000:.1f} ms, "
          f"p95 <= {float(p95_bucket) * 1000:.0f} ms (histogram bucket)")


def main() -> None:
    print(f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    folder = Path(tempfile.mkdtemp(prefix="octorelease-bench-serve-"))
    handlers = folder / "handlers.yml"
    handlers.write_text(HANDLERS, encoding="utf-8")
    why = postgres.missing()
    cluster = None if why else postgres.Cluster().start()
    try:
        with SandboxServer(port=0, speed=0.005) as server:
            control = SandboxControl(server)
            setups: list[tuple[str, list[str | Path]]] = [("SQLite, 1 replica", [folder / "serve.db"])]
            if cluster is not None:
                one, two = cluster.new_database(), cluster.new_database()
                setups += [("PostgreSQL, 1 replica", [one]), ("PostgreSQL, 2 replicas", [two, two])]
            else:
                print(f"PostgreSQL: skipped ({why})")
            for label, databases in setups:
                control.reset("demo")
                services = [ServeProcess(handlers, control, db) for db in databases]
                try:
                    measure(label, services)
                finally:
                    for service in services:
                        service.stop()
            control.close()
    finally:
        if cluster is not None:
            cluster.destroy()


if __name__ == "__main__":
    main()
