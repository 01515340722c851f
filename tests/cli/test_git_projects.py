"""`create`, `deploy` and `promote` of a version-controlled project (the demo's Platform, in the
Operations space, kept in Git: branches main and feature/canary, tag v0.9), over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from octorelease.sandbox.rules import git
from testing.cli import CliRun, assert_one_line_error

SPACE = ("--space", "Operations")


def release(sandbox: Any, release_id: str) -> dict[str, Any]:
    found: dict[str, Any] = sandbox.get(f"/api/Spaces-2/releases/{release_id}")
    return found


def steps_of(sandbox: Any, run: CliRun) -> list[str]:
    """The steps the release's first deployment ran, from its task's log."""
    task_id = run.json["deployments"][0]["task_id"]
    log = sandbox.get(f"/api/Spaces-2/tasks/{task_id}/details")["ActivityLogs"][0]["Children"]
    return [c["Name"] for c in log if c["Name"].startswith("Step ")]


def head_of(sandbox: Any, kind: str) -> str:
    commits = sandbox.get("/api/Spaces-2/projects/Projects-5/git/commits")["Items"]
    return str(commits[{"main": 2, "canary": 1, "tag": 0}[kind]]["Id"])


@pytest.mark.parametrize(("ref", "expected", "steps"), [
    ("main", "main", ["Step 1: Deploy platform"]),
    ("refs/heads/feature/canary", "refs/heads/feature/canary",
     ["Step 1: Deploy platform", "Step 2: Canary check"]),
    ("refs/tags/v0.9", "refs/tags/v0.9", ["Step 1: Deploy platform"]),
])
def test_create_at_a_branch_or_a_tag_and_deploy(sandbox: Any, octorelease: Any, ref: str, expected: str,
                                                 steps: list[str]) -> None:
    run = octorelease("create", "--project", "Platform", "--version", "1.0.0", "--git-ref", ref,
                      "--deploy-to", "Ops", "--json", *SPACE)
    assert run.code == 0, run.err
    made = release(sandbox, run.json["release"]["id"])["VersionControlReference"]
    assert made["GitRef"] in (expected, f"refs/heads/{expected}")
    assert run.json["release"]["version_control_reference"] == {"GitRef": made["GitRef"],
                                                                "GitCommit": made["GitCommit"]}
    assert any(f"at commit {made['GitCommit']} (--git-ref)" in m for m in run.json["messages"])
    assert run.json["deployments"][0]["state"] == "Success"
    assert steps_of(sandbox, run) == steps


def test_create_at_a_commit(sandbox: Any, octorelease: Any) -> None:
    commit = head_of(sandbox, "canary")
    run = octorelease("create", "--project", "Platform", "--version", "1.0.0", "--git-commit", commit[:12],
                      "--json", *SPACE)
    assert run.code == 0, run.err
    assert release(sandbox, run.json["release"]["id"])["VersionControlReference"]["GitCommit"] == commit


def test_in_ci_the_build_branch_and_commit_are_taken(sandbox: Any, octorelease: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    commit = head_of(sandbox, "canary")
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "feature/canary", "GITHUB_REF_TYPE": "branch",
                        "GITHUB_SHA": commit}.items():
        monkeypatch.setenv(name, value)
    run = octorelease("create", "--project", "Platform", "--version", "1.0.0", "--json", *SPACE)
    assert run.code == 0, run.err
    made = release(sandbox, run.json["release"]["id"])["VersionControlReference"]
    assert (made["GitRef"], made["GitCommit"]) == ("refs/heads/feature/canary", commit)
    assert f"Git reference refs/heads/feature/canary at commit {commit} (the build's branch and commit, from " \
           "GitHub Actions)." in run.json["messages"]
    # a database project in the same build takes no ref
    web = octorelease("create", "--project", "Web", "--version", "7.0.0", "--json")
    assert web.code == 0, web.err
    assert "version_control_reference" not in web.json["release"]


def test_a_dry_run_names_the_ref_and_its_commit_and_creates_nothing(sandbox: Any, octorelease: Any) -> None:
    commit = head_of(sandbox, "main")
    run = octorelease("create", "--project", "Platform", "--version", "1.0.0", "--git-ref", "main",
                      "--git-commit", commit[:9], "--dry-run", "--json", *SPACE)
    assert run.code == 0, run.err
    assert run.json["release"]["version_control_reference"] == {"GitRef": "main", "GitCommit": commit}
    assert f"At Git reference main (--git-ref and --git-commit): the process of commit {commit}." \
        in run.json["messages"]
    assert sandbox.get("/api/Spaces-2/projects/Projects-5/releases")["TotalResults"] == 0


def test_a_git_project_without_a_ref_is_refused_with_what_to_do(sandbox: Any, octorelease: Any) -> None:
    run = octorelease("create", "--project", "Platform", "--version", "1.0.0", *SPACE)
    line = assert_one_line_error(run, 3, "Platform", "kept in Git")
    assert "--git-ref" in run.err, line
    assert sandbox.get("/api/Spaces-2/projects/Projects-5/releases")["TotalResults"] == 0


def test_a_ref_for_a_database_project_is_refused(sandbox: Any, octorelease: Any) -> None:
    run = octorelease("create", "--project", "Web", "--version", "9.0.0", "--git-ref", "main")
    assert_one_line_error(run, 3, "Web", "not kept in Git", "--git-ref")
    assert "9.0.0" not in [r["Version"] for r in sandbox.get("/api/Spaces-1/projects/Projects-1/releases")["Items"]]


def test_an_unknown_ref_is_refused_before_anything_is_made(sandbox: Any, octorelease: Any) -> None:
    run = octorelease("create", "--project", "Platform", "--version", "1.0.0", "--git-ref", "nope", *SPACE)
    assert_one_line_error(run, 3, "nope", "no branch, tag or commit")
    assert sandbox.get("/api/Spaces-2/projects/Projects-5/releases")["TotalResults"] == 0


def test_deploy_and_update_variables_of_a_git_release(sandbox: Any, octorelease: Any) -> None:
    made = octorelease("create", "--project", "Platform", "--version", "1.0.0", "--git-ref", "feature/canary",
                       *SPACE)
    assert made.code == 0, made.err
    run = octorelease("deploy", "--project", "Platform", "--release", "1.0.0", "--to", "Ops", "--update-variables",
                      "--json", *SPACE)
    assert run.code == 0, run.err
    assert run.json["deployments"][0]["state"] == "Success"
    assert steps_of(sandbox, run) == ["Step 1: Deploy platform", "Step 2: Canary check"]
    assert run.json["release"]["version_control_reference"]["GitRef"] == "refs/heads/feature/canary"


def test_promote_of_a_git_release_names_its_commit(sandbox: Any, octorelease: Any) -> None:
    created = sandbox.call("POST", "/api/Spaces-2/environments", json={"Name": "Ops Mirror"})
    assert created.status_code == 201, created.text
    made = octorelease("create", "--project", "Platform", "--version", "1.0.0", "--git-ref", "feature/canary",
                       "--deploy-to", "Ops", *SPACE)
    assert made.code == 0, made.err
    commit = head_of(sandbox, "canary")
    run = octorelease("promote", "--project", "Platform", "--from", "Ops", "--to", "Ops Mirror", "--json", *SPACE)
    assert run.code == 0, run.err
    assert run.json["release"]["version_control_reference"] == {"GitRef": "refs/heads/feature/canary",
                                                                "GitCommit": commit}
    assert any(m.startswith(f"Release 1.0.0 of Platform (Git refs/heads/feature/canary at commit {commit}): ")
               for m in run.json["messages"]), run.json["messages"]
    assert steps_of(sandbox, run) == ["Step 1: Deploy platform", "Step 2: Canary check"]


GIT_HANDLERS = """\
server: ${OCTOPUS_URL}
api_key: ${OCTOPUS_API_KEY}
space: Operations
serve:
  secrets:
    generic: ${OCTORELEASE_WEBHOOK_SECRET}
