"""Deployments that wait for a person: manual intervention steps, guided failure, and the
interruptions API with its teams and permission rules (OctopusDeploy/docs interruptions.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from octorelease.sandbox.estate.export import dump_estate, export_estate
from octorelease.sandbox.estate.file import EstateFileError, load_estate, parse_estate
from octorelease.sandbox.http.service import Sandbox
from octorelease.sandbox.state.entities import Task
from testing.sandbox import HOTFIX_RELEASE, PEOPLE_ESTATE, SandboxControl

TEST, PROD = "Environments-2", "Environments-4"
INTERRUPTIONS = "/api/Spaces-1/interruptions"


def hotfix(sandbox: SandboxControl) -> str:
    """A release of Web in the Hotfix channel, which may go straight to Production, whose
    process asks the Release Managers to approve a deployment to Production."""
    sandbox.add_approval()
    created: dict[str, Any] = sandbox.post("/api/Spaces-1/releases/create/v1",
                                           HOTFIX_RELEASE)
    return str(created["ReleaseId"])


def deploy(sandbox: SandboxControl, release_id: str, environment_id: str, **fields: Any) -> dict[str, Any]:
    created: dict[str, Any] = sandbox.post("/api/Spaces-1/deployments",
                                           {"ReleaseId": release_id, "EnvironmentId": environment_id, **fields})
    return created


def log_of(sandbox: SandboxControl, task_id: str) -> str:
    return str(sandbox.call("GET", f"/api/tasks/{task_id}/raw").text)


def test_a_manual_intervention_pauses_the_task_and_raises_an_interruption(sandbox: SandboxControl) -> None:
    deployment = deploy(sandbox, hotfix(sandbox), PROD)
    interruption = sandbox.wait_for_interruption(deployment["TaskId"])
    assert interruption["Type"] == "ManualIntervention" and interruption["Title"] == "Approve production"
    assert interruption["IsPending"] is True and interruption["TaskId"] == deployment["TaskId"]
    assert interruption["ResponsibleTeamIds"] == ["Teams-1"]
    assert interruption["CanTakeResponsibility"] is True and interruption["HasResponsibility"] is False
    assert deployment["Id"] in interruption["RelatedDocumentIds"]
    assert {"Projects-1", PROD} <= set(interruption["RelatedDocumentIds"])
    instructions = next(e for e in interruption["Form"]["Elements"] if e["Name"] == "Instructions")
    assert instructions["Control"]["Text"].startswith("Check that Staging's smoke test passed")
    buttons = next(e for e in interruption["Form"]["Elements"] if e["Name"] == "Result")["Control"]["Buttons"]
    assert [b["Value"] for b in buttons] == ["Proceed", "Abort"]
    task = sandbox.get(f"/api/tasks/{deployment['TaskId']}")
    assert task["State"] == "Executing" and task["IsCompleted"] is False
    assert task["HasPendingInterruptions"] is True and task["PendingInterruptionTypes"] == ["ManualIntervention"]
    log = log_of(sandbox, deployment["TaskId"])
    assert "Waiting for manual intervention: Approve production" in log
    assert "Who can act: Release Managers" in log
    assert sandbox.get(f"{INTERRUPTIONS}/{interruption['Id']}/responsible") is None


def test_proceed_lets_the_deployment_finish(sandbox: SandboxControl) -> None:
    deployment = deploy(sandbox, hotfix(sandbox), PROD)
    interruption = sandbox.wait_for_interruption(deployment["TaskId"])
    answered = sandbox.answer(interruption["Id"], Result="Proceed", Notes="CAB-42 approved")
    assert answered["IsPending"] is False and answered["HasResponsibility"] is True
    values = answered["Form"]["Values"]
    assert (values["Result"], values["Notes"]) == ("Proceed", "CAB-42 approved")
    task = sandbox.wait_for_task(deployment["TaskId"])
    assert task["State"] == "Success" and task["HasPendingInterruptions"] is False
    assert task["PendingInterruptionTypes"] == []
    assert "Proceeded by sandbox: CAB-42 approved" in log_of(sandbox, deployment["TaskId"])
    assert sandbox.get(f"{INTERRUPTIONS}/{interruption['Id']}/responsible")["Id"] == "Users-1"


def test_abort_fails_the_deployment(sandbox: SandboxControl) -> None:
    deployment = deploy(sandbox, hotfix(sandbox), PROD)
    interruption = sandbox.wait_for_interruption(deployment["TaskId"])
    sandbox.answer(interruption["Id"], Result="abort")
    task = sandbox.wait_for_task(deployment["TaskId"])
    assert task["State"] == "Failed"
    log = log_of(sandbox, deployment["TaskId"])
    assert "Aborted by sandbox" in log and "Skipped because an earlier step failed." in log


def test_the_step_is_only_part_of_production(sandbox: SandboxControl) -> None:
    deployment = deploy(sandbox, hotfix(sandbox), TEST)
    assert sandbox.wait_for_task(deployment["TaskId"])["State"] == "Success"
    assert "Approve production" not in log_of(sandbox, deployment["TaskId"])
    assert sandbox.get(INTERRUPTIONS, regarding=deployment["TaskId"])["TotalResults"] == 0


def test_submitting_needs_responsibility_a_valid_answer_and_a_pending_interruption(
        sandbox: SandboxControl) -> None:
    deployment = deploy(sandbox, hotfix(sandbox), PROD)
    interruption_id = sandbox.wait_for_interruption(deployment["TaskId"])["Id"]
    submit = f"{INTERRUPTIONS}/{interruption_id}/submit"
    early = sandbox.call("POST", submit, json={"Id": interruption_id, "Result": "Proceed"})
    assert early.status_code == 400 and "take responsibility first" in early.json()["Errors"][0]
    assert sandbox.call("PUT", f"{INTERRUPTIONS}/{interruption_id}/responsible").status_code == 200
    wrong = sandbox.call("POST", submit, json={"Id": interruption_id, "Guidance": "Retry"})
    assert wrong.status_code == 400
    assert wrong.json()["Errors"] == ["Please provide a Result for this ManualIntervention interruption: one of "
                                      "Proceed, Abort."]
    other = sandbox.call("POST", submit, json={"Id": "Interruptions-999", "Result": "Proceed"})
    assert other.status_code == 400
    assert other.json()["Errors"] == ["The Id 'Interruptions-999' in the body is not the interruption in the path."]
    assert sandbox.call("POST", submit, json={"Id": interruption_id, "Result": "Proceed"}).status_code == 200
    again = sandbox.call("POST", submit, json={"Id": interruption_id, "Result": "Proceed"})
    assert again.status_code == 400 and again.json()["Errors"] == ["This interruption has already been submitted."]
    assert sandbox.call("GET", f"{INTERRUPTIONS}/Interruptions-999").status_code == 404


def test_a_user_outside_the_responsible_teams_may_look_but_not_act(sandbox: SandboxControl) -> None:
    sandbox.add_api_key("API-DEVELOPER0000000000000000000", None, teams=["Database Administrators"])
    deployment = deploy(sandbox, hotfix(sandbox), PROD)
    interruption_id = sandbox.wait_for_interruption(deployment["TaskId"])["Id"]
    key = "API-DEVELOPER0000000000000000000"
    seen = sandbox.call("GET", f"{INTERRUPTIONS}/{interruption_id}", key=key).json()
    assert seen["CanTakeResponsibility"] is False
    refused = sandbox.call("PUT", f"{INTERRUPTIONS}/{interruption_id}/responsible", key=key)
    assert refused.status_code == 403 and "responsible for this interruption" in refused.json()["ErrorMessage"]
    sandbox.call("PUT", f"{INTERRUPTIONS}/{interruption_id}/responsible").raise_for_status()
    submitted = sandbox.call("POST", f"{INTERRUPTIONS}/{interruption_id}/submit", key=key,
                             json={"Id": interruption_id, "Result": "Proceed"})
    assert submitted.status_code == 403
    assert sandbox.get(f"/api/tasks/{deployment['TaskId']}")["HasPendingInterruptions"] is True


def test_the_list_filters_by_what_it_regards_and_by_pending(sandbox: SandboxControl) -> None:
    release_id = hotfix(sandbox)
    first = deploy(sandbox, release_id, PROD)
    first_id = sandbox.wait_for_interruption(first["TaskId"])["Id"]
    sandbox.answer(first_id, Result="Proceed")
    sandbox.wait_for_task(first["TaskId"])
    second = deploy(sandbox, release_id, PROD)
    second_id = sandbox.wait_for_interruption(second["TaskId"])["Id"]
    everything = sandbox.get(INTERRUPTIONS)
    assert everything["ItemType"] == "Interruption"
    assert [i["Id"] for i in everything["Items"]] == [second_id, first_id]  # newest first
    assert [i["Id"] for i in sandbox.get(INTERRUPTIONS, pendingOnly="true")["Items"]] == [second_id]
    assert [i["Id"] for i in sandbox.get(INTERRUPTIONS, regarding=first["Id"])["Items"]] == [first_id]
    assert [i["Id"] for i in sandbox.get(INTERRUPTIONS, regarding="Projects-1", pendingOnly="true")["Items"]] == [
        second_id]
    assert sandbox.get("/api/interruptions", regarding=PROD)["TotalResults"] == 2  # the default space
    assert sandbox.get(INTERRUPTIONS, regarding="Projects-2")["TotalResults"] == 0


def test_cancelling_a_waiting_task_closes_its_interruption(sandbox: SandboxControl) -> None:
    deployment = deploy(sandbox, hotfix(sandbox), PROD)
    interruption_id = sandbox.wait_for_interruption(deployment["TaskId"])["Id"]
    sandbox.post(f"/api/tasks/{deployment['TaskId']}/cancel")
    assert sandbox.wait_for_task(deployment["TaskId"])["State"] == "Canceled"
    assert sandbox.get(f"{INTERRUPTIONS}/{interruption_id}")["IsPending"] is False


def test_teams_are_listed(sandbox: SandboxControl) -> None:
    teams = sandbox.get("/api/Spaces-1/teams")
    assert [(t["Id"], t["Name"]) for t in teams["Items"]] == [("Teams-1", "Release Managers"),
                                                               ("Teams-2", "Database Administrators")]
    assert sandbox.get("/api/teams/Teams-2")["MemberUserIds"] == []


# -- guided failure ---------------------------------------------------------------------------------


def failing_smoke_test(sandbox: SandboxControl, machine: str | None = "test-web-01",
                       **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Deploy to Test with Smoke test failing on a machine; the guided failure interruption."""
    sandbox.fail(step="Smoke test", machine=machine, environment="Test")
    deployment = deploy(sandbox, hotfix(sandbox), TEST, **fields)
    return deployment, sandbox.wait_for_interruption(deployment["TaskId"])


