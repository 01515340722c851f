"""Two ``octorelease serve`` replicas on one throwaway PostgreSQL, as a team runs them: 100
deliveries over 10 Octopus projects, one replica killed (SIGKILL) mid-run, and the database
restarted under a run. Every delivery runs exactly once (one release and one deployment in
Octopus each), each project's runs go one at a time in arrival order, the dead replica's run is
resumed by the other within a lease and a poll, and nothing accepted is lost."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from octorelease.serve.app import RETRY_AFTER_SECONDS
from testing.postgres import Cluster
from testing.sandbox import SandboxControl
from testing.serve import ServeClient, ServeProcess

PROJECTS = 10
DELIVERIES = 100
#: Short, so that a dead replica's run is taken over in seconds; the poll, so that a replica sees
#: the other's events soon.
LEASE, POLL = 3.0, 0.2
#: The sandbox's estate: the demo plus ten small projects ("Service 001" ...) on one lifecycle.
SEED = f"large:environments=1,machines=2,releases=1,deployments=0,projects={PROJECTS},tenants=0"
ENVIRONMENT = "Region 0001"


def project(n: int) -> str:
    return f"Service {n:03d}"


def handler_file(tmp_path: Path) -> Path:
    """One handler per project, chosen by the event's ``project`` value: release ``5.0.<number>``,
    deployed to the one bulk environment."""
    lines = ["server: ${OCTOPUS_URL}", "api_key: ${OCTOPUS_API_KEY}", "serve:", "  secrets:",
             "    generic: ${OCTORELEASE_WEBHOOK_SECRET}", "handlers:"]
    for n in range(1, PROJECTS + 1):
        lines += [f"  - name: Ship {project(n)}", f"    project: {project(n)}",
                  "    on: {event: build-completed, status: success}",
                  f'    conditions: ["{{build.project}} == {n}"]',
                  f'    create: {{version: "5.0.{{build.number}}", deploy_to: ["{ENVIRONMENT}"]}}']
    path = tmp_path / "replicas.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def replicas(sandbox: SandboxControl, postgres: Cluster, tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """``start(*flags)``: one more replica on the test's own database; each stopped at the end."""
    sandbox.reset(SEED)
    sandbox.set_speed(0.01)
    url = postgres.new_database()
    handlers = handler_file(tmp_path)
    started: list[ServeProcess] = []

    def start(*flags: str) -> ServeProcess:
        process = ServeProcess(handlers, sandbox, url, "--lease", str(LEASE), "--poll", str(POLL), *flags)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.stop()


def send(client: ServeClient, n: int) -> int:
    """Delivery ``n``: a build of project ``n % 10 + 1``, number ``n``; the run's id."""
    answer = client.event(f"delivery-{n:03d}", project=str(n % PROJECTS + 1), number=str(n), branch="main")
    run_id: int = answer["id"]
    return run_id


def all_runs(client: ServeClient) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = client.http.get("/api/runs", params={"limit": 200}).json()["runs"]
    return sorted(runs, key=lambda run: run["id"])


def all_finished(client: ServeClient) -> list[dict[str, Any]] | None:
    """Every delivery's run, once all of them have finished."""
    runs = all_runs(client)
    return runs if len(runs) == DELIVERIES and all(run["state"] in ("succeeded", "failed") for run in runs) else None


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)
    return found


def octopus_history(sandbox: SandboxControl) -> dict[str, list[dict[str, Any]]]:
    """Per project, the releases this test made (``5.0.*``), oldest first, each with its deployments."""
    history: dict[str, list[dict[str, Any]]] = {}
    for found in sandbox.get("/api/Spaces-1/projects/all"):
        if not found["Name"].startswith("Service "):
            continue
        releases = sandbox.get(f"/api/Spaces-1/projects/{found['Id']}/releases", take=1000)["Items"]
        made = [r for r in releases if r["Version"].startswith("5.0.")]
        for release in made:
            release["deployments"] = sandbox.get(f"/api/Spaces-1/releases/{release['Id']}/deployments",
                                                 take=100)["Items"]
        history[found["Name"]] = sorted(made, key=lambda r: r["Assembled"])
    return history


