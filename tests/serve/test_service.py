"""``octorelease serve`` over real HTTP, against the sandbox: webhooks in, runs out."""

from __future__ import annotations

from typing import Any

import pytest
from tests.serve.conftest import StartServe

from testing.sandbox import SandboxControl
from testing.serve import ServeUnderTest


@pytest.fixture
def serve(start: StartServe) -> ServeUnderTest:
    return start()


def web_deployments(sandbox: SandboxControl) -> list[dict[str, Any]]:
    project = sandbox.get("/api/Spaces-1/projects/all")
    web = next(p for p in project if p["Name"] == "Web")
    items: list[dict[str, Any]] = sandbox.get("/api/Spaces-1/deployments", projects=web["Id"], take=100)["Items"]
    return items


def test_a_signed_event_is_answered_202_with_its_run_and_runs_the_handlers_as_run_does(
    serve: ServeUnderTest, sandbox: SandboxControl
) -> None:
    response = serve.send({"event": "build-completed", "status": "success", "delivery": "d-1",
                           "values": {"branch": "main", "number": "7"}})
    assert response.status_code == 202
    answer = response.json()
    assert set(answer) >= {"id", "url"} and answer["url"] == f"{serve.url}/api/runs/{answer['id']}"
    assert response.headers["Location"] == answer["url"]
    run = serve.wait(answer["id"])
    assert run["state"] == "succeeded", run
    assert (run["source"], run["event"], run["status"], run["delivery"]) == ("generic", "build-completed", "success",
                                                                            "d-1")
    handlers = {h["name"]: h for h in run["handlers"]}
    assert handlers["Ship Web"]["ran"] is True
    assert handlers["Ship Worker"]["ran"] is False and "release" in handlers["Ship Worker"]["reason"]
    create, promote = handlers["Ship Web"]["actions"]
    assert create["action"] == "create" and create["release"]["version"] == "1.5.7"
    assert [d["environment"] for d in create["deployments"]] == ["Development"]
    assert promote["action"] == "promote" and [d["state"] for d in promote["deployments"]] == ["Success"]
    assert run["error"] is None and run["attempts"] == 1
    assert any("Ship Web" in line for line in run["log"])
    releases = [d["ReleaseId"] for d in web_deployments(sandbox)]
    assert len([r for r in releases if r == create["release"]["id"]]) == 2  # Development, then Test


def test_an_event_whose_handlers_fail_is_a_failed_run_with_run_jsons_error(
    serve: ServeUnderTest, sandbox: SandboxControl
) -> None:
    sandbox.fail(step="Smoke test", environment="Development")
    run = serve.wait(serve.event("d-fail", branch="main", number="8")["id"])
    assert run["state"] == "failed"
    assert run["error"]["code"] == 1 and "did not succeed" in run["error"]["message"]
    web = next(h for h in run["handlers"] if h["name"] == "Ship Web")
    assert web["ran"] and web["actions"][0]["deployments"][0]["state"] == "Failed"