handlers:
  - name: Ship Platform
    project: Platform
    on: {event: build-completed, status: success}
    create: {version: "2.0.{build.number}", deploy_to: [Ops]}
"""


def test_a_handler_takes_the_builds_branch_and_commit_or_its_own_git_ref(
        sandbox: Any, octorelease: Any, tmp_path: Any) -> None:
    commit = head_of(sandbox, "canary")
    path = tmp_path / "octorelease.yml"
    path.write_text(GIT_HANDLERS, encoding="utf-8")
    run = octorelease("--json", "run", str(path), "--event", "build-completed", "--status", "success",
                      "--var", "number=1", "--var", "branch=feature/canary", "--var", f"commit={commit}")
    assert run.code == 0, run.err
    create = run.json["handlers"][0]["actions"][0]
    assert create["release"]["version_control_reference"] == {"GitRef": "refs/heads/feature/canary",
                                                              "GitCommit": commit}
    path.write_text(GIT_HANDLERS.replace('deploy_to: [Ops]}', 'deploy_to: [Ops], git_ref: "v0.9"}'),
                    encoding="utf-8")
    run = octorelease("--json", "run", str(path), "--event", "build-completed", "--status", "success",
                      "--var", "number=2", "--var", "branch=feature/canary")
    assert run.code == 0, run.err
    made = release(sandbox, run.json["handlers"][0]["actions"][0]["release"]["id"])
    assert made["VersionControlReference"]["GitRef"] == "refs/tags/v0.9"


def test_serve_takes_the_ref_and_commit_from_the_webhook(sandbox: Any, tmp_path: Any) -> None:
    from testing.serve import start_serve

    path = tmp_path / "handlers.yml"
    path.write_text(GIT_HANDLERS, encoding="utf-8")
    service = start_serve(path, sandbox, tmp_path / "serve.db")
    try:
        commit = head_of(sandbox, "canary")
        answer = service.event("git-1", number="3", branch="feature/canary", commit=commit)
        run = service.wait(answer["id"])
        assert run["state"] == "succeeded", run
        create = run["handlers"][0]["actions"][0]
        assert create["release"]["version_control_reference"] == {"GitRef": "refs/heads/feature/canary",
                                                                  "GitCommit": commit}
    finally:
        service.close()


def variables_at(sandbox: Any, ref: str | None = None) -> dict[str, str | None]:
    at = f"/{ref}" if ref else ""
    found = sandbox.get(f"/api/Spaces-2/projects/Projects-5{at}/variables")["Variables"]
    return {v["Name"]: v["Value"] for v in found}


VARIABLE_HANDLERS = GIT_HANDLERS.replace("    create: {", "    variables: {Greeting: \"hi {build.number}\", Token: t}\n"
                                                       "    create: {")


def test_a_handlers_variables_are_set_on_the_branch_of_its_release(
        sandbox: Any, octorelease: Any, tmp_path: Any) -> None:
    """A Git project's non-sensitive variables are committed to the branch the release is made at;
    a sensitive one stays in the database set; the release takes both."""
    saved = sandbox.call("PUT", "/api/Spaces-2/projects/Projects-5/variables", json={
        "Variables": [{"Name": "Token", "Value": "old", "IsSensitive": True}]})
    assert saved.status_code == 200, saved.text
    path = tmp_path / "octorelease.yml"
    path.write_text(VARIABLE_HANDLERS, encoding="utf-8")
    run = octorelease("--json", "run", str(path), "--event", "build-completed", "--status", "success",
                      "--var", "number=1", "--var", "branch=feature/canary")
    assert run.code == 0, run.err
    variables = run.json["handlers"][0]["actions"][0]
    assert variables["messages"] == ["Set project variables Greeting, Token of Platform on "
                                     "refs/heads/feature/canary (the build's branch, from --var)."]
    assert variables_at(sandbox, "feature%2Fcanary") == {"Greeting": "hi 1"}
    # the commit says who changed what (ChangeDescription); the database set takes no message
    platform = sandbox.server.sandbox.backend.project("Spaces-2", "Projects-5")
    assert git.resolve(platform, "feature/canary").commit.message == (
        "octorelease: set project variables Greeting (handler 'Ship Platform', build 1)")
    puts = [r for r in sandbox.requests() if r["method"] == "PUT" and r["path"].endswith("/variables")]
    assert [("ChangeDescription" in r["fields"]) for r in puts[-2:]] == [True, False], puts
    assert variables_at(sandbox, "main") == {}  # another branch
    assert variables_at(sandbox) == {"Token": None}  # the sensitive one, still in the database
    made = release(sandbox, run.json["handlers"][0]["actions"][1]["release"]["id"])
    snapshot = sandbox.get(f"/api/Spaces-2/variables/{made['ProjectVariableSetSnapshotId']}")["Variables"]
    assert sorted(v["Name"] for v in snapshot) == ["Greeting", "Token"]


@pytest.mark.parametrize(("create", "says"), [
    ('git_ref: "v0.9"', "can be set on a branch, and v0.9 (the create action's git_ref) is none"),
    ('git_ref: "refs/tags/v0.9"', "can be set on a branch, and v0.9 (the create action's git_ref) is none"),
    ('git_commit: "0123456789abcdef"', "cannot be set at commit 0123456789abcdef"),
])
def test_a_handlers_variables_are_not_set_on_a_tag_or_a_commit(
        sandbox: Any, octorelease: Any, tmp_path: Any, create: str, says: str) -> None:
    path = tmp_path / "octorelease.yml"
    path.write_text(VARIABLE_HANDLERS.replace("deploy_to: [Ops]}", f"deploy_to: [Ops], {create}}}"),
                    encoding="utf-8")
    run = octorelease("run", str(path), "--event", "build-completed", "--status", "success", "--var", "number=1")
    assert run.code == 3, run.err
    assert says in run.err
    assert variables_at(sandbox, "main") == {} and variables_at(sandbox) == {}
    assert sandbox.get("/api/Spaces-2/projects/Projects-5/releases")["TotalResults"] == 0


def test_a_release_without_a_version_takes_its_refs_versioning_strategy(sandbox: Any, octorelease: Any) -> None:
    """Each branch keeps its own deployment settings in Git: the version Octopus picks at
    feature/canary is its branch's template, not main's."""
    saved = sandbox.call("PUT", "/api/Spaces-2/projects/Projects-5/feature%2Fcanary/deploymentsettings",
                         json={"VersioningStrategy": {"Template": "3.0.#{Octopus.Version.NextPatch}-canary"}})
    assert saved.status_code == 200, saved.text
    dry = octorelease("create", "--project", "Platform", "--git-ref", "feature/canary", "--dry-run", "--json", *SPACE)
    assert dry.code == 0, dry.err
    assert dry.json["release"]["version"] == "3.0.1-canary"
    canary = octorelease("create", "--project", "Platform", "--git-ref", "feature/canary", "--json", *SPACE)
    main = octorelease("create", "--project", "Platform", "--git-ref", "main", "--json", *SPACE)
    assert (canary.code, main.code) == (0, 0), (canary.err, main.err)
    assert (canary.json["release"]["version"], main.json["release"]["version"]) == ("3.0.1-canary", "3.0.2")


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        ({}, ("handlers[0].create.git_ref: a version-controlled project's release needs a Git reference.",
              "hint: Give git_ref: BRANCH (or git_commit: SHA)")),
        ({"deploy_to: [Ops]}": "deploy_to: [Ops], git_ref: nope}"},
         ("handlers[0].create.git_ref: 'nope': project Platform has no branch, tag or commit of that name (git_ref).",
          "or give git_ref / git_commit of one")),
        ({"project: Platform": "project: Web", "space: Operations": "space: Default",
          "deploy_to: [Ops]}": "deploy_to: [Development], git_ref: main}"},
         ("handlers[0].create.git_ref: the project is not version controlled.", "hint: Leave out git_ref.")),
    ],
    ids=["no ref", "unknown ref", "database project"],
)
def test_a_handlers_git_faults_name_its_fields_not_the_flags(
        sandbox: Any, octorelease: Any, tmp_path: Any, edit: dict[str, str], says: tuple[str, ...]) -> None:
    text = GIT_HANDLERS
    for old, new in edit.items():
        text = text.replace(old, new)
    path = tmp_path / "octorelease.yml"
    path.write_text(text, encoding="utf-8")
    run = octorelease("run", str(path), "--event", "build-completed", "--status", "success", "--var", "number=1")
    assert run.code == 3, run.err
    assert all(words in run.err for words in says), run.err
    assert "--git" not in run.err
