"""`octorelease run` as a user runs it, with a handler file, against the sandbox; and `octorelease demo`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from octorelease.cli import main
from testing.cli import CliRun, run_cli
from testing.sandbox import SandboxControl

HANDLERS = """\
server: ${OCTOPUS_URL}
api_key: ${OCTOPUS_API_KEY}
handlers:
  - name: Ship
    project: Web
    on: {event: build-completed, status: success}
    conditions: ["{build.branch} == main"]
    create: {version: "1.3.{build.number}", packages: {"Deploy web": "1.3.0"}, notes: "Built from {build.commit}"}
    deploy: {to: [Development]}
    promote: {from: Development, to: [Test]}
  - name: Tell the team
    project: Web
    on: {event: build-completed, status: failure}
    deploy: {to: Development, release: latest}
"""
BUILD = ["--var", "build.number=7", "--var", "branch=main", "--var", "commit=abc123"]

Octorelease = Callable[..., CliRun]


@pytest.fixture
def handler_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """``handler_file(text)`` writes octorelease.yml in the working directory and returns its name."""
    monkeypatch.chdir(tmp_path)

    def write(text: str = HANDLERS) -> str:
        Path("octorelease.yml").write_text(text, encoding="utf-8")
        return "octorelease.yml"

    return write


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Run as a GitHub Actions step: the outputs file and the job summary file it writes to."""
    outputs, summary = tmp_path / "github_output", tmp_path / "step_summary"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    return outputs, summary


def releases(sandbox: SandboxControl) -> list[str]:
    return [r["Version"] for r in sandbox.get("/api/Spaces-1/projects/Projects-1/releases", take=100)["Items"]]


def writes(sandbox: SandboxControl) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests() if r["method"] != "GET"]


def test_a_build_ships_a_release_through_the_handlers(
    sandbox: SandboxControl, octorelease: Octorelease, handler_file: Callable[[str], str]
) -> None:
    run = octorelease("run", handler_file(HANDLERS), "--status", "success", *BUILD)
    assert run.code == 0, run.err
    release = sandbox.get("/api/Spaces-1/projects/Projects-1/releases/1.3.7")
    assert release["ReleaseNotes"] == "Built from abc123"
    environments = {
        d["EnvironmentId"] for d in sandbox.get(f"/api/Spaces-1/releases/{release['Id']}/deployments")["Items"]
    }
    assert environments == {"Environments-1", "Environments-2"}
    assert ">> Ship: event is build-completed, status success, 1 condition holds" in run.err
    assert "1 of 2 handler(s) ran for build-completed (success)" in run.err


def test_a_run_that_matches_no_handler_exits_0_and_says_why_each_did_not_run(
    sandbox: SandboxControl, octorelease: Octorelease, handler_file: Callable[[str], str]
) -> None:
    run = octorelease("run", handler_file(HANDLERS), "--event", "build-created", *BUILD)
    assert run.code == 0, run.err
    assert "-- Ship: event is build-created, handler waits for build-completed" in run.err
    assert "-- Tell the team: event is build-created, handler waits for build-completed" in run.err
    assert "0 of 2 handler(s) ran for build-created" in run.err
    assert sandbox.requests() == []


def test_a_handler_whose_condition_is_false_says_so(
    sandbox: SandboxControl, octorelease: Octorelease, handler_file: Callable[[str], str]
) -> None:
    run = octorelease("run", handler_file(HANDLERS), "--status", "success", *BUILD, "--var", "branch=feature/x")
    assert run.code == 0, run.err
    assert "-- Ship: condition false: {build.branch} == main ('feature/x' == 'main')" in run.err
    assert "-- Tell the team: status is success, handler runs on failure" in run.err
    assert sandbox.requests() == []


