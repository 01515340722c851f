"""octorelease passes each strictness the sandbox shares with the real server
(tests/sandbox/http/test_strictness.py shows the sandbox refusing; these show octorelease is not refused,
or explains the refusal as the server words it)."""

from __future__ import annotations

import httpx
from tests.actions.test_lost_answers import AnotherRunCreatesFirst, octopus_over

from octorelease import errors
from testing.sandbox import SandboxControl


def test_every_request_of_create_deploy_and_promote_is_at_a_documented_path(sandbox: SandboxControl) -> None:
    """No 404 or 405: octorelease never uses the executions API's undocumented unscoped aliases,
    and reads the tasks' documented fields while it waits."""
    octopus = octopus_over(sandbox, httpx.HTTPTransport())
    created = octopus.create("Web", version="1.5.0", default_package_version="1.3.0", deploy_to=["Development"])
    assert created.ok, created.error
    promoted = octopus.promote("Web", source="Development", to=["Test"])
    assert promoted.ok, promoted.error
    assert [d.state for d in (*created.deployments, *promoted.deployments)] == ["Success", "Success"]
    free_version = "/api/Spaces-1/projects/Projects-1/releases/1.5.0"  # 404 is its answer: the version is free
    refused = [(r["method"], r["path"], r["status"]) for r in sandbox.requests()
               if r["status"] in (404, 405) and r["path"] != free_version]
    assert not refused


def test_a_duplicate_refused_by_the_server_is_reported_in_the_servers_words(sandbox: SandboxControl) -> None:
    octopus = octopus_over(sandbox, AnotherRunCreatesFirst(sandbox, "1.5.0", lose=False))
    result = octopus.create("Web", version="1.5.0", default_package_version="1.3.0")
    assert result.error is not None
    assert isinstance(result.error, errors.OctopusRejected)  # exit code 3
    assert (result.error.status, result.error.message) == (400, (
        "Release '1.5.0' already exists for this project. Please use a different version, or look at using a "
        "mask to auto-increment the number."))
