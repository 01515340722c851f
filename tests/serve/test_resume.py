"""Kill -9 ``octorelease serve`` during a run, start it again: no event lost, nothing made twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testing.sandbox import SandboxControl
from testing.serve import HANDLERS, ServeProcess


@pytest.fixture
def handlers(tmp_path: Path) -> Path:
    path = tmp_path / "handlers.yml"
    path.write_text(HANDLERS, encoding="utf-8")
    return path


@pytest.fixture
def processes() -> Iterator[list[ServeProcess]]:
    started: list[ServeProcess] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.kill()


def environment_ids(sandbox: SandboxControl) -> dict[str, str]:
    return {e["Name"]: e["Id"] for e in sandbox.get("/api/Spaces-1/environments/all")}


def web_release(sandbox: SandboxControl, version: str) -> list[dict[str, Any]]:
    web = next(p for p in sandbox.get("/api/Spaces-1/projects/all") if p["Name"] == "Web")
    releases: list[dict[str, Any]] = sandbox.get(f"/api/Spaces-1/projects/{web['Id']}/releases", take=100)["Items"]
    return [r for r in releases if r["Version"] == version]


def deployments_of(sandbox: SandboxControl, release_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = sandbox.get(f"/api/Spaces-1/releases/{release_id}/deployments", take=100)["Items"]
    return items


def wait_for_executing(sandbox: SandboxControl, environment_id: str, process: ServeProcess,
                       timeout: float = 30) -> str:
    """The id of a deployment to ``environment_id`` whose task is Executing, once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.process.poll() is None, process.process.communicate()
        for task in sandbox.get("/api/tasks", states="Executing")["Items"]:
            deployment_id = (task.get("Arguments") or {}).get("DeploymentId")
            if deployment_id and sandbox.get(f"/api/deployments/{deployment_id}")["EnvironmentId"] == environment_id:
                return str(deployment_id)
        time.sleep(0.02)
    raise AssertionError(f"no deployment to {environment_id} was Executing within {timeout} s")


@pytest.mark.parametrize("killed_in", ["Development", "Test"])
def test_a_run_killed_during_a_deployment_resumes_after_a_restart_and_makes_nothing_twice(
    sandbox: SandboxControl, handlers: Path, tmp_path: Path, processes: list[ServeProcess], killed_in: str
) -> None:
    sandbox.set_speed(0.4)
    db = tmp_path / "serve.db"
    first = ServeProcess(handlers, sandbox, db)
    processes.append(first)
    answer = first.client.event("crash-1", branch="main", number="77")
    wait_for_executing(sandbox, environment_ids(sandbox)[killed_in], first)
    first.kill()

    second = ServeProcess(handlers, sandbox, db)
    processes.append(second)
    run = second.client.wait(answer["id"], timeout=60)
    assert run["state"] == "succeeded", run
    assert run["attempts"] == 2
    assert any("Started again after the service stopped" in line for line in run["log"])
    [release] = web_release(sandbox, "1.5.77")
    made = deployments_of(sandbox, release["Id"])
    ids = environment_ids(sandbox)
    assert sorted(d["EnvironmentId"] for d in made) == sorted([ids["Development"], ids["Test"]]), made
    create, promote = run["handlers"][0]["actions"]
    assert create["release"]["id"] == release["Id"]
    reported = {d["deployment_id"] for action in (create, promote) for d in action["deployments"]}
    assert reported == {d["Id"] for d in made}
    assert second.client.event("crash-1", branch="main", number="77")["id"] == answer["id"]
    code, _ = second.stop()
    assert code == 0


REDEPLOY = """\
server: ${OCTOPUS_URL}
api_key: ${OCTOPUS_API_KEY}
serve:
  secrets:
    generic: ${OCTORELEASE_WEBHOOK_SECRET}
handlers:
  - name: Redeploy 1.0.0
    project: Web
    on: {event: build-completed}
    deploy: {to: [Development, Test], release: 1.0.0}
"""


def start_redeploy(sandbox: SandboxControl, tmp_path: Path, processes: list[ServeProcess], delivery: str
                   ) -> tuple[Path, Path, dict[str, Any], set[str], ServeProcess, dict[str, Any]]:
    """A service redeploying Web 1.0.0 to Development and Test, its event sent: the handler file,
    the database, the release, its deployments before, the service and the event's answer."""
    handlers = tmp_path / "redeploy.yml"
    handlers.write_text(REDEPLOY, encoding="utf-8")
    [release] = web_release(sandbox, "1.0.0")
    before = {d["Id"] for d in deployments_of(sandbox, release["Id"])}
    db = tmp_path / "serve.db"
    first = ServeProcess(handlers, sandbox, db)
    processes.append(first)
    return handlers, db, release, before, first, first.client.event(delivery)


