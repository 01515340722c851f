"""What a deployment does on its machines: packages, skips, forced flags, machine choice, faults."""

from __future__ import annotations

from typing import Any

from testing.sandbox import SandboxControl

TEST, STAGING, PROD = "Environments-2", "Environments-3", "Environments-4"


def run(sandbox: SandboxControl, release_id: str, environment_id: str, **fields: Any) -> dict[str, Any]:
    """Deploy, wait, and return the finished task with its activity root."""
    created = sandbox.post("/api/Spaces-1/deployments",
                           {"ReleaseId": release_id, "EnvironmentId": environment_id, **fields})
    sandbox.wait_for_task(created["TaskId"])
    details: dict[str, Any] = sandbox.get(f"/api/tasks/{created['TaskId']}/details")
    return details


def step(details: dict[str, Any], name: str) -> dict[str, Any]:
    root = details["ActivityLogs"][0]
    found: dict[str, Any] = next(c for c in root["Children"] if c["Name"].endswith(name))
    return found


def lines(element: dict[str, Any]) -> list[str]:
    return [line["MessageText"] for line in element["LogElements"]] + [
        text for child in element["Children"] for text in lines(child)]


def test_redeploying_an_installed_package_skips_download_and_install(sandbox: SandboxControl) -> None:
    details = run(sandbox, "Releases-1", TEST)  # test-web-01/02 already run Web 1.0.0
    assert details["Task"]["State"] == "Success"
    acquired = lines(step(details, "Acquire packages"))
    assert "Package Web 1.0.0 is already on test-web-01; skipping the download" in acquired
    deploy_web = step(details, "Deploy web")
    assert deploy_web["Status"] == "Skipped"
    assert [m["Status"] for m in deploy_web["Children"]] == ["Skipped", "Skipped"]
    assert any("already installed on test-web-02" in text for text in lines(deploy_web))
    assert step(details, "Smoke test")["Status"] == "Success"


def test_force_package_redeployment_installs_again(sandbox: SandboxControl) -> None:
    details = run(sandbox, "Releases-1", TEST, ForcePackageRedeployment=True)
    assert step(details, "Deploy web")["Status"] == "Success"
    assert "Deploying Web 1.0.0 to test-web-01" in lines(step(details, "Deploy web"))


def test_force_package_download_downloads_again(sandbox: SandboxControl) -> None:
    details = run(sandbox, "Releases-1", TEST, ForcePackageDownload=True)
    assert "Downloading package Web 1.0.0 to test-web-01" in lines(step(details, "Acquire packages"))


def test_specific_machines_limit_every_step(sandbox: SandboxControl) -> None:
    details = run(sandbox, "Releases-1", STAGING, SpecificMachineIds=["Machines-5"])
    for name in ("Deploy web", "Smoke test"):
        assert [m["Name"] for m in step(details, name)["Children"]] == ["stage-web-02"]
    deployment = sandbox.get(f"/api/Spaces-1/deployments/{details['Task']['Arguments']['DeploymentId']}")
    assert deployment["DeployedToMachineIds"] == ["Machines-5"]


def test_excluded_machines_are_left_out(sandbox: SandboxControl) -> None:
    details = run(sandbox, "Releases-1", STAGING, ExcludedMachineIds=["Machines-4"])
    assert [m["Name"] for m in step(details, "Deploy web")["Children"]] == ["stage-web-02"]


def test_specific_machine_outside_the_environment_is_refused(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/api/Spaces-1/deployments", json={
        "ReleaseId": "Releases-1", "EnvironmentId": STAGING, "SpecificMachineIds": ["Machines-6"]})
    assert response.status_code == 400
    assert response.json()["Errors"] == ["The specific machines 'prod-web-01' are not in environment 'Staging'."]


def test_disabled_machines_are_never_deployed_to(sandbox: SandboxControl) -> None:
    worker = sandbox.post("/api/Spaces-1/releases/create/v1", {"SpaceIdOrName": "Spaces-1",
                                                               "ProjectName": "Web", "ChannelName": "Hotfix"})
    details = run(sandbox, worker["ReleaseId"], PROD)
    assert [m["Name"] for m in step(details, "Deploy web")["Children"]] == ["prod-web-01", "prod-web-02",
                                                                           "prod-web-03"]


def test_skip_actions_skip_the_step(sandbox: SandboxControl) -> None:
    process = sandbox.get("/api/Spaces-1/projects/Projects-1/deploymentprocesses")
    smoke = process["Steps"][1]["Actions"][0]["Id"]
    details = run(sandbox, "Releases-1", STAGING, SkipActions=[smoke])
    assert step(details, "Smoke test")["Status"] == "Skipped"
    assert step(details, "Smoke test")["Children"] == []


def test_fault_fails_the_step_on_that_machine_and_skips_the_rest(sandbox: SandboxControl) -> None:
    sandbox.fail(step="Deploy web", machine="stage-web-02", message="Disk full on stage-web-02")
    details = run(sandbox, "Releases-1", STAGING)
    task = details["Task"]
    assert (task["State"], task["FinishedSuccessfully"], task["HasWarningsOrErrors"]) == ("Failed", False, True)
    assert task["ErrorMessage"] == ("The deployment failed because one or more steps failed. "
                                    "Please see the deployment log for details.")
    deploy_web = step(details, "Deploy web")
    assert [(m["Name"], m["Status"]) for m in deploy_web["Children"]] == [("stage-web-01", "Success"),
                                                                          ("stage-web-02", "Failed")]
    error = next(line for line in deploy_web["Children"][1]["LogElements"] if line["Category"] == "Error")
    assert error["MessageText"] == "Disk full on stage-web-02"
    assert step(details, "Smoke test")["Status"] == "Skipped"
    assert details["ActivityLogs"][0]["Status"] == "Failed"


def test_fault_for_an_environment_fails_only_there(sandbox: SandboxControl) -> None:
    sandbox.fail(step="Smoke test", environment="Production")
    assert run(sandbox, "Releases-1", STAGING)["Task"]["State"] == "Success"


def test_cleared_faults_no_longer_fail(sandbox: SandboxControl) -> None:
    sandbox.fail(environment="Staging")
    sandbox.clear_faults()
    assert run(sandbox, "Releases-1", STAGING)["Task"]["State"] == "Success"


def test_successful_deployment_installs_the_package_on_its_machines(sandbox: SandboxControl) -> None:
    run(sandbox, "Releases-1", STAGING)
    again = run(sandbox, "Releases-1", STAGING)
    assert step(again, "Deploy web")["Status"] == "Skipped"


def test_step_without_machines_is_skipped_with_a_warning(sandbox: SandboxControl) -> None:
    details = run(sandbox, "Releases-4", "Environments-5")  # no worker in Disaster Recovery
    assert (details["Task"]["State"], details["Task"]["HasWarningsOrErrors"]) == ("Success", True)
    deploy_worker = step(details, "Deploy worker")
    assert deploy_worker["Status"] == "Skipped"
    assert deploy_worker["LogElements"][0]["Category"] == "Warning"