def assert_each_ran_once_in_order(sandbox: SandboxControl, runs: list[dict[str, Any]]) -> None:
    """Every run succeeded; Octopus has one release and one deployment per delivery; each
    project's runs did not overlap and went in arrival order (releases assembled in that order)."""
    assert len(runs) == DELIVERIES and {run["state"] for run in runs} == {"succeeded"}, \
        [(run["id"], run["state"], run["reason"]) for run in runs if run["state"] != "succeeded"]
    assert len({run["delivery"] for run in runs}) == DELIVERIES
    history = octopus_history(sandbox)
    for n in range(1, PROJECTS + 1):
        numbers = [int(run["values"]["number"]) for run in runs if run["values"]["project"] == str(n)]
        releases = history[project(n)]
        assert [r["Version"] for r in releases] == [f"5.0.{number}" for number in numbers], project(n)
        for release in releases:
            assert len(release["deployments"]) == 1, (release["Version"], release["deployments"])
        mine = [run for run in runs if run["values"]["project"] == str(n)]
        for earlier, later in itertools.pairwise(mine):
            assert later["started_at"] >= earlier["finished_at"], (project(n), earlier["id"], later["id"])


def test_two_replicas_run_each_delivery_once_in_order_and_a_killed_ones_run_resumes_on_the_other(
    replicas: Callable[..., ServeProcess], sandbox: SandboxControl
) -> None:
    first, second = replicas(), replicas()
    for n in range(DELIVERIES):
        send(first.client if n % 2 == 0 else second.client, n)
    tag = f":{first.process.pid}:"

    def firsts_running() -> list[dict[str, Any]]:
        return [run for run in all_runs(second.client) if run["state"] == "running" and tag in (run["replica"] or "")]

    sandbox.set_speed(0.3)  # deployments take seconds now: a run under way is still under way at the kill
    wait_until(firsts_running, 60, "a run under way on the first replica")
    killed_at = time.time()
    first.kill()
    cut_ids = {run["id"] for run in firsts_running()}  # what the dead replica left running, as the database says
    assert cut_ids
    sandbox.set_speed(0.01)

    finished = wait_until(lambda: all_finished(second.client), 180, "every run finished")
    assert_each_ran_once_in_order(sandbox, finished)
    resumed = [run for run in finished if run["id"] in cut_ids]
    for run in resumed:
        assert run["attempts"] == 2 and tag not in run["replica"], run
        assert run["started_at"] - killed_at <= LEASE + POLL + 3.0, (run["id"], run["started_at"] - killed_at)
        assert any("Started again after the service stopped" in line for line in second.client.run(run["id"])["log"])


def test_a_postgresql_restart_mid_run_loses_nothing_and_webhooks_wait_with_retry_after(
    replicas: Callable[..., ServeProcess], sandbox: SandboxControl, postgres: Cluster
) -> None:
    """While the database is down: webhooks 503 with Retry-After (the CI sends them again),
    /healthz 503; after it, every accepted and every re-sent delivery runs exactly once."""
    sandbox.set_speed(0.03)
    first, second = replicas("--lease", "60"), replicas("--lease", "60")  # longer than the outage
    sent = DELIVERIES // 2
    for n in range(sent):
        send(first.client if n % 2 == 0 else second.client, n)
    wait_until(lambda: any(run["state"] == "running" for run in all_runs(first.client)), 60, "a run under way")
    postgres.stop("fast")
    try:
        refused = first.client.send({"event": "build-completed", "status": "success", "delivery": "while-down",
                                     "values": {"project": "1", "number": "999", "branch": "main"}})
        assert refused.status_code == 503 and refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "nothing was recorded" in refused.json()["error"]
        health = httpx.get(second.url + "/healthz", timeout=30)
        assert health.status_code == 503 and "cannot be reached" in health.json()["error"]
        assert "://" in health.json()["error"]  # names the database
    finally:
        postgres.start()
    wait_until(lambda: httpx.get(first.url + "/healthz", timeout=30).status_code == 200, 60, "healthy again")
    for n in range(sent, DELIVERIES):  # the rest, the refused one among them (its own number)
        send(first.client if n % 2 == 0 else second.client, n)
    finished = wait_until(lambda: all_finished(second.client), 180, "every run finished")
    assert_each_ran_once_in_order(sandbox, finished)
