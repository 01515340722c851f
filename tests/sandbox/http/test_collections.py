"""Lists, paging and lookups behave like Octopus's (octopus-api.md §7.1)."""

from __future__ import annotations

import pytest

from testing.sandbox import SandboxControl


def test_paging_envelope_links_next_page_only_while_more_remain(sandbox: SandboxControl) -> None:
    first = sandbox.get("/api/Spaces-1/machines", take=5)
    assert (first["ItemType"], first["TotalResults"], first["ItemsPerPage"]) == ("Machine", 14, 5)
    assert (first["NumberOfPages"], first["LastPageNumber"]) == (3, 2)
    assert first["Links"]["Page.Next"] == "/api/Spaces-1/machines?skip=5&take=5"
    assert first["Links"]["Page.Last"] == "/api/Spaces-1/machines?skip=10&take=5"
    assert first["Links"]["Template"].startswith("/api/Spaces-1/machines{/id}{?skip,take,")
    last = sandbox.get("/api/Spaces-1/machines", skip=10, take=5)
    assert [m["Name"] for m in last["Items"]] == ["dev-worker-01", "test-worker-01", "stage-worker-01",
                                                  "prod-worker-01"]
    assert "Page.Next" not in last["Links"]


def test_default_page_size_is_30(sandbox: SandboxControl) -> None:
    assert sandbox.get("/api/Spaces-1/environments")["ItemsPerPage"] == 30


def test_following_page_next_visits_every_item_once(sandbox: SandboxControl) -> None:
    names, link = [], "/api/Spaces-1/machines?take=4"
    while link:
        page = sandbox.get(link)
        names += [m["Name"] for m in page["Items"]]
        link = page["Links"].get("Page.Next")
    assert len(names) == len(set(names)) == 14


@pytest.mark.parametrize(("params", "expected"), [
    ({"name": "production"}, ["Production"]),
    ({"name": "Prod"}, []),
    ({"partialName": "pro"}, ["Production"]),
    ({"ids": "Environments-2,Environments-4"}, ["Test", "Production"]),
])
def test_named_filters_are_case_insensitive(sandbox: SandboxControl, params: dict[str, str],
                                            expected: list[str]) -> None:
    assert [e["Name"] for e in sandbox.get("/api/Spaces-1/environments", **params)["Items"]] == expected


def test_repeated_and_csv_ids_both_work(sandbox: SandboxControl) -> None:
    page = sandbox.get("/api/Spaces-1/projects?ids=Projects-1&ids=Projects-3,Projects-2")
    assert [p["Id"] for p in page["Items"]] == ["Projects-1", "Projects-2", "Projects-3"]


@pytest.mark.parametrize(("params", "expected"), [
    ({"environmentIds": "Environments-4", "roles": "web"}, ["prod-web-01", "prod-web-02", "prod-web-03",
                                                            "prod-web-04"]),
    ({"environmentIds": "Environments-4", "isDisabled": "True"}, ["prod-web-04"]),
    ({"environmentIds": "Environments-4", "isDisabled": "false", "roles": "worker"}, ["prod-worker-01"]),
    ({"healthStatuses": "Unhealthy"}, []),
])
def test_machine_filters(sandbox: SandboxControl, params: dict[str, str], expected: list[str]) -> None:
    assert [m["Name"] for m in sandbox.get("/api/Spaces-1/machines", **params)["Items"]] == expected


@pytest.mark.parametrize("ref", ["Projects-1", "web", "Web"])
def test_project_by_id_slug_or_name(sandbox: SandboxControl, ref: str) -> None:
    assert sandbox.get(f"/api/Spaces-1/projects/{ref}")["Id"] == "Projects-1"


@pytest.mark.parametrize("prefix", ["/api/Spaces-1", "/api", "/api/spaces/Spaces-1"])
def test_space_routes_answer_at_all_three_prefixes(sandbox: SandboxControl, prefix: str) -> None:
    assert sandbox.get(f"{prefix}/projects/Projects-1")["Name"] == "Web"


def test_resources_of_another_space_are_not_found(sandbox: SandboxControl) -> None:
    assert sandbox.call("GET", "/api/Spaces-1/projects/Projects-4").status_code == 404
    assert sandbox.get("/api/Spaces-2/projects/Projects-4")["Name"] == "Infra"
    assert [e["Name"] for e in sandbox.get("/api/Spaces-2/environments")["Items"]] == ["Ops"]


