"""Drive a running sandbox from tests: its test controls, and authenticated calls to its API.

``SandboxControl`` is what the ``sandbox`` fixture returns. Tests use it to arrange state
(faults, speed, limited keys), to look at the server's own state after the code under test ran,
and to wait for tasks with a deadline rather than a fixed sleep.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from octorelease.sandbox.errors import ADMIN_KEY_HEADER
from octorelease.sandbox.http.server import SandboxServer

#: an estate with teams, a manual intervention only in Live, and a yearly freeze of Live
PEOPLE_ESTATE = """\
spaces:
  - name: Default
    default: true
    environments: [QA, Live]
    machines:
      - {name: api-1, environments: [QA, Live], roles: api}
    lifecycles: [{name: Anywhere}]
    teams:
      - {name: Change Board}
      - {name: Auditors, member: false}
    projects:
      - name: Shop
        lifecycle: Anywhere
        steps:
          - {name: Sign off, manual: Ask the change board, teams: Change Board, environments: Live}
          - {name: Deploy, roles: api, script: ./deploy.sh}
        releases:
          - {version: 1.0.0, deployments: [QA, Live]}
    freezes:
      - name: Black Friday
        start: 2030-11-28T00:00:00+00:00
        end: 2030-12-02T00:00:00+00:00
        projects: {Shop: Live}
        recurring: {Type: Annually, Unit: 1, EndType: Never}
