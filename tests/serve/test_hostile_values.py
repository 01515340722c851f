"""What no webhook value can do to ``octorelease serve``: a lone surrogate is refused like a
control character, a run holding one anyway never breaks the history, and a run id too large for
the database is simply not found."""

from __future__ import annotations

import json

import pytest

from octorelease.serve.sources import SOURCES, BadPayload, BuildEvent
from testing.serve import ServeUnderTest
from testing.webhooks import headers, payload

LONE = "\ud800"


def generic_body(**fields: object) -> bytes:
    """A generic event as the sender writes it; ``json.dumps`` escapes a lone surrogate as
    ``\\ud800``, which is valid JSON text that decodes to a string no UTF-8 can hold."""
    return json.dumps({"event": "build-completed", "status": "success", "delivery": "d-1", **fields}).encode()


@pytest.mark.parametrize(
    ("fields", "what"),
    [
        ({"values": {"branch": f"main{LONE}"}}, "value 'branch'"),
        ({"values": {"number": "\udfff7"}}, "value 'number'"),
        ({"delivery": f"d{LONE}"}, "delivery"),
        ({"event": "stage-completed", "stage": f"Test{LONE}"}, "stage"),
    ],
)
def test_a_lone_surrogate_in_a_generic_value_is_bad_payload_as_a_control_character_is(
    fields: dict[str, object], what: str
) -> None:
    with pytest.raises(BadPayload) as raised:
        SOURCES["generic"].parse({}, generic_body(**fields))
    assert str(raised.value) == f"{what} contains a control character or a lone surrogate"


def test_a_surrogate_pair_is_a_character_like_any_other() -> None:
    event = SOURCES["generic"].parse({}, generic_body(values={"notes": "ship it \U0001f680"}))
    assert isinstance(event, BuildEvent) and event.values["notes"] == "ship it \U0001f680"


def test_a_lone_surrogate_in_a_github_payload_is_bad_payload() -> None:
    document = json.loads(payload("github", "workflow_run-completed.json"))
    document["workflow_run"]["head_branch"] = f"main{LONE}"
    body = json.dumps(document).encode()
    sent = headers(X_GitHub_Event="workflow_run", X_GitHub_Delivery="d-1")
    with pytest.raises(BadPayload, match="value 'branch' contains a control character or a lone surrogate"):
        SOURCES["github"].parse(sent, body)


def test_a_lone_surrogate_is_answered_400_and_nothing_is_recorded(served: ServeUnderTest) -> None:
    response = served.send(body=generic_body(values={"branch": f"main{LONE}"}))
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "value 'branch' contains a control character or a lone surrogate"}
    assert served.runs() == []


def test_a_run_holding_a_lone_surrogate_never_breaks_the_history(served: ServeUnderTest) -> None:
    """Whatever reaches the store (an Octopus answer, a database written by an older version),
    the API and the pages still answer: such a character is shown as U+FFFD."""
    store = served.server.service.store
    bad = BuildEvent("generic", f"bad{LONE}", "build-created", None, None, {"branch": f"main{LONE}"},
                     f"kind{LONE}")
    run, _ = store.accept(bad, [])
    store.claim(1)  # now running, this replica's (unless its worker claimed it first: the same replica)
    store.finish(run.id, "failed", {"ok": False, "handlers": [], "error": None}, [f"line {LONE}"],
                 reason=f"why {LONE}")
    for path in ("/", "/api/runs", f"/api/runs/{run.id}", f"/runs/{run.id}"):
        response = served.http.get(path)
        assert response.status_code == 200, (path, response.text)
    shown = served.run(run.id)
    assert shown["values"]["branch"] == "main\ufffd" and shown["log"] == ["line \ufffd"]
    assert shown["reason"] == "why \ufffd" and shown["delivery"] == "bad\ufffd"


@pytest.mark.parametrize("run_id", [2**63 - 1, 2**63, 2**64, 10**40])
def test_a_run_id_beyond_the_database_s_integers_is_404_not_500(served: ServeUnderTest, run_id: int) -> None:
    assert served.http.get(f"/api/runs/{run_id}").status_code == 404
    assert served.http.get(f"/runs/{run_id}").status_code == 404


@pytest.mark.parametrize("before", [2**63, 10**40])
def test_paging_back_from_an_id_beyond_the_database_s_integers_lists_from_the_newest(
    served: ServeUnderTest, before: int
) -> None:
    served.event("page-1")
    assert [r["delivery"] for r in served.http.get("/api/runs", params={"before": before}).json()["runs"]] == ["page-1"]
    assert served.http.get("/", params={"before": before}).status_code == 200


def test_digits_that_are_not_ascii_are_no_run_id(served: ServeUnderTest) -> None:
    """``"²".isdigit()`` is true and ``int("²")`` fails: the page took it for a number (500)."""
    for path in ("/", "/api/runs"):
        assert served.http.get(path, params={"before": "²"}).status_code in (200, 400), path
    assert served.http.get("/", params={"before": "²"}).status_code == 200
