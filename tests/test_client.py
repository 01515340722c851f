"""The Python API returns what --json prints."""

from __future__ import annotations

from octorelease import Octopus
from octorelease.actions.twins import notes_without_marker
from octorelease.cli.exit_codes import exit_code_for


def test_promote_returns_the_json_result(sandbox):
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        result = octopus.promote("Web", source="Test", to=["Staging"], notes="from a script")
    assert result.ok
    doc = result.to_dict(exit_code_for)
    assert doc["release"] == {"id": "Releases-1", "version": "1.0.0"}
    assert doc["deployments"][0]["state"] == "Success"
    deployment = sandbox.get(f"/api/Spaces-1/deployments/{doc['deployments'][0]['deployment_id']}")
    assert notes_without_marker(deployment["Comments"]) == "from a script"  # then the run's marker


def test_refusal_is_captured_not_raised(sandbox):
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        result = octopus.promote("Web", source="Test", to=["Production"])
    assert not result.ok
    assert result.to_dict(exit_code_for)["error"]["code"] == 3


def test_public_surface_is_pinned():
    import octorelease

    assert octorelease.__all__ == [
        "AuthenticationFailed",
        "DeploymentFailed",
        "DeploymentNotAllowed",
        "Interrupted",
        "InvalidInput",
        "NotFound",
        "Octopus",
        "OctopusRejected",
        "OctoreleaseError",
        "PermissionDenied",
        "ServerUnreachable",
        "Terminated",
        "WaitTimedOut",
    ]
    assert octorelease.Octopus.__name__ == "Octopus"
    assert all(
        issubclass(getattr(octorelease, n), octorelease.OctoreleaseError) for n in octorelease.__all__ if n != "Octopus"
    )


def test_every_error_class_has_an_exit_code():
    import inspect

    from octorelease import errors
    from octorelease.cli.exit_codes import EXIT_CODES

    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.OctoreleaseError)]
    assert all(c in EXIT_CODES for c in classes), [c for c in classes if c not in EXIT_CODES]


def test_importing_the_cli_loads_neither_httpx_nor_the_server():
    import subprocess
    import sys

    heavy = "('httpx', 'uvicorn', 'rich', 'pydantic')"
    code = f"import sys, octorelease.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_a_schedule_may_be_a_datetime_naive_ones_being_local_time(sandbox):
    from datetime import datetime, timedelta

    from octorelease.client import WaitOptions

    start = datetime.now() + timedelta(hours=1)  # naive: local time
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        result = octopus.deploy("Web", release="1.0.0", to=["Development"], deploy_at=start,
                                no_deploy_after="+2h", wait=WaitOptions(wait=False))
    assert result.ok, result.error
    (deployment,) = result.deployments
    server = sandbox.get(f"/api/Spaces-1/deployments/{deployment.deployment_id}")
    queued = datetime.fromisoformat(server["QueueTime"].replace("Z", "+00:00"))
    assert abs((queued - start.astimezone()).total_seconds()) < 1
    assert deployment.scheduled_for is not None