LITERAL_KEY = "API-ABCDEF0123456789"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "deploy: {to: [Development]}",
            "deploy: {too: [Development]}",
            "octorelease.yml:9: handlers[0].deploy.too: unknown key 'too' (did you mean 'to'?)",
            id="unknown key",
        ),
        pytest.param(
            "    project: Web\n    on: {event: build-completed, status: success}",
            "    project: [Web]\n    on: {event: build-completed, status: success}",
            "octorelease.yml:5: handlers[0].project: expected a string, got a list",
            id="wrong type",
        ),
        pytest.param(
            "    project: Web\n    on: {event: build-completed, status: success}",
            "    on: {event: build-completed, status: success}",
            "octorelease.yml:4: handlers[0]: missing required field 'project'",
            id="missing field",
        ),
        pytest.param(
            "to: [Test]}",
            "to: [Development]}",
            "octorelease.yml:10: handlers[0].promote.to[0]: 'Development' is listed in both from and to",
            id="promote from is to",
        ),
        pytest.param(
            "${OCTOPUS_API_KEY}",
            LITERAL_KEY,
            "octorelease.yml:2: api_key: write a reference such as ${OCTOPUS_API_KEY}, "
            "not the key itself (a key in a file ends up in version control)",
            id="literal api key",
        ),
        pytest.param(
            "${OCTOPUS_URL}",
            "${OCTOPUS_SERVER}",
            "octorelease.yml:1: server: environment variable OCTOPUS_SERVER is not set",
            id="unknown env",
        ),
        pytest.param(
            "{build.commit}",
            "{build.comit}",
            "octorelease.yml:8: handlers[0].create.notes: unknown build value {build.comit} "
            "(did you mean {build.commit}?)",
            id="unknown build value",
        ),
        pytest.param(
            "    project: Web\n",
            "    project: Web: Site\n",
            "octorelease.yml:5: YAML syntax error: mapping values are not allowed here",
            id="yaml syntax",
        ),
        pytest.param(
            "event: build-completed, status: success",
            "event: build-finished, status: success",
            "octorelease.yml:6: handlers[0].on.event: unknown build event 'build-finished' "
            "(did you mean 'build-completed'?)",
            id="unknown event",
        ),
    ],
)
def test_a_bad_handler_file_exits_2_with_one_line_naming_file_line_and_field_and_creates_nothing(
    sandbox: SandboxControl,
    octorelease: Octorelease,
    handler_file: Callable[[str], str],
    old: str,
    new: str,
    message: str,
) -> None:
    assert old in HANDLERS
    run = octorelease("run", handler_file(HANDLERS.replace(old, new, 1)), "--status", "success", *BUILD)
    assert run.code == 2
    assert run.err.splitlines() == [f"Error: {message}"]
    assert run.out == ""
    assert "Traceback" not in run.everything and LITERAL_KEY not in run.everything
    assert sandbox.requests() == []


def test_every_missing_build_value_is_named_in_one_run(
    sandbox: SandboxControl, octorelease: Octorelease, handler_file: Callable[[str], str]
) -> None:
    run = octorelease("run", handler_file(HANDLERS.replace("{build.commit}", "{build.comit}")), "--status", "success")
    assert run.code == 2
    assert run.err.splitlines() == [
        "Error: octorelease.yml:8: handlers[0].create.notes: unknown build value {build.comit} "
        "(did you mean {build.commit}?); "
        "octorelease.yml:7: handlers[0].conditions[0]: {build.branch} is not set in this build; "
        "octorelease.yml:8: handlers[0].create.version: {build.number} is not set in this build: "
        "pass --var branch=VALUE --var number=VALUE"
    ]
    assert sandbox.requests() == []


def test_an_unknown_event_on_the_command_line_exits_2_before_any_request(
    sandbox: SandboxControl, octorelease: Octorelease, handler_file: Callable[[str], str]
) -> None:
    run = octorelease("run", handler_file(HANDLERS), "--event", "build-finished", *BUILD)
    assert run.code == 2
    assert run.err.splitlines() == ["Error: unknown build event 'build-finished' (did you mean 'build-completed'?)"]
    assert sandbox.requests() == []