def test_guided_failure_waits_for_guidance_instead_of_failing(sandbox: SandboxControl) -> None:
    deployment, interruption = failing_smoke_test(sandbox, UseGuidedFailure=True)
    assert interruption["Type"] == "GuidedFailure"
    assert interruption["Title"] == "Step 'Smoke test' failed on test-web-01"
    assert interruption["ResponsibleTeamIds"] == []
    buttons = next(e for e in interruption["Form"]["Elements"] if e["Name"] == "Guidance")["Control"]["Buttons"]
    assert [b["Value"] for b in buttons] == ["Fail", "Retry", "Ignore", "Exclude"]
    task = sandbox.get(f"/api/tasks/{deployment['TaskId']}")
    assert task["State"] == "Executing" and task["PendingInterruptionTypes"] == ["GuidedFailure"]
    sandbox.answer(interruption["Id"], Guidance="Fail")
    assert sandbox.wait_for_task(deployment["TaskId"])["State"] == "Failed"


def test_retry_runs_the_step_again(sandbox: SandboxControl) -> None:
    deployment, interruption = failing_smoke_test(sandbox, UseGuidedFailure=True)
    sandbox.clear_faults()
    sandbox.answer(interruption["Id"], Guidance="Retry", Notes="the health endpoint is back")
    assert sandbox.wait_for_task(deployment["TaskId"])["State"] == "Success"
    assert "Retrying 'Smoke test' on test-web-01 by sandbox" in log_of(sandbox, deployment["TaskId"])


