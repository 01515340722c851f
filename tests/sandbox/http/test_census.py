"""The census control counts what the sandbox holds, so a test can prove a run touched nothing."""

from __future__ import annotations

from testing.sandbox import SandboxControl


def test_the_census_counts_what_the_api_lists(sandbox: SandboxControl) -> None:
    census = sandbox.census()

    assert census["release"] == sandbox.get("/api/Spaces-1/releases", take=0)["TotalResults"] + sandbox.get(
        "/api/Spaces-2/releases", take=0)["TotalResults"]
    assert census["deployment"] == sum(sandbox.get(f"/api/{space}/deployments", take=0)["TotalResults"]
                                       for space in ("Spaces-1", "Spaces-2"))
    assert census["task"] == sandbox.get("/api/tasks", take=0)["TotalResults"]
    web_variables = sandbox.get("/api/Spaces-1/projects/Projects-1/variables")["Variables"]
    assert 0 < len(web_variables) < census["variable"]


def test_reading_changes_nothing_and_every_write_shows(sandbox: SandboxControl) -> None:
    before = sandbox.census()
    sandbox.get("/api/Spaces-1/projects/Projects-1/variables")
    assert sandbox.census() == before

    variables = sandbox.get("/api/Spaces-1/projects/Projects-1/variables")
    variables["Variables"][0]["Value"] = "changed"
    sandbox.call("PUT", "/api/Spaces-1/projects/Projects-1/variables", json=variables).raise_for_status()
    edited = sandbox.census()
    assert edited["variable"] == before["variable"]
    assert edited["last_modified"] > before["last_modified"]

    sandbox.post("/api/Spaces-1/releases", {"ProjectId": "Projects-2", "Version": "9.0.0"})
    created = sandbox.census()
    assert created["release"] == before["release"] + 1
