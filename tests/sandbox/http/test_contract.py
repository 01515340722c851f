"""The sandbox against Octopus's own description of its API (``testing/swagger.py``: the swagger
document of Octopus Server 2019.6, as the PyPI package ``octopus-deploy-swagger-client`` holds it).

* every route the sandbox serves is a route of Octopus's API (or a newer one, listed with its
  source below);
* every GET route answers a sample request with JSON that has every field of the model Octopus
  declares for it, with the declared types, recursively;
* every route a classic client or script uses (issue 9) answers.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import BaseRoute, Mount, Route

from octorelease.sandbox.http import urls
from testing import swagger
from testing.sandbox import SandboxControl

#: routes newer than the 2019.6 document, or missing from it: where each is documented
NEWER: dict[str, str] = {
    "POST /api/releases/create/v1": "executions API, server 2022.3 (octopus-api.md §4.1)",
    "POST /api/deployments/create/untenanted/v1": "executions API, server 2022.3 (octopus-api.md §4.1)",
    "POST /api/deployments/create/tenanted/v1": "executions API, server 2022.3 (octopus-api.md §4.1)",
    "GET /api/projects/{}/deploymentprocesses": "project-scoped process, newer servers (octopus-api-more.md §6.5)",
    "PUT /api/projects/{}/deploymentprocesses": "project-scoped process, newer servers (octopus-api-more.md §6.5)",
    "GET /api/projects/{}/deploymentprocesses/template": "newer servers (octopus-api-more.md §3)",
    "GET /api/projects/{}/variables": "project-scoped variables, newer servers (PORT project Links)",
    "PUT /api/projects/{}/variables": "project-scoped variables, newer servers (PORT project Links)",
    "GET /api/projects/{}/deploymentsettings": "project Links.DeploymentSettings (octopus-api.md §7.5)",
    "GET /api/projects/{}/progression": "project Links.Progression (octopus-api.md §7.5, §7.12)",
    "GET /api/projects/{}/channels/{}": "release Links.Channel (octopus-api.md §7.7)",
    "GET /api/projects/{}/runbooks": "runbooks, server 2019.11 (octopus-api-more.md §5)",
    "GET /api/variables": "root Links.Variables, /variables{/id}{?ids} (octopus-api.md §7.2)",
    "GET /api/environments/all/v1": "wrapped /all, newer servers (octopus-api-more.md §1)",
    "GET /api/libraryvariablesets/all/v1": "wrapped /all, newer servers (octopus-api-more.md §1)",
    "GET /api/projects/{}/runbooks/all/v2": "wrapped /all, newer servers (octopus-api-more.md §1)",
    "GET /api/certificates/{}": "in the document as a regex, /api/certificates/(?<idOrThumbprint>...)",
    "GET /api/configuration/feature-toggles": "the official Go CLI (go-octopusdeploy pkg/configuration)",
    "GET /api/environments/v2": "ref environments.md; go-octopusdeploy pkg/environments/v2",
    "GET /api/projects/{}/channels/{}/releases": "ref releases.md (a channel's releases)",
    "GET /api/releases/{}/missingpackages": "ref releases.md (missingPackages, under a space only)",
    "POST /api/releases/{}/deployments/previews": "ref releases.md; the official Go CLI's release deploy",
    "PUT /api/projects/{}/deploymentsettings": "ref deployment-settings.md (a project's versioning strategy)",
    "POST /api/deployments/override": "deployment freezes, server 2024.2 (OctopusDeploy/docs deployment-freeze.md)",
}
NEWER.update({f"{method} /api/deploymentfreezes{tail}": "server 2024.2 (OctopusDeploy/docs deployment-freeze.md)"
              for method, tail in (("GET", ""), ("POST", ""), ("GET", "/{}"), ("PUT", "/{}"), ("DELETE", "/{}"))})
#: version-controlled projects (ref branches.md, projects.md; OctopusDeploy/cli test/fixtures/projects.go)
NEWER.update({f"GET /api/projects/{{}}/git/{tail}": "ref branches.md (a version-controlled project's repository)"
              for tail in ("branches", "branches/{}", "tags", "tags/{}", "refs/{}", "commits", "commits/{}")})
NEWER.update({f"{verb} /api/projects/{{}}/{{}}/{tail}": "ref projects.md (a version-controlled project at a ref)"
              for verb, tail in (("GET", "deploymentprocesses"), ("PUT", "deploymentprocesses"),
                                 ("GET", "deploymentprocesses/template"), ("GET", "deploymentsettings"),
                                 ("PUT", "deploymentsettings"), ("GET", "variables"), ("PUT", "variables"))})
NEWER.update({f"GET /api/{kind}/operatingsystem/{what}/all": "server 2020.5 (octopus-api-more.md §1, SW20)"
              for kind in ("machines", "workers") for what in ("names", "shells")})
#: runbook collections (server 2019.11, octopus-api-more.md §5), answered empty
NEWER.update({f"GET /api/{word}{tail}": "runbooks, server 2019.11 (octopus-api-more.md §5)"
              for word in ("runbooks", "runbookprocesses", "runbooksnapshots", "runbookruns")
              for tail in ("", "/all", "/{}")})

#: where the 2019.6 document names the wrong collection for a route: the model its items are
SWAGGER_MISLABELS = {
    "GET /api/projects/{}/releases": "ReleaseResource",
    "GET /api/projects/{}/channels": "ChannelResource",
    "GET /api/projects/{}/triggers": "ProjectTriggerResource",
    "GET /api/channels/{}/releases": "ReleaseResource",
    "GET /api/projectgroups/{}/projects": "ProjectResource",
    "GET /api/tasks/{}/queued-behind": "TaskResource",
    "GET /api/users/me": "UserResource",
    "GET /api/users/{}/spaces": "list[SpaceResource]",
    "GET /api/machineroles/all": "list[str]",
    "GET /api/releases/{}/deployments": "DeploymentResource",
    "GET /api/machines/operatingsystem/names/all": "list[str]",
    "GET /api/machines/operatingsystem/shells/all": "list[str]",
    "GET /api/workers/operatingsystem/names/all": "list[str]",
    "GET /api/workers/operatingsystem/shells/all": "list[str]",
}

#: fields of the 2019.6 models the sandbox does not give, and why
NOT_GIVEN = frozenset({
    "ReleaseResource.PackageMetadata",  # package metadata (build information) is not emulated
    "UserResource.Password",  # write-only: never read back
    "UserResource.Identities",  # no login providers
})

#: a sample value for each route parameter, by the word before it
SAMPLES = {"projects": "Projects-1", "environments": "Environments-1", "machines": "Machines-1",
           "lifecycles": "Lifecycles-1", "channels": "Channels-1", "tenants": "Tenants-1", "feeds": "feeds-builtin",
           "releases": "Releases-1", "deployments": "Deployments-1", "tasks": "ServerTasks-1",
           "variables": "variableset-Projects-1", "libraryvariablesets": "LibraryVariableSets-1",
           "deploymentprocesses": "deploymentprocess-Projects-1", "projectgroups": "ProjectGroups-1",
           "users": "Users-1", "spaces": "Spaces-1", "apikeys": "apikeys-1", "preview": "Environments-2",
           "Environments-2": "Tenants-1", "api": "Spaces-1", "tagsets": "TagSets-1", "workerpools": "WorkerPools-1",
           "workers": "Workers-1", "artifacts": "Artifacts-1", "interruptions": "Interruptions-1",
           "runbooks": "Runbooks-1", "runbookProcesses": "RunbookProcess-Runbooks-1",
           "runbookSnapshots": "RunbookSnapshots-1", "runbookRuns": "RunbookRuns-1", "accounts": "Accounts-1",
           "actiontemplates": "ActionTemplates-1", "proxies": "Proxies-1", "subscriptions": "Subscriptions-1",
           "certificates": "Certificates-1", "teams": "Teams-1",
           "deploymentfreezes": "DeploymentFreezes-1"}
#: collections that have no items to fetch one of (not emulated): their single routes answer 404
EMPTY = ("workerpools", "workers", "artifacts", "interruptions", "runbooks", "runbookprocesses",
         "runbooksnapshots", "runbookruns", "accounts", "actiontemplates", "proxies", "subscriptions",
         "certificates", "deploymentfreezes")


def sandbox_routes() -> list[tuple[str, str]]:
    """(method, path) of every route the sandbox serves, space routes in their ``/api/...`` form."""
    found: list[tuple[str, str]] = []

    def walk(routes: list[BaseRoute], prefix: str) -> None:
        for r in routes:
            if isinstance(r, Mount):
                if r.path in ("/api", "/api/{space_id:space}"):  # the latter: routes only under a space
                    walk(r.routes, "/api")
            elif isinstance(r, Route):
                found.extend((m, prefix + r.path) for m in sorted(r.methods or ()) if m != "HEAD")

    walk(urls.ROUTES, "")
    return sorted(set(found))


def sample(path: str) -> str:
    """The route with a value for each parameter: ``/api/projects/{ref}`` -> ``.../Projects-1``."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.startswith("{"):
            parts[i] = "1.0.0" if part == "{version}" else SAMPLES[parts[i - 1]]
    return "/".join(parts)


GET_ROUTES = [p for m, p in sandbox_routes() if m == "GET"]
#: routes served only under a space (``urls.SPACED_ONLY_ROUTES``), in their ``/api/...`` form
SPACED_ONLY = {f"/api{r.path}" for r in urls.SPACED_ONLY_ROUTES if isinstance(r, Route)}


@pytest.mark.parametrize(("method", "path"), sandbox_routes())
def test_every_route_the_sandbox_serves_is_an_octopus_route(method: str, path: str) -> None:
    key = swagger.route_key(method, path)
    assert key in swagger.routes() or key in NEWER, f"{key} is not in Octopus's API description"


def git_sample(sandbox: SandboxControl, path: str) -> str:
    """A route of a version-controlled project, for the demo's (Platform, in Spaces-2)."""
    url = path.replace("/api/", "/api/Spaces-2/", 1).replace("{ref}", "Projects-5").replace("{gitRef:path}", "main")
    url = url.replace("branches/{name:path}", "branches/main").replace("tags/{name:path}", "tags/v0.9")
    if "{hash}" in url:
        url = url.replace("{hash}", sandbox.get("/api/Spaces-2/projects/Projects-5/git/commits")["Items"][0]["Id"])
    return url.replace("{name:path}", "main")


@pytest.mark.parametrize("path", GET_ROUTES)
def test_every_get_route_answers_with_the_fields_and_types_of_octopus_model(sandbox: SandboxControl,
                                                                          path: str) -> None:
    url = sample(path).replace("/api/", "/api/Spaces-1/", 1) if path in SPACED_ONLY \
        else git_sample(sandbox, path) if "{gitRef" in path or "/git/" in path else sample(path)
    response = sandbox.call("GET", url)
    if any(f"/{word}/{{id}}" in path.lower() for word in EMPTY):
        assert response.status_code == 404, url
        return
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:300]}"
    key = swagger.route_key("GET", path)
    declared = swagger.routes()[key].response_type if key in swagger.routes() else None
    kind = SWAGGER_MISLABELS.get(key, declared)
    if kind in (None, "file"):
        return
    document = response.json()
    if kind.startswith("ResourceCollection") or (isinstance(document, dict) and "ItemType" in document):
        problems = _page(document, kind)
    else:
        problems = swagger.conforms(document, kind, url, NOT_GIVEN)
    assert problems == [], "\n".join(problems)