def test_ignore_goes_on(sandbox: SandboxControl) -> None:
    deployment, interruption = failing_smoke_test(sandbox, UseGuidedFailure=True)
    sandbox.answer(interruption["Id"], Guidance="Ignore")
    task = sandbox.wait_for_task(deployment["TaskId"])
    assert task["State"] == "Success" and task["HasWarningsOrErrors"] is True
    assert "The failure on test-web-01 was ignored by sandbox" in log_of(sandbox, deployment["TaskId"])


def test_exclude_drops_the_machine_from_the_rest_of_the_deployment(sandbox: SandboxControl) -> None:
    sandbox.fail(step="Deploy web", machine="test-web-01", environment="Test")
    deployment = deploy(sandbox, hotfix(sandbox), TEST, UseGuidedFailure=True, ForcePackageRedeployment=True)
    interruption = sandbox.wait_for_interruption(deployment["TaskId"])
    assert interruption["Title"] == "Step 'Deploy web' failed on test-web-01"
    sandbox.answer(interruption["Id"], Guidance="Exclude")
    assert sandbox.wait_for_task(deployment["TaskId"])["State"] == "Success"
    log = log_of(sandbox, deployment["TaskId"])
    assert "test-web-01 was excluded from the rest of this deployment by sandbox" in log
    assert "Skipping test-web-01: it was excluded from the rest of this deployment." in log
    assert "Running script 'Smoke test' on test-web-01" not in log
    assert "Running script 'Smoke test' on test-web-02" in log
    assert sandbox.get(f"/api/Spaces-1/deployments/{deployment['Id']}")["DeployedToMachineIds"] == ["Machines-3"]


