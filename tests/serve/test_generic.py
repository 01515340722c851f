"""The generic source: ContinuaCI's events from any CI, signed like GitHub's webhooks."""

from __future__ import annotations

import base64
import json

import pytest

from octorelease.serve.sources import SOURCES, BadPayload, BuildEvent, Ignored
from octorelease.serve.sources.common import MAX_VALUE_LENGTH, MAX_VALUES, hmac_matches
from testing.webhooks import SECRET, headers, payload, signature

GENERIC = SOURCES["generic"]


def parse(body: bytes) -> BuildEvent | Ignored:
    return GENERIC.parse(headers(X_Octorelease_Signature_256=signature(body)), body)


def body_of(document: object) -> bytes:
    return json.dumps(document).encode()


def test_a_build_completed_event_gives_its_status_values_and_delivery() -> None:
    event = parse(payload("generic", "build-completed.json"))
    assert event == BuildEvent(
        source="generic",
        delivery="widget-57-build-completed",
        event="build-completed",
        status="success",
        stage=None,
        values={
            "number": "57",
            "branch": "main",
            "commit": "3f1c9e0b7a",
            "url": "https://ci.example.com/builds/57",
            "ci": "generic",
            "version": "57",
        },
        kind="build-completed",
    )


def test_continuaci_labels_and_build_prefixes_read_as_run_reads_them() -> None:
    event = parse(payload("generic", "stage-completed.json"))
    assert isinstance(event, BuildEvent)
    assert (event.event, event.status, event.stage) == ("stage-completed", "failure", "Test")
    assert event.values["number"] == "58"
    assert event.values["branch"] == "feature/x"
    assert event.kind == "On Stage Completed"


def test_status_and_stage_are_dropped_where_the_event_has_none_as_run_drops_them() -> None:
    event = parse(body_of({"event": "after-build-started", "status": "success", "stage": "Build"}))
    assert isinstance(event, BuildEvent)
    assert (event.status, event.stage) == (None, None)


def test_the_documented_test_vector_verifies() -> None:
    vector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert hmac_matches(vector, b"Hello, World!", SECRET)
    assert hmac_matches(vector.upper().replace("SHA256=", "sha256="), b"Hello, World!", SECRET)


@pytest.mark.parametrize(
    ("given", "trusted"),
    [
        (lambda body: signature(body), True),
        (lambda body: signature(body, "another secret"), False),
        (lambda body: signature(body + b" "), False),
        (lambda body: signature(body).removeprefix("sha256="), False),
        (lambda body: "sha256=", False),
        (lambda body: "sha256=\u00e9", False),
    ],
    ids=["good", "other secret", "other body", "no prefix", "empty", "not ascii"],
)
def test_only_the_body_signed_with_the_secret_is_trusted(given, trusted: bool) -> None:
    body = payload("generic", "build-completed.json")
    assert GENERIC.verify(headers(X_Octorelease_Signature_256=given(body)), body, SECRET) is trusted


def test_a_request_without_signature_or_without_secret_is_not_trusted() -> None:
    body = payload("generic", "build-completed.json")
    assert not GENERIC.verify(headers(), body, SECRET)
    assert not GENERIC.verify(headers(X_Octorelease_Signature_256=signature(body, "")), body, "")


def test_github_s_header_is_not_the_generic_signature() -> None:
    body = payload("generic", "build-completed.json")
    assert not GENERIC.verify(headers(X_Hub_Signature_256=signature(body)), body, SECRET)


def test_an_unknown_event_is_ignored_with_the_reason_and_kept_by_its_delivery() -> None:
    ignored = parse(body_of({"event": "build-finished", "delivery": "d-1"}))
    assert isinstance(ignored, Ignored)
    assert (ignored.source, ignored.delivery, ignored.kind) == ("generic", "d-1", "build-finished")
    assert "did you mean 'build-completed'" in ignored.reason


def test_the_delivery_is_the_idempotency_key_and_an_identical_body_stands_in_for_it() -> None:
    first = parse(body_of({"event": "build-created", "values": {"number": "1"}}))
    again = parse(body_of({"event": "build-created", "values": {"number": "1"}}))
    other = parse(body_of({"event": "build-created", "values": {"number": "2"}}))
    assert first.delivery == again.delivery != other.delivery
    assert first.delivery.startswith("sha256:")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "JSON array, not an object"),
        ({"status": "success"}, "no 'event'"),
        ({"event": 7}, "'event' must be a string"),
        ({"event": "build-completed", "status": "green"}, "unknown build status 'green'"),
        ({"event": "build-completed", "values": ["a"]}, "'values' must be an object"),
        ({"event": "build-completed", "values": {"number": 57}}, "value 'number' is a JSON number"),
        ({"event": "build-completed", "values": {"n": None}}, "value 'n' is a JSON null"),
        ({"event": "build-completed", "values": {"a b": "x"}}, "value name 'a b'"),
        ({"event": "build-completed", "values": {"x": "a" * (MAX_VALUE_LENGTH + 1)}}, "longer than"),
        ({"event": "build-completed", "values": {"x": "a\x1b[31m"}}, "control character"),
        ({"event": "build-completed", "values": {f"v{i}": "x" for i in range(MAX_VALUES + 1)}}, "more than"),
        ({"event": "stage-completed", "stage": "a\nb"}, "stage contains a control character"),
        ({"event": "build-completed", "delivery": "d" * 300}, "delivery is longer than"),
    ],
)
def test_a_malformed_body_is_one_line_bad_payload(document: object, message: str) -> None:
    body = document if isinstance(document, bytes) else body_of(document)
    with pytest.raises(BadPayload) as raised:
        parse(body)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_newlines_and_tabs_are_allowed_in_values() -> None:
    event = parse(body_of({"event": "build-completed", "values": {"notes": "line one\nline\ttwo"}}))
    assert isinstance(event, BuildEvent)
    assert event.values["notes"] == "line one\nline\ttwo"


def test_a_sender_that_cannot_sign_sends_the_secret_itself_as_continuaci_s_http_request_can() -> None:
    body = payload("generic", "build-completed.json")
    password = "Basic " + base64.b64encode(f"continua:{SECRET}".encode()).decode()
    assert GENERIC.verify(headers(X_Octorelease_Token=SECRET), body, SECRET)
    assert GENERIC.verify(headers(Authorization=password), body, SECRET)
    assert not GENERIC.verify(headers(X_Octorelease_Token=SECRET[:-1]), body, SECRET)
    assert not GENERIC.verify(headers(Authorization="Basic " + base64.b64encode(b"continua:x").decode()), body, SECRET)
