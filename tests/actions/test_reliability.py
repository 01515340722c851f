"""Against a sandbox that fails requests on purpose (``--faults``), over real HTTP: what the user
asked for happens exactly once. Retries absorb 5xx, 429 and dropped connections; a POST whose
outcome is unknown is looked for before it is sent again, so nothing is ever created twice.

The specs are seeded, so each run meets the same faults until the client's requests change; the
tests check that the faults they are about were really met."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from octorelease import Octopus
from octorelease.actions.result import ActionResult
from octorelease.octopus.http import RequestOutcomeUnknown
from octorelease.octopus.retry import TESTING_RETRY_POLICY, RetryPolicy
from testing.sandbox import SandboxControl

#: Patient enough that a run where half the requests fail still gets through, and without waits.
PATIENT = RetryPolicy(attempts=20, total_seconds=20.0, initial_wait=0.0, max_wait=0.0, jitter=0.0)
#: Half of all requests fail, every way there is; 429 asks for 10 ms, to keep the suite fast.
FLAKY = "503:0.2,429@0.01s:0.1,reset:0.1,lost:0.1"
TARGETS = {"Test": "Environments-2", "Staging": "Environments-3", "Production": "Environments-4"}


def deployments_of(sandbox: SandboxControl, project_id: str, environment_id: str) -> list[dict[str, Any]]:
    items = sandbox.get("/api/Spaces-1/deployments", environments=environment_id, take=100)["Items"]
    return [d for d in items if d["ProjectId"] == project_id]


def promote_through(sandbox: SandboxControl, spec: str, retry: RetryPolicy, project: str = "Web",
                    source: str = "Test", to: Sequence[str] = ("Staging",)) -> ActionResult:
    """Promote with the sandbox failing requests as ``spec`` says."""
    sandbox.set_http_faults(spec)
    with Octopus(sandbox.url, sandbox.api_key, retry=retry) as octopus:
        return octopus.promote(project, source=source, to=list(to))


def faults_met(sandbox: SandboxControl, method: str, path_end: str) -> list[str | None]:
    """The fault each ``method`` request to a path ending in ``path_end`` met (``None``: served)."""
    return [r.get("fault") for r in sandbox.requests() if r["method"] == method and r["path"].endswith(path_end)]


def test_a_promotion_to_three_environments_through_a_flaky_server_deploys_each_exactly_once(
    sandbox: SandboxControl,
) -> None:
    result = promote_through(sandbox, f"{FLAKY},seed=37", PATIENT, "Worker", "Development", list(TARGETS))
    posts = faults_met(sandbox, "POST", "/deployments")
    sandbox.clear_http_faults()
    assert result.ok, result.error
    assert {"503", "429", "reset", "lost"} <= set(posts)  # the creations met every kind of fault
    for deployment in result.deployments:
        (created,) = deployments_of(sandbox, "Projects-2", TARGETS[deployment.environment])
        assert (deployment.deployment_id, deployment.state) == (created["Id"], "Success")


@pytest.mark.parametrize(("seed", "met"), [(158, ["503", "503", None]), (3, ["lost"])])
def test_a_release_created_through_a_flaky_server_exists_exactly_once(
    sandbox: SandboxControl, seed: int, met: list[str | None]
) -> None:
    sandbox.set_http_faults(f"{FLAKY},seed={seed}")
    with Octopus(sandbox.url, sandbox.api_key, retry=PATIENT) as octopus:
        result = octopus.create("Web", version="1.5.0", default_package_version="1.3.0")
    assert faults_met(sandbox, "POST", "/releases/create/v1") == met
    sandbox.clear_http_faults()
    assert result.ok, result.error
    releases = sandbox.get("/api/Spaces-1/projects/Projects-1/releases", take=100)["Items"]
    assert [r["Version"] for r in releases].count("1.5.0") == 1
    assert result.release is not None and result.release.name == "1.5.0"


def test_deployments_whose_every_answer_is_lost_are_adopted_not_duplicated(sandbox: SandboxControl) -> None:
    result = promote_through(sandbox, "lost:1,only=POST,path=/deployments", TESTING_RETRY_POLICY, "Worker",
                             "Development", list(TARGETS))
    assert faults_met(sandbox, "POST", "/deployments") == ["lost"] * 3  # one POST each, never a second
    sandbox.clear_http_faults()
    assert result.ok, result.error
    for deployment in result.deployments:
        (created,) = deployments_of(sandbox, "Projects-2", TARGETS[deployment.environment])
        assert deployment.deployment_id == created["Id"]


def test_a_deployment_post_dropped_twice_in_a_row_is_looked_for_each_time_and_created_once(
    sandbox: SandboxControl,
) -> None:
    result = promote_through(sandbox, "reset:0.6,only=POST,path=/deployments,seed=7", TESTING_RETRY_POLICY)
    assert faults_met(sandbox, "POST", "/deployments") == ["reset", "reset", None]
    # looked before each POST (3: the first too), then once for a concurrent run's twin (settle.py)
    assert len(faults_met(sandbox, "GET", "/deployments")) == 4
    sandbox.clear_http_faults()
    assert result.ok, result.error
    assert len(deployments_of(sandbox, "Projects-1", "Environments-3")) == 1


def test_a_server_that_drops_every_deployment_post_fails_the_promotion_and_creates_nothing(
    sandbox: SandboxControl,
) -> None:
    result = promote_through(sandbox, "reset:1,only=POST,path=/deployments", TESTING_RETRY_POLICY)
    assert faults_met(sandbox, "POST", "/deployments") == ["reset"] * TESTING_RETRY_POLICY.attempts
    sandbox.clear_http_faults()
    assert isinstance(result.error, RequestOutcomeUnknown)
    assert "may or may not have been carried out" in result.error.message
    assert deployments_of(sandbox, "Projects-1", "Environments-3") == []
