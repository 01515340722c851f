"""The store's contract, as every replica relies on it, for each database ``--db`` can name: two
stores on one database are two replicas. Claims keep one project's runs in arrival order and
apart, a lease that runs out hands a run to another replica (which is told it is a later
attempt), a replica that lost a run writes nothing more to it, and a delivery runs once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from octorelease.serve.sources.base import BuildEvent
from octorelease.serve.store import Run, SqliteStore, SqlStore, StoreUnavailable
from octorelease.serve.store_postgres import MIGRATIONS, PostgresStore
from testing.postgres import Cluster

#: ``make(lease_seconds)``: one more replica's store on the test's database.
MakeStore = Callable[..., SqlStore]


@pytest.fixture(params=["sqlite", "postgres"])
def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    made: list[SqlStore] = []
    url = request.getfixturevalue("postgres").new_database() if request.param == "postgres" else None

    def make(lease_seconds: float = 30.0) -> SqlStore:
        store = (SqliteStore(str(tmp_path / "shared.db"), lease_seconds=lease_seconds) if url is None
                 else PostgresStore(url, lease_seconds=lease_seconds))
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


def event(delivery: str) -> BuildEvent:
    return BuildEvent("generic", delivery, "build-completed", "success", body_sha256=delivery)


def accept(store: SqlStore, delivery: str, *projects: str) -> Run:
    run, new = store.accept(event(delivery), list(projects))
    assert new
    return run


def ids(runs: list[Run]) -> list[int]:
    return [run.id for run in runs]


def wait_for(check: Callable[[], list[Run]], timeout: float = 30) -> list[Run]:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"nothing within {timeout} s"
        time.sleep(0.02)
    return found


def test_claims_keep_each_projects_runs_apart_and_in_order_whichever_replica_claims(replicas: MakeStore) -> None:
    a, b = replicas(), replicas()
    web1, web2 = accept(a, "1", "web"), accept(b, "2", "web")
    worker3, both4, none5 = accept(a, "3", "worker"), accept(b, "4", "web", "worker"), accept(a, "5")
    assert ids(a.claim(10)) == [web1.id, worker3.id, none5.id]  # web2 waits for web1, both4 for web2
    assert b.claim(10) == []
    a.finish(web1.id, "succeeded", {}, [])
    claimed = b.claim(10)
    assert ids(claimed) == [web2.id] and claimed[0].owner == b.owner and claimed[0].attempts == 1
    a.finish(worker3.id, "succeeded", {}, [])
    assert a.claim(10) == []  # both4 still waits for web2, although worker3 is done
    b.finish(web2.id, "succeeded", {}, [])
    assert ids(a.claim(1)) == [both4.id]


def test_a_claim_takes_no_more_than_asked_and_a_cancelled_run_never_starts(replicas: MakeStore) -> None:
    a = replicas()
    first, second, third = accept(a, "1", "p1"), accept(a, "2", "p2"), accept(a, "3", "p3")
    who = {"name": "ops", "role": "operator", "via": "token"}
    assert a.cancel(second.id, who)[1] is True
    assert ids(a.claim(1)) == [first.id]
    assert ids(a.claim(5)) == [third.id]
    assert a.cancel(third.id, who) == (a.get(third.id), False)  # running: not cancelled


def test_a_run_whose_lease_runs_out_goes_to_another_replica_and_the_first_writes_no_more(
    replicas: MakeStore
) -> None:
    dead, alive = replicas(lease_seconds=0.5), replicas(lease_seconds=0.5)
    run = accept(dead, "1", "web")
    assert ids(dead.claim(1)) == [run.id]
    dead.set_mark(run.id, {"deployment_id": "Deployments-1", "created": "2026-01-01T00:00:00Z"})
    assert dead.requeue_expired({run.id}) == []  # never its own run under way, run out or not
    requeued = wait_for(lambda: alive.requeue_expired(()))
    assert ids(requeued) == [run.id] and requeued[0].owner == dead.owner
    resumed = alive.claim(5)
    assert ids(resumed) == [run.id] and resumed[0].attempts == 2 and resumed[0].owner == alive.owner
    assert resumed[0].mark == {"deployment_id": "Deployments-1", "created": "2026-01-01T00:00:00Z"}  # adopt since it
    assert dead.heartbeat({run.id}) == set()  # the first replica learns it lost the run
    late = dead.finish(run.id, "failed", {"ok": False}, ["too late"])
    assert late.state == "running" and late.owner == alive.owner and late.log == ()
    done = alive.finish(run.id, "succeeded", {"ok": True}, ["done"])
    assert done.state == "succeeded" and done.log == ("done",)


def test_a_renewed_lease_is_kept_and_a_replicas_own_run_is_never_requeued_under_it(replicas: MakeStore) -> None:
    a, b = replicas(lease_seconds=30), replicas(lease_seconds=30)
    run = accept(a, "1", "web")
    a.claim(1)
    assert a.heartbeat({run.id}) == {run.id}
    assert b.requeue_expired(()) == [] and a.requeue_expired({run.id}) == []
    a.finish(run.id, "succeeded", {}, [])
    assert a.heartbeat({run.id}) == {run.id}  # finished a moment ago: still its own, not lost


def test_one_delivery_sent_to_two_replicas_is_one_run(replicas: MakeStore) -> None:
    a, b = replicas(), replicas()
    first, new = a.accept(event("same"), ["web"])
    again, new_again = b.accept(event("same"), ["web"])
    assert new and not new_again and again.id == first.id


def test_replicas_starting_together_apply_the_schema_once_and_a_newer_schema_is_refused(
    postgres: Cluster
) -> None:
    import psycopg

    url = postgres.new_database()
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: PostgresStore(url), range(4)))
    for store in stores:
        store.close()
    with psycopg.connect(url, autocommit=True) as connection:
        versions = [row[0] for row in connection.execute("SELECT version FROM octorelease_serve_schema")]
        assert versions == list(range(1, len(MIGRATIONS) + 1))
        connection.execute("INSERT INTO octorelease_serve_schema (version) VALUES (%s)", (len(MIGRATIONS) + 1,))
    with pytest.raises(StoreUnavailable, match=f"has schema version {len(MIGRATIONS) + 1}, newer than this "
                                               f"octorelease knows \\({len(MIGRATIONS)}\\): upgrade octorelease"):
        PostgresStore(url)


def test_one_delivery_sent_to_both_replicas_at_once_many_times_is_one_run(replicas: MakeStore) -> None:
    """Each sending with its own body (a retry's new timestamp): only the delivery key is shared,
    so the unique key, not the per-body lock, is what keeps it one run."""
    a, b = replicas(), replicas()

    def send(n: int) -> tuple[int, bool]:
        sent = BuildEvent("generic", "raced", "build-completed", "success", body_sha256=f"body-{n}")
        run, new = (a if n % 2 else b).accept(sent, ["web"])
        return run.id, new

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(16)))
    assert len({run_id for run_id, _ in answers}) == 1
    assert [new for _, new in answers].count(True) == 1
