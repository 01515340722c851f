"""The smoke test's estate: what ``make test-real`` needs in the throwaway space it is given, made
through Octopus's own API the first time and found by name after that.

Two environments, a lifecycle that goes from the first to the second, and a project whose one
step runs a PowerShell script on the server (a worker: no deployment target is needed). Every
write is scoped to the named space; the space itself must exist (creating spaces is an
administrator's act, and the test must not need one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from octorelease.octopus.api import OctopusApi, SpaceApi
from octorelease.octopus.http import OctopusHttp

PROJECT = "octorelease smoke"
SOURCE = "octorelease-smoke-from"
TARGET = "octorelease-smoke-to"
LIFECYCLE = "octorelease smoke"
#: the step: a script on the server, in PowerShell (Windows built-in workers and Linux dynamic
#: workers both have it)
STEP = {
    "Name": "Say hello",
    "Condition": "Success",
    "StartTrigger": "StartAfterPrevious",
    "PackageRequirement": "LetOctopusDecide",
    "Properties": {},
    "Actions": [{
        "Name": "Say hello",
        "ActionType": "Octopus.Script",
        "IsDisabled": False,
        "Environments": [], "ExcludedEnvironments": [], "Channels": [], "TenantTags": [], "Packages": [],
        "Properties": {
            "Octopus.Action.RunOnServer": "true",
            "Octopus.Action.Script.ScriptSource": "Inline",
            "Octopus.Action.Script.Syntax": "PowerShell",
            "Octopus.Action.Script.ScriptBody": "Write-Host 'octorelease smoke test'",
        },
    }],
}


@dataclass(frozen=True)
class SmokeEstate:
    space: str
    project: str = PROJECT
    source: str = SOURCE
    target: str = TARGET


def provision(http: OctopusHttp, space_name: str) -> SmokeEstate:
    """Make (or find) the smoke test's environments, lifecycle and project in ``space_name``."""
    space = OctopusApi(http).space(space_name)
    space_id = space.space.id
    source = _named_or_made(space, "environments", SOURCE, {"Name": SOURCE, "SpaceId": space_id})
    target = _named_or_made(space, "environments", TARGET, {"Name": TARGET, "SpaceId": space_id})
    retention = {"Unit": "Items", "QuantityToKeep": 3, "ShouldKeepForever": False}
    phases = [{"Name": name, "OptionalDeploymentTargets": [env], "AutomaticDeploymentTargets": [],
               "MinimumEnvironmentsBeforePromotion": 0, "IsOptionalPhase": False}
              for name, env in (("From", source), ("To", target))]
    lifecycle = _named_or_made(space, "lifecycles", LIFECYCLE, {
        "Name": LIFECYCLE, "SpaceId": space_id, "Phases": phases,
        "ReleaseRetentionPolicy": retention, "TentacleRetentionPolicy": retention})
    groups = list(space.items("projectgroups"))
    if not groups:
        raise AssertionError(f"Space '{space_name}' has no project group to put the smoke project in.")
    project = _named_or_made(space, "projects", PROJECT, {
        "Name": PROJECT, "SpaceId": space_id, "LifecycleId": lifecycle, "ProjectGroupId": groups[0]["Id"]})
    process_path = space.path(f"projects/{project}/deploymentprocesses")
    process: dict[str, Any] = http.get_object(process_path)
    if not process.get("Steps"):
        http.put(process_path, {**process, "Steps": [STEP]})
    return SmokeEstate(space=space_name)


def _named_or_made(space: SpaceApi, collection: str, name: str, body: dict[str, Any]) -> str:
    """The id of the ``collection`` item called ``name``, made with ``body`` when there is none."""
    for item in space.items(collection, {"partialName": name}):
        if str(item.get("Name")) == name:
            return str(item["Id"])
    made: dict[str, Any] = space.http.post(space.path(collection), body)
    return str(made["Id"])
