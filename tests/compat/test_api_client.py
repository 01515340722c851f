"""The official npm client (@octopusdeploy/api-client 3.11.0) works against the sandbox.

``compat.mjs`` creates a release, deploys it, waits with the client's own waiter and sees a
deployment the lifecycle forbids refused; then it creates a project group, an environment, a
project and a machine and pushes a package. Here we run it and then look at the server's state.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from testing.sandbox import SandboxControl

COMPAT = Path(__file__).parent


def test_official_npm_client_creates_deploys_waits_and_is_refused_production(sandbox: SandboxControl) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: apt-get install nodejs npm")
    assert (COMPAT / "node_modules" / "@octopusdeploy" / "api-client").is_dir(), (
        "the npm client is not installed: run `npm ci` in tests/compat (make pytest does)"
    )
    run = subprocess.run([node, str(COMPAT / "compat.mjs"), sandbox.url, sandbox.api_key],
                         capture_output=True, text=True, timeout=60, cwd=COMPAT)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)

    assert seen["state"] == "Success"
    release = sandbox.get(f"/api/Spaces-1/releases/{seen['releaseId']}")
    assert (release["ProjectId"], release["Version"]) == ("Projects-1", "9.0.0")
    deployments = sandbox.get(f"/api/Spaces-1/releases/{seen['releaseId']}/deployments")["Items"]
    assert [d["EnvironmentId"] for d in deployments] == ["Environments-1"]
    assert sandbox.get(f"/api/tasks/{seen['taskId']}")["State"] == "Success"
    calls = [(r["method"], r["path"]) for r in sandbox.requests()]
    assert ("GET", "/api/Spaces-1/tasks") in calls, "the client's waiter polls the space's task list"

    # the estate it built through its own repositories is the sandbox's now
    assert sandbox.get(f"/api/Spaces-1/environments/{seen['environmentId']}")["Name"] == "Compat QA"
    project = sandbox.get(f"/api/Spaces-1/projects/{seen['projectId']}")
    assert (project["Name"], project["ProjectGroupId"]) == ("Compat API", seen["groupId"])
    machine = sandbox.get(f"/api/Spaces-1/machines/{seen['machineId']}")
    assert (machine["EnvironmentIds"], machine["Roles"]) == ([seen["environmentId"]], ["api"])
    versions = sandbox.get("/api/Spaces-1/feeds/feeds-builtin/packages/versions", packageId="Compat.Api")
    assert [v["Version"] for v in versions["Items"]] == ["1.0.0"]
    assert "already exists" in seen["duplicate"]
    for method, path in (("POST", "/api/Spaces-1/environments"), ("POST", "/api/Spaces-1/projects"),
                         ("POST", "/api/Spaces-1/machines"), ("POST", "/api/Spaces-1/packages/raw")):
        assert (method, path) in calls, f"the client sent no {method} {path}"
