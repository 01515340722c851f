"""A tenanted promotion takes, per tenant, the release that tenant runs in the source environment."""

from __future__ import annotations

from typing import Any

from tests.cli.test_promote import new_deployments, server_deployments

ACME_TO_STAGING = ("promote", "--project", "Web", "--from", "Test", "--to", "Staging", "--no-log")


def deploy(octorelease: Any, version: str, environment: str, *tenants: str) -> None:
    args = ["deploy", "--project", "Web", "--release", version, "--to", environment, "--no-log"]
    for tenant in tenants:
        args += ["--tenant", tenant]
    run = octorelease(*args)
    assert run.code == 0, run.err


def test_a_tenant_promotes_what_it_runs_not_the_newest_untenanted_release(sandbox, octorelease):
    deploy(octorelease, "1.0.0", "Test", "Acme")
    deploy(octorelease, "1.1.0", "Test")  # the newest deployment to Test is untenanted, of 1.1.0
    before = server_deployments(sandbox)
    run = octorelease(*ACME_TO_STAGING, "--tenant", "Acme", "--json")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert (created["ReleaseId"], created["TenantId"]) == ("Releases-1", "Tenants-1")
    assert run.json["release"] == {"id": "Releases-1", "version": "1.0.0"}
    assert "for tenant Acme" in run.err


def test_tenants_running_different_releases_each_get_their_own(sandbox, octorelease):
    deploy(octorelease, "1.0.0", "Test", "Acme")
    deploy(octorelease, "1.1.0", "Test", "Globex")
    before = server_deployments(sandbox)
    run = octorelease(*ACME_TO_STAGING, "--tenant", "*", "--json")
    assert run.code == 0, run.err
    created = {d["TenantId"]: d["ReleaseId"] for d in new_deployments(sandbox, before)}
    assert created == {"Tenants-1": "Releases-1", "Tenants-2": "Releases-2"}
    by_tenant = {d["tenant"]: d for d in run.json["deployments"]}
    assert by_tenant["Acme"]["release"] == {"id": "Releases-1", "version": "1.0.0"}
    assert by_tenant["Globex"]["release"] == {"id": "Releases-2", "version": "1.1.0"}
    assert all(d["state"] == "Success" for d in by_tenant.values())
    # The difference is said, once per tenant.
    assert "Release 1.0.0 of Web for tenant Acme" in run.err
    assert "Release 1.1.0 of Web for tenant Globex" in run.err
    assert "tenants run different releases in Test" in run.err


def test_a_dry_run_plans_each_tenant_with_its_own_release(sandbox, octorelease):
    deploy(octorelease, "1.0.0", "Test", "Acme")
    deploy(octorelease, "1.1.0", "Test", "Globex")
    before = server_deployments(sandbox)
    run = octorelease(*ACME_TO_STAGING, "--tenant", "Acme", "--tenant", "Globex", "--dry-run", "--json")
    assert run.code == 0, run.err
    assert new_deployments(sandbox, before) == []
    by_tenant = {d["tenant"]: d["release"]["version"] for d in run.json["deployments"]}
    assert by_tenant == {"Acme": "1.0.0", "Globex": "1.1.0"}
    assert "Staging for tenant Acme: release 1.0.0" in run.err
    assert "Staging for tenant Globex: release 1.1.0" in run.err


def test_a_tenant_with_no_deployment_of_its_own_takes_the_untenanted_release_and_says_so(sandbox, octorelease):
    deploy(octorelease, "1.1.0", "Test", "Globex")
    before = server_deployments(sandbox)
    run = octorelease(*ACME_TO_STAGING, "--tenant", "Acme", "--json")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert (created["ReleaseId"], created["TenantId"]) == ("Releases-1", "Tenants-1")
    assert "Acme has no deployment of its own in Test" in run.err


def test_a_failed_tenant_deployment_in_the_source_falls_back_to_that_tenants_last_success(sandbox, octorelease):
    deploy(octorelease, "1.0.0", "Test", "Acme")
    deploy(octorelease, "1.1.0", "Test")
    sandbox.fail(step="Smoke test", environment="Test", message="boom")
    failed = octorelease("deploy", "--project", "Web", "--release", "1.1.0", "--to", "Test", "--tenant", "Acme",
                         "--no-log")
    assert failed.code == 1
    sandbox.clear_faults()
    before = server_deployments(sandbox)
    run = octorelease(*ACME_TO_STAGING, "--tenant", "Acme", "--json")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert created["ReleaseId"] == "Releases-1"
    assert "release 1.1.0, Failed" in run.err


def test_a_pinned_release_is_the_same_for_every_tenant(sandbox, octorelease):
    deploy(octorelease, "1.0.0", "Test", "Acme")
    deploy(octorelease, "1.1.0", "Test", "Globex")
    deploy(octorelease, "1.1.0", "Test")  # lifecycle progress is per tenant: Globex's Test does not count for Acme
    before = server_deployments(sandbox)
    run = octorelease(*ACME_TO_STAGING, "--tenant", "*", "--release", "1.1.0", "--json")
    assert run.code == 0, run.err
    assert {d["ReleaseId"] for d in new_deployments(sandbox, before)} == {"Releases-2"}
