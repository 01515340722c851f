"""After an ambiguous ``POST``, only what did not exist before our first try may be adopted.

A deployment of the same release to the same target made by an earlier run (seconds ago, or
yesterday) is not ours: adopting it would report success for a deployment that never happened.
These tests check the server's own state after each run, not only what octorelease says."""

from __future__ import annotations

from typing import Any

from octorelease import Octopus
from octorelease.actions.plan import WaitOptions
from octorelease.octopus.http import RequestOutcomeUnknown
from octorelease.octopus.retry import TESTING_RETRY_POLICY, RetryPolicy
from testing.sandbox import SandboxControl

#: Patient: a run gives up only after many tries, so most runs get through the faults.
PATIENT = RetryPolicy(attempts=12, total_seconds=20.0, initial_wait=0.0, max_wait=0.0, jitter=0.0)
TEST = "Environments-2"


def deployment_ids(sandbox: SandboxControl, project_id: str, environment_id: str) -> set[str]:
    items = sandbox.get("/api/Spaces-1/deployments", environments=environment_id, take=1000)["Items"]
    return {d["Id"] for d in items if d["ProjectId"] == project_id}


def release_versions(sandbox: SandboxControl, project_id: str) -> list[str]:
    items = sandbox.get(f"/api/Spaces-1/projects/{project_id}/releases", take=1000)["Items"]
    return [r["Version"] for r in items]


def deploy(sandbox: SandboxControl, retry: RetryPolicy, **options: Any) -> Any:
    with Octopus(sandbox.url, sandbox.api_key, retry=retry) as octopus:
        return octopus.deploy("Web", release="1.0.0", to=["Test"], wait=WaitOptions(wait=False), **options)


def test_a_redeploy_whose_every_post_fails_adopts_nothing_made_seconds_before(sandbox: SandboxControl) -> None:
    first = deploy(sandbox, TESTING_RETRY_POLICY)
    assert first.ok, first.error
    before = deployment_ids(sandbox, "Projects-1", TEST)
    sandbox.set_http_faults("503:1,only=POST,path=/deployments")
    second = deploy(sandbox, TESTING_RETRY_POLICY)
    sandbox.clear_http_faults()
    assert isinstance(second.error, RequestOutcomeUnknown), second.error
    assert deployment_ids(sandbox, "Projects-1", TEST) == before
    assert [d.deployment_id for d in second.deployments] == []


def test_twenty_redeploys_through_a_flaky_server_each_report_the_one_deployment_they_made(
    sandbox: SandboxControl,
) -> None:
    """Every run that exits well made exactly one new deployment, and reports that one."""
    known = deployment_ids(sandbox, "Projects-1", TEST)
    ok_runs = 0
    for seed in range(20):
        sandbox.set_http_faults(f"503:0.3,500:0.2,only=POST,path=/deployments,seed={seed}")
        result = deploy(sandbox, PATIENT)
        sandbox.clear_http_faults()
        now = deployment_ids(sandbox, "Projects-1", TEST)
        new = now - known
        if result.ok:
            ok_runs += 1
            (reported,) = [d.deployment_id for d in result.deployments]
            assert new == {reported}, (seed, new, reported)
        else:
            assert new == set(), (seed, new)  # 503 and 500 here are never carried out
        known = now
    assert ok_runs >= 15


def test_a_release_whose_every_post_fails_is_not_taken_from_another_run(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("503:1,only=POST,path=/releases/create")
    with Octopus(sandbox.url, sandbox.api_key, retry=TESTING_RETRY_POLICY) as octopus:
        result = octopus.create("Web", version="1.5.0", default_package_version="1.3.0")
    sandbox.clear_http_faults()
    assert isinstance(result.error, RequestOutcomeUnknown), result.error
    assert "1.5.0" not in release_versions(sandbox, "Projects-1")


def test_twenty_releases_through_a_flaky_server_each_exist_once_and_are_reported_as_made(
    sandbox: SandboxControl,
) -> None:
    ok_runs = 0
    for seed in range(20):
        sandbox.set_http_faults(f"503:0.3,500:0.2,lost:0.2,only=POST,path=/releases/create,seed={seed}")
        with Octopus(sandbox.url, sandbox.api_key, retry=PATIENT) as octopus:
            result = octopus.create("Worker", default_package_version="2.1.0")
        sandbox.clear_http_faults()
        versions = release_versions(sandbox, "Projects-2")
        assert len(versions) == len(set(versions))
        if result.ok:
            ok_runs += 1
            assert result.release_created is True
            assert result.release is not None and result.release.name in versions
    assert ok_runs >= 15
    assert len(release_versions(sandbox, "Projects-2")) == 1 + ok_runs


def test_ten_promotions_through_lost_and_refused_posts_each_made_one_deployment_per_target(
    sandbox: SandboxControl,
) -> None:
    """Promotions to two targets (redeploying: each run makes new ones) with answers lost and
    POSTs refused: every run that exits well made exactly one deployment per target and reports
    it; no run adopted another's, and the twin check never cancelled a run's own deployment."""
    targets = {"Test": "Environments-2", "Staging": "Environments-3"}
    known = {env: deployment_ids(sandbox, "Projects-2", env_id) for env, env_id in targets.items()}
    ok_runs = 0
    for seed in range(10):
        sandbox.set_http_faults(f"503:0.2,500:0.1,lost:0.2,only=POST,path=/deployments,seed={seed}")
        with Octopus(sandbox.url, sandbox.api_key, retry=PATIENT) as octopus:
            result = octopus.promote("Worker", source="Development", to=list(targets), redeploy=True,
                                     wait=WaitOptions(wait=False))
        sandbox.clear_http_faults()
        for env, env_id in targets.items():
            now = deployment_ids(sandbox, "Projects-2", env_id)
            new, known[env] = now - known[env], now
            if result.ok:
                (reported,) = [d for d in result.deployments if d.environment == env]
                assert new == {reported.deployment_id}, (seed, env, new, reported.deployment_id)
                assert not reported.cancelled_twin and not reported.already_deployed
            else:
                assert len(new) <= 1, (seed, env, new)
        ok_runs += result.ok
    assert ok_runs >= 8
