"""Tasks really run: states, timing, cancel, and the logs a waiter reads."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

from testing.sandbox import SandboxControl


def deploy(sandbox: SandboxControl, release_id: str = "Releases-1", environment_id: str = "Environments-3",
           **fields: Any) -> dict[str, Any]:
    created: dict[str, Any] = sandbox.post("/api/Spaces-1/deployments",
                                           {"ReleaseId": release_id, "EnvironmentId": environment_id, **fields})
    return created


def wait_for_state(sandbox: SandboxControl, task_id: str, state: str, timeout: float = 5) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = sandbox.get(f"/api/tasks/{task_id}")
        if task["State"] == state:
            return task
        assert time.monotonic() < deadline, f"{task_id} never reached {state} (still {task['State']})"
        time.sleep(0.005)


def test_task_is_created_queued_with_the_deployment(sandbox: SandboxControl) -> None:
    sandbox.set_speed(1)
    created = deploy(sandbox)
    task = sandbox.get(f"/api/tasks/{created['TaskId']}")
    assert task["State"] in ("Queued", "Executing")
    assert task["Description"] == "Deploy Web release 1.0.0 to Staging"
    assert (task["Name"], task["Arguments"]) == ("Deploy", {"DeploymentId": created["Id"]})
    assert task["Links"]["Self"] == f"/api/tasks/{created['TaskId']}"
    assert created["Links"]["Task"] == f"/api/tasks/{created['TaskId']}"


def test_successful_task_fields_are_consistent(sandbox: SandboxControl) -> None:
    task = sandbox.wait_for_task(deploy(sandbox)["TaskId"])
    assert (task["State"], task["IsCompleted"], task["FinishedSuccessfully"]) == ("Success", True, True)
    assert (task["ErrorMessage"], task["HasWarningsOrErrors"]) == ("", False)
    assert task["StartTime"] and task["CompletedTime"] and task["Duration"].endswith("seconds")


def test_details_have_one_root_with_steps_and_machines_and_stable_ids(sandbox: SandboxControl) -> None:
    sandbox.set_speed(0.05)
    task_id = deploy(sandbox)["TaskId"]
    wait_for_state(sandbox, task_id, "Executing")
    early = sandbox.get(f"/api/tasks/{task_id}/details")
    sandbox.wait_for_task(task_id)
    details = sandbox.get(f"/api/tasks/{task_id}/details")
    (root,) = details["ActivityLogs"]
    assert root["Status"] == "Success" and root["Name"] == "Deploy Web release 1.0.0 to Staging"
    assert [c["Name"] for c in root["Children"]] == ["Acquire packages", "Step 1: Deploy web", "Step 2: Smoke test"]
    assert [m["Name"] for m in root["Children"][1]["Children"]] == ["stage-web-01", "stage-web-02"]
    assert details["Progress"]["ProgressPercentage"] == 100

    def ids(element: dict[str, Any]) -> list[str]:
        return [element["Id"], *(i for child in element["Children"] for i in ids(child))]

    assert ids(early["ActivityLogs"][0]) == ids(root)
    line = root["Children"][1]["Children"][0]["LogElements"][0]
    assert line["Category"] == "Info" and line["MessageText"] == "Deploying Web 1.0.0 to stage-web-01"


def test_raw_log_is_plain_text_with_every_line(sandbox: SandboxControl) -> None:
    task_id = deploy(sandbox)["TaskId"]
    sandbox.wait_for_task(task_id)
    response = sandbox.call("GET", f"/api/tasks/{task_id}/raw")
    assert response.headers["content-type"].startswith("text/plain")
    assert "Downloading package Web 1.0.0 to stage-web-02" in response.text
    assert "== Success: Step 2: Smoke test ==" in response.text


def test_cancel_of_a_queued_task_is_immediate(sandbox: SandboxControl) -> None:
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    task_id = deploy(sandbox, QueueTime=later)["TaskId"]
    assert sandbox.get(f"/api/tasks/{task_id}")["State"] == "Queued"
    canceled = sandbox.post(f"/api/tasks/{task_id}/cancel")
    assert (canceled["State"], canceled["IsCompleted"]) == ("Canceled", True)


def test_cancel_of_an_executing_task_lands_at_the_next_step_boundary(sandbox: SandboxControl) -> None:
    sandbox.set_speed(0.2)
    task_id = deploy(sandbox)["TaskId"]
    wait_for_state(sandbox, task_id, "Executing")
    assert sandbox.post(f"/api/tasks/{task_id}/cancel")["State"] == "Cancelling"
    task = sandbox.wait_for_task(task_id)
    assert task["State"] == "Canceled"
    root = sandbox.get(f"/api/tasks/{task_id}/details")["ActivityLogs"][0]
    assert root["Status"] == "Canceled"
    assert root["Children"][-1]["Status"] == "Canceled"


def test_cancel_also_works_space_scoped(sandbox: SandboxControl) -> None:
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    task_id = deploy(sandbox, QueueTime=later)["TaskId"]
    assert sandbox.post(f"/api/spaces/Spaces-1/tasks/{task_id}/cancel")["State"] == "Canceled"


def test_queue_time_in_the_future_keeps_the_task_queued_until_then(sandbox: SandboxControl) -> None:
    soon = datetime.now(timezone.utc) + timedelta(seconds=0.3)
    task_id = deploy(sandbox, QueueTime=soon.isoformat())["TaskId"]
    assert sandbox.get(f"/api/tasks/{task_id}")["State"] == "Queued"
    task = sandbox.wait_for_task(task_id)
    assert task["State"] == "Success"
    # Octopus's times carry milliseconds: a task started in the very microsecond after ``soon``
    # shows a StartTime that reads a few microseconds before it.
    assert datetime.fromisoformat(task["StartTime"]) >= soon.replace(microsecond=soon.microsecond // 1000 * 1000)


def test_expiry_before_the_queue_time_is_refused(sandbox: SandboxControl) -> None:
    now = datetime.now(timezone.utc)
    response = sandbox.call("POST", "/api/Spaces-1/deployments", json={
        "ReleaseId": "Releases-1", "EnvironmentId": "Environments-3",
        "QueueTime": (now + timedelta(minutes=2)).isoformat(),
        "QueueTimeExpiry": (now + timedelta(minutes=1)).isoformat()})
    assert response.status_code == 400
    assert "will expire before it has a chance to execute" in response.json()["Errors"][0]


def test_task_whose_expiry_has_passed_times_out_instead_of_running(sandbox: SandboxControl) -> None:
    now = datetime.now(timezone.utc)
    task_id = deploy(sandbox, QueueTime=(now - timedelta(minutes=2)).isoformat(),
                     QueueTimeExpiry=(now - timedelta(minutes=1)).isoformat())["TaskId"]
    task = sandbox.wait_for_task(task_id)
    assert (task["State"], task["StartTime"]) == ("TimedOut", None)


def test_task_list_by_ids_and_states_newest_first(sandbox: SandboxControl) -> None:
    listing = sandbox.get("/api/tasks", ids="ServerTasks-1,ServerTasks-4,ServerTasks-3")
    assert [t["Id"] for t in listing["Items"]] == ["ServerTasks-4", "ServerTasks-3", "ServerTasks-1"]
    failed = sandbox.get("/api/Spaces-1/tasks", states="Failed")["Items"]
    assert [t["Id"] for t in failed] == ["ServerTasks-4"]
    assert sandbox.get("/api/Spaces-2/tasks")["TotalResults"] == 0


def test_deployments_to_different_environments_run_at_the_same_time(sandbox: SandboxControl) -> None:
    sandbox.set_speed(0.1)
    first = deploy(sandbox, "Releases-4", "Environments-2")["TaskId"]
    second = deploy(sandbox, "Releases-4", "Environments-3")["TaskId"]
    wait_for_state(sandbox, first, "Executing")
    wait_for_state(sandbox, second, "Executing")


def test_deployments_to_the_same_environment_queue_behind_each_other(sandbox: SandboxControl) -> None:
    sandbox.set_speed(0.1)
    first = deploy(sandbox, "Releases-4", "Environments-2")["TaskId"]
    second = deploy(sandbox, "Releases-4", "Environments-2")["TaskId"]
    wait_for_state(sandbox, first, "Executing")
    assert sandbox.get(f"/api/tasks/{second}")["State"] == "Queued"
    sandbox.set_speed(0.005)
    assert sandbox.wait_for_task(second)["State"] == "Success"


def test_reset_stops_running_tasks(sandbox: SandboxControl) -> None:
    sandbox.set_speed(5)
    task_id = deploy(sandbox)["TaskId"]
    wait_for_state(sandbox, task_id, "Executing")
    started = time.monotonic()
    sandbox.reset()
    assert time.monotonic() - started < 2
    assert sandbox.call("GET", f"/api/tasks/{task_id}").status_code == 404


def test_details_tail_gives_the_last_lines_of_each_element(sandbox: SandboxControl) -> None:
    task_id = sandbox.wait_for_task(deploy(sandbox)["TaskId"])["Id"]

    def counts(details: dict[str, Any]) -> list[int]:
        def walk(element: dict[str, Any]) -> list[int]:
            return [len(element["LogElements"]), *(n for c in element["Children"] for n in walk(c))]
        return walk(details["ActivityLogs"][0])

    whole = sandbox.get(f"/api/tasks/{task_id}/details")
    tailed = sandbox.get(f"/api/tasks/{task_id}/details", tail=1)
    assert max(counts(whole)) > 1
    assert counts(tailed) == [min(n, 1) for n in counts(whole)]
    last = whole["ActivityLogs"][0]["Children"][1]["Children"][0]["LogElements"][-1]
    assert tailed["ActivityLogs"][0]["Children"][1]["Children"][0]["LogElements"] == [last]


def test_last_updated_time_is_never_older_than_the_newest_log_line(sandbox: SandboxControl) -> None:
    """A waiter reads a log only when the task resource says it changed, so every line written
    (a unit's first lines too, as it starts) moves LastUpdatedTime, as Octopus's does."""
    sandbox.set_speed(0.2)
    task_id = deploy(sandbox)["TaskId"]
    deadline = time.monotonic() + 10
    while True:
        details = sandbox.get(f"/api/tasks/{task_id}/details")
        stamps = [entry["OccurredAt"] for step in details["ActivityLogs"][0]["Children"]
                  for element in [step, *step["Children"]] for entry in element["LogElements"]]
        assert details["Task"]["LastUpdatedTime"] >= max(stamps, default=""), details["Task"]["LastUpdatedTime"]
        if details["Task"]["IsCompleted"]:
            return
        assert time.monotonic() < deadline, "the task never completed"


def test_held_tasks_stay_queued_while_one_under_way_runs_to_its_end_and_start_once_released(
    sandbox: SandboxControl,
) -> None:
    sandbox.set_speed(0.05)
    running = deploy(sandbox, "Releases-4", "Environments-2")["TaskId"]
    wait_for_state(sandbox, running, "Executing")
    sandbox.hold_tasks()
    held = deploy(sandbox, "Releases-4", "Environments-3")["TaskId"]  # another slot: free to start at once
    assert sandbox.wait_for_task(running)["State"] == "Success"  # under way when held: it goes on
    assert sandbox.get(f"/api/tasks/{held}")["State"] == "Queued"  # queued all that time
    sandbox.hold_tasks(False)
    assert sandbox.wait_for_task(held)["State"] == "Success"


def test_a_reset_releases_held_tasks(sandbox: SandboxControl) -> None:
    sandbox.hold_tasks()
    sandbox.reset()
    assert sandbox.wait_for_task(deploy(sandbox)["TaskId"])["State"] == "Success"


def test_hold_takes_true_or_false_only(sandbox: SandboxControl) -> None:
    answer = sandbox.call("POST", "/_sandbox/hold", json={"held": "yes"}, key=None)
    assert answer.status_code == 400
    assert any("'held' must be true" in error for error in answer.json()["Errors"])
