"""Version-controlled ("Config as Code") projects: the demo's Platform keeps its process in Git,
with a branch ``feature/canary`` holding one more step and a tag ``v0.9``. Its process answers at
a ref only, its database routes answer 404 as the real server's do (OctopusDeploy/Issues #7746),
and a release needs a ref (a database project's refuses one) and keeps its commit's process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from octorelease.mirror import mirror_space
from octorelease.octopus.http import OctopusHttp
from octorelease.sandbox.estate.export import dump_estate, export_estate
from octorelease.sandbox.estate.file import load_estate
from octorelease.sandbox.http.server import SandboxServer
from testing.sandbox import SandboxControl

SP = "/api/Spaces-2"
CANARY_TEMPLATE = "2.0.#{Octopus.Version.NextPatch}-canary"
DEFAULT_TEMPLATE = "#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}"


def platform(sandbox: SandboxControl) -> dict[str, Any]:
    project: dict[str, Any] = sandbox.get(f"{SP}/projects/Platform")
    return project


def step_names(process: dict[str, Any]) -> list[str]:
    return [s["Name"] for s in process["Steps"]]


def create(sandbox: SandboxControl, project: str = "Platform", space: str = "Spaces-2", **body: Any) -> Any:
    return sandbox.call("POST", f"/api/{space}/releases/create/v1",
                        json={"ProjectName": project, "SpaceId": space, "SpaceIdOrName": space, **body})


def test_a_git_project_says_where_its_files_are(sandbox: SandboxControl) -> None:
    project = platform(sandbox)
    assert project["IsVersionControlled"] is True
    settings = project["PersistenceSettings"]
    assert (settings["Type"], settings["Url"], settings["DefaultBranch"], settings["BasePath"]) == (
        "VersionControlled", "https://github.com/acme/platform.git", "main", ".octopus")
    assert settings["Credentials"] == {"Type": "Anonymous"}
    assert project["Links"]["DeploymentProcess"].endswith(f"/projects/{project['Id']}/{{gitRef}}/deploymentprocesses")
    web = sandbox.get("/api/Spaces-1/projects/Web")
    assert (web["IsVersionControlled"], web["PersistenceSettings"]) == (False, {"Type": "Database"})


@pytest.mark.parametrize(("ref", "steps"), [
    ("main", ["Deploy platform"]),
    ("refs%2Fheads%2Fmain", ["Deploy platform"]),
    ("refs/heads/feature/canary", ["Deploy platform", "Canary check"]),
    ("feature/canary", ["Deploy platform", "Canary check"]),
    ("v0.9", ["Deploy platform"]),
    ("refs%2Ftags%2Fv0.9", ["Deploy platform"]),
])
def test_the_process_answers_at_a_branch_or_a_tag(sandbox: SandboxControl, ref: str, steps: list[str]) -> None:
    project = platform(sandbox)
    process = sandbox.get(f"{SP}/projects/{project['Id']}/{ref}/deploymentprocesses")
    assert step_names(process) == steps
    template = sandbox.get(f"{SP}/projects/{project['Id']}/{ref}/deploymentprocesses/template")
    assert [p["ActionName"] for p in template["Packages"]] == ["Deploy platform"]
    assert sandbox.get(f"{SP}/projects/{project['Id']}/{ref}/deploymentsettings")["ProjectId"] == project["Id"]
    assert sandbox.get(f"{SP}/projects/{project['Id']}/{ref}/variables")["OwnerId"] == project["Id"]


def test_branches_tags_and_commits_are_listed(sandbox: SandboxControl) -> None:
    pid = platform(sandbox)["Id"]
    branches = sandbox.get(f"{SP}/projects/{pid}/git/branches")
    assert (branches["ItemType"], [b["CanonicalName"] for b in branches["Items"]]) == (
        "GitBranch", ["refs/heads/feature/canary", "refs/heads/main"])
    assert sandbox.get(f"{SP}/projects/{pid}/git/branches", searchByName="can")["TotalResults"] == 1
    assert sandbox.get(f"{SP}/projects/{pid}/git/branches/feature/canary")["Name"] == "feature/canary"
    tags = sandbox.get(f"{SP}/projects/{pid}/git/tags")
    assert [t["Name"] for t in tags["Items"]] == ["v0.9"]
    commits = sandbox.get(f"{SP}/projects/{pid}/git/commits")["Items"]
    assert len(commits) == 3
    commit = commits[0]["Id"]
    assert sandbox.get(f"{SP}/projects/{pid}/git/commits/{commit[:8]}")["Id"] == commit
    assert step_names(sandbox.get(f"{SP}/projects/{pid}/{commit}/deploymentprocesses")) == ["Deploy platform"]
    assert sandbox.call("GET", f"{SP}/projects/{pid}/git/branches/nope").status_code == 404


def test_the_database_routes_answer_404_for_a_git_project(sandbox: SandboxControl) -> None:
    pid = platform(sandbox)["Id"]
    for path in (f"projects/{pid}/deploymentprocesses", f"deploymentprocesses/deploymentprocess-{pid}",
                 f"deploymentprocesses/deploymentprocess-{pid}/template"):
        response = sandbox.call("GET", f"{SP}/{path}")
        assert (response.status_code, response.json()["ErrorMessage"]) == (
            404, f"The resource 'deploymentprocess-{pid}' was not found."), path
    response = sandbox.call("GET", f"{SP}/projects/{pid}/deploymentsettings")
    assert (response.status_code, response.json()["ErrorMessage"]) == (
        404, f"The resource 'deploymentsettings-{pid}' was not found.")
    assert sandbox.call("GET", f"{SP}/projects/{pid}/nope/deploymentprocesses").status_code == 404
    # and a Git route of a database project is refused, not answered as if the ref were not there
    assert sandbox.call("GET", "/api/Spaces-1/projects/Web/main/deploymentprocesses").status_code == 400


def test_a_release_needs_a_ref_and_a_database_project_refuses_one(sandbox: SandboxControl) -> None:
    """In the words users of the real server quote: octo's (OctopusDeploy/Issues #7508), whose
    release planning the executions API took over, and the server's for a branch or a tag its
    repository lacks (#7717, #8344)."""
    response = create(sandbox, ReleaseVersion="1.0.0")
    assert response.status_code == 400
    assert response.json()["Errors"] == ["Attempting to create a release for a version controlled project, but no git "
                                         "reference has been provided. Use the gitRef parameter to supply a git "
                                         "reference."]
    response = create(sandbox, "Web", "Spaces-1", ReleaseVersion="9.0.0", GitRef="main")
    assert response.status_code == 400
    assert response.json()["Errors"] == ["Since the provided project is not a version controlled project, the "
                                         "--gitCommit and --gitRef arguments are not supported for this command."]
    for ref, says in (("nope", "No branch with the name 'refs/heads/nope' exists in the repository"),
                      ("refs/heads/gone", "No branch with the name 'refs/heads/gone' exists in the repository"),
                      ("refs/tags/v9", 'No tag with the name "v9" exists in the repository')):
        response = create(sandbox, ReleaseVersion="1.0.0", GitRef=ref)
        assert (response.status_code, response.json()["Errors"]) == (400, [says])
        at = sandbox.call("GET", f"{SP}/projects/Projects-5/{ref.replace('/', '%2F')}/deploymentprocesses")
        assert (at.status_code, at.json()["ErrorMessage"]) == (404, says)
    response = create(sandbox, ReleaseVersion="1.0.0", GitCommit="0" * 40)
    assert response.status_code == 400


def test_a_release_keeps_the_process_of_its_commit(sandbox: SandboxControl) -> None:
    pid = platform(sandbox)["Id"]
    response = create(sandbox, ReleaseVersion="1.0.0", GitRef="feature/canary")
    assert response.status_code == 201, response.text
    release = sandbox.get(f"{SP}/releases/{response.json()['ReleaseId']}")
    head = sandbox.get(f"{SP}/projects/{pid}/git/branches/feature/canary")
    reference = release["VersionControlReference"]
    assert reference["GitRef"] == "refs/heads/feature/canary"
    assert len(reference["GitCommit"]) == 40
    assert sandbox.get(f"{SP}/projects/{pid}/git/commits/{reference['GitCommit']}")["Id"] == reference["GitCommit"]
    assert head["CanonicalName"] == "refs/heads/feature/canary"
    # a later commit on the branch (PUT at the branch) moves the branch, not the release
    process = sandbox.get(f"{SP}/projects/{pid}/feature%2Fcanary/deploymentprocesses")
    saved = sandbox.call("PUT", f"{SP}/projects/{pid}/feature%2Fcanary/deploymentprocesses",
                         json={**process, "Steps": process["Steps"][:1]})
    assert saved.status_code == 200, saved.text
    assert step_names(sandbox.get(f"{SP}/projects/{pid}/feature%2Fcanary/deploymentprocesses")) == ["Deploy platform"]
    later = create(sandbox, ReleaseVersion="1.0.1", GitRef="refs/heads/feature/canary").json()
    later_reference = sandbox.get(f"{SP}/releases/{later['ReleaseId']}")["VersionControlReference"]
    assert later_reference["GitCommit"] != reference["GitCommit"]
    # the first release still deploys both steps of its commit
    deployed = sandbox.call("POST", "/api/Spaces-2/deployments/create/untenanted/v1", json={
        "SpaceId": "Spaces-2", "SpaceIdOrName": "Spaces-2", "ProjectName": "Platform", "ReleaseVersion": "1.0.0",
        "EnvironmentNames": ["Ops"]})
    assert deployed.status_code in (200, 201), deployed.text
    task = sandbox.wait_for_task(deployed.json()["DeploymentServerTasks"][0]["ServerTaskId"])
    assert task["State"] == "Success"
    log = sandbox.get(f"/api/Spaces-2/tasks/{task['Id']}/details")["ActivityLogs"][0]["Children"]
    assert "Step 2: Canary check" in [c["Name"] for c in log]


def test_a_release_at_a_commit_or_a_tag(sandbox: SandboxControl) -> None:
    pid = platform(sandbox)["Id"]
    tag = sandbox.get(f"{SP}/projects/{pid}/git/tags/v0.9")
    commits = sandbox.get(f"{SP}/projects/{pid}/git/commits")["Items"]
    created = create(sandbox, ReleaseVersion="0.9.0", GitRef="v0.9").json()
    assert sandbox.get(f"{SP}/releases/{created['ReleaseId']}")["VersionControlReference"]["GitRef"] == \
        tag["CanonicalName"]
    commit = commits[-1]["Id"]
    created = create(sandbox, ReleaseVersion="0.9.1", GitCommit=commit[:10]).json()
    reference = sandbox.get(f"{SP}/releases/{created['ReleaseId']}")["VersionControlReference"]
    assert (reference["GitRef"], reference["GitCommit"]) == (commit, commit)


def test_the_mirror_copies_both_kinds_of_project_with_get_requests_only(sandbox: SandboxControl) -> None:
    created = create(sandbox, ReleaseVersion="1.0.0", GitRef="main")
    assert created.status_code == 201, created.text
    sandbox.clear_requests()
    with OctopusHttp(sandbox.url, sandbox.api_key) as http:
        estate, summary = mirror_space(http, "Operations", history=5)
    assert {r["method"] for r in sandbox.requests()} == {"GET"}
    infra, copied = estate.spaces[0].projects
    assert (infra.name, infra.git, [s.name for s in infra.steps]) == ("Infra", None, ["Deploy infra"])
    assert copied.git is not None and (copied.git.url, copied.git.default_branch) == (
        "https://github.com/acme/platform.git", "main")
    assert [s.name for s in copied.steps] == ["Deploy platform"]
    assert [r.version for r in copied.releases] == ["1.0.0"]
    assert "Left out: 2 Git branches and tags other than a project's default branch." in summary.lines()
    with SandboxServer(port=0, seed=estate, speed=0.001) as mirror, httpx.Client(
            base_url=mirror.url, headers={"X-Octopus-ApiKey": mirror.api_key}) as client:
        project = client.get("/api/projects/Platform").json()
        assert project["IsVersionControlled"] is True
        process = client.get(f"/api/projects/{project['Id']}/main/deploymentprocesses").json()
        assert step_names(process) == ["Deploy platform"]
        release = client.get(f"/api/projects/{project['Id']}/releases/1.0.0").json()
        assert release["VersionControlReference"]["GitRef"] == "refs/heads/main"


def test_an_export_of_a_git_project_seeds_the_same_refs(sandbox: SandboxControl, tmp_path: Path) -> None:
    server = SandboxServer(port=0, seed="demo", speed=0.001)
    with server, httpx.Client(base_url=server.url, headers={"X-Octopus-ApiKey": server.api_key}) as client:
        made = client.post("/api/Spaces-2/releases/create/v1", json={
            "ProjectName": "Platform", "SpaceId": "Spaces-2", "SpaceIdOrName": "Spaces-2", "ReleaseVersion": "2.0.0",
            "GitRef": "feature/canary"})
        assert made.status_code == 201, made.text
        settings = client.put("/api/Spaces-2/projects/Projects-5/feature%2Fcanary/deploymentsettings",
                              json={"VersioningStrategy": {"Template": CANARY_TEMPLATE}})
        assert settings.status_code == 200, settings.text
        with server.sandbox.backend.lock:
            exported = dump_estate(export_estate(server.sandbox.backend))
    path = tmp_path / "estate.yml"
    path.write_text(exported, encoding="utf-8")
    estate = load_estate(path)
    git = estate.spaces[1].projects[1].git
    assert git is not None and sorted(git.branches) == ["feature/canary", "main"] and list(git.tags) == ["v0.9"]
    assert estate.spaces[1].projects[1].releases[0].git_ref == "refs/heads/feature/canary"
    with SandboxServer(port=0, seed=estate, speed=0.001) as again, httpx.Client(
            base_url=again.url, headers={"X-Octopus-ApiKey": again.api_key}) as client:
        process = client.get("/api/Spaces-2/projects/Platform/feature%2Fcanary/deploymentprocesses").json()
        assert step_names(process) == ["Deploy platform", "Canary check"]
        for ref, template in (("feature%2Fcanary", CANARY_TEMPLATE), ("main", DEFAULT_TEMPLATE)):
            found = client.get(f"/api/Spaces-2/projects/Platform/{ref}/deploymentsettings").json()
            assert found["VersioningStrategy"]["Template"] == template
        release = client.get("/api/Spaces-2/projects/Platform/releases/2.0.0").json()
        assert release["VersionControlReference"]["GitRef"] == "refs/heads/feature/canary"


def _variables(sandbox: SandboxControl, ref: str | None = None) -> dict[str, Any]:
    at = f"/{ref}" if ref else ""
    found: dict[str, Any] = sandbox.get(f"{SP}/projects/Projects-5{at}/variables")
    return found


def _put_variables(sandbox: SandboxControl, ref: str | None, *variables: dict[str, Any]) -> httpx.Response:
    at = f"/{ref}" if ref else ""
    body: dict[str, Any] = {"ProjectId": "Projects-5", "SpaceId": "Spaces-2", "Variables": list(variables)}
    if ref:
        body["GitRef"] = ref
    return sandbox.call("PUT", f"{SP}/projects/Projects-5{at}/variables", json=body)


def test_non_sensitive_variables_are_kept_per_branch_and_sensitive_ones_in_the_database(
        sandbox: SandboxControl) -> None:
    """The real server's split (its 2022.3 routes): ``{gitRef}/variables`` holds the non-sensitive
    variables, one set per ref, written to branches only; ``/variables`` the sensitive ones."""
    before = len(sandbox.get(f"{SP}/projects/Projects-5/git/commits")["Items"])
    saved = _put_variables(sandbox, "feature%2Fcanary", {"Name": "Greeting", "Value": "canary"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["Links"]["Self"].endswith("/projects/Projects-5/feature%2Fcanary/variables")
    assert [(v["Name"], v["Value"]) for v in _variables(sandbox, "feature%2Fcanary")["Variables"]] == [
        ("Greeting", "canary")]
    assert _variables(sandbox, "main")["Variables"] == []  # another branch: its own set
    assert len(sandbox.get(f"{SP}/projects/Projects-5/git/commits")["Items"]) == before + 1  # a commit
    secret = _put_variables(sandbox, None, {"Name": "Token", "Value": "s3cret", "IsSensitive": True})
    assert secret.status_code == 200, secret.text
    stored = _variables(sandbox)["Variables"]
    assert [(v["Name"], v["IsSensitive"], v["Value"]) for v in stored] == [("Token", True, None)]
    assert [v["Name"] for v in _variables(sandbox, "feature%2Fcanary")["Variables"]] == ["Greeting"]


@pytest.mark.parametrize(("ref", "variable", "says"), [
    ("v0.9", {"Name": "Greeting", "Value": "x"}, "only a branch"),  # a tag cannot change
    ("main", {"Name": "Token", "Value": "x", "IsSensitive": True}, "kept in the database"),
    (None, {"Name": "Greeting", "Value": "x"}, "keeps its non-sensitive variables in Git"),
])
def test_a_variable_saved_where_it_is_not_kept_is_refused(sandbox: SandboxControl, ref: str | None,
                                                          variable: dict[str, Any], says: str) -> None:
    answer = _put_variables(sandbox, ref, variable)
    assert answer.status_code == 400, answer.text
    assert says in answer.text
    assert _variables(sandbox)["Variables"] == []
    assert _variables(sandbox, "main")["Variables"] == []


def test_a_release_takes_its_commits_variables_and_the_sensitive_ones(sandbox: SandboxControl) -> None:
    assert _put_variables(sandbox, "feature%2Fcanary", {"Name": "Greeting", "Value": "canary"}).status_code == 200
    assert _put_variables(sandbox, "main", {"Name": "Greeting", "Value": "main"}).status_code == 200
    assert _put_variables(sandbox, None, {"Name": "Token", "Value": "s", "IsSensitive": True}).status_code == 200
    made = create(sandbox, ReleaseVersion="1.0.0", GitRef="feature/canary")
    assert made.status_code == 201, made.text
    release = sandbox.get(f"{SP}/releases/{made.json()['ReleaseId']}")
    snapshot = sandbox.get(f"{SP}/variables/{release['ProjectVariableSetSnapshotId']}")
    assert sorted((v["Name"], v["Value"]) for v in snapshot["Variables"]) == [("Greeting", "canary"), ("Token", None)]
    reference = release["VersionControlReference"]
    assert reference["VariablesGitCommit"] == reference["GitCommit"]


def _settings(sandbox: SandboxControl, ref: str, template: str | None = None) -> httpx.Response:
    path = f"{SP}/projects/Projects-5/{ref}/deploymentsettings"
    if template is None:
        return sandbox.call("GET", path)
    return sandbox.call("PUT", path, json={"VersioningStrategy": {"Template": template}})


def test_each_ref_has_its_own_deployment_settings_and_a_release_takes_its_refs(sandbox: SandboxControl) -> None:
    """The versioning strategy is in Git, as the process is: a branch's settings are committed to
    it, a release made without a version takes the strategy of its ref, and the database route
    answers 404 as the process's does."""
    saved = _settings(sandbox, "feature%2Fcanary", CANARY_TEMPLATE)
    assert saved.status_code == 200, saved.text
    assert saved.json()["Links"]["Self"].endswith("/projects/Projects-5/feature%2Fcanary/deploymentsettings")
    assert _settings(sandbox, "feature%2Fcanary").json()["VersioningStrategy"]["Template"] == CANARY_TEMPLATE
    assert _settings(sandbox, "main").json()["VersioningStrategy"]["Template"] == DEFAULT_TEMPLATE
    template = sandbox.get(f"{SP}/projects/Projects-5/feature%2Fcanary/deploymentprocesses/template")
    assert template["NextVersionIncrement"] == "2.0.1-canary"
    main = create(sandbox, GitRef="main")
    canary = create(sandbox, GitRef="feature/canary")
    assert (canary.status_code, main.status_code) == (201, 201), (canary.text, main.text)
    assert (canary.json()["ReleaseVersion"], main.json()["ReleaseVersion"]) == ("2.0.2-canary", "0.0.1")
    # a tag cannot change; the database route of a Git project's settings is 404, as its process's
    assert _settings(sandbox, "v0.9", CANARY_TEMPLATE).status_code == 400
    database = sandbox.call("PUT", f"{SP}/projects/Projects-5/deploymentsettings",
                            json={"VersioningStrategy": {"Template": CANARY_TEMPLATE}})
    assert database.status_code == 404, database.text
    assert "deploymentsettings-Projects-5" in database.text


def test_updating_a_releases_variables_takes_its_branchs_newest_and_keeps_its_process(
        sandbox: SandboxControl) -> None:
    assert _put_variables(sandbox, "feature%2Fcanary", {"Name": "Greeting", "Value": "one"}).status_code == 200
    made = create(sandbox, ReleaseVersion="1.0.0", GitRef="feature/canary")
    assert made.status_code == 201, made.text
    release_id = made.json()["ReleaseId"]
    before = sandbox.get(f"{SP}/releases/{release_id}")["VersionControlReference"]
    assert _put_variables(sandbox, "feature%2Fcanary", {"Name": "Greeting", "Value": "two"}).status_code == 200
    assert _put_variables(sandbox, "main", {"Name": "Greeting", "Value": "main"}).status_code == 200
    template = sandbox.get(f"{SP}/releases/{release_id}/deployments/template")
    assert template["IsVariableSetModified"] is True
    refreshed = sandbox.call("POST", f"{SP}/releases/{release_id}/snapshot-variables", json={})
    assert refreshed.status_code == 200, refreshed.text
    release = sandbox.get(f"{SP}/releases/{release_id}")
    after = release["VersionControlReference"]
    assert after["GitCommit"] == before["GitCommit"] and after["VariablesGitCommit"] != before["VariablesGitCommit"]
    snapshot = sandbox.get(f"{SP}/variables/{release['ProjectVariableSetSnapshotId']}")
    assert [(v["Name"], v["Value"]) for v in snapshot["Variables"]] == [("Greeting", "two")]
    assert sandbox.get(f"{SP}/releases/{release_id}/deployments/template")["IsVariableSetModified"] is False
