"""--tenant-tag SET/TAG (every connected tenant with the tag) and --target-role ROLE (the
targets with the role, sent as SpecificMachineIds), resolved and validated like names.

The demo seed: Acme is tagged Region/EU and Tier/Gold, Globex Region/US and Tier/Gold; Test has
test-web-01 and test-web-02 (web) and test-worker-01 (worker)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.cli.test_promote import new_deployments, server_deployments
from tests.handler.test_run import run

from octorelease.handler.file import HandlerFileError, parse_handler_file
from testing.cli import assert_one_line_error

TO_STAGING = ("promote", "--project", "Web", "--from", "Test", "--to", "Staging", "--no-log", "--release", "1.0.0")
TO_TEST = ("deploy", "--project", "Web", "--release", "1.0.0", "--to", "Test", "--no-log")


def tenants_of(deployments: list[dict[str, Any]]) -> list[str | None]:
    return sorted(d["TenantId"] for d in deployments)


@pytest.mark.parametrize(
    ("tags", "tenants"),
    [
        (("--tenant-tag", "Region/EU"), ["Tenants-1"]),
        (("--tenant-tag", "tier/gold"), ["Tenants-1", "Tenants-2"]),  # names in any case
        (("--tenant-tag", "Region/EU,Region/US"), ["Tenants-1", "Tenants-2"]),  # any tag of one set
        (("--tenant-tag", "Region/US", "--tenant-tag", "Tier/Gold"), ["Tenants-2"]),  # one of each set
        (("--tenant-tag", "Region/EU", "--tenant", "Globex"), ["Tenants-1", "Tenants-2"]),  # with names: both
    ],
)
def test_tenant_tags_deploy_for_every_connected_tenant_with_them(sandbox, octorelease, tags, tenants):
    before = server_deployments(sandbox)
    run = octorelease(*TO_STAGING, *tags, "--json")
    assert run.code == 0, run.err
    assert tenants_of(new_deployments(sandbox, before)) == tenants


@pytest.mark.parametrize(
    ("tags", "code", "words"),
    [
        (("--tenant-tag", "Region"), 2, ("--tenant-tag 'Region': expected TagSetName/TagName",)),
        (("--tenant-tag", "Region/EU/x"), 2, ("expected TagSetName/TagName",)),
        (("--tenant-tag", "Regoin/EU"), 3, ("--tenant-tag 'Regoin/EU': no such tag set",)),
        (("--tenant-tag", "Region/UE"), 3, ("tag set Region has no such tag",)),
        (("--tenant-tag", "Region/US", "--tenant-tag", "Tier/Silver"), 3,
         ("No tenant of project Web connected to Staging has the tags Region/US, Tier/Silver",)),
    ],
)
def test_a_bad_tenant_tag_is_one_line_and_creates_nothing(sandbox, octorelease, tags, code, words):
    before = server_deployments(sandbox)
    run = octorelease(*TO_STAGING, *tags)
    assert_one_line_error(run, code, *words)
    assert new_deployments(sandbox, before) == []
    if "Regoin/EU" in tags:
        assert "hint: did you mean 'Region'?" in run.err


def test_tenant_tags_take_one_environment(sandbox, octorelease):
    run = octorelease(*TO_STAGING, "--to", "Production", "--tenant-tag", "Region/EU")
    assert_one_line_error(run, 2, "one environment at a time")


def test_a_target_role_deploys_to_the_targets_with_it(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TO_TEST, "--target-role", "WORKER", "--json")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    worker = sandbox.get("/api/Spaces-1/machines", name="test-worker-01")["Items"][0]
    assert created["SpecificMachineIds"] == [worker["Id"]]


def test_roles_and_machines_add_up(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TO_TEST, "--target-role", "worker", "--machine", "test-web-02", "--json")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    names = {sandbox.get(f"/api/Spaces-1/machines/{m}")["Name"] for m in created["SpecificMachineIds"]}
    assert names == {"test-web-02", "test-worker-01"}


def test_an_unknown_role_is_named_with_the_closest_one(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TO_TEST, "--target-role", "wbe")
    assert_one_line_error(run, 3, "--target-role 'wbe': no deployment target in Test has that role")
    assert "hint: did you mean 'web'?" in run.err
    assert new_deployments(sandbox, before) == []


def test_a_role_missing_from_one_target_environment_is_refused(sandbox, octorelease):
    run = octorelease("deploy", "--project", "Worker", "--release", "2.0.0", "--to", "Development", "--to",
                      "Test", "--target-role", "web", "--dry-run")
    assert run.code == 0, run.err  # both environments have web targets
    run = octorelease("promote", "--project", "Web", "--from", "Development", "--to", "Test",
                      "--machine", "test-web-01", "--target-role", "ops")
    assert_one_line_error(run, 3, "--target-role 'ops'")


HANDLER = """\
handlers:
  - name: Tagged
    project: Web
    on: {{event: build-completed}}
    promote: {{from: Test, to: Staging, release: 1.0.0, {fields}}}
    log_messages: false
"""


def test_a_handler_takes_tenant_tags_and_target_roles(sandbox: Any) -> None:
    before = server_deployments(sandbox)
    doc = run(sandbox, HANDLER.format(fields="tenant_tags: [Region/US], target_roles: [web]"))
    assert doc["ok"], doc
    (created,) = new_deployments(sandbox, before)
    assert created["TenantId"] == "Tenants-2"
    staging_web = {m["Id"] for m in sandbox.get("/api/Spaces-1/machines", roles="web")["Items"]
                   if "Environments-3" in m["EnvironmentIds"]}
    assert set(created["SpecificMachineIds"]) == staging_web


def test_a_handler_file_tenant_tag_without_a_set_names_its_line() -> None:
    with pytest.raises(HandlerFileError, match=r"octorelease.yml:5: handlers\[0\].promote.tenant_tags: "
                                               r"'Gold': expected TagSetName/TagName"):
        parse_handler_file(HANDLER.format(fields="tenant_tags: [Gold]"), environ={})


def test_a_handler_unknown_role_is_named_by_its_field(sandbox: Any) -> None:
    doc = run(sandbox, HANDLER.format(fields="target_roles: [wbe]"))
    assert doc["error"]["message"].startswith("octorelease.yml:5: handlers[0].promote.target_roles[0]: 'wbe'")


def test_the_sandbox_lists_tag_sets_and_filters_tenants_by_tag(sandbox: Any) -> None:
    sets = sandbox.get("/api/Spaces-1/tagsets/all")
    assert [(s["Name"], [t["CanonicalTagName"] for t in s["Tags"]]) for s in sets] == [
        ("Region", ["Region/EU", "Region/US"]), ("Tier", ["Tier/Gold", "Tier/Silver"])]
    tenants = sandbox.get("/api/Spaces-1/tenants", tags="Region/EU,Tier/Gold")["Items"]
    assert [(t["Name"], t["TenantTags"]) for t in tenants] == [("Acme", ["Region/EU", "Tier/Gold"])]