def test_root_document_links_the_default_space(sandbox: SandboxControl) -> None:
    root = sandbox.call("GET", "/api", key=None).json()
    assert (root["Application"], root["Version"], root["ApiVersion"]) == ("Octopus Deploy", "2024.3.10989", "3.0.0")
    links = root["Links"]
    assert links["DashboardDynamic"] == "/api/Spaces-1/dashboard/dynamic{?projects,environments,includePrevious}"
    assert root["Links"]["Tasks"].startswith("/api/tasks{/id}{?skip,")
    assert root["Links"]["Spaces"] == "/api/spaces{/id}{?name,skip,ids,take,partialName}"


def test_spaces_users_and_space_root(sandbox: SandboxControl) -> None:
    spaces = sandbox.get("/api/spaces", partialName="Default", skip=0, take=2147483647)["Items"]
    assert [(s["Id"], s["IsDefault"]) for s in spaces] == [("Spaces-1", True)]
    assert sandbox.get("/api/spaces/Spaces-2")["Name"] == "Operations"
    me = sandbox.get("/api/users/me")
    assert [s["Id"] for s in sandbox.get(me["Links"]["Spaces"])] == ["Spaces-1", "Spaces-2"]
    root = sandbox.get("/api/Spaces-1")
    assert root["Links"]["Projects"].startswith("/api/Spaces-1/projects{/id}")


def test_environment_machines_and_lifecycle_shapes(sandbox: SandboxControl) -> None:
    machines = sandbox.get("/api/Spaces-1/environments/Environments-2/machines")["Items"]
    assert [m["Name"] for m in machines] == ["test-web-01", "test-web-02", "test-worker-01"]
    web = sandbox.get("/api/Spaces-1/lifecycles/Lifecycles-1")
    assert [p["OptionalDeploymentTargets"] for p in web["Phases"]] == [
        ["Environments-1"], ["Environments-2"], ["Environments-3"], ["Environments-4"]]
    assert sandbox.get("/api/Spaces-1/lifecycles/Lifecycles-3")["Phases"] == []
    channels = sandbox.get("/api/Spaces-1/projects/Projects-1/channels")["Items"]
    assert [(c["Name"], c["LifecycleId"], c["IsDefault"]) for c in channels] == [
        ("Default", None, True), ("Hotfix", "Lifecycles-2", False)]


def test_deployment_process_and_feed(sandbox: SandboxControl) -> None:
    process = sandbox.get("/api/Spaces-1/projects/Projects-1/deploymentprocesses")
    steps = [(s["Name"], s["Properties"]["Octopus.Action.TargetRoles"],
              [p["PackageId"] for p in s["Actions"][0]["Packages"]]) for s in process["Steps"]]
    assert steps == [("Deploy web", "web", ["Web"]), ("Smoke test", "web", [])]
    versions = sandbox.get("/api/Spaces-1/feeds/feeds-builtin/packages/versions", packageId="Web")["Items"]
    assert [v["Version"] for v in versions] == ["1.3.0", "1.2.0", "1.1.0", "1.0.0"]


def test_project_releases_newest_first_and_by_version(sandbox: SandboxControl) -> None:
    releases = sandbox.get("/api/Spaces-1/projects/Projects-1/releases")["Items"]
    assert [r["Version"] for r in releases] == ["1.2.0", "1.1.0", "1.0.0"]
    assert sandbox.get("/api/Spaces-1/projects/Projects-1/releases/1.1.0")["Id"] == "Releases-2"
    assert sandbox.call("GET", "/api/Spaces-1/projects/Projects-1/releases/9.9.9").status_code == 404
    found = sandbox.get("/api/Spaces-1/projects/Projects-1/releases", searchByVersion="1.1")["Items"]
    assert [r["Version"] for r in found] == ["1.1.0"]


def test_deployments_filters_newest_first(sandbox: SandboxControl) -> None:
    items = sandbox.get("/api/Spaces-1/deployments", projects="Projects-1", environments="Environments-1")["Items"]
    assert [d["ReleaseId"] for d in items] == ["Releases-3", "Releases-2", "Releases-1"]
    failed = sandbox.get("/api/Spaces-1/deployments", taskState="Failed")["Items"]
    assert [d["Id"] for d in failed] == ["Deployments-4"]
    assert [d["Id"] for d in sandbox.get("/api/Spaces-1/releases/Releases-1/deployments")["Items"]] == [
        "Deployments-2", "Deployments-1"]