def _page(document: Any, kind: str) -> list[str]:
    envelope = {"ItemType": "str", "TotalResults": "int", "ItemsPerPage": "int", "NumberOfPages": "int",
                "LastPageNumber": "int", "Items": "list[object]", "Links": "dict(str, str)"}
    problems = [f"page lacks {name}" for name in envelope if name not in document]
    item = kind.removeprefix("ResourceCollection")
    return problems + swagger.conforms(document.get("Items"), f"list[{item}]", "Items", NOT_GIVEN)


def test_a_machine_endpoint_has_the_fields_of_its_communication_style(sandbox: SandboxControl) -> None:
    """The model says only ``EndpointResource``; OC picks the class by ``CommunicationStyle``."""
    endpoint = sandbox.get("/api/Spaces-1/machines/Machines-1")["Endpoint"]
    assert endpoint["CommunicationStyle"] == "TentaclePassive"
    assert {"Uri", "Thumbprint", "ProxyId"} <= set(endpoint)


def test_last_modified_on_and_by_say_when_and_by_whom_a_resource_was_last_written(sandbox: SandboxControl) -> None:
    before = sandbox.get("/api/Spaces-1/variables/variableset-Projects-2")
    assert before["LastModifiedBy"] == "sandbox"
    sandbox.call("PUT", "/api/Spaces-1/variables/variableset-Projects-2", json=before).raise_for_status()
    after = sandbox.get("/api/Spaces-1/variables/variableset-Projects-2")
    assert after["LastModifiedOn"] > before["LastModifiedOn"]
    assert sandbox.get("/api/Spaces-1/projects/Projects-2")["LastModifiedOn"] < after["LastModifiedOn"]


