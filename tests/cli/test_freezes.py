"""Deployment freezes seen from the command line: a refusal names the freeze, when it ends and how
to override it; --freeze-override (and the handler field freeze_override) deploys through the
override; a dry run names the freezes of each target; a --deploy-at into a freeze is refused
before anything is created."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from octorelease.schedule import format_time
from testing.cli import CliRun, assert_one_line_error, run_cli
from testing.sandbox import HOTFIX_RELEASE, SandboxControl

WEB, WORKER = "Projects-1", "Projects-2"
TEST, PROD = "Environments-2", "Environments-4"

Octorelease = Callable[..., CliRun]


def moment(**delta: float) -> datetime:
    return (datetime.now(timezone.utc) + timedelta(**delta)).replace(microsecond=0)


def freeze(sandbox: SandboxControl, name: str, scope: dict[str, list[str]], start: datetime | None = None,
           end: datetime | None = None) -> dict[str, Any]:
    """A freeze of ``scope``, in force from a minute ago for an hour unless told."""
    created: dict[str, Any] = sandbox.post("/api/deploymentfreezes", {
        "Name": name, "Start": (start or moment(minutes=-1)).isoformat(), "End": (end or moment(hours=1)).isoformat(),
        "ProjectEnvironmentScope": scope})
    return created


def hotfix(sandbox: SandboxControl) -> str:
    """A release of Web that may go straight to Production (its Hotfix channel)."""
    return str(sandbox.post("/api/Spaces-1/releases/create/v1", HOTFIX_RELEASE)["ReleaseVersion"])


def to_production(version: str, *more: str) -> list[str]:
    return ["deploy", "--project", "Web", "--release", version, "--to", "Production", *more]


def writes(sandbox: SandboxControl) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests() if r["method"] != "GET"]


def test_a_refused_deployment_names_the_freeze_when_it_ends_and_how_to_override(
        sandbox: SandboxControl, octorelease: Octorelease) -> None:
    version = hotfix(sandbox)
    created = freeze(sandbox, "Year-end freeze", {WEB: [PROD]})
    ends = format_time(datetime.fromisoformat(created["End"]))
    before = sandbox.census()["deployment"]
    run = octorelease(*to_production(version, "--no-wait"))
    line = assert_one_line_error(run, 3, "Web cannot be deployed: a deployment freeze is in force: Production: "
                                 f"deployment freeze 'Year-end freeze' in force until {ends}. Nothing was created.")
    assert "hint: deploy once it ends, or override it with a reason: --freeze-override REASON" in run.err, line
    assert sandbox.census()["deployment"] == before


def test_a_promotion_with_one_frozen_target_creates_none(sandbox: SandboxControl, octorelease: Octorelease) -> None:
    """Test is the earliest phase, so it would be created last: the plan refuses it first."""
    freeze(sandbox, "Test lab move", {WORKER: [TEST]})
    before = sandbox.census()["deployment"]
    run = octorelease("promote", "--project", "Worker", "--from", "Development", "--to", "Test", "--to", "Staging",
                      "--to", "Production", "--no-wait")
    assert_one_line_error(run, 3, "Test: deployment freeze 'Test lab move' in force until", "Nothing was created.")
    assert sandbox.census()["deployment"] == before


def test_freeze_override_deploys_through_the_override_and_says_so(
        sandbox: SandboxControl, octorelease: Octorelease) -> None:
    version = hotfix(sandbox)
    created = freeze(sandbox, "Year-end freeze", {WEB: [PROD]})
    sandbox.clear_requests()
    run = octorelease(*to_production(version, "--freeze-override", "Hotfix for INC-7", "--json"))
    assert run.code == 0, run.everything
    assert ("Production: overriding deployment freeze 'Year-end freeze' in force until "
            f"{format_time(datetime.fromisoformat(created['End']))}, reason 'Hotfix for INC-7'") in run.err
    assert writes(sandbox) == ["POST /api/Spaces-1/deployments/override"]
    [deployment] = run.json["deployments"]
    assert deployment["state"] == "Success"
    assert [(f["name"], f["in_force"]) for f in deployment["freezes"]] == [("Year-end freeze", True)]


def test_a_target_outside_any_freeze_is_deployed_as_usual_despite_an_override(
        sandbox: SandboxControl, octorelease: Octorelease) -> None:
    freeze(sandbox, "Year-end freeze", {WEB: [PROD]})
    sandbox.clear_requests()
    run = octorelease("promote", "--project", "Web", "--from", "Development", "--to", "Test",
                      "--freeze-override", "just in case", "--no-wait")
    assert run.code == 0, run.everything
    assert writes(sandbox) == ["POST /api/Spaces-1/deployments"] and "overriding" not in run.err


def test_a_dry_run_names_the_freezes_in_force_and_to_come_for_each_target(
        sandbox: SandboxControl, octorelease: Octorelease) -> None:
    version = hotfix(sandbox)
    now_on = freeze(sandbox, "Year-end freeze", {WEB: [PROD]})
    tonight = freeze(sandbox, "Tonight", {WEB: [TEST, PROD]}, start=moment(hours=3), end=moment(hours=5))
    before = sandbox.census()
    run = octorelease("deploy", "--project", "Web", "--release", version, "--to", "Test", "--to", "Production",
                      "--freeze-override", "INC-7", "--dry-run")
    assert run.code == 0, run.everything
    start, end = (format_time(datetime.fromisoformat(tonight[k])) for k in ("Start", "End"))
    until = format_time(datetime.fromisoformat(now_on["End"]))
    assert f"-> Test: guided failure off (the environment's default); deployment freeze 'Tonight' from {start} " \
           f"to {end}" in run.err
    assert (f"-> Production: guided failure off (the environment's default); deployment freeze 'Year-end freeze' "
            f"in force until {until} (overridden: 'INC-7'); deployment freeze 'Tonight' from {start} to {end}"
            in run.err)
    json_run = octorelease("deploy", "--project", "Web", "--release", version, "--to", "Test", "--dry-run", "--json")
    [test] = json_run.json["deployments"]
    [window] = test["freezes"]
    assert (window["id"], window["name"], window["in_force"]) == (tonight["Id"], "Tonight", False)
    assert [datetime.fromisoformat(window[k]) for k in ("start", "end")] == [
        datetime.fromisoformat(tonight[k]) for k in ("Start", "End")]
    assert sandbox.census() == before


def test_a_dry_run_of_a_frozen_target_fails_as_the_real_run_would(
        sandbox: SandboxControl, octorelease: Octorelease) -> None:
    version = hotfix(sandbox)
    freeze(sandbox, "Year-end freeze", {WEB: [PROD]})
    run = octorelease(*to_production(version, "--dry-run"))
    assert_one_line_error(run, 3, "deployment freeze 'Year-end freeze' in force until")


def test_deploy_at_into_a_freeze_is_refused_before_anything_is_created(
        sandbox: SandboxControl, octorelease: Octorelease) -> None:
    version = hotfix(sandbox)
    freeze(sandbox, "Tonight", {WEB: [PROD]}, start=moment(hours=3), end=moment(hours=5))
    before = sandbox.census()
    run = octorelease(*to_production(version, "--deploy-at", "+4h", "--no-wait"))
    assert_one_line_error(run, 3, "Web cannot be deployed: its scheduled start (", "--deploy-at) falls inside a "
                          "deployment freeze: Production: deployment freeze 'Tonight' in force until",
                          "Nothing was created.")
    assert sandbox.census() == before
    assert octorelease(*to_production(version, "--deploy-at", "+1h", "--no-wait")).code == 0  # before it


def test_a_blank_reason_is_refused_before_any_request(sandbox: SandboxControl, octorelease: Octorelease) -> None:
    sandbox.clear_requests()
    run = octorelease(*to_production("1.0.0", "--freeze-override", "  "))
    assert_one_line_error(run, 2, "--freeze-override: the reason for overriding a deployment freeze is blank.")
    assert sandbox.requests() == []


def test_a_key_that_may_not_override_is_told_so(sandbox: SandboxControl, capsys: pytest.CaptureFixture[str]) -> None:
    version = hotfix(sandbox)
    freeze(sandbox, "Year-end freeze", {WEB: [PROD]})
    limited = "API-LIMITED00000000000000000000000"
    sandbox.add_api_key(limited, ["Production"])
    before = sandbox.census()["deployment"]
    run = run_cli(capsys, *to_production(version, "--freeze-override", "please", "--no-wait"),
                  "--server", sandbox.url, "--api-key", limited)
    assert_one_line_error(run, 4, "DeploymentFreezeAdminister")
    assert sandbox.census()["deployment"] == before


HANDLER = """\
server: ${{OCTOPUS_URL}}
api_key: ${{OCTOPUS_API_KEY}}
handlers:
  - name: Hotfix
    project: Web
    on: {{event: build-completed, status: success}}
    deploy: {{to: Production, release: "{version}", freeze_override: "Hotfix build {{build.number}}"}}
