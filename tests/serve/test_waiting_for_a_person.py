"""``octorelease serve``: a run whose deployment waits for a person shows the interruption on its
page and in ``/api/runs/{id}`` (where, what, the instructions, who can act, how long, the link),
escaped, and no longer once someone answers it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from markupsafe import escape

from testing.sandbox import APPROVAL_INSTRUCTIONS, HOTFIX_RELEASE, SandboxControl
from testing.serve import ServeUnderTest

#: the step's name, as a hostile Octopus could send it: the page must show it as text
TITLE = '<b>Approve</b> "production" & <script>alert(1)</script>'

HANDLERS = """\
server: ${{OCTOPUS_URL}}
api_key: ${{OCTOPUS_API_KEY}}
serve:
  secrets:
    generic: ${{OCTORELEASE_WEBHOOK_SECRET}}
handlers:
  - name: Hotfix
    project: Web
    on: {{event: build-completed, status: success}}
    deploy: {{to: Production, release: "{version}"}}
"""


def waiting(service: ServeUnderTest, run_id: int, timeout: float = 20) -> dict[str, Any]:
    """The run once ``/api/runs/{id}`` says it waits for a person (polled with a deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        doc = service.run(run_id)
        if doc["pending_interruptions"] or doc["state"] not in ("queued", "running"):
            return doc
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} shows no wait for a person after {timeout} s: {doc}")
        time.sleep(0.02)


def test_a_run_waiting_for_a_person_shows_who_can_act_how_long_and_the_link(
        sandbox: SandboxControl, start: Callable[..., ServeUnderTest]) -> None:
    sandbox.add_approval()
    sandbox.rename("step", "Approve production", TITLE)
    version = str(sandbox.post("/api/Spaces-1/releases/create/v1", HOTFIX_RELEASE)["ReleaseVersion"])
    service = start(HANDLERS.format(version=version))
    run_id = service.event("hotfix-1")["id"]
    doc = waiting(service, run_id)
    assert doc["state"] == "running", doc
    [asked] = doc["pending_interruptions"]
    assert (asked["deployment"], asked["environment"], asked["type"], asked["kind"]) == (
        "Production", "Production", "ManualIntervention", "manual intervention")
    assert (asked["title"], asked["instructions"]) == (TITLE, APPROVAL_INSTRUCTIONS)
    assert asked["teams"] == ["Release Managers"]
    assert asked["web_url"] == f"{sandbox.url}/app#/Spaces-1/tasks/{asked['task_id']}"
    assert asked["id"].startswith("Interruptions-") and asked["waited_seconds"] >= 0
    later = waiting(service, run_id)["pending_interruptions"][0]
    assert later["waited_seconds"] >= asked["waited_seconds"]  # counted up to each answer

    page = service.http.get(f"/runs/{run_id}").text
    assert "<h2>Waiting for a person</h2>" in page and "<script>alert" not in page
    assert "&lt;b&gt;Approve&lt;/b&gt; &#34;production&#34; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert str(escape(APPROVAL_INSTRUCTIONS)) in page and "Release Managers" in page
    assert f'href="{asked["web_url"]}"' in page and f"octorelease interruptions proceed|abort {asked['id']}" in page

    sandbox.answer(asked["id"], Result="Proceed", Notes="approved")
    done = service.wait(run_id)
    assert done["state"] == "succeeded" and done["pending_interruptions"] == []
    assert "Waiting for a person" not in service.http.get(f"/runs/{run_id}").text


def test_a_run_that_stopped_waiting_still_shows_what_waits_on_the_server(
        sandbox: SandboxControl, start: Callable[..., ServeUnderTest]) -> None:
    """``on_interruption: fail`` ends the run (exit 7) while the deployment still waits there."""
    sandbox.add_approval()
    version = str(sandbox.post("/api/Spaces-1/releases/create/v1", HOTFIX_RELEASE)["ReleaseVersion"])
    service = start(HANDLERS.format(version=version) + "    on_interruption: fail\n")
    done = service.wait(service.event("hotfix-2")["id"])
    assert done["state"] == "failed" and done["handlers"][0]["actions"][0]["error"]["code"] == 7
    [asked] = done["pending_interruptions"]
    assert (asked["deployment"], asked["title"], asked["teams"]) == ("Production", "Approve production",
                                                                     ["Release Managers"])
    page = service.http.get(f"/runs/{done['id']}").text
    assert "<h2>Waiting for a person</h2>" in page and f"octorelease interruptions proceed|abort {asked['id']}" in page
