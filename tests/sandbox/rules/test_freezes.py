"""Deployment freezes: ``/api/deploymentfreezes``, refusal inside a freeze, override with a reason,
a scheduled deployment that falls due inside one, recurring windows and estate files."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from octorelease.sandbox.estate.export import dump_estate, export_estate
from octorelease.sandbox.estate.file import EstateFileError, load_estate, parse_estate
from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.service import Sandbox
from octorelease.sandbox.rules.models import Backend
from octorelease.sandbox.state.entities import DeploymentFreeze
from testing.sandbox import HOTFIX_RELEASE, PEOPLE_ESTATE, SandboxControl

WEB, TEST, PROD = "Projects-1", "Environments-2", "Environments-4"
FREEZES = "/api/deploymentfreezes"
EXECUTE = "/api/Spaces-1/deployments/create/untenanted/v1"


def at(**delta: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(**delta)).isoformat()


def freeze(sandbox: SandboxControl, name: str = "Year-end freeze", start: str | None = None,
           end: str | None = None, **fields: Any) -> dict[str, Any]:
    """A freeze of Web in Production, in force from a minute ago for an hour unless told."""
    body = {"Name": name, "Start": start or at(minutes=-1), "End": end or at(hours=1),
            "ProjectEnvironmentScope": {WEB: [PROD]}, **fields}
    created: dict[str, Any] = sandbox.post(FREEZES, body)
    return created


def hotfix(sandbox: SandboxControl) -> str:
    created = sandbox.post("/api/Spaces-1/releases/create/v1", HOTFIX_RELEASE)
    return str(created["ReleaseVersion"])


def execute(sandbox: SandboxControl, version: str, *environments: str, key: str = "", **fields: Any) -> Any:
    return sandbox.call("POST", EXECUTE, key=key, json={
        "ProjectName": "Web", "ReleaseVersion": version, "EnvironmentNames": list(environments),
        "SpaceIdOrName": "Spaces-1", "SpaceId": "Spaces-1", **fields})


def test_freezes_are_created_listed_changed_and_deleted(sandbox: SandboxControl) -> None:
    created = freeze(sandbox, Description="No changes over the holidays")
    assert created["Id"] == "DeploymentFreezes-1" and created["ProjectEnvironmentScope"] == {WEB: [PROD]}
    assert created["RecurringSchedule"] is None and created["TenantProjectEnvironmentScope"] == []
    listed = sandbox.get(FREEZES, skip=0, take=30)
    assert listed["Count"] == 1 and [f["Name"] for f in listed["DeploymentFreezes"]] == ["Year-end freeze"]
    assert sandbox.get(FREEZES, projectIds="Projects-2")["Count"] == 0
    assert sandbox.get(FREEZES, environmentIds=PROD, partialName="year")["Count"] == 1
    changed = sandbox.call("PUT", f"{FREEZES}/{created['Id']}", json={**created, "Name": "Holiday freeze"})
    assert changed.status_code == 200 and changed.json()["Name"] == "Holiday freeze"
    assert sandbox.get(f"{FREEZES}/{created['Id']}")["Name"] == "Holiday freeze"
    assert sandbox.call("DELETE", f"{FREEZES}/{created['Id']}").status_code == 200
    assert sandbox.call("GET", f"{FREEZES}/{created['Id']}").status_code == 404


def test_a_freeze_is_checked_before_it_is_kept(sandbox: SandboxControl) -> None:
    refused = sandbox.call("POST", FREEZES, json={"Start": at(hours=1), "End": at(hours=-1)})
    assert refused.status_code == 400
    assert refused.json()["Errors"] == ["The Name field is required.",
                                        "The end of a deployment freeze must be after its start."]
    assert sandbox.get(FREEZES)["Count"] == 0


def test_a_deployment_inside_a_freeze_is_refused_and_nothing_is_created(sandbox: SandboxControl) -> None:
    version = hotfix(sandbox)
    freeze(sandbox)
    before = sandbox.census()["deployment"]
    refused = execute(sandbox, version, "Test", "Production")
    assert refused.status_code == 400
    [message] = refused.json()["Errors"]
    assert message.startswith("Deployments of project 'Web' to environment 'Production' are frozen by deployment "
                              "freeze 'Year-end freeze' until ")
    assert "DeploymentFreezeOverrideReason" in message
    assert sandbox.census()["deployment"] == before
    assert execute(sandbox, version, "Test").status_code == 200  # another environment is not frozen


def test_an_override_with_a_reason_deploys(sandbox: SandboxControl) -> None:
    version = hotfix(sandbox)
    freeze(sandbox)
    wrong = execute(sandbox, version, "Production", DeploymentFreezeOverrideReason="Hotfix for INC-7",
                    DeploymentFreezeNames=["Some other freeze"])
    assert wrong.status_code == 400  # the freeze in force was not the one named
    done = execute(sandbox, version, "Production", DeploymentFreezeOverrideReason="Hotfix for INC-7",
                   DeploymentFreezeNames=["Year-end freeze"])
    assert done.status_code == 200, done.text
    task_id = done.json()["DeploymentServerTasks"][0]["ServerTaskId"]
    assert sandbox.wait_for_task(task_id)["State"] == "Success"


def test_the_classic_override_route_deploys(sandbox: SandboxControl) -> None:
    created = freeze(sandbox)
    release = sandbox.get("/api/Spaces-1/projects/Projects-1/releases/" + hotfix(sandbox))
    command = {"ReleaseId": release["Id"], "EnvironmentId": PROD}
    assert sandbox.call("POST", "/api/Spaces-1/deployments", json=command).status_code == 400
    done = sandbox.call("POST", "/api/Spaces-1/deployments/override", json={
        "CreateDeploymentCommand": command, "FreezeIds": [created["Id"]], "Reason": "Security fix",
        "SpaceId": "Spaces-1"})
    assert done.status_code == 201, done.text
    assert sandbox.wait_for_task(done.json()["Deployment"]["TaskId"])["State"] == "Success"


def test_a_key_that_may_not_administer_freezes_cannot_override(sandbox: SandboxControl) -> None:
    sandbox.add_api_key("API-LIMITED00000000000000000000000", ["Production"])
    version = hotfix(sandbox)
    freeze(sandbox)
    refused = execute(sandbox, version, "Production", key="API-LIMITED00000000000000000000000",
                      DeploymentFreezeOverrideReason="please")
    assert refused.status_code == 403 and refused.json()["ErrorMessage"].endswith(
        "Missing permission: DeploymentFreezeAdminister")


def test_a_scheduled_deployment_that_falls_due_inside_a_freeze_fails(sandbox: SandboxControl) -> None:
    version = hotfix(sandbox)
    queued = execute(sandbox, version, "Production", RunAt=at(seconds=3))
    assert queued.status_code == 200
    freeze(sandbox)  # declared after the deployment was queued, in force when it falls due
    task = sandbox.wait_for_task(queued.json()["DeploymentServerTasks"][0]["ServerTaskId"], timeout=15)
    assert task["State"] == "Failed" and "frozen by deployment freeze 'Year-end freeze'" in task["ErrorMessage"]


def test_a_scheduled_deployment_that_overrides_a_freeze_to_come_runs_when_due(sandbox: SandboxControl) -> None:
    version = hotfix(sandbox)
    freeze(sandbox, start=at(seconds=2))  # not yet in force when the deployment is queued
    queued = execute(sandbox, version, "Production", RunAt=at(seconds=3), DeploymentFreezeOverrideReason="INC-7",
                     DeploymentFreezeNames=["Year-end freeze"])
    assert queued.status_code == 200, queued.text
    task = sandbox.wait_for_task(queued.json()["DeploymentServerTasks"][0]["ServerTaskId"], timeout=15)
    assert task["State"] == "Success", task["ErrorMessage"]


def test_a_recurring_freeze_is_in_force_in_each_of_its_windows(sandbox: SandboxControl) -> None:
    version = hotfix(sandbox)
    start = datetime.now(timezone.utc) - timedelta(days=2, minutes=10)
    daily = {"Type": "Daily", "Unit": 1, "EndType": "Never"}
    freeze(sandbox, "Business hours", start=start.isoformat(), end=(start + timedelta(hours=1)).isoformat(),
           RecurringSchedule=daily)
    assert execute(sandbox, version, "Production").status_code == 400
    sandbox.call("DELETE", f"{FREEZES}/DeploymentFreezes-1").raise_for_status()
    freeze(sandbox, "Twice only", start=start.isoformat(), end=(start + timedelta(hours=1)).isoformat(),
           RecurringSchedule={**daily, "EndType": "AfterOccurrences", "EndAfterOccurrences": 2})
    assert execute(sandbox, version, "Production").status_code == 200  # its windows have all passed
    assert sandbox.get(FREEZES, includeComplete="false")["Count"] == 0


def test_a_tenant_scope_must_name_what_exists(sandbox: SandboxControl) -> None:
    refused = sandbox.call("POST", FREEZES, json={
        "Name": "Acme only", "Start": at(hours=1), "End": at(hours=2),
        "TenantProjectEnvironmentScope": [{"TenantId": "Tenants-9", "ProjectId": "Projects-99",
                                           "EnvironmentId": "Environments-99"}, {"TenantId": "Tenants-1"}]})
    assert refused.status_code == 400
    assert refused.json()["Errors"] == [
        "The tenant 'Tenants-9' does not exist.", "The project 'Projects-99' does not exist.",
        "The environment 'Environments-99' does not exist.",
        "TenantProjectEnvironmentScope needs a TenantId, a ProjectId and an EnvironmentId in each scope."]
    assert sandbox.get(FREEZES)["Count"] == 0


def _freezes(backend: Backend) -> list[dict[str, Any]]:
    """Every freeze as the API shows it, without its id (a seed numbers them afresh)."""
    found = backend.list_freezes(ids=[], partial_name=None, project_ids=[], environment_ids=[], tenant_ids=[],
                                 include_complete=True, moment=datetime.now(timezone.utc))
    return sorted(({k: v for k, v in shape.freeze(f).items() if k != "Id"} for f in found),
                  key=lambda f: str(f["Name"]))


def test_export_round_trips_every_freeze(sandbox: SandboxControl, tmp_path: Path) -> None:
    acme, globex, staging, platform, ops = "Tenants-1", "Tenants-2", "Environments-3", "Projects-5", "Environments-6"
    freeze(sandbox, "Web and Acme", TenantProjectEnvironmentScope=[
        {"TenantId": acme, "ProjectId": WEB, "EnvironmentId": staging}])
    freeze(sandbox, "Globex only", ProjectEnvironmentScope={}, TenantProjectEnvironmentScope=[
        {"TenantId": globex, "ProjectId": WEB, "EnvironmentId": TEST}], RecurringSchedule={
        "Type": "Weekly", "Unit": 2, "EndType": "AfterOccurrences", "EndAfterOccurrences": 3})
    freeze(sandbox, "Both spaces", ProjectEnvironmentScope={WEB: [PROD], platform: [ops]}, Description="All of it")
    freeze(sandbox, "Nothing yet", ProjectEnvironmentScope={})
    backend = sandbox.server.sandbox.backend
    before = _freezes(backend)
    assert [f["Name"] for f in before] == ["Both spaces", "Globex only", "Nothing yet", "Web and Acme"]
    file = tmp_path / "estate.yml"
    file.write_text(dump_estate(export_estate(backend)), encoding="utf-8")
    again = Sandbox(seed=load_estate(file))
    try:
        assert _freezes(again.backend) == before
        assert dump_estate(export_estate(again.backend)) == file.read_text(encoding="utf-8")
    finally:
        again.close()


def test_an_estate_declares_freezes_and_exports_them(tmp_path: Path) -> None:
    file = tmp_path / "estate.yml"
    file.write_text(PEOPLE_ESTATE, encoding="utf-8")
    sandbox = Sandbox(seed=load_estate(file))
    try:
        exported = dump_estate(export_estate(sandbox.backend))
        [kept] = sandbox.backend.list_freezes(ids=[], partial_name=None, project_ids=[], environment_ids=[],
                                              tenant_ids=[], include_complete=True,
                                              moment=datetime.now(timezone.utc))
    finally:
        sandbox.close()
    assert (kept.name, kept.project_environments, kept.recurrence) == (
        "Black Friday", {"Projects-1": ["Environments-2"]}, {"Type": "Annually", "Unit": 1, "EndType": "Never"})
    assert "name: Black Friday" in exported and "Shop:" in exported


FREEZE_FAULTS = """\
spaces:
  - name: Default
    default: true
    environments: [QA]
    lifecycles: [{name: Anywhere}]
    projects: [{name: Shop, lifecycle: Anywhere}]
    tenants: [{name: Acme, projects: {Shop: [QA]}}]
    freezes:
      - {name: Audit, start: 2030-01-01T00:00:00Z, end: 2030-01-02T00:00:00Z, tenants: {Acme: {Shopp: [QA]}}}
      - {name: audit, start: 2030-01-01T00:00:00Z, end: 2030-01-02T00:00:00Z}
      - {name: Weekly, start: 2030-01-01T00:00:00Z, end: 2030-01-02T00:00:00Z, recurring: {Type: Hourly}}
  - name: Other
    environments: [QA]
    freezes:
      - {name: AUDIT, start: 2030-01-01T00:00:00Z, end: 2030-01-03T00:00:00Z}
