"""``POST /_sandbox/rename``: tests name things as a hostile server would, verbatim."""

from __future__ import annotations

import httpx
import pytest

from testing.sandbox import SandboxControl

ODD = "Te\nst ::error::x \x1b[31m"


def test_a_step_is_renamed_in_its_project_and_in_every_release(sandbox: SandboxControl) -> None:
    sandbox.rename("step", "Smoke test", ODD)
    process = sandbox.get("/api/Spaces-1/projects/Projects-1/deploymentprocesses")
    assert [s["Name"] for s in process["Steps"]] == ["Deploy web", ODD]
    # Releases-2 was created before the rename: its deployment runs the step under the new name.
    deployment = sandbox.post(
        "/api/Spaces-1/deployments", {"ReleaseId": "Releases-2", "EnvironmentId": "Environments-2"}
    )
    sandbox.wait_for_task(deployment["TaskId"])
    details = sandbox.get(f"/api/tasks/{deployment['TaskId']}/details")
    assert f"Step 2: {ODD}" in [step["Name"] for step in details["ActivityLogs"][0]["Children"]]


@pytest.mark.parametrize(("kind", "old", "status"), [("environment", "Nowhere", 404), ("step", "Nothing", 404),
                                                     ("lifecycle", "Web Lifecycle", 400)])
def test_renaming_what_is_not_there_or_cannot_be_renamed_is_refused(
    sandbox: SandboxControl, kind: str, old: str, status: int
) -> None:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        sandbox.rename(kind, old, "New")
    assert refused.value.response.status_code == status