def test_the_environment_default_applies_unless_the_deployment_says(sandbox: SandboxControl) -> None:
    test = sandbox.get(f"/api/Spaces-1/environments/{TEST}")
    sandbox.call("PUT", f"/api/Spaces-1/environments/{TEST}", json={**test, "UseGuidedFailure": True})
    deployment, interruption = failing_smoke_test(sandbox)
    assert sandbox.get(f"/api/Spaces-1/deployments/{deployment['Id']}")["UseGuidedFailure"] is True
    sandbox.answer(interruption["Id"], Guidance="Fail")
    sandbox.wait_for_task(deployment["TaskId"])
    off = deploy(sandbox, hotfix(sandbox), TEST, UseGuidedFailure=False)
    assert sandbox.wait_for_task(off["TaskId"])["State"] == "Failed"
    assert sandbox.get(INTERRUPTIONS, regarding=off["TaskId"])["TotalResults"] == 0


def test_a_failing_step_without_guided_failure_still_fails_at_once(sandbox: SandboxControl) -> None:
    sandbox.fail(step="Smoke test", environment="Test")
    deployment = deploy(sandbox, hotfix(sandbox), TEST)
    assert sandbox.wait_for_task(deployment["TaskId"])["State"] == "Failed"
    assert sandbox.get(INTERRUPTIONS, regarding=deployment["TaskId"])["TotalResults"] == 0


# -- estate files ------------------------------------------------------------------------------------



def test_an_estate_declares_teams_and_manual_steps_and_exports_them(tmp_path: Path) -> None:
    file = tmp_path / "estate.yml"
    file.write_text(PEOPLE_ESTATE, encoding="utf-8")
    sandbox = Sandbox(seed=load_estate(file))
    try:
        exported = dump_estate(export_estate(sandbox.backend))
        project = sandbox.backend.project("Spaces-1", "Shop")
        tasks = sandbox.backend.all(Task)
    finally:
        sandbox.close()
    action = project.steps[0].action
    assert (action.action_type, action.instructions, action.responsible_team_ids, action.environments) == (
        "Octopus.Manual", "Ask the change board", ["Teams-1"], ["Environments-2"])
    assert [t.state for t in tasks] == ["Success", "Success"]  # the history is approved as it is replayed
    assert "manual: Ask the change board" in exported and "member: false" in exported
    again = tmp_path / "again.yml"
    again.write_text(exported, encoding="utf-8")
    reseeded = Sandbox(seed=load_estate(again))
    try:
        assert dump_estate(export_estate(reseeded.backend)) == exported
    finally:
        reseeded.close()
    with pytest.raises(EstateFileError) as refused:
        parse_estate(PEOPLE_ESTATE.replace("teams: Change Board", "teams: Change Bored"), name="e.yml")
    assert "no team 'Change Bored' in space 'Default' (did you mean 'Change Board'?)" in str(refused.value)
