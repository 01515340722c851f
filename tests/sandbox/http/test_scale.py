"""What keeps the sandbox fast on a large estate: indexed lookups that answer as a scan would, a
scheduler that sleeps while nothing is due, and a bounded request log. (Speed itself is measured
by ``bench/sandbox_scale.py``, not here.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from octorelease.sandbox.estate.seed_large import LargeEstate
from octorelease.sandbox.http.service import Sandbox
from octorelease.sandbox.rules.requests import DeploymentRequest
from octorelease.sandbox.state.entities import Deployment, Environment, Machine, Release, Task
from octorelease.sandbox.state.state import UNLIMITED, select

SIZE = LargeEstate(environments=12, machines=36, releases=30, deployments=240, projects=3, tenants=6)


@pytest.fixture
def large() -> Iterator[Sandbox]:
    sandbox = Sandbox(seed=SIZE)
    yield sandbox
    sandbox.close()


def test_deployment_filters_answer_as_a_scan_of_every_deployment_would(large: Sandbox) -> None:
    backend = large.backend
    every = list(reversed(backend.all(Deployment, "Spaces-1")))
    project, environment = every[5].project_id, every[5].environment_id
    cases = [
        ({"projects": [project]}, lambda d: d.project_id == project),
        ({"environments": [environment.upper()]}, lambda d: d.environment_id == environment),
        ({"projects": [project, "Projects-1"], "environments": [environment, "Environments-1"]},
         lambda d: d.project_id in (project, "Projects-1") and d.environment_id in (environment, "Environments-1")),
        ({"ids": [every[3].id.lower(), every[9].id]}, lambda d: d.id in (every[3].id, every[9].id)),
        ({"task_states": ["failed"], "projects": [project]},
         lambda d: d.project_id == project and backend.get(Task, None, d.task_id).state == "Failed"),
    ]
    for filters, keep in cases:
        assert backend.deployments("Spaces-1", **filters) == [d for d in every if keep(d)], filters  # type: ignore[arg-type]
    release = every[0].release_id
    assert backend.deployments("Spaces-1", release_id=release) == [d for d in every if d.release_id == release]


def test_task_filters_answer_as_a_scan_of_every_task_would(large: Sandbox) -> None:
    backend = large.backend
    every = list(reversed(backend.all(Task)))
    with backend.lock:
        deployment = backend.create_deployment("Spaces-1", DeploymentRequest(
            "Releases-1", "Environments-3", queue_time=backend.clock() + timedelta(hours=1)), UNLIMITED)
    queued = backend.require(Task, None, deployment.task_id)
    every.insert(0, queued)
    assert backend.tasks(None, active=True) == [queued]
    assert backend.tasks(None, states=["queued", "executing"]) == [queued]
    assert backend.tasks(None, active=False) == every[1:]
    assert backend.tasks(None, states=["Failed"]) == [t for t in every if t.state == "Failed"]
    assert backend.tasks("Spaces-1", project="Projects-1") == [
        t for t in every if backend.deployment_of(t).project_id == "Projects-1"]
    assert backend.tasks(None, ids=[every[4].id.upper(), every[2].id]) == [every[2], every[4]]
    backend.cancel_task(None, queued.id)
    assert backend.tasks(None, active=True) == []  # the index follows the state


def test_names_ids_and_relations_follow_every_change(large: Sandbox) -> None:
    backend = large.backend
    machine = backend.find(Machine, "Spaces-1", "bulk-web-00007")
    assert machine is not None and backend.find(Machine, "Spaces-1", machine.id.lower()) is machine
    environment = backend.require(Environment, None, machine.environment_ids[0])
    assert machine in backend.machines_in(environment.id)
    backend.rename("Spaces-1", "machine", "bulk-web-00007", "Renamed Target")
    assert backend.find(Machine, "Spaces-1", "bulk-web-00007") is None
    assert backend.find(Machine, "Spaces-1", "renamed-target") is machine
    machine.environment_ids = ["Environments-1"]
    backend.put(machine)
    assert machine not in backend.machines_in(environment.id)
    assert machine in backend.machines_in("Environments-1")
    release = backend.release_of("Projects-1", " 1.1.0 ")
    assert release is not None and release.version == "1.1.0"
    assert backend.get(Release, "Spaces-2", release.id) is None  # another space's id is not found
    backend.remove(machine)
    assert backend.find(Machine, "Spaces-1", "renamed-target") is None
    assert machine not in backend.machines_in("Environments-1")


def test_the_request_log_keeps_only_the_newest_requests() -> None:
    sandbox = Sandbox(seed="empty", request_log_limit=3)
    try:
        for n in range(5):
            sandbox.answered(sandbox.record("GET", f"/api/{n}", "", None), 200, 0.001)
        assert [r["path"] for r in sandbox.requests] == ["/api/2", "/api/3", "/api/4"]
    finally:
        sandbox.close()


def test_list_filters_by_index_keep_what_a_scan_keeps(large: Sandbox) -> None:
    backend = large.backend
    machines = backend.all(Machine, "Spaces-1")
    for filters in ({"name": " BULK-WEB-00003 "}, {"ids": ["machines-20", "Machines-3", "Machines-999"]},
                    {"partial_name": "web-0001"}, {"name": "bulk-web-00003", "ids": ["Machines-1"]}, {}):
        assert backend.named(Machine, "Spaces-1", **filters) == select(machines, **filters), filters  # type: ignore[arg-type]
    within = backend.machines_in_any("Spaces-1", ["environments-8", "Environments-9", "Environments-404"])
    assert within == [m for m in machines if {"Environments-8", "Environments-9"} & set(m.environment_ids)]
    assert backend.named(Machine, "Spaces-1", partial_name="00", within=within) == select(within, partial_name="00")
    assert backend.named(Machine, "Spaces-2", name="bulk-web-00003") == []
