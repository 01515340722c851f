"""``GET /metrics``: what the service has done, in Prometheus's text format (prometheus_client).

- ``octorelease_serve_events_total{source, result}``: webhook requests by source and what became
  of them (accepted, duplicate, ignored, unauthorized, too_large, bad_payload, not_served,
  unavailable: the store could not write);
- ``octorelease_serve_runs{state}``: runs in each state, read from the store when scraped, so it
  survives a restart;
- ``octorelease_serve_run_duration_seconds{state}``: how long finished runs took;
- ``octorelease_serve_start_delay_seconds``: from a webhook's acceptance to its run's first
  handler starting (runs that select no handler are not counted).

Each service has its own registry (not prometheus_client's global one), so several services in
one process (the tests) do not share counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from octorelease.serve.store import STATES, Run, Store, StoreUnavailable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

RESULTS = ("accepted", "duplicate", "ignored", "unauthorized", "too_large", "bad_payload", "not_served",
           "unavailable")

#: Runs last from a blink (nothing selected) to many minutes (waiting for deployments).
_DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, float("inf"))
_DELAY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, float("inf"))


class _RunsByState(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("octorelease_serve_runs", "Runs by state, from the store.", labels=["state"])
        try:
            counts = self.store.counts()
        except StoreUnavailable:  # the database cannot be reached: no family, /healthz says why
            return
        for state, count in counts.items():
            family.add_metric([state], count)
        yield family

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("octorelease_serve_runs", "Runs by state, from the store.", labels=["state"])


class Metrics:
    """The service's metrics; the app and the worker report to it."""

    def __init__(self, store: Store, sources: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "octorelease_serve_events", "Webhook requests by source and result.", ["source", "result"],
            registry=self.registry,
        )
        self.durations = Histogram(
            "octorelease_serve_run_duration_seconds", "How long finished runs took.", ["state"],
            buckets=_DURATION_BUCKETS, registry=self.registry,
        )
        self.start_delay = Histogram(
            "octorelease_serve_start_delay_seconds", "From a webhook accepted to its first handler started.",
            buckets=_DELAY_BUCKETS, registry=self.registry,
        )
        self.registry.register(_RunsByState(store))
        for source in sources:  # every series a dashboard may plot exists from the start, at 0
            for result in RESULTS:
                self.events.labels(source, result)
        for state in STATES:
            if state in ("succeeded", "failed"):
                self.durations.labels(state)

    def event(self, source: str, result: str) -> None:
        self.events.labels(source, result).inc()

    def handler_started(self, run: Run, at: float) -> None:
        """A run's first handler starts: the time from its webhook, once (not for a resumed attempt)."""
        if run.attempts == 1:
            self.start_delay.observe(max(0.0, at - run.received_at))

    def finished(self, run: Run) -> None:
        if run.started_at is not None and run.finished_at is not None:
            self.durations.labels(run.state).observe(max(0.0, run.finished_at - run.started_at))

    def render(self) -> bytes:
        return generate_latest(self.registry)
