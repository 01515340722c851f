"""GitLab: pipeline hooks are builds, job hooks are their stages; ``X-Gitlab-Token`` is the secret.

Route ``/hooks/gitlab``. In the project's Settings > Webhooks, set the URL, the secret token
the handler file names, and the triggers "Pipeline events" and "Job events".

=========================================== ============================================
GitLab                                      ContinuaCI event (status)
=========================================== ============================================
pipeline ``created``                        ``build-created``
pipeline ``waiting_for_resource``,          ``before-build-queued``
``preparing``, ``pending``
pipeline ``running``                        ``after-build-started``
pipeline ``manual`` (waits for a person)    ``build-pending-promotion``
pipeline ``canceling``                      ``build-stopping``
pipeline ``success`` / ``failed`` /         ``build-completed`` (success / failure / failure)
``canceled``
job ``pending``                             ``before-stage-start``, stage = the job's ``stage``
job ``running``                             ``sending-stage-to-agent``
job ``success`` / ``failed`` / ``canceled`` ``stage-completed`` (a failed job that may fail,
                                            ``allow_failure``, is success, as GitLab counts it)
anything else (``skipped``, ``scheduled``,  ignored, recorded with why
``created`` jobs, other hooks)
=========================================== ============================================

Values: ``number`` the pipeline's iid (pipelines only: a job hook carries no iid), ``id`` the
pipeline's id, ``branch`` or ``tag`` the ref (by the ``tag`` flag), ``commit`` sha, ``url`` the
pipeline's page (a job's page for jobs), ``trigger`` the pipeline's source, ``repository`` the
project's path, ``job`` the pipeline's name (the job's for jobs), ``actor`` the user's username.

The secret token is compared in constant time; it proves the sender, not the body (GitLab does
not sign bodies unless its newer signing token is set, which is not read here). Idempotency:
``Idempotency-Key`` (GitLab 17.4 and later: the same on every retry of one delivery, a resend
from the webhook's page included), else ``X-Gitlab-Event-UUID`` (one per event, since 14.8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from octorelease.serve.sources.base import BadPayload, BuildEvent, Ignored
from octorelease.serve.sources.common import bounded_values, delivery, field, load_object, text, token_matches, word

_PIPELINE_EVENTS = {
    "created": "build-created",
    "waiting_for_resource": "before-build-queued",
    "preparing": "before-build-queued",
    "pending": "before-build-queued",
    "running": "after-build-started",
    "manual": "build-pending-promotion",
    "canceling": "build-stopping",
    "success": "build-completed",
    "failed": "build-completed",
    "canceled": "build-completed",
}
_JOB_EVENTS = {
    "pending": "before-stage-start",
    "running": "sending-stage-to-agent",
    "success": "stage-completed",
    "failed": "stage-completed",
    "canceled": "stage-completed",
}


class GitLabSource:
    """``/hooks/gitlab``: pipelines are builds, jobs are their stages."""

    name = "gitlab"

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """The webhook's secret token, sent as it is in ``X-Gitlab-Token``."""
        return token_matches(headers.get("X-Gitlab-Token"), secret)

    def parse(self, headers: Mapping[str, str], body: bytes) -> BuildEvent | Ignored:
        """A pipeline or job status change; other hooks and statuses are ignored."""
        given = headers.get("Idempotency-Key") or headers.get("X-Gitlab-Event-UUID") or ""
        key = delivery(given, body, "Idempotency-Key")
        payload = load_object(body)
        object_kind = word(text(payload, "object_kind"), "object_kind")
        if object_kind == "pipeline":
            return self._pipeline(key, payload)
        if object_kind == "build":
            return self._job(key, payload)
        hook = word(headers.get("X-Gitlab-Event", "") or object_kind or "unknown", "X-Gitlab-Event")
        return Ignored(self.name, key, hook, "only pipeline and job hooks are build events")

    def _pipeline(self, key: str, payload: dict[str, Any]) -> BuildEvent | Ignored:
        pipeline = field(payload, "object_attributes")
        if not isinstance(pipeline, dict):
            raise BadPayload("a pipeline hook without 'object_attributes'")
        state = word(text(pipeline, "status"), "status")
        kind = f"pipeline {state}"
        if state not in _PIPELINE_EVENTS:
            return Ignored(self.name, key, kind, f"pipeline status {state!r} is not a build event")
        event = _PIPELINE_EVENTS[state]
        values = _ref_values(pipeline)
        values.update(
            number=text(pipeline, "iid"),
            id=text(pipeline, "id"),
            url=text(pipeline, "url"),
            trigger=text(pipeline, "source"),
            repository=text(payload, "project", "path_with_namespace"),
            job=text(pipeline, "name"),
            actor=text(payload, "user", "username"),
        )
        status = _status(state) if event == "build-completed" else None
        return BuildEvent(self.name, key, event, status, None, bounded_values(self.name, values), kind)

    def _job(self, key: str, payload: dict[str, Any]) -> BuildEvent | Ignored:
        state = word(text(payload, "build_status"), "build_status")
        job_name = word(text(payload, "build_name"), "build_name")
        kind = f"job {state}"
        if state not in _JOB_EVENTS:
            return Ignored(self.name, key, kind, f"job {job_name!r}: status {state!r} is not a stage event")
        stage = word(text(payload, "build_stage"), "build_stage")
        if not stage:
            raise BadPayload("a job hook without 'build_stage'")
        event = _JOB_EVENTS[state]
        allowed_to_fail = field(payload, "build_allow_failure") is True
        status = None
        if event == "stage-completed":
            status = "success" if allowed_to_fail and state == "failed" else _status(state)
        project_url = text(payload, "project", "web_url")
        job_id = text(payload, "build_id")
        values = _ref_values(payload)
        values.update(
            id=text(payload, "pipeline_id"),
            url=f"{project_url}/-/jobs/{job_id}" if project_url and job_id else "",
            repository=text(payload, "project", "path_with_namespace") or text(payload, "project_name"),
            job=job_name,
            actor=text(payload, "user", "username"),
        )
        return BuildEvent(self.name, key, event, status, stage, bounded_values(self.name, values), kind)


def _ref_values(item: dict[str, Any]) -> dict[str, str]:
    ref, is_tag = text(item, "ref"), field(item, "tag") is True
    return {"branch": "" if is_tag else ref, "tag": ref if is_tag else "", "commit": text(item, "sha")}


def _status(state: str) -> str:
    return "success" if state == "success" else "failure"


SOURCE = GitLabSource()
