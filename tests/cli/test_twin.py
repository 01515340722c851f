"""Two promotions of one release at once: the later one's deployment is a twin, cancelled while
queued; the command line says so in its text and in its JSON (``cancelled_twin``).

The sandbox holds every ``POST /deployments`` for a moment (``slow``), so the second run plans
while the first one's deployment is still on its way: both create, as two CI jobs racing do."""

from __future__ import annotations

import threading
import time
from typing import Any

from octorelease import Octopus
from octorelease.actions.plan import WaitOptions


def posts_seen(sandbox: Any) -> int:
    return sum(1 for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith("/deployments"))


def test_the_later_of_two_racing_promotions_cancels_its_twin_and_says_so(sandbox, octorelease):
    sandbox.set_speed(2.0)  # the first deployment is still running when the second is made
    sandbox.set_http_faults("slow@1:1,only=POST,path=/deployments")
    first: dict[str, Any] = {}

    def promote_first() -> None:
        with Octopus(sandbox.url, sandbox.api_key) as octopus:
            first["result"] = octopus.promote(
                "Worker", source="Development", to=["Test"], wait=WaitOptions(wait=False)
            )

    racer = threading.Thread(target=promote_first)
    racer.start()
    deadline = time.monotonic() + 10
    while posts_seen(sandbox) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)  # poll: the first run's POST has reached the server and is held there
    run = octorelease("promote", "--project", "Worker", "--from", "Development", "--to", "Test", "--json",
                      "--no-wait")
    racer.join(timeout=10)
    sandbox.clear_http_faults()
    assert run.code == 0, run.everything
    winner = first["result"].deployments[0].deployment_id
    (entry,) = run.json["deployments"]
    assert entry["deployment_id"] == winner and entry["already_deployed"] is True
    twin = entry["cancelled_twin"]
    assert twin != winner
    assert sandbox.get(f"/api/Spaces-1/deployments/{twin}")["TaskId"]
    task = sandbox.get(f"/api/tasks/{sandbox.get(f'/api/Spaces-1/deployments/{twin}')['TaskId']}")
    assert task["State"] == "Canceled"
    assert f"cancelled our twin {twin} while it was queued and joined {winner}" in run.err
    assert any(f"cancelled our twin {twin}" in m for m in run.json["messages"])
