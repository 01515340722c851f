"""What a new user reads: help, skip reasons, tallies, links, tables that are never cut."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from octorelease.handler.events import BUILD_EVENTS
from testing.cli import CliRun, run_cli
from testing.sandbox import SandboxControl

Octorelease = Callable[..., CliRun]

TWO_HANDLERS = """\
handlers:
  - name: Don't ship
    project: Web
    on: {event: build-completed}
    deploy: {to: [Development], release: latest}
  - name: After
    project: Web
    on: {event: build-completed}
    conditions: ["{build.stage} == Package"]
    deploy: {to: [Development], release: latest}
"""


def help_of(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    run = run_cli(capsys, *command, "--help")
    assert run.code == 0
    return run.out


def test_help_says_what_each_command_takes(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("sandbox", "demo"):
        assert "Exit codes" not in help_of(capsys, command)
    run_help = help_of(capsys, "run")
    assert "--no-fail-on-error" not in run_help and "fail_build_on_error: false" in run_help
    unwrapped = re.sub(r"-\s+", "-", " ".join(run_help.split()))  # help wraps at hyphens too
    assert all(event in unwrapped for event in BUILD_EVENTS)
    package_help = " ".join(help_of(capsys, "create").split("--package", 1)[1].split("--default-package")[0].split())
    assert "(repeatable)" in package_help
    promote_help = help_of(capsys, "promote")
    for flag, metavar in (("--server", "URL"), ("--space", "NAME\\|ID"), ("--ca-bundle", "FILE"),
                          ("--project", "NAME\\|ID")):
        assert re.search(rf"{flag} {metavar}\s", promote_help), flag
    for command in ("promote", "deploy", "create", "run", "sandbox"):
        # Click's type names say nothing of what to give; only notes are plain text.
        vague = re.findall(r"(--[a-z-]+) (?:TEXT|INTEGER|FLOAT)\b", help_of(capsys, command))
        assert set(vague) <= {"--notes", "--deployment-notes"}, (command, vague)


def test_demo_refuses_a_server_it_would_ignore(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "demo", "--server", "https://octopus.example.com")
    assert run.code == 2
    assert "No such option '--server'" in run.err


def test_a_failed_handler_is_counted_skip_reasons_read_plainly_and_build_stage_is_the_stage(
    sandbox: SandboxControl, octorelease: Octorelease, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("octorelease.yml").write_text(TWO_HANDLERS, encoding="utf-8")
    sandbox.fail(environment="Development")
    run = octorelease("run", "octorelease.yml", "--stage", "Package")
    assert run.code == 1
    assert "-- After: skipped: handler 'Don't ship' failed" in run.err
    assert "\\'" not in run.err
    assert "1 of 2 handler(s) ran for build-completed: 0 succeeded, 1 failed" in run.err

    sandbox.clear_faults()
    run = octorelease("run", "octorelease.yml", "--stage", "Package")
    assert run.code == 0, run.err
    assert ">> After: event is build-completed, 1 condition holds" in run.err
    assert "2 of 2 handler(s) ran for build-completed\n" in run.err


def test_the_failure_line_and_the_table_give_the_task_link_and_40_columns_cut_no_task_id(
    sandbox: SandboxControl, octorelease: Octorelease, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    sandbox.fail(environment="Development")
    run = octorelease("deploy", "--project", "Web", "--release", "latest", "--to", "Development", "--json")
    assert run.code == 1
    (deployment,) = run.json["deployments"]
    url, task_id = deployment["web_url"], deployment["task_id"]
    failure = next(line for line in run.err.splitlines() if line.startswith("[Development] Failed"))
    assert failure.endswith(url)
    row = next(line for line in run.err.splitlines() if line.startswith("Development "))
    assert task_id in row.split() and url in row.split()


def test_a_typo_in_a_handler_that_does_not_run_is_found_before_anything_is_done(
    sandbox: SandboxControl, octorelease: Octorelease, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("octorelease.yml").write_text(
        "handlers:\n"
        "  - name: Ship\n"
        "    project: Web\n"
        "    on: {event: build-completed, status: success}\n"
        "    deploy: {to: [Development], release: latest, notes: 'build {build.tag}'}\n"
        "  - name: On failure\n"
        "    project: Web\n"
        "    on: {event: build-completed, status: failure}\n"
        "    deploy: {to: [Development], release: latest, notes: 'failed {build.nubmer}'}\n",
        encoding="utf-8",
    )
    before = len(sandbox.get("/api/Spaces-1/deployments", take=500)["Items"])
    run = octorelease("run", "octorelease.yml", "--status", "success", "--var", "tag=v1")
    assert run.code == 2
    assert "octorelease.yml:9: handlers[1].deploy.notes: unknown build value {build.nubmer}" in run.err
    assert "did you mean {build.number}?" in run.err
    assert len(sandbox.get("/api/Spaces-1/deployments", take=500)["Items"]) == before
