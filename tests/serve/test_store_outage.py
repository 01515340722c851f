"""A store that cannot write (a full disk): webhooks 503 with Retry-After, ``/healthz`` 503,
no busy loop in the worker, and everything goes on by itself once it can write again."""

from __future__ import annotations

import logging
import time

import pytest
from tests.serve.conftest import StartServe

from octorelease.serve.app import RETRY_AFTER_SECONDS
from testing.sandbox import SandboxControl
from testing.serve import ServeUnderTest, fail_writes


def wait_until(check: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(0.05)


def assert_refused_for_now(served: ServeUnderTest, delivery: str, why: str) -> None:
    response = served.send({"event": "build-completed", "status": "success", "delivery": delivery})
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    error = response.json()["error"]
    assert why in error and error.endswith("nothing was recorded; send it again later") and "\n" not in error


def test_while_the_store_cannot_write_webhooks_and_health_are_503_and_both_recover(served: ServeUnderTest) -> None:
    store = served.server.service.store
    fail_writes(store)
    for n in range(5):
        assert_refused_for_now(served, f"full-{n}", "cannot be written: attempt to write a readonly database")
    health = served.http.get("/healthz")
    assert health.status_code == 503 and health.json()["ok"] is False
    assert "cannot be written" in health.json()["error"]
    assert served.runs() == []  # reads go on: the history answers, and holds nothing refused
    fail_writes(store, False)
    assert served.http.get("/healthz").json() == {"ok": True, "queued": 0, "running": 0}
    assert served.send({"event": "build-completed", "delivery": "full-0"}).status_code == 202
    assert "unavailable" in served.http.get("/metrics").text


def test_a_full_database_file_is_503_never_500(served: ServeUnderTest) -> None:
    """SQLite's own "database or disk is full": the file may not grow past the pages it has."""
    store = served.server.service.store
    with store._lock:
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages}")
    statuses = []
    for n in range(300):
        response = served.send({"event": "unknown-thing", "delivery": f"fill-{n}", "values": {"pad": "x" * 1000}})
        statuses.append(response.status_code)
        if response.status_code == 503:
            assert "database or disk is full" in response.json()["error"]
            break
    assert statuses[-1] == 503 and set(statuses) <= {202, 503}, statuses
    assert served.http.get("/healthz").status_code == 503
    with store._lock:
        store._db.execute("PRAGMA max_page_count = 1073741823")
    assert served.http.get("/healthz").status_code == 200


def test_the_worker_backs_off_while_the_store_cannot_write_and_records_the_runs_after(
    start: StartServe, sandbox: SandboxControl, caplog: pytest.LogCaptureFixture
) -> None:
    """One run under way when the disk fills, one waiting behind it: neither is retried in a busy
    loop (main wrote 10,030 lines in 12 s), the outage is said once, and both are recorded when
    the store can write again: the first with the result it had, the second run then."""
    served = start(max_parallel=1)
    sandbox.set_speed(0.5)
    caplog.set_level(logging.WARNING, logger="octorelease.serve")
    first = served.event("outage-1", branch="release")
    second = served.event("outage-2", branch="release")
    served.wait(first["id"], states=("running",))
    fail_writes(served.server.service.store)
    wait_until(lambda: caplog.records)  # the worker met the refusal (the first run's result, once it ends)
    counted = len(caplog.records)
    time.sleep(2.0)  # a window to count in, not a wait for state
    assert len(caplog.records) - counted <= 3, [r.getMessage() for r in caplog.records[-10:]]
    sandbox.set_speed(0.05)
    fail_writes(served.server.service.store, False)
    done = [served.wait(run["id"], timeout=60) for run in (first, second)]
    assert [run["state"] for run in done] == ["succeeded", "succeeded"], done
    [worker] = [h for h in done[0]["handlers"] if h["ran"]]
    assert worker["actions"][0]["deployments"][0]["state"] == "Success"
    said = [r.getMessage() for r in caplog.records]
    assert sum("webhooks are answered 503" in line for line in said) == 1, said
    assert any("can be written again" in line for line in said), said
    assert not any(r.exc_info for r in caplog.records)

