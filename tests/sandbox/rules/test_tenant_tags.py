"""Tenant tags in the sandbox: tag sets, TenantTags, the tenants' tags= filter, and the executions
API's TenantTags (every connected tenant with the tags, beside those named)."""

from __future__ import annotations

import pytest

from testing.sandbox import SandboxControl


@pytest.mark.parametrize(
    ("tags", "tenants"),
    [
        (["Region/EU"], ["Tenants-1"]),
        (["region/eu", "Region/US"], ["Tenants-1", "Tenants-2"]),  # any tag of one set, in any case
        (["Region/US", "Tier/Gold"], ["Tenants-2"]),  # one of each set
        (["Region/US", "Tier/Silver"], []),
    ],
)
def test_tenants_are_filtered_by_tag_as_octopus_does(sandbox: SandboxControl, tags: list[str],
                                                     tenants: list[str]) -> None:
    found = sandbox.get("/api/Spaces-1/tenants", tags=",".join(tags))["Items"]
    assert [t["Id"] for t in found] == tenants


def test_the_executions_api_deploys_for_every_connected_tenant_with_the_tags(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/deployments/create/tenanted/v1", json={
        "SpaceIdOrName": "Spaces-1",
        "ProjectName": "Web", "ReleaseVersion": "1.0.0", "EnvironmentName": "Staging", "TenantTags": ["Region/US"]})
    assert response.status_code == 200, response.text
    (task,) = response.json()["DeploymentServerTasks"]
    deployment = sandbox.get(f"/api/Spaces-1/deployments/{task['DeploymentId']}")
    assert deployment["TenantId"] == "Tenants-2"


def test_a_tag_no_connected_tenant_has_deploys_nothing(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/deployments/create/tenanted/v1", json={
        "SpaceIdOrName": "Spaces-1", "ProjectName": "Web", "ReleaseVersion": "1.0.0", "EnvironmentName": "Staging",
        "TenantTags": ["Tier/Silver"]})
    assert response.status_code == 400
    assert "No tenants of project 'Web'" in response.json()["Errors"][0]
