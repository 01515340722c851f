"""Lifecycle gating on every create path (octopus-api.md §9), over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from octorelease.sandbox.rules import lifecycle
from octorelease.sandbox.state.entities import Environment, Lifecycle, Phase
from testing.sandbox import SandboxControl

DEV, TEST, STAGING, PROD, DR = (f"Environments-{n}" for n in range(1, 6))


def deployment_count(sandbox: SandboxControl) -> int:
    return int(sandbox.get("/api/Spaces-1/deployments", take=0)["TotalResults"])


def deploy(sandbox: SandboxControl, release_id: str, environment_id: str, **fields: Any) -> Any:
    return sandbox.call("POST", "/api/Spaces-1/deployments",
                        json={"ReleaseId": release_id, "EnvironmentId": environment_id, **fields})


def test_deploy_to_production_before_staging_is_refused_and_creates_nothing(sandbox: SandboxControl) -> None:
    before = deployment_count(sandbox)
    response = deploy(sandbox, "Releases-1", PROD)
    assert response.status_code == 400
    assert response.json() == {
        "ErrorMessage": "There was a problem with your request.",
        "Errors": ["Release '1.0.0' of project 'Web' cannot be deployed to environment 'Production' because the "
                   "environment is not in the list of environments that this release can be deployed to "
                   "(lifecycle 'Web Lifecycle' has not reached this phase)."],
        "ParsedHelpLinks": [], "Details": None,
    }
    assert deployment_count(sandbox) == before


def test_release_proven_in_test_may_go_to_staging(sandbox: SandboxControl) -> None:
    response = deploy(sandbox, "Releases-1", STAGING)
    assert response.status_code == 201
    assert sandbox.wait_for_task(response.json()["TaskId"])["State"] == "Success"


def test_environment_outside_the_lifecycle_is_never_deployable(sandbox: SandboxControl) -> None:
    response = deploy(sandbox, "Releases-1", DR)
    assert response.status_code == 400
    assert "the environment is not in lifecycle 'Web Lifecycle'" in response.json()["Errors"][0]


def test_failed_latest_deployment_blocks_the_next_phase(sandbox: SandboxControl) -> None:
    # Web 1.2.0 failed in Development (seed), so Test is not open for it.
    assert deploy(sandbox, "Releases-3", TEST).status_code == 400


def test_failed_redeployment_in_an_earlier_phase_blocks_promotion_again(sandbox: SandboxControl) -> None:
    sandbox.fail(step="Smoke test", environment="Development")
    task = sandbox.wait_for_task(deploy(sandbox, "Releases-1", DEV).json()["TaskId"])
    assert task["State"] == "Failed"
    assert deploy(sandbox, "Releases-1", STAGING).status_code == 400


def test_phase_with_no_environments_allows_every_environment(sandbox: SandboxControl) -> None:
    # Worker is on "Anywhere": one phase without environments.
    assert deploy(sandbox, "Releases-4", PROD).status_code == 201
    assert deploy(sandbox, "Releases-4", DR).status_code == 201


def test_lifecycle_without_phases_follows_environment_sort_order(sandbox: SandboxControl) -> None:
    # Billing is on "Default Lifecycle" (no phases): Development first, then Test.
    form = {"FormValues": {_approver_id(sandbox): "alice"}}
    assert deploy(sandbox, "Releases-5", TEST, **form).status_code == 400
    created = deploy(sandbox, "Releases-5", DEV, **form)
    assert created.status_code == 201, created.text
    sandbox.wait_for_task(created.json()["TaskId"])
    assert deploy(sandbox, "Releases-5", TEST, **form).status_code == 201


def test_channel_lifecycle_overrides_the_project_lifecycle(sandbox: SandboxControl) -> None:
    hotfix = sandbox.post("/api/Spaces-1/releases/create/v1",
                          {"SpaceIdOrName": "Spaces-1",
                           "ProjectName": "Web", "ReleaseVersion": "1.2.1", "ChannelName": "Hotfix"})
    assert deploy(sandbox, hotfix["ReleaseId"], PROD).status_code == 201


def test_optional_phase_can_be_skipped(sandbox: SandboxControl) -> None:
    _set_web_phases(sandbox, [([DEV], 0, False), ([TEST], 0, True), ([STAGING], 0, False)])
    release = sandbox.post("/api/Spaces-1/releases/create/v1", {"SpaceIdOrName": "Spaces-1",
                                                                "ProjectName": "Web"})["ReleaseId"]
    assert deploy(sandbox, release, STAGING).status_code == 400
    sandbox.wait_for_task(deploy(sandbox, release, DEV).json()["TaskId"])
    assert deploy(sandbox, release, STAGING).status_code == 201


def test_minimum_environments_before_promotion(sandbox: SandboxControl) -> None:
    _set_web_phases(sandbox, [([DEV, TEST, DR], 2, False), ([PROD], 0, False)])
    release = sandbox.post("/api/Spaces-1/releases/create/v1", {"SpaceIdOrName": "Spaces-1",
                                                                "ProjectName": "Web"})["ReleaseId"]
    sandbox.wait_for_task(deploy(sandbox, release, DEV).json()["TaskId"])
    assert deploy(sandbox, release, PROD).status_code == 400
    sandbox.wait_for_task(deploy(sandbox, release, DR).json()["TaskId"])
    assert deploy(sandbox, release, PROD).status_code == 201


def test_every_target_of_a_multi_environment_create_is_checked_before_any_is_created(
        sandbox: SandboxControl) -> None:
    before = deployment_count(sandbox)
    response = sandbox.call("POST", "/api/Spaces-1/deployments/create/untenanted/v1", json={
        "SpaceIdOrName": "Spaces-1",
        "ProjectName": "Web", "ReleaseVersion": "1.0.0", "EnvironmentNames": ["Staging", "Production"]})
    assert response.status_code == 400
    assert len(response.json()["Errors"]) == 1 and "'Production'" in response.json()["Errors"][0]
    assert deployment_count(sandbox) == before


def _approver_id(sandbox: SandboxControl) -> str:
    variables = sandbox.get("/api/Spaces-1/projects/Projects-3/variables")["Variables"]
    return str(next(v["Id"] for v in variables if v["Name"] == "Approver"))


def _set_web_phases(sandbox: SandboxControl, phases: list[tuple[list[str], int, bool]]) -> None:
    body = {"Name": "Web Lifecycle", "Phases": [
        {"Name": f"Phase {n}", "OptionalDeploymentTargets": envs, "MinimumEnvironmentsBeforePromotion": minimum,
         "IsOptionalPhase": optional} for n, (envs, minimum, optional) in enumerate(phases, start=1)]}
    response = sandbox.call("PUT", "/api/Spaces-1/lifecycles/Lifecycles-1", json=body)
    assert response.status_code == 200, response.text


# -- the rule itself, without HTTP ----------------------------------------------------------------

ENVS = [Environment(id=f"E{n}", name=f"E{n}", sort_order=n) for n in range(1, 5)]


@pytest.mark.parametrize(("phases", "states", "allowed", "current"), [
    ([], {}, ["E1"], "E1"),
    ([], {"E1": "Success"}, ["E1", "E2"], "E2"),
    ([Phase(id="a", name="A", optional=["E1"]), Phase(id="b", name="Any", optional=[])], {"E1": "Success"},
     ["E1", "E2", "E3", "E4"], "Any"),
    ([Phase(id="a", name="A", optional=["E1"])], {"E1": "Success"}, ["E1"], None),
    ([Phase(id="a", name="A", optional=["E1", "E2"], minimum=1), Phase(id="b", name="B", optional=["E3"])],
     {"E2": "Success"}, ["E1", "E2", "E3"], "B"),
    ([Phase(id="a", name="A", optional=["E1"]), Phase(id="b", name="B", optional=["E2"])], {"E1": "Queued"},
     ["E1"], "A"),
])
def test_progress_opens_phases_in_order(phases: list[Phase], states: dict[str, str], allowed: list[str],
                                        current: str | None) -> None:
    resolved = lifecycle.resolve_phases(Lifecycle(id="L", name="L", phases=phases), ENVS)
    result = lifecycle.progress(resolved, states)
    assert result.allowed == allowed
    assert next((p.phase.name for p in result.phases if p.progress == "Current"), None) == current


def template_targets(sandbox: SandboxControl, release_id: str) -> dict[str | None, list[str]]:
    """Where the release may go now: untenanted (None) and per tenant name."""
    template = sandbox.get(f"/api/Spaces-1/releases/{release_id}/deployments/template")
    targets: dict[str | None, list[str]] = {None: [e["Name"] for e in template["PromoteTo"]]}
    targets.update({t["Name"]: [e["Name"] for e in t["PromoteTo"]] for t in template["TenantPromotions"]})
    return targets


def deploy_and_wait(sandbox: SandboxControl, release_id: str, environment_id: str,
                    tenant_id: str | None = None) -> None:
    created = sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": release_id, "EnvironmentId": environment_id,
                                                         "TenantId": tenant_id})
    assert sandbox.wait_for_task(created["TaskId"])["State"] == "Success"


def test_lifecycle_progress_is_counted_per_tenant(sandbox: SandboxControl) -> None:
    """octopus-api.md §9: one tenant's success in Test takes that tenant, not the others, to Staging."""
    deploy_and_wait(sandbox, "Releases-2", "Environments-2", "Tenants-2")  # Globex takes 1.1.0 to Test
    assert template_targets(sandbox, "Releases-2") == {
        None: ["Development", "Test"], "Acme": ["Test"], "Globex": ["Test", "Staging"]}
    refused = sandbox.call("POST", "/api/Spaces-1/deployments", json={
        "ReleaseId": "Releases-2", "EnvironmentId": "Environments-3", "TenantId": "Tenants-1"})
    assert refused.status_code == 400
    assert "cannot be deployed to environment 'Staging'" in refused.json()["Errors"][0]
    deploy_and_wait(sandbox, "Releases-2", "Environments-3", "Tenants-2")  # Globex goes on alone


def test_a_tenant_without_deployments_of_its_own_progresses_with_the_untenanted_ones(sandbox: SandboxControl) -> None:
    """Web 1.0.0 went to Development and Test untenanted: a tenant that has no deployment of its own
    there (and cannot be connected to Development) may take it to Staging."""
    assert template_targets(sandbox, "Releases-1")["Acme"] == ["Test", "Staging"]
    deploy_and_wait(sandbox, "Releases-1", "Environments-3", "Tenants-1")


def test_a_tenants_own_failure_blocks_it_even_where_untenanted_succeeded(sandbox: SandboxControl) -> None:
    sandbox.fail(step="Smoke test", environment="Test")
    created = sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": "Releases-1", "EnvironmentId": "Environments-2",
                                                         "TenantId": "Tenants-1"})
    assert sandbox.wait_for_task(created["TaskId"])["State"] == "Failed"
    targets = template_targets(sandbox, "Releases-1")
    assert (targets["Acme"], targets["Globex"]) == (["Test"], ["Test", "Staging"])