"""
#: create a release of Web in its Hotfix channel (whose lifecycle lets it go straight to Production)
HOTFIX_RELEASE = {"ProjectName": "Web", "ChannelName": "Hotfix", "SpaceId": "Spaces-1", "SpaceIdOrName": "Spaces-1"}
APPROVAL_INSTRUCTIONS = "Check that Staging's smoke test passed and that nobody is mid-release, then proceed."


class SandboxControl:
    """A handle on one running sandbox, for tests."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        admin_key = server.sandbox.admin_key
        headers = {ADMIN_KEY_HEADER: admin_key} if admin_key else {}
        self._http = httpx.Client(base_url=server.url, timeout=10, headers=headers)

    @property
    def url(self) -> str:
        """The server's URL, without ``/api``."""
        return self.server.url

    @property
    def api_key(self) -> str:
        return self.server.api_key

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, f"/_sandbox/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def reset(self, seed: str = "demo") -> None:
        """Stop running tasks, wipe everything and re-seed (faults, keys and request log too)."""
        self._control("POST", "reset", {"seed": seed})

    def fail(self, step: str | None = None, machine: str | None = None, environment: str | None = None,
             message: str | None = None) -> None:
        """Make a step fail; every criterion given must match."""
        self._control("POST", "faults", {"step": step, "machine": machine, "environment": environment,
                                         "message": message})

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def set_http_faults(self, spec: str) -> None:
        """Fail /api requests as the ``--faults`` spec says (``sandbox/faults.py``), from now on."""
        self._control("POST", "faults/http", {"spec": spec})

    def clear_http_faults(self) -> None:
        self._control("DELETE", "faults/http")

    def set_speed(self, seconds_per_step: float) -> None:
        self._control("POST", "speed", {"seconds_per_step": seconds_per_step})

    def hold_tasks(self, held: bool = True) -> None:
        """Keep queued tasks queued (``held``) until called again with ``False``."""
        self._control("POST", "hold", {"held": held})

    def add_api_key(self, key: str, environments: list[str] | None, teams: list[str] | None = None) -> None:
        """Another valid key, allowed to deploy only to these environments (``None``: any), whose
        user is in these teams only (``None``: the sandbox user's teams)."""
        body: dict[str, Any] = {"key": key}
        if environments is not None:
            body["environments"] = environments
        if teams is not None:
            body["teams"] = teams
        self._control("POST", "api-keys", body)

    def add_approval(self, project: str = "Projects-1", environment: str = "Environments-4",
                     teams: str = "Teams-1") -> None:
        """Put "Approve production" (a manual intervention for ``teams``, in ``environment`` only)
        first in the project's process, through ``PUT deploymentprocesses`` as a user would."""
        process = self.get(f"/api/Spaces-1/projects/{project}/deploymentprocesses")
        if any(step["Name"] == "Approve production" for step in process["Steps"]):
            return
        approval = {"Name": "Approve production", "Properties": {}, "Actions": [{
            "Name": "Approve production", "ActionType": "Octopus.Manual", "Environments": [environment],
            "Properties": {"Octopus.Action.Manual.Instructions": APPROVAL_INSTRUCTIONS,
                           "Octopus.Action.Manual.ResponsibleTeamIds": teams}}]}
        process["Steps"] = [approval, *process["Steps"]]
        response = self._http.put(f"/api/Spaces-1/projects/{project}/deploymentprocesses", json=process,
                                  headers={"X-Octopus-ApiKey": self.api_key})
        response.raise_for_status()

    def hotfix_release(self) -> str:
        """A release of Web in its Hotfix channel (which may go straight to Production), whose
        process asks the Release Managers to approve a deployment to Production; its id."""
        self.add_approval()
        created: dict[str, Any] = self.post("/api/Spaces-1/releases/create/v1", HOTFIX_RELEASE)
        return str(created["ReleaseId"])

    def deploy(self, release_id: str, environment_id: str, **fields: Any) -> dict[str, Any]:
        """``POST deployments``: the deployment created."""
        created: dict[str, Any] = self.post("/api/Spaces-1/deployments",
                                            {"ReleaseId": release_id, "EnvironmentId": environment_id, **fields})
        return created

    def wait_for_interruption(self, task_id: str, timeout: float = 10) -> dict[str, Any]:
        """Poll until the task has a pending interruption; return it (fail the test after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            found: dict[str, Any] = self.get("/api/Spaces-1/interruptions", regarding=task_id, pendingOnly="true")
            if found["Items"]:
                item: dict[str, Any] = found["Items"][0]
                return item
            if time.monotonic() > deadline:
                raise AssertionError(f"{task_id} raised no interruption within {timeout} s")
            time.sleep(0.01)

    def answer(self, interruption_id: str, **fields: str) -> dict[str, Any]:
        """Take responsibility for the interruption and submit ``Result``/``Guidance``/``Notes``."""
        self._http.put(f"/api/Spaces-1/interruptions/{interruption_id}/responsible",
                       headers={"X-Octopus-ApiKey": self.api_key}).raise_for_status()
        result: dict[str, Any] = self.post(f"/api/Spaces-1/interruptions/{interruption_id}/submit",
                                           {"Id": interruption_id, "SpaceId": "Spaces-1", **fields})
        return result

    def publish_package(self, package_id: str, version: str, space: str | None = None) -> None:
        self._control("POST", "packages", {"packageId": package_id, "version": version, "space": space})

    def rename(self, kind: str, old: str, new: str) -> None:
        """Rename an environment, machine, project, tenant or step; ``new`` may be any text."""
        self._control("POST", "rename", {"kind": kind, "from": old, "to": new})

    def requests(self) -> list[dict[str, Any]]:
        """Every /api request since the last clear: ``{"method", "path", "query", "status"}``,
        plus ``"fault"`` (its kind) for a request that got an HTTP fault, and for a POST or PUT
        ``"fields"``: the names of the fields its JSON object body gives a value (else None)."""
        result: list[dict[str, Any]] = self._control("GET", "requests")
        return result

    def clear_requests(self) -> None:
        self._control("DELETE", "requests")

    def census(self) -> dict[str, Any]:
        """How many releases, deployments, tasks, variables (and every other kind) the sandbox
        holds, and when it last wrote anything; equal before and after: nothing was touched."""
        result: dict[str, Any] = self._control("GET", "census")
        return result

    def get(self, path: str, **params: Any) -> Any:
        """``GET`` an ``/api`` path with the API key; the JSON, or an error for any status >= 400."""
        response = self._http.get(path, params=params, headers={"X-Octopus-ApiKey": self.api_key})
        response.raise_for_status()
        return response.json()

    def post(self, path: str, json: Any = None) -> Any:
        response = self._http.post(path, json=json, headers={"X-Octopus-ApiKey": self.api_key})
        response.raise_for_status()
        return response.json()

    def call(self, method: str, path: str, *, json: Any = None, params: Any = None,
             content: bytes | Iterator[bytes] | None = None, headers: Mapping[str, str | bytes] | None = None,
             key: str | None = "") -> httpx.Response:
        """Any request, its response unchecked: for tests about statuses and error bodies.
        ``key`` defaults to the sandbox's own; ``None`` sends none."""
        sent = dict(headers or {})
        if key is not None:
            sent.setdefault("X-Octopus-ApiKey", key or self.api_key)
        return self._http.request(method, path, json=json, params=params, content=content, headers=sent)

    def wait_for_task(self, task_id: str, timeout: float = 10) -> dict[str, Any]:
        """Poll the task until it completes; fail the test if it does not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            task: dict[str, Any] = self.get(f"/api/tasks/{task_id}")
            if task["IsCompleted"]:
                return task
            if time.monotonic() > deadline:
                raise AssertionError(f"{task_id} did not complete within {timeout} s (state {task['State']})")
            time.sleep(0.01)

    def close(self) -> None:
        self._http.close()
