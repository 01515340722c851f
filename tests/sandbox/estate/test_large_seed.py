"""The large estate (``sandbox --seed large[:SIZES]``): the demo plus bulk, sized by its arguments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from octorelease.sandbox.estate.seed_large import LargeEstate, LargeSeedError, parse_large
from octorelease.sandbox.http.server import SandboxServer
from octorelease.sandbox.http.service import Sandbox
from testing.cli import run_cli

SMALL = LargeEstate(environments=30, machines=90, releases=40, deployments=300, projects=4, tenants=10)


@pytest.fixture(scope="module")
def large_server() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, seed=SMALL.spec, speed=0.005) as server:
        yield server


def _get(server: SandboxServer, path: str) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"X-Octopus-ApiKey": server.api_key}, timeout=10)


def test_the_sizes_are_the_demo_plus_the_bulk() -> None:
    demo = Sandbox(seed="demo")
    large = Sandbox(seed=SMALL.spec)
    try:
        before, after = demo.backend.census(), large.backend.census()
    finally:
        demo.close()
        large.close()
    assert after["environment"] == before["environment"] + 30
    assert after["machine"] == before["machine"] + 90
    assert after["project"] == before["project"] + 4
    assert after["release"] == before["release"] + 40
    assert after["deployment"] == before["deployment"] + 300
    assert after["task"] == before["task"] + 300
    assert after["tenant"] == before["tenant"] + 10


def test_the_default_size_is_the_issues_estate() -> None:
    assert parse_large("large") == LargeEstate(environments=2000, machines=10_000, releases=5000,
                                               deployments=50_000, projects=20, tenants=500)
    assert parse_large("large:machines=7, tenants=0") == LargeEstate(machines=7, tenants=0)
    assert parse_large(SMALL.spec) == SMALL


@pytest.mark.parametrize(("spec", "message"), [
    ("large:hosts=5", "'hosts' is not a size of the large seed"),
    ("large:machines=many", "'machines=many': the size must be a whole number"),
    ("large:machines=-1", "'machines=-1': the size must be a whole number"),
    ("large:releases=0", "deployments need releases and environments"),
    ("large:projects=0", "releases need projects"),
])
def test_a_bad_size_is_named(spec: str, message: str) -> None:
    with pytest.raises(LargeSeedError, match=message):
        parse_large(spec)


def test_a_bad_size_on_the_command_line_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "sandbox", "--seed", "large:machines=lots", "--port", "0")
    assert result.code == 2
    assert result.out == ""
    assert result.err.splitlines() == [
        "Error: --seed large:machines=lots: 'machines=lots': the size must be a whole number, 0 or more, "
        "e.g. machines=100."]


def test_the_demo_keeps_its_ids_and_its_history(large_server: SandboxServer) -> None:
    envs = _get(large_server, "/api/Spaces-1/environments?take=6").json()["Items"]
    assert [(e["Id"], e["Name"]) for e in envs] == [
        ("Environments-1", "Development"), ("Environments-2", "Test"), ("Environments-3", "Staging"),
        ("Environments-4", "Production"), ("Environments-5", "Disaster Recovery"), ("Environments-7", "Region 0001")]
    found = _get(large_server, "/api/Spaces-1/environments?partialName=Region").json()
    assert found["TotalResults"] == 30
    web = _get(large_server, "/api/Spaces-1/projects/web/releases").json()["Items"]
    assert [r["Version"] for r in web] == ["1.2.0", "1.1.0", "1.0.0"]


def test_bulk_tasks_are_finished_and_their_logs_answer(large_server: SandboxServer) -> None:
    page = _get(large_server, "/api/tasks?take=1&states=Failed").json()
    assert page["TotalResults"] >= 30
    task = page["Items"][0]
    details = _get(large_server, f"/api/tasks/{task['Id']}/details").json()
    assert details["Task"]["State"] == "Failed"
    assert details["ActivityLogs"][0]["LogElements"]
    deployment = _get(large_server, f"/api/Spaces-1/deployments/{task['Arguments']['DeploymentId']}").json()
    assert deployment["Name"].startswith("Deploy to Region ")


def test_the_demo_commands_run_on_it(large_server: SandboxServer, capsys: pytest.CaptureFixture[str]) -> None:
    connect = ["--server", large_server.url, "--api-key", large_server.api_key]
    promoted = run_cli(capsys, "promote", "--project", "Web", "--from", "Development", "--to", "Test",
                       "--json", *connect)
    assert promoted.code == 0, promoted.everything
    assert promoted.json["release"]["version"] == "1.1.0"
    created = run_cli(capsys, "create", "--project", "Service 002", "--version", "9.0.0",
                      "--deploy-to", "Region 0003", "--json", *connect)
    assert created.code == 0, created.everything
    assert created.json["deployments"][0]["state"] == "Success"


def test_it_is_kept_in_the_database_and_loads_back(tmp_path: Path) -> None:
    db = str(tmp_path / "large.db")
    first = Sandbox(db_path=db, seed=SMALL)
    census = first.backend.census()
    first.close()
    again = Sandbox(db_path=db, seed="empty")  # seeded before: the seed is not applied again
    try:
        assert again.backend.census() == census
    finally:
        again.close()
