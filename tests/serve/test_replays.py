"""A captured webhook sent again runs nothing: a GitHub body under a new ``X-GitHub-Delivery``
(the header is not signed) is the run it was, and so is any source's identical body within the
replay window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.serve.conftest import StartServe

from octorelease.serve.sources.base import BuildEvent
from octorelease.serve.store import REPLAY_WINDOW_SECONDS, SqliteStore
from testing.sandbox import SandboxControl
from testing.serve import SECRET, ServeUnderTest, sign
from testing.webhooks import payload

HANDLERS = """\
server: ${OCTOPUS_URL}
api_key: ${OCTOPUS_API_KEY}
serve:
  secrets:
    github: ${OCTORELEASE_WEBHOOK_SECRET}
    gitlab: ${OCTORELEASE_WEBHOOK_SECRET}
handlers:
  - name: Ship Worker
    project: Worker
    on: {event: build-completed, status: success}
    deploy: {to: [Test], release: "2.0.0"}
    log_messages: false
"""


@pytest.fixture
def served(start: StartServe) -> ServeUnderTest:
    return start(HANDLERS)


def completed_run(run_id: int = 9876543210, attempt: int = 1) -> bytes:
    """GitHub's recorded ``workflow_run completed``, a success, for run ``run_id``'s ``attempt``."""
    document = json.loads(payload("github", "workflow_run-completed.json"))
    document["workflow_run"].update(id=run_id, run_attempt=attempt, conclusion="success")
    return json.dumps(document).encode()


def send_github(served: ServeUnderTest, body: bytes, delivery: str, event: str = "workflow_run") -> dict[str, Any]:
    response = served.send(body=body, source="github", secret=None, headers={
        "X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": sign(body)})
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


def worker_deployments(sandbox: SandboxControl) -> int:
    worker = next(p for p in sandbox.get("/api/Spaces-1/projects/all") if p["Name"] == "Worker")
    return int(sandbox.get("/api/Spaces-1/deployments", projects=worker["Id"], take=1)["TotalResults"])


def test_a_signed_github_body_replayed_under_new_delivery_ids_runs_once(
    served: ServeUnderTest, sandbox: SandboxControl
) -> None:
    before = worker_deployments(sandbox)
    body = completed_run()
    answers = [send_github(served, body, delivery) for delivery in ("d-1", "replay-1", "replay-2", "replay-3")]
    assert {a["id"] for a in answers} == {answers[0]["id"]}
    assert [a.get("duplicate", False) for a in answers] == [False, True, True, True]
    assert served.wait(answers[0]["id"])["state"] == "succeeded"
    assert len(served.runs()) == 1
    assert worker_deployments(sandbox) == before + 1


def test_the_same_github_run_and_attempt_is_one_event_whatever_else_the_body_says(served: ServeUnderTest) -> None:
    """What the signature covers names the event: run id, attempt and action. A body re-encoded
    (its keys reordered) is another body, yet the same run completing once."""
    first = send_github(served, completed_run(), "d-1")
    document = json.loads(completed_run())
    reordered = json.dumps(dict(reversed(list(document.items())))).encode()
    again = send_github(served, reordered, "d-2")
    assert again == {**first, "duplicate": True, "state": again["state"]}


def test_a_github_re_run_is_a_new_attempt_and_runs_again(served: ServeUnderTest) -> None:
    first = send_github(served, completed_run(attempt=1), "d-1")
    second = send_github(served, completed_run(attempt=2), "d-2")
    other_run = send_github(served, completed_run(run_id=1234, attempt=1), "d-3")
    assert len({first["id"], second["id"], other_run["id"]}) == 3
    assert not any(a.get("duplicate") for a in (first, second, other_run))


def test_a_job_s_id_attempt_and_action_name_it_as_a_run_s_do(served: ServeUnderTest) -> None:
    body = payload("github", "workflow_job-completed.json")
    first = send_github(served, body, "j-1", event="workflow_job")
    document = json.loads(body)
    document["sender"]["login"] = "someone-else"  # another body, the same job completing
    again = send_github(served, json.dumps(document).encode(), "j-2", event="workflow_job")
    assert again["id"] == first["id"] and again["duplicate"] is True


def test_any_source_s_identical_body_under_a_new_delivery_key_runs_once(served: ServeUnderTest) -> None:
    """GitLab proves its sender with a token and signs nothing: its delivery headers are the
    sender's word, so the body itself is what a replay cannot change."""
    body = payload("gitlab", "pipeline-running.json")
    answers = []
    for key in ("k-1", "k-2", "k-3"):
        response = served.send(body=body, source="gitlab", secret=None, headers={
            "X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Pipeline Hook", "Idempotency-Key": key})
        assert response.status_code == 202, response.text
        answers.append(response.json())
    assert {a["id"] for a in answers} == {answers[0]["id"]} and len(served.runs()) == 1


def event(delivery: str, body_sha256: str = "b" * 64, signed_key: str = "") -> BuildEvent:
    return BuildEvent("gitlab", delivery, "build-completed", "success", signed_key=signed_key,
                      body_sha256=body_sha256)


def test_an_identical_body_runs_again_only_once_the_replay_window_has_passed() -> None:
    now = [1_000_000.0]
    store = SqliteStore(clock=lambda: now[0])
    first, new = store.accept(event("k-1"), [])
    assert new
    now[0] += REPLAY_WINDOW_SECONDS - 1
    assert store.accept(event("k-2"), []) == (first, False)
    now[0] += 2
    later, new = store.accept(event("k-3"), [])
    assert new and later.id != first.id
    assert store.accept(event("k-1"), []) == (first, False)  # a delivery key is kept for good


def test_a_signed_key_is_kept_for_good() -> None:
    now = [1_000_000.0]
    store = SqliteStore(clock=lambda: now[0])
    first, _ = store.accept(event("d-1", "a" * 64, signed_key="workflow_run 1 attempt 1 completed"), [])
    now[0] += 10 * REPLAY_WINDOW_SECONDS
    assert store.accept(event("d-2", "c" * 64, signed_key="workflow_run 1 attempt 1 completed"), []) == (first, False)


def test_a_database_made_before_replay_keys_gets_them_and_keeps_its_runs(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, delivery TEXT NOT NULL,"
        " kind TEXT NOT NULL, event TEXT, status TEXT, stage TEXT, build_values TEXT NOT NULL, state TEXT NOT NULL,"
        " reason TEXT, projects TEXT NOT NULL, received_at REAL NOT NULL, started_at REAL, finished_at REAL,"
        " attempts INTEGER NOT NULL DEFAULT 0, mark TEXT, result TEXT, log TEXT, UNIQUE (source, delivery))"
    )
    old.execute("INSERT INTO runs (source, delivery, kind, build_values, state, projects, received_at)"
                " VALUES ('gitlab', 'k-1', 'pipeline success', '{}', 'succeeded', '[]', 1.0)")
    old.commit()
    old.close()
    store = SqliteStore(str(path))
    assert [run.delivery for run in store.recent()] == ["k-1"]
    assert store.accept(event("k-1"), [])[1] is False
    assert store.accept(event("k-2"), [])[1] is True
    store.close()
