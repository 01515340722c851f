"""Each CI's recorded webhooks: the ContinuaCI event and {build.*} values they map to, who is
trusted to send them, and which deliveries are the same one."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import pytest

from octorelease.serve.sources import SOURCES, BadPayload, BuildEvent, Ignored
from testing.webhooks import SECRET, headers, payload, signature

SHA = "3f1c9e0b5d2a4c6e8f0a1b2c3d4e5f6a7b8c9d0e"
GITHUB_RUN = {
    "number": "42",
    "id": "9876543210",
    "branch": "main",
    "commit": SHA,
    "url": "https://github.com/acme/widget/actions/runs/9876543210",
    "trigger": "push",
    "repository": "acme/widget",
    "job": "CI",
    "actor": "hubot",
    "ci": "github",
    "version": "42",
}
GITHUB_JOB = {
    "id": "9876543210",
    "branch": "main",
    "commit": SHA,
    "url": "https://github.com/acme/widget/actions/runs/9876543210/job/29679449",
    "repository": "acme/widget",
    "job": "Test",
    "actor": "octocat",
    "ci": "github",
}
GITLAB_PIPELINE = {
    "number": "3",
    "id": "31",
    "branch": "main",
    "commit": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
    "url": "http://example.com/gitlab-org/gitlab-test/-/pipelines/31",
    "trigger": "push",
    "repository": "gitlab-org/gitlab-test",
    "job": "Pipeline for branch: main",
    "actor": "root",
    "ci": "gitlab",
    "version": "3",
}
GITLAB_JOB = {
    "id": "2366",
    "branch": "main",
    "commit": "2293ada6b400935a1378653304eaf6221e0fdb8f",
    "url": "http://example.com/gitlab-org/gitlab-test/-/jobs/1977",
    "repository": "gitlab-org/gitlab-test",
    "job": "test",
    "actor": "user",
    "ci": "gitlab",
}
AZURE_BUILD = {
    "number": "20241202.1",
    "id": "2727068",
    "branch": "main",
    "commit": SHA,
    "url": "https://dev.azure.com/acme/Acme/_build/results?buildId=2727068",
    "trigger": "individualCI",
    "repository": "widget",
    "job": "widget-ci",
    "actor": "fabrikamfiber4@hotmail.com",
    "ci": "azure",
    "version": "20241202.1",
}
AZURE_RUN = {
    "number": "20241202.1",
    "id": "2727068",
    "url": "https://dev.azure.com/acme/Acme/_build/results?buildId=2727068",
    "job": "widget-ci",
    "ci": "azure",
    "version": "20241202.1",
}
JENKINS = {
    "number": "57",
    "id": "57",
    "branch": "main",
    "commit": SHA,
    "url": "https://jenkins.example.com/job/widget/57/",
    "repository": "https://github.com/acme/widget.git",
    "job": "widget",
    "actor": "jdoe",
    "ci": "jenkins",
    "version": "57",
}


def _with(values: Mapping[str, str], **changes: str) -> dict[str, str]:
    changed = {**values, **changes}
    return {key: value for key, value in changed.items() if value}


#: (source/recorded payload, event, status, stage, values, kind)
EVENTS: list[tuple[str, str, str | None, str | None, Mapping[str, str], str]] = [
    ("github/workflow_run-requested", "build-created", None, None, GITHUB_RUN, "workflow_run requested"),
    ("github/workflow_run-in_progress", "after-build-started", None, None, GITHUB_RUN, "workflow_run in_progress"),
    ("github/workflow_run-completed", "build-completed", "failure", None, GITHUB_RUN, "workflow_run completed"),
    ("github/workflow_job-queued", "before-stage-start", None, "Test", GITHUB_JOB, "workflow_job queued"),
    ("github/workflow_job-in_progress", "sending-stage-to-agent", None, "Test", GITHUB_JOB, "workflow_job in_progress"),
    ("github/workflow_job-waiting", "build-pending-promotion", None, "Test", GITHUB_JOB, "workflow_job waiting"),
    ("github/workflow_job-completed", "stage-completed", "success", "Test", GITHUB_JOB, "workflow_job completed"),
    ("gitlab/pipeline-running", "after-build-started", None, None, GITLAB_PIPELINE, "pipeline running"),
    ("gitlab/pipeline-failed", "build-completed", "failure", None, GITLAB_PIPELINE, "pipeline failed"),
    (
        "gitlab/pipeline-success-tag",
        "build-completed",
        "success",
        None,
        _with(GITLAB_PIPELINE, branch="", tag="v1.4.0", job=""),
        "pipeline success",
    ),
    ("gitlab/job-pending", "before-stage-start", None, "test", GITLAB_JOB, "job pending"),
    ("gitlab/job-success", "stage-completed", "success", "test", GITLAB_JOB, "job success"),
    ("gitlab/job-failed-allowed", "stage-completed", "success", "test", _with(GITLAB_JOB, job="lint"), "job failed"),
    ("azure/build-complete-failed", "build-completed", "failure", None, AZURE_BUILD, "build.complete failed"),
    (
        "azure/build-complete-tag",
        "build-completed",
        "success",
        None,
        _with(AZURE_BUILD, branch="", tag="v1.4.0", trigger="manual"),
        "build.complete succeeded",
    ),
    ("azure/stage-running", "before-stage-start", None, "Test", AZURE_RUN, "stage running"),
    ("azure/stage-completed", "stage-completed", "success", "Test", AZURE_RUN, "stage completed succeeded"),
    ("azure/run-completed", "build-completed", "success", None, AZURE_RUN, "run completed succeeded"),
    ("jenkins/queued", "build-created", None, None, JENKINS, "QUEUED"),
    ("jenkins/started", "after-build-started", None, None, JENKINS, "STARTED"),
    ("jenkins/completed-aborted", "build-stopping", None, None, JENKINS, "COMPLETED ABORTED"),
    ("jenkins/finalized-failure", "build-completed", "failure", None, JENKINS, "FINALIZED FAILURE"),
    ("jenkins/finalized-success", "build-completed", "success", None, JENKINS, "FINALIZED SUCCESS"),
]

#: (source/recorded payload, a word of the reason it is ignored)
IGNORED = [
    ("github/ping", "ping"),
    ("github/push", "only workflow_run and workflow_job"),
    ("github/workflow_run-skipped", "skipped"),
    ("gitlab/push", "only pipeline and job hooks"),
    ("gitlab/pipeline-skipped", "'skipped' is not a build event"),
    ("gitlab/job-created", "'created' is not a stage event"),
    ("azure/git-push", "not a build, run or stage event"),
    ("azure/build-complete-no-resource", "Resource details to send"),
    ("azure/stage-skipped", "stage Deploy was skipped"),
    ("jenkins/completed", "FINALIZED"),
]

#: The event header GitHub and GitLab send beside a recorded body, by the body's file name.
HOOKS = {
    "github": {"ping": "ping", "push": "push", "workflow_run": "workflow_run", "workflow_job": "workflow_job"},
    "gitlab": {"pipeline": "Pipeline Hook", "job": "Job Hook", "push": "Push Hook"},
}
HOOK_HEADER = {"github": "X-GitHub-Event", "gitlab": "X-Gitlab-Event"}
DELIVERY_HEADER = {"github": "X-GitHub-Delivery", "gitlab": "X-Gitlab-Event-UUID"}


def request(source: str, name: str) -> tuple[Any, bytes]:
    """The recorded body and the headers its CI sends with it (credentials for :data:`SECRET`)."""
    body = payload(source, name + ".json")
    pairs = {"X-Octorelease-Token": SECRET, "X-Hub-Signature-256": signature(body), "X-Gitlab-Token": SECRET}
    if source in HOOKS:
        pairs[HOOK_HEADER[source]] = HOOKS[source][name.split("-")[0]]
        pairs[DELIVERY_HEADER[source]] = f"{source}-{name}"
    return headers(**{key.replace("-", "_"): value for key, value in pairs.items()}), body


@pytest.mark.parametrize(("recorded", "event", "status", "stage", "values", "kind"), EVENTS, ids=[c[0] for c in EVENTS])
def test_a_recorded_payload_maps_to_its_continuaci_event_and_build_values(
    recorded: str, event: str, status: str | None, stage: str | None, values: Mapping[str, str], kind: str
) -> None:
    source, name = recorded.split("/")
    parsed = SOURCES[source].parse(*request(source, name))
    assert isinstance(parsed, BuildEvent), parsed
    assert (parsed.source, parsed.event, parsed.status, parsed.stage) == (source, event, status, stage)
    assert parsed.kind == kind
    assert dict(parsed.values) == dict(values)


@pytest.mark.parametrize(("recorded", "reason"), IGNORED, ids=[case[0] for case in IGNORED])
def test_a_payload_that_is_no_build_event_is_ignored_with_why(recorded: str, reason: str) -> None:
    source, name = recorded.split("/")
    parsed = SOURCES[source].parse(*request(source, name))
    assert isinstance(parsed, Ignored), parsed
    assert parsed.source == source
    assert reason in parsed.reason
    assert parsed.delivery


@pytest.mark.parametrize("source", ["github", "gitlab", "azure", "jenkins"])
def test_only_the_holder_of_the_secret_is_trusted(source: str) -> None:
    """Good, wrong and missing credentials, each in the form this CI sends them."""
    recorded = next(case[0] for case in EVENTS if case[0].startswith(source + "/"))
    body = payload(source, recorded.split("/")[1] + ".json")
    good, wrong, missing = _credentials(source, body)
    assert SOURCES[source].verify(headers(**good), body, SECRET)
    assert not SOURCES[source].verify(headers(**wrong), body, SECRET)
    assert not SOURCES[source].verify(headers(**missing), body, SECRET)
    assert not SOURCES[source].verify(headers(**good), body, "")


def _credentials(source: str, body: bytes) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    if source == "github":
        other = signature(body + b"\n")
        return {"X_Hub_Signature_256": signature(body)}, {"X_Hub_Signature_256": other}, {"X_Hub_Signature": "sha1=x"}
    if source == "gitlab":
        return {"X_Gitlab_Token": SECRET}, {"X_Gitlab_Token": SECRET + "x"}, {"X_Octorelease_Token": SECRET}
    return {"Authorization": _basic("jenkins", SECRET)}, {"Authorization": _basic("jenkins", "guess")}, {}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("secret", "given", "trusted"),
    [
        ("s3cret", {"Authorization": _basic("anyone", "s3cret")}, True),
        ("ci:s3cret", {"Authorization": _basic("ci", "s3cret")}, True),
        ("ci:s3cret", {"Authorization": _basic("someone", "s3cret")}, False),
        ("ci:s3cret", {"Authorization": _basic("ci", "ci:s3cret")}, False),
        ("s3cret", {"X_Octorelease_Token": "s3cret"}, True),
        ("ci:s3cret", {"X_Octorelease_Token": "ci:s3cret"}, True),
        ("s3cret", {"X_Octorelease_Token": "s3cre"}, False),
        ("s3cret", {"Authorization": "Bearer s3cret"}, False),
        ("s3cret", {"Authorization": "Basic not-base64!"}, False),
        ("s3cret", {"Authorization": "Basic " + base64.b64encode(b"\xff:\xfe").decode()}, False),
    ],
)
def test_basic_auth_or_the_token_header_proves_an_azure_or_jenkins_sender(
    secret: str, given: dict[str, str], trusted: bool
) -> None:
    body = payload("azure", "build-complete-failed.json")
    assert SOURCES["azure"].verify(headers(**given), body, secret) is trusted
    assert SOURCES["jenkins"].verify(headers(**given), body, secret) is trusted


def test_the_idempotency_key_is_what_each_ci_keeps_across_a_redelivery() -> None:
    expected = {
        "github/workflow_run-completed": "github-workflow_run-completed",  # X-GitHub-Delivery
        "gitlab/job-success": "gitlab-job-success",  # X-Gitlab-Event-UUID
        "azure/stage-completed": "c2c2c2c2-dddd-eeee-ffff-a3a3a3a3a3a3",  # the event's id
        "jenkins/finalized-failure": "widget#57#FINALIZED",  # name#number#phase
    }
    for recorded, key in expected.items():
        source, name = recorded.split("/")
        assert SOURCES[source].parse(*request(source, name)).delivery == key


def test_gitlab_keys_a_delivery_by_its_retry_stable_idempotency_key_else_the_event_uuid_else_the_body() -> None:
    body = payload("gitlab", "job-success.json")
    both = SOURCES["gitlab"].parse(headers(Idempotency_Key="k-1", X_Gitlab_Event_UUID="e-1"), body)
    keyed = SOURCES["gitlab"].parse(headers(Idempotency_Key="k-1"), body)
    bare = SOURCES["gitlab"].parse(headers(), body)
    assert both.delivery == keyed.delivery == "k-1"
    assert bare.delivery.startswith("sha256:")
    assert bare.delivery == SOURCES["gitlab"].parse(headers(), body).delivery


def test_every_jenkins_phase_of_one_build_is_its_own_delivery() -> None:
    deliveries = {SOURCES["jenkins"].parse(*request("jenkins", name)).delivery for name in ("queued", "started")}
    assert deliveries == {"widget#57#QUEUED", "widget#57#STARTED"}


@pytest.mark.parametrize(
    ("source", "extra", "body", "message"),
    [
        ("github", {}, b"{}", "no X-GitHub-Event header"),
        ("github", {"X_GitHub_Event": "workflow_run"}, b'{"action": "completed"}', "without 'workflow_run'"),
        ("github", {"X_GitHub_Event": "workflow_job"}, b'{"action": "queued", "workflow_job": {}}', "without a name"),
        ("github", {"X_GitHub_Event": "workflow_run"}, b"[]", "not an object"),
        ("gitlab", {}, b'{"object_kind": "pipeline"}', "without 'object_attributes'"),
        ("gitlab", {}, b'{"object_kind": "build", "build_status": "running"}', "without 'build_stage'"),
        ("azure", {}, b'{"id": "x"}', "no 'eventType'"),
        ("azure", {}, b'{"eventType": "ms.vss-pipelines.run-state-changed-event", "resource": {"a": 1}}', "run"),
        ("jenkins", {}, b'{"name": "widget"}', "not a Notification plugin body"),
        ("jenkins", {}, b"not json", "not JSON"),
    ],
)
def test_a_body_that_is_not_this_ci_s_is_one_line_bad_payload(
    source: str, extra: dict[str, str], body: bytes, message: str
) -> None:
    with pytest.raises(BadPayload, match=message):
        SOURCES[source].parse(headers(**extra), body)


def test_a_provider_value_too_long_for_a_handler_is_bad_payload_not_truncated() -> None:
    body = payload("jenkins", "finalized-success.json").replace(b'"origin/main"', b'"' + b"b" * 5000 + b'"')
    with pytest.raises(BadPayload, match="'branch' is longer than"):
        SOURCES["jenkins"].parse(headers(), body)


def test_every_route_has_its_source() -> None:
    assert sorted(SOURCES) == ["azure", "generic", "github", "gitlab", "jenkins"]
    assert all(source.name == route for route, source in SOURCES.items())