def test_json_prints_exactly_the_run_contract_object(
    sandbox: SandboxControl, octorelease: Octorelease, handler_file: Callable[[str], str]
) -> None:
    run = octorelease("run", handler_file(HANDLERS), "--status", "success", *BUILD, "--json")
    assert run.code == 0, run.err
    doc = run.json
    assert list(doc) == ["ok", "handlers", "error"]
    assert (doc["ok"], doc["error"]) == (True, None)
    ship, tell = doc["handlers"]
    assert [list(handler) for handler in doc["handlers"]] == [["name", "ran", "outcome", "reason", "actions"]] * 2
    assert (tell["name"], tell["ran"], tell["reason"], tell["actions"]) == (
        "Tell the team",
        False,
        "status is success, handler runs on failure",
        [],
    )
    create, deploy, promote = ship["actions"]
    assert (create["action"], create["release"]["version"], create["created"]) == ("create", "1.3.7", True)
    assert (promote["action"], promote["from"]) == ("promote", "Development")
    deployed = [(d["environment"], d["state"]) for action in (deploy, promote) for d in action["deployments"]]
    assert deployed == [("Development", "Success"), ("Test", "Success")]
    assert {d["task_id"] for action in (deploy, promote) for d in action["deployments"]} == {
        d["TaskId"] for d in sandbox.get("/api/Spaces-1/releases/Releases-6/deployments")["Items"]
    }


def test_on_github_actions_the_outputs_file_has_the_release_and_tasks_and_the_summary_a_table(
    sandbox: SandboxControl,
    octorelease: Octorelease,
    handler_file: Callable[[str], str],
    github: tuple[Path, Path],
) -> None:
    outputs, summary = github
    run = octorelease("run", handler_file(HANDLERS), "--status", "success", *BUILD)

    assert run.code == 0, run.err
    task_ids = sorted(d["TaskId"] for d in sandbox.get("/api/Spaces-1/releases/Releases-6/deployments")["Items"])
    lines = outputs.read_text(encoding="utf-8").splitlines()
    assert "ok=true" in lines
    assert "release_version=1.3.7" in lines
    assert "release_id=Releases-6" in lines
    assert f"task_ids={','.join(task_ids)}" in lines
    table = summary.read_text(encoding="utf-8")
    assert "| Ship / deploy | Web | 1.3.7 | Development |" in table
    assert "| Ship / promote | Web | 1.3.7 | Test |" in table


def test_a_dry_run_creates_nothing_and_shows_the_plans(
    sandbox: SandboxControl, octorelease: Octorelease, handler_file: Callable[[str], str]
) -> None:
    stage = "  - {name: Stage, project: Web, on: {event: build-completed}, promote: {from: Test, to: Staging}}\n"
    before = releases(sandbox)
    run = octorelease("run", handler_file(HANDLERS + stage), "--status", "success", *BUILD, "--dry-run")
    assert run.code == 0, run.err
    assert writes(sandbox) == []
    assert releases(sandbox) == before
    assert "Dry run: nothing was created. The plan:\npromote Web release 1.0.0" in run.err
    assert "  -> Staging: " in run.err
    assert "Would create release 1.3.7 of Web (the version given)." in run.err
    assert "Would deploy the new release to Development once it exists." in run.err
    assert "Would promote the new release from Development to Test once it is there." in run.err


def test_the_server_and_api_key_flags_fill_in_the_files_references(
    sandbox: SandboxControl, capsys: pytest.CaptureFixture[str], handler_file: Callable[[str], str]
) -> None:
    path = handler_file(HANDLERS)
    without = run_cli(capsys, "run", path, "--status", "success", *BUILD)
    assert (without.code, without.err.splitlines()) == (
        2,
        ["Error: octorelease.yml:1: server: environment variable OCTOPUS_URL is not set"],
    )
    run = run_cli(
        capsys, "run", path, "--status", "success", *BUILD, "--server", sandbox.url, "--api-key", sandbox.api_key
    )
    assert run.code == 0, run.err
    assert "1.3.7" in releases(sandbox)


