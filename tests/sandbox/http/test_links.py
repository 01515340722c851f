"""Every link the sandbox advertises answers: a crawl from ``/api`` that follows every ``Links``
entry of every document it meets, as clients do, and expects 200 with JSON (an image for logos,
text for a raw log). A link the sandbox cannot serve must not be advertised."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx

from testing.sandbox import SandboxControl

#: links to actions that are POSTed, never fetched (each has its own tests)
POST_ONLY = {"SnapshotVariables", "Cancel", "CreateReleaseCommandV1", "CreateDeploymentUntenantedCommandV1",
             "CreateDeploymentTenantedCommandV1"}


def expand(link: str) -> str:
    """A link as a client with no values to give expands it: ``SpaceHome``'s ``{spaceId}`` for the
    default space, every other RFC 6570 expression left out."""
    return re.sub(r"\{[^}]*\}", "", link.replace("{spaceId}", "Spaces-1"))


def links_in(document: Any) -> Iterator[tuple[str, str]]:
    """Every (name, link) in the document, at any depth (items of pages, tasks inside details...)."""
    if isinstance(document, dict):
        for name, value in (document.get("Links") or {}).items():
            if isinstance(value, str):
                yield name, value
        for key, value in document.items():
            if key != "Links":
                yield from links_in(value)
    elif isinstance(document, list):
        for value in document:
            yield from links_in(value)


def shape_of(url: str) -> str:
    """Links that differ only by ids lead to the same kind of document: crawl one of each."""
    url = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "GUID", url)
    url = re.sub(r"-s-\d+-[A-Z0-9]+", "-s-N", url)
    return re.sub(r"\d+", "N", url)


def check(name: str, url: str, response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{name} -> {url}: {response.status_code} {response.text[:200]}"
    kind = response.headers["content-type"]
    if name == "Logo":
        assert kind.startswith("image/"), f"{name} -> {url}: {kind}"
        return None
    if name == "Raw":
        assert kind.startswith("text/plain"), f"{name} -> {url}: {kind}"
        return None
    assert kind.startswith("application/json"), f"{name} -> {url}: {kind}"
    document = response.json()
    if name.startswith("Page.") or (isinstance(document, dict) and "ItemType" in document):
        assert {"ItemType", "TotalResults", "ItemsPerPage", "Items", "Links"} <= set(document), url
    else:
        assert isinstance(document, list) or "Id" in document or "Links" in document, url
    return document


def crawl(sandbox: SandboxControl, *starts: str) -> dict[str, str]:
    """Follow every advertised GET link from ``starts``; the shapes visited, each with one URL."""
    seen: dict[str, str] = {}
    queue = [("Start", s) for s in starts]
    while queue:
        name, link = queue.pop(0)
        url = expand(link)
        if name in POST_ONLY or not url.startswith("/api") or shape_of(url) in seen:
            continue
        seen[shape_of(url)] = url
        document = check(name, url, sandbox.call("GET", url))
        queue.extend(links_in(document))
    return seen


def test_every_advertised_link_answers(sandbox: SandboxControl) -> None:
    # a queued deployment and a running one, so that tasks and deployments of every kind are met
    sandbox.set_speed(5)
    sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": "Releases-2", "EnvironmentId": "Environments-2"})
    sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": "Releases-1", "EnvironmentId": "Environments-3"})
    seen = crawl(sandbox, "/api", "/api/Spaces-1", "/api/Spaces-1/projects/Projects-1",
                 "/api/Spaces-1/lifecycles/Lifecycles-1", "/api/Spaces-1/releases/Releases-3",
                 "/api/tasks/ServerTasks-1/details", "/api/Spaces-1/libraryvariablesets/LibraryVariableSets-1",
                 "/api/Spaces-1/tenants/Tenants-1", "/api/Spaces-1/machines/Machines-1")
    shapes = set(seen)
    for expected in ("/api/Spaces-N/projects/Projects-N/deploymentsettings", "/api/Spaces-N/projects/Projects-N/logo",
                     "/api/Spaces-N/channels/Channels-N/releases", "/api/tasks/ServerTasks-N/queued-behind",
                     "/api/Spaces-N/machines/Machines-N/connection", "/api/users/Users-N/apikeys",
                     "/api/Spaces-N/feeds/feeds-builtin/packages/search",
                     "/api/Spaces-N/lifecycles/Lifecycles-N/preview",
                     "/api/Spaces-N/deploymentprocesses/deploymentprocess-Projects-N/template"):
        assert expected in shapes, f"the crawl never met {expected}"
    assert len(shapes) > 60


def test_the_crawl_fails_on_a_link_that_does_not_answer(sandbox: SandboxControl) -> None:
    """The crawl can fail: a 404 anywhere on the way is reported with the link's name."""
    try:
        check("Broken", "/api/Spaces-1/nowhere", sandbox.call("GET", "/api/Spaces-1/nowhere"))
    except AssertionError as exc:
        assert "Broken -> /api/Spaces-1/nowhere: 404" in str(exc)
    else:
        raise AssertionError("a 404 passed the crawl's check")