"""


def test_an_estate_s_freezes_are_checked_before_anything_is_kept(tmp_path: Path) -> None:
    """Names unique in a space, scopes that exist, one window for a freeze named in two spaces
    (one freeze), and a schedule the API would refuse: each a fault of the file, not a crash."""
    with pytest.raises(EstateFileError) as caught:
        parse_estate(FREEZE_FAULTS, name="estate.yml")
    assert caught.value.lines == [
        "estate.yml:9: spaces[0].freezes[0].tenants.Acme.Shopp: no project 'Shopp' in space 'Default' "
        "(did you mean 'Shop'?)",
        "estate.yml:10: spaces[0].freezes[1].name: 'audit' is also the name of freezes[0]",
        "estate.yml:15: spaces[1].freezes[0].name: freeze 'AUDIT' is also in space 'Default', where its "
        "description, start, end or recurring differ (a freeze named in several spaces is one freeze)",
    ]
    fixed = FREEZE_FAULTS.replace("Shopp", "Shop").replace("name: audit", "name: Audit 2").replace(
        "2030-01-03", "2030-01-02")
    file = tmp_path / "estate.yml"
    file.write_text(fixed, encoding="utf-8")
    with pytest.raises(EstateFileError) as caught:
        Sandbox(seed=load_estate(file))
    assert caught.value.lines == [
        f"{file}:11: spaces[0].freezes[2]: RecurringSchedule.Type must be one of Daily, Weekly, Monthly, Annually."]
    file.write_text(fixed.replace("Hourly", "Weekly"), encoding="utf-8")
    sandbox = Sandbox(seed=load_estate(file))
    try:
        [audit] = [f for f in sandbox.backend.all(DeploymentFreeze) if f.name == "Audit"]
        assert audit.tenant_scopes == [("Tenants-1", "Projects-1", "Environments-1")]
    finally:
        sandbox.close()
