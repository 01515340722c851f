"""Check, from the server's own state, that concurrent runs settled on one deployment per target.

Tests of concurrent promotions (threads through the Python API, or ``octorelease`` processes)
hand over what each run reported per target; these helpers read what the sandbox holds once
every task has ended and assert the promise: each target has exactly one deployment of the
release that is not cancelled, and it succeeded; every run names it; every other deployment
made was cancelled (by a run of its episode: the first to settle cancels them all) and reported
by exactly one run, the run whose marker it carries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from octorelease.actions.result import ActionResult
from testing.sandbox import SandboxControl


@dataclass(frozen=True)
class Reported:
    """What one run said about one target."""

    deployment_id: str | None
    cancelled_twin: str | None = None


#: One run's report: by environment name.
Report = Mapping[str, Reported]


def from_result(result: ActionResult) -> dict[str, Reported]:
    """A run's report, from its ``ActionResult``."""
    assert result.ok, result.error
    return {d.environment: Reported(d.deployment_id, d.cancelled_twin) for d in result.deployments}


def from_json(doc: Mapping[str, Any]) -> dict[str, Reported]:
    """A run's report, from its ``--json`` object (``promote``, ``deploy``)."""
    assert doc["ok"], doc
    return {d["environment"]: Reported(d["deployment_id"], d.get("cancelled_twin")) for d in doc["deployments"]}


def deployments_of(sandbox: SandboxControl, project_id: str, release_id: str, environment_id: str,
                   timeout: float = 60) -> list[dict[str, Any]]:
    """Every deployment of the release to the environment, each with its task's final ``State``."""
    items = sandbox.get("/api/Spaces-1/deployments", projects=project_id, environments=environment_id,
                        take=1000)["Items"]
    found = [d for d in items if d["ReleaseId"] == release_id and d["EnvironmentId"] == environment_id]
    for d in found:
        d["State"] = sandbox.wait_for_task(d["TaskId"], timeout=timeout)["State"]
    return found


def marker_of(deployment: Mapping[str, Any]) -> str:
    """The run marker octorelease leaves in a deployment's ``Comments``."""
    comments = str(deployment.get("Comments") or "")
    assert "[octorelease " in comments, comments
    return comments.rsplit("[octorelease ", 1)[1].split(" ", 1)[0]


def assert_settled(
    sandbox: SandboxControl,
    reports: Sequence[Report],
    targets: Mapping[str, str],
    *,
    project_id: str,
    release_id: str,
    markers: Sequence[str] | None = None,
) -> None:
    """The promise of concurrent runs, per target (environment name to id); ``markers``, when
    known, are the runs' own markers, in the order of ``reports``."""
    for environment, environment_id in targets.items():
        on_server = deployments_of(sandbox, project_id, release_id, environment_id)
        effective = [d for d in on_server if d["State"] != "Canceled"]
        assert [d["State"] for d in effective] == ["Success"], (environment, on_server)
        winner = effective[0]["Id"]
        named = [report[environment].deployment_id for report in reports]
        assert named == [winner] * len(reports), (environment, winner, named)
        cancelled = sorted(d["Id"] for d in on_server if d["State"] == "Canceled")
        by_runs = sorted(t for report in reports if (t := report[environment].cancelled_twin))
        assert cancelled == by_runs, (environment, cancelled, by_runs)  # each reported, by one run
        by_id = {d["Id"]: d for d in on_server}
        makers = [marker_of(by_id[twin]) for twin in cancelled]
        assert len(set(makers)) == len(makers), makers  # each run reports its own twin, once
        assert marker_of(effective[0]) not in makers
        if markers is not None:
            for report, marker in zip(reports, markers, strict=True):
                twin = report[environment].cancelled_twin
                if twin is not None:
                    assert marker_of(by_id[twin]) == marker, (twin, marker)