def test_project_progression_lists_the_newest_releases_and_where_they_are(sandbox: SandboxControl) -> None:
    progression = sandbox.get("/api/Spaces-1/projects/Projects-1/progression", releaseHistoryCount="2")
    assert [e["Name"] for e in progression["Environments"]] == ["Development", "Test", "Staging", "Production",
                                                                "Disaster Recovery"]
    assert [e["Name"] for e in progression["ChannelEnvironments"]["Channels-1"]] == ["Development", "Test",
                                                                                     "Staging", "Production"]
    rows = [(r["Release"]["Version"], {env: [i["State"] for i in items] for env, items in r["Deployments"].items()},
             r["NextDeployments"]) for r in progression["Releases"]]
    assert rows == [("1.2.0", {"Environments-1": ["Failed"]}, ["Environments-1"]),
                    ("1.1.0", {"Environments-1": ["Success"]}, ["Environments-2"])]


def test_lifecycle_preview_fills_in_the_implicit_phases(sandbox: SandboxControl) -> None:
    preview = sandbox.get("/api/Spaces-1/lifecycles/Lifecycles-3/preview")
    assert sandbox.get("/api/Spaces-1/lifecycles/Lifecycles-3")["Phases"] == []
    assert [(p["Name"], p["OptionalDeploymentTargets"]) for p in preview["Phases"]] == [
        ("Development", ["Environments-1"]), ("Test", ["Environments-2"]), ("Staging", ["Environments-3"]),
        ("Production", ["Environments-4"]), ("Disaster Recovery", ["Environments-5"])]
    anywhere = sandbox.get("/api/Spaces-1/lifecycles/Lifecycles-2/preview")
    assert anywhere["Phases"][0]["OptionalDeploymentTargets"] == [f"Environments-{n}" for n in range(1, 6)]
    assert [p["Name"] for p in sandbox.get("/api/Spaces-1/lifecycles/Lifecycles-2/projects")] == ["Web", "Worker"]


def test_machine_tasks_are_the_tasks_that_deployed_to_it(sandbox: SandboxControl) -> None:
    tasks = sandbox.get("/api/Spaces-1/machines/Machines-2/tasks")["Items"]
    assert [t["Description"] for t in tasks] == ["Deploy Web release 1.0.0 to Test"]


def test_a_queued_task_is_queued_behind_the_unfinished_ones_before_it(sandbox: SandboxControl) -> None:
    sandbox.set_speed(5)
    first = sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": "Releases-2", "EnvironmentId": "Environments-2"})
    sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": "Releases-1", "EnvironmentId": "Environments-2"})
    queued = sandbox.get("/api/tasks", states="Queued")["Items"]
    assert queued, "a second deployment to the same project and environment waits for the first"
    behind = sandbox.get(f"/api/tasks/{queued[0]['Id']}/queued-behind")["Items"]
    assert first["TaskId"] in [t["Id"] for t in behind]
    assert sandbox.get("/api/tasks/ServerTasks-1/queued-behind")["Items"] == []


def test_package_search_finds_packages_by_part_of_their_id(sandbox: SandboxControl) -> None:
    found = sandbox.get("/api/Spaces-1/feeds/feeds-builtin/packages/search", term="WOR")["Items"]
    assert [(p["Id"], p["LatestVersion"]) for p in found] == [("Worker", "2.1.0")]


def test_tenant_variables_cover_its_projects_and_their_library_sets(sandbox: SandboxControl) -> None:
    variables = sandbox.get("/api/Spaces-1/tenants/Tenants-1/variables")
    assert (variables["TenantName"], list(variables["ProjectVariables"]), list(variables["LibraryVariables"])) == (
        "Acme", ["Projects-1"], ["LibraryVariableSets-1"])