"""


def test_a_handler_file_overrides_with_its_freeze_override_field(
        sandbox: SandboxControl, octorelease: Octorelease, tmp_path: Path) -> None:
    version = hotfix(sandbox)
    freeze(sandbox, "Year-end freeze", {WEB: [PROD]})
    file = tmp_path / "octorelease.yml"
    file.write_text(HANDLER.format(version=version), encoding="utf-8")
    run = octorelease("run", str(file), "--event", "build-completed", "--status", "success",
                      "--var", "build.number=41")
    assert run.code == 0, run.everything
    assert "overriding deployment freeze 'Year-end freeze'" in run.err and "'Hotfix build 41'" in run.err


@pytest.mark.parametrize("when", ["now", "later"])
def test_without_freezes_a_plan_reads_them_only_when_it_must(
        sandbox: SandboxControl, octorelease: Octorelease, when: str) -> None:
    """One target, created now: the server's refusal is the check (explained when it comes). A
    later start or more than one target: the plan reads the freezes first (one request)."""
    sandbox.clear_requests()
    more = ["--deploy-at", "+1h"] if when == "later" else []
    assert octorelease("deploy", "--project", "Worker", "--release", "latest", "--to", "Development",
                       "--no-wait", *more).code == 0
    reads = [r for r in sandbox.requests() if r["path"] == "/api/deploymentfreezes"]
    assert len(reads) == (1 if when == "later" else 0)


def test_create_with_deploy_to_a_frozen_target_creates_no_release(
        sandbox: SandboxControl, octorelease: Octorelease) -> None:
    freeze(sandbox, "Year-end freeze", {WEB: [PROD]})
    before = sandbox.census()
    run = octorelease("create", "--project", "Web", "--channel", "Hotfix", "--version", "1.9.9",
                      "--deploy-to", "Production", "--no-wait")
    assert_one_line_error(run, 3, "deployment freeze 'Year-end freeze' in force until", "Nothing was created.")
    assert sandbox.census() == before


def test_a_freeze_of_one_tenant_refuses_that_tenant_only(sandbox: SandboxControl, octorelease: Octorelease) -> None:
    acme, staging = "Tenants-1", "Environments-3"
    sandbox.post("/api/deploymentfreezes", {
        "Name": "Acme audit", "Start": moment(minutes=-1).isoformat(), "End": moment(hours=1).isoformat(),
        "TenantProjectEnvironmentScope": [{"TenantId": acme, "ProjectId": WEB, "EnvironmentId": staging}]})
    before = sandbox.census()["deployment"]
    refused = octorelease("promote", "--project", "Web", "--from", "Test", "--to", "Staging", "--tenant", "*",
                          "--no-wait")
    assert_one_line_error(refused, 3, "Staging (tenant Acme): deployment freeze 'Acme audit' in force until")
    assert sandbox.census()["deployment"] == before
    assert octorelease("promote", "--project", "Web", "--from", "Test", "--to", "Staging", "--tenant", "Globex",
                       "--no-wait").code == 0


def test_a_blank_freeze_override_in_a_handler_file_is_named_at_its_line(
        sandbox: SandboxControl, octorelease: Octorelease, tmp_path: Path) -> None:
    file = tmp_path / "octorelease.yml"
    file.write_text(HANDLER.format(version="1.0.0").replace('"Hotfix build {build.number}"', '" "'), encoding="utf-8")
    sandbox.clear_requests()
    run = octorelease("run", str(file), "--event", "build-completed", "--status", "success")
    assert_one_line_error(run, 2, f"{file}:7: handlers[0].deploy.freeze_override: the reason for overriding a "
                          "deployment freeze is blank.")
    assert sandbox.requests() == []


def test_a_handler_refused_by_a_freeze_is_told_its_field(
        sandbox: SandboxControl, octorelease: Octorelease, tmp_path: Path) -> None:
    version = hotfix(sandbox)
    freeze(sandbox, "Year-end freeze", {WEB: [PROD]})
    file = tmp_path / "octorelease.yml"
    file.write_text(HANDLER.format(version=version).replace(', freeze_override: "Hotfix build {build.number}"', ""),
                    encoding="utf-8")
    run = octorelease("run", str(file), "--event", "build-completed", "--status", "success")
    assert run.code == 3, run.everything
    assert "deployment freeze 'Year-end freeze' in force until" in run.err
    assert "override it with a reason: freeze_override: REASON" in run.err and "--freeze-override" not in run.err