def test_a_project_has_octopus_versioning_and_release_creation_fields(sandbox: SandboxControl) -> None:
    project = sandbox.get("/api/Spaces-1/projects/Projects-1")
    assert project["VersioningStrategy"]["Template"] == (
        "#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}")
    assert (project["ReleaseCreationStrategy"]["ChannelId"], project["Templates"], project["ClonedFromProjectId"],
            project["AutoDeployReleaseOverrides"], project["ExtensionSettings"]) == (None, [], None, [], [])
    process = sandbox.get(project["Links"]["DeploymentProcess"])
    assert [a["WorkerPoolId"] for s in process["Steps"] for a in s["Actions"]] == [None, None]


CLASSIC_CLIENT_ROUTES = [
    "/api/spaces/all", "/api/Spaces-1/projects/all", "/api/Spaces-1/environments/all", "/api/Spaces-1/machines/all",
    "/api/Spaces-1/projectgroups/all", "/api/Spaces-1/lifecycles/all", "/api/Spaces-1/channels/all",
    "/api/Spaces-1/feeds/all", "/api/Spaces-1/tenants/all", "/api/Spaces-1/libraryvariablesets/all",
    "/api/Spaces-1/DeploymentProcesses/deploymentprocess-Projects-1", "/api/Spaces-1/Projects/Projects-1",
    "/api/Spaces-1/Environments",
    "/api/Spaces-1/deploymentprocesses/deploymentprocess-Projects-1/template?channel=Channels-1&releaseId=",
    "/api/Spaces-1/libraryvariablesets?contentType=Variables",
    "/api/Spaces-1/libraryvariablesets/LibraryVariableSets-1",
    "/api/Spaces-1/variables/variableset-LibraryVariableSets-1", "/api/Spaces-1/projects/Projects-1/runbooks",
    "/api/Spaces-1/projects/Projects-1/deploymentsettings", "/api/Spaces-1/projects/Projects-1/progression",
    "/api/Spaces-1/projects/Projects-1/triggers", "/api/Spaces-1/projects/Projects-1/logo",
    "/api/Spaces-1/channels/Channels-1/releases", "/api/Spaces-1/projectgroups/ProjectGroups-1/projects",
    "/api/Spaces-1/artifacts?regarding=Deployments-1", "/api/Spaces-1/interruptions?regarding=ServerTasks-1",
    "/api/tasks/ServerTasks-1/queued-behind", "/api/Spaces-1/machines/Machines-1/tasks",
    "/api/Spaces-1/machines/Machines-1/connection", "/api/Spaces-1/tenants/Tenants-1/variables",
    "/api/Spaces-1/feeds/feeds-builtin/packages/search?term=Web", "/api/Spaces-1/lifecycles/Lifecycles-1/preview",
    "/api/Spaces-1/lifecycles/Lifecycles-1/projects", "/api/users", "/api/users/Users-1/apikeys",
    "/api/users/Users-1/permissions", "/api/Spaces-1/deploymentprocesses", "/api/Spaces-1/variables",
]


@pytest.mark.parametrize("url", CLASSIC_CLIENT_ROUTES)
def test_every_route_a_classic_client_uses_answers(sandbox: SandboxControl, url: str) -> None:
    response = sandbox.call("GET", url)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:300]}"


def test_the_contract_check_can_fail() -> None:
    """A document missing a field, or with a wrong type, is reported with where and what."""
    assert swagger.conforms({"Id": "Environments-1", "Name": 3}, "EnvironmentResource")[:2] == [
        "$.Name: expected str, got int 3", "$: EnvironmentResource lacks Description (str)"]
    assert re.match(r"GET /api/\{\}/projects/\{\}$", swagger.route_key("GET", "/api/{baseSpaceId}/Projects/{id}"))
