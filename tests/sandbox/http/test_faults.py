"""``--faults``: the spec reads as documented, and each fault kind reaches a plain HTTP client as
a real server, proxy or network would deliver it."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from octorelease.sandbox.http.faults import FaultRule, FaultSpec, FaultSpecError, HttpFault, HttpFaults, parse_spec
from octorelease.sandbox.http.server import SandboxServer
from octorelease.sandbox.http.service import Sandbox
from testing.cli import run_cli
from testing.sandbox import SandboxControl

DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)  # what a client sees when the server hangs up
STAGING_DEPLOYMENT = {"ReleaseId": "Releases-1", "EnvironmentId": "Environments-3"}


@pytest.mark.parametrize(("text", "spec"), [
    ("503:0.1", FaultSpec("503:0.1", (FaultRule("503", 0.1),))),
    ("503:0.1,429:0.05,lost:0.05,seed=7",
     FaultSpec("503:0.1,429:0.05,lost:0.05,seed=7",
               (FaultRule("503", 0.1), FaultRule("429", 0.05, 1.0), FaultRule("lost", 0.05)), seed=7)),
    (" 429@0.2s:1 ", FaultSpec("429@0.2s:1", (FaultRule("429", 1.0, 0.2),))),
    ("slow@2:0.5,502@3:0.5", FaultSpec("slow@2:0.5,502@3:0.5", (FaultRule("slow", 0.5, 2.0),
                                                                  FaultRule("502", 0.5, 3.0)))),
    ("Reset:0.2, slow:0", FaultSpec("Reset:0.2, slow:0", (FaultRule("reset", 0.2), FaultRule("slow", 0.0, 1.0)))),
    ("lost:1,only=post,path=/Deployments",
     FaultSpec("lost:1,only=post,path=/Deployments", (FaultRule("lost", 1.0),), method="POST", path="/deployments")),
    ("500:0.5,seed=-3", FaultSpec("500:0.5,seed=-3", (FaultRule("500", 0.5),), seed=-3)),
])
def test_good_specs_parse_as_documented(text: str, spec: FaultSpec) -> None:
    assert parse_spec(text) == spec


USAGE = "expected KIND:RATE, KIND@SECONDS:RATE, seed=N, only=METHOD or path=TEXT"


@pytest.mark.parametrize(("text", "message"), [
    ("", f"the fault spec is empty; {USAGE}"),
    ("seed=7", f"no fault kind given in 'seed=7'; {USAGE}"),
    ("503", f"'503': {USAGE}"),
    ("503:0.1,", f"'': {USAGE}"),
    ("colour=red,503:0.1", f"'colour=red': {USAGE}"),
    ("504:0.1", "unknown fault kind '504'; expected one of 500, 502, 503, 429, reset, lost, slow"),
    ("503:lots", "'503:lots': the rate must be a number from 0 to 1"),
    ("503:1.5", "'503:1.5': the rate must be a number from 0 to 1"),
    ("503:nan", "'503:nan': the rate must be a number from 0 to 1"),
    ("503:0.6,lost:0.6", "the rates add up to 1.2; at most 1 in all"),
    ("503:0.1,503:0.2", "fault kind 503 is given twice"),
    ("lost@1s:0.1", "'lost@1s:0.1': lost takes no @SECONDS"),
    ("slow@soon:0.1", "'slow@soon:0.1': @SECONDS must be a number of seconds, 0 or more"),
    ("429@-1:0.1", "'429@-1:0.1': @SECONDS must be a number of seconds, 0 or more"),
    ("503:0.1,seed=x", "seed=x: the seed must be a whole number"),
    ("503:0.1,only=PO ST", "only=PO ST: expected an HTTP method such as POST"),
    ("503:0.1,path=", "path= needs the text the request path must contain"),
])
def test_bad_specs_say_what_is_wrong_in_one_line(text: str, message: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        parse_spec(text)
    assert str(caught.value) == message


def test_the_same_seed_draws_the_same_faults_and_another_seed_others() -> None:
    def sequence(spec: str) -> list[HttpFault | None]:
        faults = HttpFaults.parse(spec)
        return [faults.decide("GET", "/api/environments") for _ in range(200)]

    first = sequence("503:0.2,reset:0.1,lost:0.1,seed=7")
    assert first == sequence("503:0.2,reset:0.1,lost:0.1,seed=7")
    assert first != sequence("503:0.2,reset:0.1,lost:0.1,seed=8")
    kinds = [f.kind if f else None for f in first]
    assert 0.3 < kinds.count(None) / len(kinds) < 0.7  # about half are served, as the rates say
    assert {"503", "reset", "lost"} <= set(kinds)


def test_requests_outside_the_filter_draw_nothing_so_they_cannot_shift_the_sequence() -> None:
    plain = HttpFaults.parse("503:0.5,only=POST,seed=3")
    mixed = HttpFaults.parse("503:0.5,only=POST,seed=3")
    expected = [plain.decide("POST", "/api/deployments") for _ in range(20)]
    seen = []
    for _ in range(20):
        assert mixed.decide("GET", "/api/tasks") is None
        seen.append(mixed.decide("POST", "/api/deployments"))
    assert seen == expected


def test_a_path_filter_matches_any_path_containing_it_ignoring_case() -> None:
    faults = HttpFaults.parse("reset:1,path=/deployments")
    assert faults.decide("POST", "/api/Spaces-1/Deployments") == HttpFault("reset")
    assert faults.decide("GET", "/api/Spaces-1/deployments/Deployments-1") == HttpFault("reset")
    assert faults.decide("POST", "/api/Spaces-1/releases") is None


# -- over HTTP ---------------------------------------------------------------------------------


def deployments_to_staging(sandbox: SandboxControl) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = sandbox.get("/api/Spaces-1/deployments", environments="Environments-3")["Items"]
    return items


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_status_fault_answers_octopus_error_envelope_and_carries_nothing_out(
    sandbox: SandboxControl, status: int
) -> None:
    sandbox.set_http_faults(f"{status}:1")
    response = sandbox.call("POST", "/api/Spaces-1/deployments", json=STAGING_DEPLOYMENT)
    assert response.status_code == status
    assert response.json() == {
        "ErrorMessage": f"The sandbox answered {status} on purpose (--faults); the request was not carried out.",
        "Errors": [], "ParsedHelpLinks": [], "Details": None,
    }
    assert "Retry-After" not in response.headers
    sandbox.clear_http_faults()
    assert deployments_to_staging(sandbox) == []


def test_a_429_says_when_to_come_back_one_second_unless_told(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("429:1")
    response = sandbox.call("GET", "/api/Spaces-1/environments")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "1")
    sandbox.set_http_faults("429@0.2s:1")
    assert sandbox.call("GET", "/api/Spaces-1/environments").headers["Retry-After"] == "0.2"
    sandbox.set_http_faults("503@2:1")
    assert sandbox.call("GET", "/api/Spaces-1/environments").headers["Retry-After"] == "2"


def test_a_reset_drops_the_connection_before_anything_happens(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("reset:1")
    with pytest.raises(DROPPED):
        sandbox.call("POST", "/api/Spaces-1/deployments", json=STAGING_DEPLOYMENT)
    sandbox.clear_http_faults()
    assert deployments_to_staging(sandbox) == []


def test_a_lost_post_is_carried_out_but_its_answer_never_arrives(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("lost:1")
    with pytest.raises(DROPPED):
        sandbox.call("POST", "/api/Spaces-1/deployments", json=STAGING_DEPLOYMENT)
    sandbox.clear_http_faults()
    (created,) = deployments_to_staging(sandbox)
    assert created["ReleaseId"] == "Releases-1"
    assert sandbox.wait_for_task(created["TaskId"])["State"] == "Success"


def test_a_lost_answer_is_lost_even_when_the_answer_was_a_refusal(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("lost:1")
    with pytest.raises(DROPPED):
        sandbox.call("GET", "/api/Spaces-1/environments", key="API-WRONG")


def test_a_slow_answer_comes_late_and_whole(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("slow@0.1s:1")
    started = time.monotonic()
    response = sandbox.call("GET", "/api/Spaces-1/environments")
    assert time.monotonic() - started >= 0.1
    assert response.status_code == 200
    assert response.json()["TotalResults"] == 5


def test_the_connection_after_a_dropped_one_is_served(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("reset:1,only=POST")
    with pytest.raises(DROPPED):
        sandbox.call("POST", "/api/Spaces-1/deployments", json=STAGING_DEPLOYMENT)
    assert sandbox.call("GET", "/api/Spaces-1/environments").status_code == 200


def test_only_and_path_narrow_the_faults_to_matching_requests(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("503:1,only=POST,path=/deployments")
    assert sandbox.call("GET", "/api/Spaces-1/deployments").status_code == 200
    assert sandbox.call("POST", "/api/Spaces-1/releases", json={}).status_code == 400  # served: a validation error
    assert sandbox.call("POST", "/api/Spaces-1/deployments", json=STAGING_DEPLOYMENT).status_code == 503


def test_faults_reach_the_api_root_but_never_the_test_controls(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("503:1")
    assert sandbox.call("GET", "/api").status_code == 503
    sandbox.clear_requests()  # a control: served
    sandbox.reset()  # also a control, and it clears the faults set at run time
    assert sandbox.call("GET", "/api").status_code == 200


def test_the_request_log_names_the_fault_each_request_got(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("429:1,only=POST")
    sandbox.call("GET", "/api/Spaces-1/environments")
    sandbox.call("POST", "/api/Spaces-1/deployments", json=STAGING_DEPLOYMENT)
    assert sandbox.requests() == [
        {"method": "GET", "path": "/api/Spaces-1/environments", "query": "", "status": 200},
        {"method": "POST", "path": "/api/Spaces-1/deployments", "query": "", "status": 429, "fault": "429"},
    ]


def outcomes(sandbox: SandboxControl, count: int) -> list[str]:
    """What each of ``count`` requests met: a status, or ``dropped``."""
    seen = []
    for _ in range(count):
        try:
            seen.append(str(sandbox.call("GET", "/api/Spaces-1/environments").status_code))
        except DROPPED:
            seen.append("dropped")
    return seen


def test_the_same_seed_gives_the_same_faults_over_http(sandbox: SandboxControl) -> None:
    spec = "503:0.3,reset:0.2,seed=11"
    sandbox.set_http_faults(spec)
    first = outcomes(sandbox, 30)
    sandbox.set_http_faults(spec)  # setting a spec starts its sequence afresh
    assert outcomes(sandbox, 30) == first
    faults = HttpFaults.parse(spec)
    expected = [{None: "200", "503": "503", "reset": "dropped"}[f.kind if f else None]
                for f in (faults.decide("GET", "/api/Spaces-1/environments") for _ in range(30))]
    assert first == expected
    assert {"200", "503", "dropped"} == set(first)


def test_a_bad_spec_is_refused_by_the_control_with_the_parser_message(sandbox: SandboxControl) -> None:
    response = sandbox.call("POST", "/_sandbox/faults/http", json={"spec": "503:2"}, key=None)
    assert response.status_code == 400
    assert response.json()["Errors"] == ["'spec': '503:2': the rate must be a number from 0 to 1"]
    response = sandbox.call("POST", "/_sandbox/faults/http", json={}, key=None)
    assert response.json()["Errors"] == ["'spec' is required, e.g. \"503:0.1,lost:0.05,seed=7\"."]


def test_delete_clears_the_faults(sandbox: SandboxControl) -> None:
    sandbox.set_http_faults("503:1")
    sandbox.clear_http_faults()
    assert sandbox.call("GET", "/api/Spaces-1/environments").status_code == 200


def test_a_sandbox_started_with_faults_returns_to_them_from_the_start_on_reset() -> None:
    with SandboxServer(port=0, seed="empty", faults="503:0.5,seed=5") as server:
        control = SandboxControl(server)
        try:
            first = outcomes(control, 12)
            control.clear_http_faults()
            assert outcomes(control, 3) == ["200"] * 3
            control.reset("empty")
            assert outcomes(control, 12) == first
            assert {"200", "503"} == set(first)
        finally:
            control.close()


def test_a_sandbox_refuses_a_bad_spec_at_start() -> None:
    with pytest.raises(FaultSpecError, match="unknown fault kind 'often'"):
        Sandbox(faults="often:0.5")


def test_the_command_line_refuses_a_bad_spec_in_one_line_before_serving(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "sandbox", "--port", "0", "--faults", "503:0.7,lost:0.7")
    assert run.code == 2
    assert run.out == ""
    assert run.err == "Error: --faults: the rates add up to 1.4; at most 1 in all\n"
