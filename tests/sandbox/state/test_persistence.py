"""State lives in SQLite: a stopped and restarted sandbox has lost nothing."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from octorelease.sandbox.http.server import SandboxServer
from testing.sandbox import SandboxControl


def started(db: Path, **options: Any) -> tuple[SandboxServer, SandboxControl]:
    server = SandboxServer(port=0, db_path=str(db), **options).start()
    return server, SandboxControl(server)


def stop(server: SandboxServer, control: SandboxControl) -> None:
    control.close()
    server.stop()


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    server, control = started(db, speed=0.005)
    release = control.post("/api/Spaces-1/releases/create/v1", {"SpaceIdOrName": "Spaces-1",
                                                                "ProjectName": "Web", "ReleaseNotes": "kept"})
    deployment = control.post("/api/Spaces-1/deployments",
                              {"ReleaseId": release["ReleaseId"], "EnvironmentId": "Environments-1"})
    control.wait_for_task(deployment["TaskId"])
    raw_before = control.call("GET", f"/api/tasks/{deployment['TaskId']}/raw").text
    stop(server, control)

    server, control = started(db, seed="empty")  # the seed applies only to a new database
    try:
        assert control.get(f"/api/Spaces-1/releases/{release['ReleaseId']}")["ReleaseNotes"] == "kept"
        assert control.get(f"/api/Spaces-1/deployments/{deployment['Id']}")["TaskId"] == deployment["TaskId"]
        assert control.get(f"/api/tasks/{deployment['TaskId']}")["State"] == "Success"
        assert control.call("GET", f"/api/tasks/{deployment['TaskId']}/raw").text == raw_before
        assert control.get("/api/Spaces-1/projects")["TotalResults"] == 3
        created = control.post("/api/Spaces-1/releases/create/v1", {"SpaceIdOrName": "Spaces-1", "ProjectName": "Web"})
        assert created["ReleaseId"] == "Releases-7", "ids continue where they stopped"
    finally:
        stop(server, control)


def test_task_executing_when_the_server_stopped_ends_failed(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    server, control = started(db, speed=5)
    task_id = control.post("/api/Spaces-1/deployments",
                           {"ReleaseId": "Releases-1", "EnvironmentId": "Environments-3"})["TaskId"]
    deadline = time.monotonic() + 5
    while control.get(f"/api/tasks/{task_id}")["State"] != "Executing":
        assert time.monotonic() < deadline
        time.sleep(0.005)
    stop(server, control)

    server, control = started(db, speed=0.005)
    try:
        task = control.get(f"/api/tasks/{task_id}")
        assert (task["State"], task["IsCompleted"]) == ("Failed", True)
        assert task["ErrorMessage"] == "The task failed because the Octopus Server was restarted while it was running."
        root = control.get(f"/api/tasks/{task_id}/details")["ActivityLogs"][0]
        assert root["Status"] == "Failed"
        assert all(child["Status"] != "Running" for child in root["Children"])
    finally:
        stop(server, control)


def test_queued_task_runs_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    server, control = started(db, speed=0.005)
    soon = (datetime.now(timezone.utc) + timedelta(seconds=0.3)).isoformat()
    task_id = control.post("/api/Spaces-1/deployments", {
        "ReleaseId": "Releases-1", "EnvironmentId": "Environments-3", "QueueTime": soon})["TaskId"]
    stop(server, control)

    server, control = started(db, speed=0.005)
    try:
        assert control.wait_for_task(task_id)["State"] == "Success"
    finally:
        stop(server, control)


def test_new_database_gets_the_chosen_seed(tmp_path: Path) -> None:
    server, control = started(tmp_path / "empty.db", seed="empty")
    try:
        assert control.get("/api/Spaces-1/projects")["TotalResults"] == 0
        assert [s["Name"] for s in control.get("/api/spaces")["Items"]] == ["Default"]
        assert control.get("/api/Spaces-1/lifecycles")["Items"][0]["Name"] == "Default Lifecycle"
    finally:
        stop(server, control)