def test_octos_environment_variables_fill_in_the_files_references(
    sandbox: SandboxControl,
    capsys: pytest.CaptureFixture[str],
    handler_file: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A job that sets only octo's OCTOPUS_CLI_SERVER / OCTOPUS_CLI_API_KEY can keep the usual
    ``${OCTOPUS_URL}`` / ``${OCTOPUS_API_KEY}`` references in its handler file."""
    monkeypatch.setenv("OCTOPUS_CLI_SERVER", sandbox.url)
    monkeypatch.setenv("OCTOPUS_CLI_API_KEY", sandbox.api_key)
    run = run_cli(capsys, "run", handler_file(HANDLERS), "--status", "success", *BUILD)
    assert run.code == 0, run.err
    assert "1.3.7" in releases(sandbox)


def test_the_api_key_never_appears_in_any_output(
    sandbox: SandboxControl,
    octorelease: Octorelease,
    handler_file: Callable[[str], str],
    github: tuple[Path, Path],
) -> None:
    sandbox.fail(step="Smoke test", environment="Test", message="Smoke test failed")
    # A successful action, a failed deployment with its log, every request logged, and the JSON.
    run = octorelease("run", handler_file(HANDLERS), "--status", "success", *BUILD, "--json", "-vv")
    assert run.code == 1
    assert "ServerTasks-" in run.err and "Smoke test failed" in run.everything
    written = [path.read_text(encoding="utf-8") for path in github]
    assert "Failed" in written[1]
    for text in (run.out, run.err, *written):
        assert sandbox.api_key not in text


def test_the_demo_refuses_production_ships_to_staging_and_a_git_project_and_exits_0(
        capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code = main(["demo"])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 0, err
    assert "cannot be deployed to Production" in err and "Nothing was created." in err
    assert "Promoted Web 1.3.7 from Test to Staging: 1 succeeded." in err
    # Production stops for the Release Managers' approval, which the demo gives from another process
    assert "Production waits for a person (manual intervention): Approve production." in err
    assert "octorelease interruptions proceed --project Web --environment Production" in err
    assert "Production: Approve production: proceeded by sandbox" in err
    assert "Promoted Web 1.3.7 from Staging to Production: 1 succeeded." in err
    assert "5 of 6 handler(s) ran for build-completed (success): 4 succeeded, 0 failed, 1 failed (ignored)" in err
    assert "Warning: Skip Staging and go straight to Production (refused on purpose): failed (ignored" in err
    assert "Error:" not in err
    # then Platform, a project kept in Git: a release at its branch feature/canary, which names its commit
    assert "Running " in err and "platform.yml for build-completed (success): Platform, a project kept in Git" in err
    assert "Set project variables Channel of Platform on feature/canary (the create action's git_ref)." in err
    assert "Created release 0.0.1-canary of Platform (picked by Octopus from the project's versioning template)." \
        in err
    assert re.search(r"^Git reference refs/heads/feature/canary at commit [0-9a-f]{40} \(git_ref\)\.$", err, re.M), err
    assert "[Ops] Canary check (ops-01): Script 'Canary check' completed on ops-01 with exit code 0" in err
    assert "Created release Platform 0.0.1-canary and deployed it to Ops: 1 succeeded." in err
    assert err.rstrip().endswith("1 of 1 handler(s) ran for build-completed (success)\nSandbox stopped.")
    assert elapsed < 60, f"the demo took {elapsed:.1f} s"


def test_a_bad_handler_file_with_json_still_prints_the_run_object(sandbox, capsys, tmp_path) -> None:
    from testing.cli import connection, run_cli

    path = tmp_path / "octorelease.yml"
    path.write_text(
        "handlers:\n  - name: x\n    project: Web\n    on: {event: build-finished}\n    deploy: {to: Test}\n"
    )
    run = run_cli(capsys, "run", str(path), "--json", *connection(sandbox))
    assert run.code == 2
    doc = run.json
    assert doc["ok"] is False and doc["handlers"] == []
    assert doc["error"]["code"] == 2 and "build-finished" in doc["error"]["message"]
