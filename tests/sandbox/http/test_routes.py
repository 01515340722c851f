"""Routes as real clients send them: ``/all`` collections and route words in any letter case."""

from __future__ import annotations

import pytest

from testing.sandbox import SandboxControl

SPACE_COLLECTIONS = ["projects", "projectgroups", "environments", "machines", "lifecycles", "channels", "feeds",
                     "tenants", "libraryvariablesets", "tagsets", "workerpools", "workers", "runbooks", "accounts",
                     "actiontemplates", "proxies", "subscriptions", "certificates"]


def test_spaces_all_is_a_bare_array_of_every_space(sandbox: SandboxControl) -> None:
    spaces = sandbox.get("/api/spaces/all")
    assert [s["Id"] for s in spaces] == ["Spaces-1", "Spaces-2"]
    assert spaces[0] == sandbox.get("/api/spaces/Spaces-1")


@pytest.mark.parametrize("collection", SPACE_COLLECTIONS)
@pytest.mark.parametrize("prefix", ["/api/Spaces-1", "/api", "/api/spaces/Spaces-1"])
def test_all_answers_every_item_of_the_collection_unpaged(sandbox: SandboxControl, collection: str,
                                                          prefix: str) -> None:
    everything = sandbox.get(f"{prefix}/{collection}/all")
    page = sandbox.get(f"{prefix}/{collection}", take=1000)
    assert isinstance(everything, list)
    assert everything == page["Items"]


def test_all_holds_more_than_a_page(sandbox: SandboxControl) -> None:
    assert len(sandbox.get("/api/Spaces-1/machines/all")) == 14 > sandbox.get("/api/Spaces-1/machines")[
        "ItemsPerPage"] // 3


def test_all_takes_the_collection_filters(sandbox: SandboxControl) -> None:
    assert [t["Name"] for t in sandbox.get("/api/Spaces-1/tenants/all", projectId="Projects-1")] == ["Acme", "Globex"]
    assert sandbox.get("/api/Spaces-1/tenants/all", projectId="Projects-2") == []
    assert [e["Name"] for e in sandbox.get("/api/Spaces-1/environments/all", ids="Environments-4,Environments-2")] \
        == ["Test", "Production"]


def test_all_is_scoped_to_its_space(sandbox: SandboxControl) -> None:
    assert [p["Name"] for p in sandbox.get("/api/Spaces-2/projects/all")] == ["Infra", "Platform"]


def test_machine_roles_all_is_every_role_in_use(sandbox: SandboxControl) -> None:
    assert sandbox.get("/api/Spaces-1/machineroles/all") == ["web", "worker"]
    assert sandbox.get("/api/Spaces-2/machineroles/all") == ["ops"]


def test_operating_systems_and_shells_all_are_string_arrays(sandbox: SandboxControl) -> None:
    assert sandbox.get("/api/Spaces-1/machines/operatingsystem/names/all") == ["Ubuntu 22.04"]
    assert sandbox.get("/api/Spaces-1/machines/operatingsystem/shells/all") == ["Bash"]
    assert sandbox.get("/api/Spaces-1/workers/operatingsystem/names/all") == []


def test_tenant_variables_all_has_each_tenants_variables(sandbox: SandboxControl) -> None:
    everything = sandbox.get("/api/Spaces-1/tenantvariables/all")
    assert [v["TenantName"] for v in everything] == ["Acme", "Globex"]
    assert everything[0] == sandbox.get("/api/Spaces-1/tenants/Tenants-1/variables")


@pytest.mark.parametrize(("path", "key", "plain"), [
    ("/api/Spaces-1/environments/all/v1", "Environments", "/api/Spaces-1/environments/all"),
    ("/api/Spaces-1/libraryvariablesets/all/v1", "LibraryVariableSets", "/api/Spaces-1/libraryvariablesets/all"),
    ("/api/Spaces-1/projects/Projects-1/runbooks/all/v2", "Runbooks", None),
])
def test_the_wrapped_all_variants_hold_the_same_array(sandbox: SandboxControl, path: str, key: str,
                                                      plain: str | None) -> None:
    assert sandbox.get(path) == {key: sandbox.get(plain) if plain else []}


def test_users_all_lists_the_sandbox_user(sandbox: SandboxControl) -> None:
    assert [u["Id"] for u in sandbox.get("/api/users/all")] == ["Users-1"]


@pytest.mark.parametrize(("path", "variant"), [
    ("/api/Spaces-1/projects/Projects-1", "/api/Spaces-1/Projects/Projects-1"),
    ("/api/Spaces-1/environments", "/api/Spaces-1/Environments"),
    ("/api/Spaces-1/deploymentprocesses/deploymentprocess-Projects-1",
     "/api/Spaces-1/DeploymentProcesses/deploymentprocess-Projects-1"),
    ("/api/Spaces-1/deploymentprocesses/deploymentprocess-Projects-1",
     "/api/Spaces-1/deploymentProcesses/deploymentprocess-Projects-1"),
    ("/api/spaces/all", "/api/Spaces/All"),
    ("/api/spaces/Spaces-1/feeds/feeds-builtin/packages/versions?packageId=Web",
     "/API/SPACES/spaces-1/FEEDS/feeds-builtin/Packages/Versions?packageId=Web"),
    ("/api/tasks", "/api/Tasks"),
    ("/api/users/me", "/api/Users/Me"),
    ("/api/Spaces-1/releases/Releases-1/deployments/template",
     "/api/Spaces-1/Releases/Releases-1/Deployments/Template"),
])
def test_route_words_in_any_case_give_the_same_answer(sandbox: SandboxControl, path: str, variant: str) -> None:
    answer, expected = sandbox.get(variant), sandbox.get(path)
    if "ItemType" in expected:  # a page's own links echo the path as it was sent, as Octopus's do
        answer["Links"], expected["Links"] = answer["Links"]["Template"], expected["Links"]["Template"]
    assert answer == expected


def test_a_post_route_matches_in_any_case(sandbox: SandboxControl) -> None:
    created = sandbox.call("POST", "/api/Spaces-1/Releases/Create/V1",
                           json={"SpaceIdOrName": "Spaces-1", "ProjectName": "Web", "ReleaseVersion": "7.0.0"})
    assert created.status_code == 201, created.text
    assert sandbox.get("/api/Spaces-1/projects/Projects-1/releases/7.0.0")["Id"] == created.json()["ReleaseId"]
