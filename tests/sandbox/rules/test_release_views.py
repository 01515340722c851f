"""The read models a promotion is built from: dashboard, template, preview, progression."""

from __future__ import annotations

from typing import Any

from testing.sandbox import SandboxControl


def dashboard(sandbox: SandboxControl, **params: str) -> list[tuple[str, str, str, bool]]:
    items = sandbox.get("/api/Spaces-1/dashboard/dynamic", **params)["Items"]
    return sorted((i["ReleaseVersion"], i["EnvironmentId"], i["State"], i["IsCurrent"]) for i in items)


def test_dashboard_has_one_current_item_per_project_and_environment_in_any_state(sandbox: SandboxControl) -> None:
    assert dashboard(sandbox, projects="Projects-1") == [
        ("1.0.0", "Environments-2", "Success", True), ("1.2.0", "Environments-1", "Failed", True)]


def test_include_previous_adds_the_last_success_when_the_current_one_failed(sandbox: SandboxControl) -> None:
    items = sandbox.get("/api/Spaces-1/dashboard/dynamic", projects="Projects-1", environments="Environments-1",
                        includePrevious="True")["Items"]
    assert [(i["ReleaseVersion"], i["State"], i["IsCurrent"], i["IsPrevious"]) for i in items] == [
        ("1.2.0", "Failed", True, False), ("1.1.0", "Success", False, True)]
    assert items[0]["Id"] == items[0]["DeploymentId"] == "Deployments-4"


def test_include_previous_adds_nothing_when_the_current_one_succeeded(sandbox: SandboxControl) -> None:
    assert dashboard(sandbox, projects="Projects-1", environments="Environments-2", includePrevious="true") == [
        ("1.0.0", "Environments-2", "Success", True)]


def test_dashboard_current_item_follows_a_running_deployment(sandbox: SandboxControl) -> None:
    sandbox.set_speed(1)
    sandbox.post("/api/Spaces-1/deployments", {"ReleaseId": "Releases-2", "EnvironmentId": "Environments-2"})
    (current,) = sandbox.get("/api/Spaces-1/dashboard/dynamic", projects="Projects-1",
                             environments="Environments-2")["Items"]
    assert current["ReleaseVersion"] == "1.1.0" and current["State"] in ("Queued", "Executing")


def test_tenanted_deployments_have_their_own_dashboard_items(sandbox: SandboxControl) -> None:
    created = sandbox.post("/api/Spaces-1/deployments", {
        "ReleaseId": "Releases-1", "EnvironmentId": "Environments-3", "TenantId": "Tenants-1"})
    sandbox.wait_for_task(created["TaskId"])
    items = sandbox.get("/api/Spaces-1/dashboard/dynamic", projects="Projects-1", environments="Environments-3")
    assert [(i["TenantId"], i["ReleaseVersion"]) for i in items["Items"]] == [("Tenants-1", "1.0.0")]
    assert [t["Name"] for t in items["Tenants"]] == ["Acme", "Globex"]


def test_template_lists_deployable_environments_with_preview_links(sandbox: SandboxControl) -> None:
    template = sandbox.get("/api/Spaces-1/releases/Releases-1/deployments/template")
    assert [(e["Id"], e["Name"]) for e in template["PromoteTo"]] == [
        ("Environments-1", "Development"), ("Environments-2", "Test"), ("Environments-3", "Staging")]
    assert template["PromoteTo"][2]["Links"]["Preview"] == (
        "/api/Spaces-1/releases/Releases-1/deployments/preview/Environments-3{?includeDisabledSteps}")
    acme = next(t for t in template["TenantPromotions"] if t["Name"] == "Acme")
    assert [e["Name"] for e in acme["PromoteTo"]] == ["Test", "Staging"]
    assert acme["PromoteTo"][0]["Links"]["Preview"].startswith(
        "/api/Spaces-1/releases/Releases-1/deployments/preview/Environments-2/Tenants-1")


def test_template_of_a_release_that_failed_in_its_first_phase(sandbox: SandboxControl) -> None:
    template = sandbox.get("/api/Spaces-1/releases/Releases-3/deployments/template")
    assert [e["Name"] for e in template["PromoteTo"]] == ["Development"]


def test_preview_lists_steps_machines_and_the_prompted_variable_form(sandbox: SandboxControl) -> None:
    preview = sandbox.get("/api/Spaces-1/releases/Releases-1/deployments/preview/Environments-4")
    deploy_web, smoke = preview["StepsToExecute"]
    assert (deploy_web["ActionName"], deploy_web["ActionNumber"], deploy_web["Roles"]) == ("Deploy web", "1", ["web"])
    assert deploy_web["MachineNames"] == ["prod-web-01", "prod-web-02", "prod-web-03"]
    assert [m["Name"] for m in deploy_web["UnavailableMachines"]] == ["prod-web-04"]
    assert (deploy_web["CanBeSkipped"], deploy_web["HasNoApplicableMachines"]) == (True, False)
    assert smoke["ActionName"] == "Smoke test"
    (element,) = preview["Form"]["Elements"]
    assert element["Control"]["Name"] == "ChangeTicket" and element["Control"]["Label"] == "Change ticket"
    assert (element["IsValueRequired"], element["Control"]["Required"]) == (False, False)
    assert element["Name"] in preview["Form"]["Values"]
    assert preview["UseGuidedFailureModeByDefault"] is False


def test_preview_says_when_a_step_has_no_machines(sandbox: SandboxControl) -> None:
    preview = sandbox.get("/api/Spaces-1/releases/Releases-4/deployments/preview/Environments-5")
    assert preview["StepsToExecute"][0]["HasNoApplicableMachines"] is True


def progression(sandbox: SandboxControl, release_id: str) -> dict[str, Any]:
    result: dict[str, Any] = sandbox.get(f"/api/Spaces-1/releases/{release_id}/progression")
    return result


def test_progression_marks_phases_complete_current_and_pending(sandbox: SandboxControl) -> None:
    result = progression(sandbox, "Releases-1")
    assert [(p["Name"], p["Progress"]) for p in result["Phases"]] == [
        ("Development", "Complete"), ("Test", "Complete"), ("Staging", "Current"), ("Production", "Pending")]
    assert result["NextDeployments"] == ["Environments-3"]
    deployments = result["Phases"][0]["Deployments"]
    assert [(d["Deployment"]["Id"], d["Task"]["State"]) for d in deployments] == [("Deployments-1", "Success")]


def test_progression_of_a_failed_release_stays_in_its_first_phase(sandbox: SandboxControl) -> None:
    result = progression(sandbox, "Releases-3")
    assert [p["Progress"] for p in result["Phases"]] == ["Current", "Pending", "Pending", "Pending"]
    assert result["Phases"][0]["Deployments"][0]["Task"]["State"] == "Failed"
