"""The sandbox answers like Octopus on its most used paths."""

from __future__ import annotations

from testing.sandbox import SandboxControl


def test_root_document_needs_no_key_and_names_the_api_version(sandbox: SandboxControl) -> None:
    import httpx

    root = httpx.get(f"{sandbox.url}/api").json()
    assert (root["Version"], root["ApiVersion"]) == ("2024.3.10989", "3.0.0")
    assert root["Links"]["DashboardDynamic"].startswith("/api/Spaces-1/dashboard/dynamic{")


def test_deployment_to_development_runs_to_success(sandbox: SandboxControl) -> None:
    created = sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": "Releases-2", "EnvironmentId": "Environments-2"})
    task = sandbox.wait_for_task(created["TaskId"])
    assert task["State"] == "Success", task["ErrorMessage"]