def test_a_redeploy_killed_mid_way_joins_the_deployments_it_made_instead_of_deploying_again(
    sandbox: SandboxControl, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    """A deploy deploys again by design, so only the mark keeps a resumed run from doing so."""
    sandbox.set_speed(0.4)
    handlers, db, release, before, first, answer = start_redeploy(sandbox, tmp_path, processes, "redeploy-1")
    running = wait_for_executing(sandbox, environment_ids(sandbox)["Test"], first)
    first.kill()
    second = ServeProcess(handlers, sandbox, db)
    processes.append(second)
    run = second.client.wait(answer["id"], timeout=60)
    assert run["state"] == "succeeded" and run["attempts"] == 2, run
    made = [d for d in deployments_of(sandbox, release["Id"]) if d["Id"] not in before]
    assert len(made) == 2, made  # one to Development, one to Test: none twice
    [deploy] = run["handlers"][0]["actions"]
    assert {d["deployment_id"] for d in deploy["deployments"]} == {d["Id"] for d in made}
    # The one running at the kill is joined (Development's POST may not have been sent by then).
    assert [d.get("already_deployed") for d in deploy["deployments"] if d["deployment_id"] == running] == [True]


def test_events_accepted_just_before_a_kill_all_run_after_the_restart(
    sandbox: SandboxControl, handlers: Path, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    db = tmp_path / "serve.db"
    first = ServeProcess(handlers, sandbox, db, "--max-parallel", "1")
    processes.append(first)
    ids = [first.client.event(f"burst-{n}", branch="release")["id"] for n in range(5)]
    first.kill()
    second = ServeProcess(handlers, sandbox, db)
    processes.append(second)
    runs = [second.client.wait(run_id, timeout=60) for run_id in ids]
    assert [r["state"] for r in runs] == ["succeeded"] * 5
    assert len(second.client.runs()) == 5
    worker = next(p for p in sandbox.get("/api/Spaces-1/projects/all") if p["Name"] == "Worker")
    test = environment_ids(sandbox)["Test"]
    deployed = sandbox.get("/api/Spaces-1/deployments", projects=worker["Id"], environments=test, take=100)["Items"]
    assert len(deployed) == 5  # one per event: each ran, none twice


def test_sigterm_during_a_run_exits_0_says_what_resumes_and_the_restart_finishes_it(
    sandbox: SandboxControl, handlers: Path, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    sandbox.set_speed(2.0)  # the run outlasts the 5 s a stop waits for runs under way
    db = tmp_path / "serve.db"
    first = ServeProcess(handlers, sandbox, db)
    processes.append(first)
    answer = first.client.event("term-1", branch="main", number="78")
    wait_for_executing(sandbox, environment_ids(sandbox)["Development"], first)
    code, err = first.stop()
    assert code == 0, err
    assert f"Stopped with 1 run(s) under way ({answer['id']}): they resume at the next start" in err
    assert "Traceback" not in err
    sandbox.set_speed(0.05)
    second = ServeProcess(handlers, sandbox, db)
    processes.append(second)
    run = second.client.wait(answer["id"], timeout=60)
    assert run["state"] == "succeeded" and run["attempts"] == 2, run
    [release] = web_release(sandbox, "1.5.78")
    assert len(deployments_of(sandbox, release["Id"])) == 2


def test_a_redeploy_killed_while_its_first_deployment_runs_joins_both_without_refusing_the_lifecycle(
    sandbox: SandboxControl, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    """Killed with Development's deployment still running and Test's made: Development's running
    deployment of the release holds Test's lifecycle back, yet Test's deployment exists. The resumed
    run joins both; checking Test's lifecycle again refused it (exit 3) whenever a loaded machine
    killed the first attempt at that moment."""
    sandbox.set_speed(2.0)  # Development's task outlasts the kill and the restart's planning
    handlers, db, release, before, first, answer = start_redeploy(sandbox, tmp_path, processes, "redeploy-running")
    deadline = time.monotonic() + 30
    while len(made := [d for d in deployments_of(sandbox, release["Id"]) if d["Id"] not in before]) < 2:
        assert time.monotonic() < deadline, made
        assert first.process.poll() is None, first.process.communicate()
        time.sleep(0.02)
    first.kill()
    second = ServeProcess(handlers, sandbox, db)
    processes.append(second)
    started = second.client.wait(answer["id"], states=("running", "succeeded", "failed"), timeout=30)
    sandbox.set_speed(0.05)
    run = second.client.wait(answer["id"], timeout=60) if started["state"] == "running" else started
    assert run["state"] == "succeeded" and run["attempts"] == 2, run["error"]
    assert {d["Id"] for d in deployments_of(sandbox, release["Id"]) if d["Id"] not in before} == {d["Id"] for d in made}
    [deploy] = run["handlers"][0]["actions"]
    assert [d.get("already_deployed") for d in deploy["deployments"]] == [True, True]
