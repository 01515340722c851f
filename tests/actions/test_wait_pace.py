"""What a wait costs the server and how soon it sees a task end, measured on the sandbox.

The request log of the sandbox counts every request; the wait is timed from the moment the
last deployment was queued to the moment the last verdict was told, by an observer that
notes when it hears things (``testing/timeline.py``)."""

from __future__ import annotations

from typing import Any

from octorelease import Octopus
from octorelease.actions.plan import WaitOptions
from testing.timeline import Timeline, wait_requests

WORKER_TARGETS = ["Development", "Test", "Staging", "Production"]


def _wait_requests(sandbox: Any) -> list[dict[str, Any]]:
    return wait_requests(sandbox.requests())


def _deploy_worker(sandbox: Any, timeline: Timeline, *, log: bool) -> Any:
    with Octopus(sandbox.url, sandbox.api_key, observer=timeline) as octopus:
        return octopus.deploy("Worker", release="2.0.0", to=WORKER_TARGETS, wait=WaitOptions(log=log),
                              force_package_download=True, force_redeploy=True)


def test_four_tasks_with_logs_cost_at_most_two_requests_a_second_and_every_line_arrives(sandbox):
    sandbox.set_speed(3)  # two units a task (download, deploy): each runs about 6 s, all at once
    timeline = Timeline()
    result = _deploy_worker(sandbox, timeline, log=True)
    assert result.ok, result.error
    requests = _wait_requests(sandbox)
    reads = [r for r in requests if r["path"].endswith("/details")]
    # Before: every poll read every running task's whole log, 4 tasks = 5 requests a poll.
    assert len(requests) <= 2 + 2 * timeline.waited, (len(requests), len(reads), timeline.waited)
    for environment in WORKER_TARGETS:
        assert any("downloaded to" in line for line in timeline.lines[environment]), timeline.lines
        assert any("Successfully deployed" in line for line in timeline.lines[environment]), timeline.lines


def test_without_logs_a_wait_costs_at_most_one_poll_a_second_for_all_tasks(sandbox):
    sandbox.set_speed(1.5)
    timeline = Timeline()
    result = _deploy_worker(sandbox, timeline, log=False)
    assert result.ok, result.error
    requests = _wait_requests(sandbox)
    assert all(r["path"] == "/api/Spaces-1/tasks" for r in requests), requests
    assert 2 <= len(requests) <= 2 + timeline.waited, (len(requests), timeline.waited)
    assert all(len(r["query"].split("%2C")) == len(WORKER_TARGETS) for r in requests[:1]), requests


def test_a_log_is_read_only_when_the_task_says_it_changed(sandbox):
    """Worker to Test: two units of 2.5 s; its log changes only at their edges, so the log is
    read at most once a change (the first edge, the second, the end) while polls go on."""
    sandbox.set_speed(2.5)
    timeline = Timeline()
    with Octopus(sandbox.url, sandbox.api_key, observer=timeline) as octopus:
        result = octopus.deploy("Worker", release="2.0.0", to=["Test"], wait=WaitOptions(log=True))
    assert result.ok, result.error
    requests = _wait_requests(sandbox)
    polls = [r for r in requests if r["path"] == "/api/Spaces-1/tasks"]
    reads = [r for r in requests if r["path"].endswith("/details")]
    assert len(polls) >= 4, polls  # the wait did look often enough to read more, had it wanted
    assert 1 <= len(reads) <= 3, [r["path"] for r in requests]
    assert all("tail=" in r["query"] for r in reads[1:]), reads  # after the first, the new end only
    task_id = result.deployments[0].task_id
    details = sandbox.get(f"/api/tasks/{task_id}/details")
    every_line = [
        entry["MessageText"]
        for step in details["ActivityLogs"][0]["Children"]
        for element in [step, *step["Children"]]
        for entry in element["LogElements"]
    ]
    assert timeline.lines["Test"] == every_line


def test_deploy_and_wait_polls_once_for_a_task_done_by_the_first_look(sandbox):
    """The whole job, one release to one environment: the setup the plan needs, the POST, and
    one poll (the first comes a tenth of a second in; a sandbox task is done by then)."""
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        result = octopus.deploy("Worker", release="2.0.0", to=["Test"], wait=WaitOptions(log=False))
    assert result.ok, result.error
    requests = sandbox.requests()
    assert [r["path"] for r in requests if r["path"].endswith("/tasks")] == ["/api/Spaces-1/tasks"]
    assert len(requests) <= 10, [(r["method"], r["path"]) for r in requests]