def test_a_bug_during_a_run_fails_it_with_the_code_of_a_bug_in_run_jsons_error(
    serve: ServeUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("octorelease.serve.worker.run_handlers", bug)  # the one way to stage a bug
    run = serve.wait(serve.event("d-bug", branch="main", number="9")["id"])
    assert run["state"] == "failed"
    assert run["error"] == {"code": 70, "message": "unexpected RuntimeError: boom"}
    assert run["handlers"] == [] and "Error: unexpected RuntimeError: boom" in run["log"]


@pytest.mark.parametrize(
    ("headers", "secret"),
    [({}, None), ({}, "not-the-secret"), ({"X-Octorelease-Signature-256": "sha256=00"}, None)],
    ids=["missing", "wrong secret", "malformed"],
)
def test_an_unsigned_or_wrongly_signed_event_is_401_and_nothing_runs(
    serve: ServeUnderTest, sandbox: SandboxControl, headers: dict[str, str], secret: str | None
) -> None:
    before = sandbox.census()
    response = serve.send({"event": "build-completed", "status": "success", "delivery": "x",
                           "values": {"branch": "main", "number": "9"}}, secret=secret, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "the request's signature is missing or wrong"}
    assert serve.runs() == []
    assert sandbox.census() == before


def test_a_source_without_a_secret_or_unknown_is_404(serve: ServeUnderTest) -> None:
    for source in ("other", "nope"):
        response = serve.send({"event": "build-completed"}, source=source)
        assert response.status_code == 404, source
        assert "is served here" in response.json()["error"]
    assert serve.runs() == []


def test_a_body_over_the_limit_is_413_before_it_is_read_whole(serve: ServeUnderTest) -> None:
    big = b'{"event": "build-completed", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert serve.send(body=big).status_code == 413
    chunked = serve.http.post("/hooks/generic", content=iter([big[:600_000], big[600_000:]]))  # no Content-Length
    assert chunked.status_code == 413
    assert serve.runs() == []


def test_a_payload_that_is_not_a_build_event_is_202_and_recorded_as_ignored(serve: ServeUnderTest) -> None:
    response = serve.send({"event": "unknown-thing", "delivery": "i-1"})
    assert response.status_code == 202
    run = serve.run(response.json()["id"])
    assert run["state"] == "ignored" and "unknown-thing" in run["reason"] and run["handlers"] == []


def test_an_unreadable_payload_is_400(serve: ServeUnderTest) -> None:
    response = serve.send(body=b"not json")
    assert response.status_code == 400 and "JSON" in response.json()["error"]


def test_the_same_delivery_sent_twice_runs_once_and_answers_with_the_first_runs_id(
    serve: ServeUnderTest, sandbox: SandboxControl
) -> None:
    first = serve.event("same", branch="main", number="11")
    second = serve.event("same", branch="main", number="11")
    assert second["id"] == first["id"] and second.get("duplicate") is True
    serve.wait(first["id"])
    third = serve.event("same", branch="main", number="11")  # after it ran, too
    assert third["id"] == first["id"]
    assert len(serve.runs()) == 1
    made = [d for d in web_deployments(sandbox) if d["Created"] and d["ReleaseId"]]
    versions = [sandbox.get(f"/api/Spaces-1/releases/{d['ReleaseId']}")["Version"] for d in made]
    assert versions.count("1.5.11") == 2  # Development and Test, once each


def test_two_events_for_one_project_run_one_after_the_other(
    start: StartServe, sandbox: SandboxControl
) -> None:
    sandbox.set_speed(0.05)
    serve = start(max_parallel=4)
    first = serve.event("p-1", branch="main", number="21")
    second = serve.event("p-2", branch="main", number="22")
    one, two = serve.wait(first["id"]), serve.wait(second["id"])
    assert one["state"] == two["state"] == "succeeded"
    assert two["started_at"] >= one["finished_at"]
    # On the server: the second build's promotion began after the first one's finished.
    promoted = {run["id"]: run["handlers"][0]["actions"][1]["deployments"][0] for run in (one, two)}
    first_task = sandbox.get(f"/api/tasks/{promoted[one['id']]['task_id']}")
    second_task = sandbox.get(f"/api/tasks/{promoted[two['id']]['task_id']}")
    assert second_task["QueueTime"] >= first_task["CompletedTime"]


@pytest.mark.parametrize("max_parallel", [2, 1])
def test_runs_for_different_projects_go_side_by_side_within_the_limit(
    start: StartServe, sandbox: SandboxControl, max_parallel: int
) -> None:
    sandbox.set_speed(0.1)
    serve = start(max_parallel=max_parallel)
    web = serve.event(f"w-{max_parallel}", branch="main", number="31")
    worker = serve.event(f"k-{max_parallel}", branch="release")
    a, b = serve.wait(web["id"]), serve.wait(worker["id"])
    assert a["state"] == b["state"] == "succeeded"
    overlapped = b["started_at"] < a["finished_at"] and a["started_at"] < b["finished_at"]
    assert overlapped is (max_parallel > 1)


def test_health_and_metrics_say_what_was_received_and_how_runs_went(serve: ServeUnderTest) -> None:
    assert serve.http.get("/healthz").json() == {"ok": True, "queued": 0, "running": 0}
    run = serve.event("m-1", branch="main", number="51")
    serve.wait(run["id"])
    serve.event("m-1", branch="main", number="51")
    serve.send({"event": "unknown-thing", "delivery": "m-2"})
    serve.send({"event": "build-completed"}, secret=None)
    response = serve.http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    for line in (
        'octorelease_serve_events_total{result="accepted",source="generic"} 1.0',
        'octorelease_serve_events_total{result="duplicate",source="generic"} 1.0',
        'octorelease_serve_events_total{result="ignored",source="generic"} 1.0',
        'octorelease_serve_events_total{result="unauthorized",source="generic"} 1.0',
        'octorelease_serve_runs{state="succeeded"} 1.0',
        'octorelease_serve_runs{state="ignored"} 1.0',
        'octorelease_serve_run_duration_seconds_count{state="succeeded"} 1.0',
        "octorelease_serve_start_delay_seconds_count 1.0",
    ):
        assert line in text, line


def test_the_run_list_is_newest_first_and_pages_back(serve: ServeUnderTest) -> None:
    ids = [serve.event(f"l-{n}", branch="feature")["id"] for n in range(3)]
    for run_id in ids:
        serve.wait(run_id)
    assert [r["id"] for r in serve.runs()] == ids[::-1]
    assert [r["id"] for r in serve.http.get("/api/runs", params={"before": ids[2], "limit": 1}).json()["runs"]] == [
        ids[1]
    ]
    skipped = serve.run(ids[0])
    assert skipped["state"] == "succeeded" and not any(h["ran"] for h in skipped["handlers"])
    assert serve.http.get("/api/runs/99999").status_code == 404
