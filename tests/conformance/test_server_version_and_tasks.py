"""The client side of conforming to the real server: its version, read once from ``GET /api``,
gates the executions API and is shown by ``--json`` and ``-v``; a task poll uses the space's
route and a task the poll does not return is an error that names it, never a silent wait."""

from __future__ import annotations

import pytest

from octorelease import errors
from octorelease.actions.plan import WaitOptions
from octorelease.actions.result import DeploymentResult, SilentObserver
from octorelease.actions.wait import TaskWaiter
from octorelease.octopus.api import EXECUTIONS_API_VERSION, OctopusApi, version_at_least
from octorelease.octopus.http import OctopusHttp
from octorelease.octopus.retry import TESTING_RETRY_POLICY
from testing import conformance
from testing.cli import assert_one_line_error, connection, run_cli
from testing.fake_server import Answer, FakeServer
from testing.sandbox import SandboxControl

KEY = "API-CONFORMANCE0000000000000000000"


def test_the_minimum_version_is_the_tables() -> None:
    assert conformance.minimum_server_version() == EXECUTIONS_API_VERSION


@pytest.mark.parametrize(("version", "new_enough"), [
    ("2022.3.5512", True), ("2022.3.5511", False), ("2022.2.9999", False), ("2021.1.7316", False),
    ("2024.3.10989", True), ("2023.1.0", True), ("2025.1.100-beta", True), ("0.0.0-local", True),
    ("", True), ("not a version", True),
])
def test_a_version_is_compared_as_the_official_client_compares_it(version: str, new_enough: bool) -> None:
    assert version_at_least(version, EXECUTIONS_API_VERSION) is new_enough


def test_create_on_a_server_older_than_the_executions_api_exits_3_naming_the_version_and_asks_nothing_more(
        capsys: pytest.CaptureFixture[str]) -> None:
    with FakeServer({"/api": Answer.json({"Version": "2021.1.7316", "ApiVersion": "3.0.0"})}) as server:
        run = run_cli(capsys, "create", "--project", "Web", "--version", "1.0.0", "--server", server.url,
                      "--api-key", KEY)
        line = assert_one_line_error(run, 3, "2021.1.7316", EXECUTIONS_API_VERSION, "create")
        assert server.requests == [("GET", "/api")], server.requests  # nothing looked up, nothing created
    assert "older than" in line


def test_json_and_verbose_show_the_server_version_read_once(sandbox: SandboxControl,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    version = sandbox.get("/api")["Version"]
    sandbox.clear_requests()
    run = run_cli(capsys, "deploy", "--project", "Worker", "--release", "latest", "--to", "Development",
                  "--no-log", "--json", "-v", *connection(sandbox))
    assert run.code == 0, run.err
    assert run.json["server_version"] == version
    assert f"Octopus Server {version} at {sandbox.url}" in run.err
    assert [r["path"] for r in sandbox.requests() if r["path"] in ("/api", "/api/")] == ["/api"]


def test_without_json_or_verbose_a_deploy_does_not_ask_for_the_version(sandbox: SandboxControl,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "deploy", "--project", "Worker", "--release", "latest", "--to", "Development",
                  "--no-log", *connection(sandbox))
    assert run.code == 0, run.err
    assert not [r for r in sandbox.requests() if r["path"] in ("/api", "/api/")]


def test_a_task_the_poll_does_not_return_is_an_error_naming_it(sandbox: SandboxControl) -> None:
    with OctopusHttp(sandbox.url, sandbox.api_key, retry=TESTING_RETRY_POLICY) as http:
        space = OctopusApi(http).space("Spaces-1")
        gone = DeploymentResult("Production", "Environments-4", deployment_id="Deployments-999",
                                task_id="ServerTasks-999", state="Queued")
        with pytest.raises(errors.NotFound) as raised:
            TaskWaiter(space, SilentObserver()).wait([gone], WaitOptions(timeout_seconds=5))
    assert "ServerTasks-999 (Production)" in raised.value.message
    polls = [r for r in sandbox.requests() if r["path"].endswith("/tasks")]
    assert [(r["path"], "ids=ServerTasks-999" in r["query"]) for r in polls] == [("/api/Spaces-1/tasks", True)]


def test_create_on_a_server_without_an_octopus_root_says_it_is_not_octopus(
        capsys: pytest.CaptureFixture[str]) -> None:
    with FakeServer({}) as server:  # 404 for everything
        run = run_cli(capsys, "create", "--project", "Web", "--version", "1.0.0", "--server", server.url,
                      "--api-key", KEY)
        assert_one_line_error(run, 6, "/api", "not an Octopus Server")
        assert server.requests == [("GET", "/api")], server.requests
