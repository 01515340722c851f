"""GitHub Actions: ``workflow_run`` and ``workflow_job`` webhooks, signed in ``X-Hub-Signature-256``.

Route ``/hooks/github``. Set the webhook's content type to ``application/json``, its secret to
the one the handler file names, and its events to "Workflow runs" and "Workflow jobs".

============================== ===================================================
GitHub                         ContinuaCI event (status)
============================== ===================================================
run ``requested``              ``build-created``
run ``in_progress``            ``after-build-started``
run ``completed``              ``build-completed`` (the run's conclusion)
job ``queued``                 ``before-stage-start``, stage = the job's name
job ``in_progress``            ``sending-stage-to-agent``
job ``waiting`` (approvals)    ``build-pending-promotion``
job ``completed``              ``stage-completed`` (the job's conclusion)
``ping``, any other event      ignored, recorded with why
============================== ===================================================

A conclusion of ``success`` or ``neutral`` is success; ``skipped`` is ignored (nothing ran, so
nothing completed: a deploy on it would ship a build that was never made); anything else
(``failure``, ``cancelled``, ``timed_out``, ``action_required``, ``stale``, ``startup_failure``)
is failure.

Values: ``number`` run_number (runs only: a job's payload has no run number), ``id`` the run's
id, ``branch`` head_branch, ``commit`` head_sha, ``url`` html_url, ``trigger`` the run's
``event``, ``repository`` full_name, ``job`` the workflow's name (a job's own name for jobs),
``actor`` triggering_actor, else sender. GitHub sends no tag: a tag push's ``head_branch`` is
the tag's name, so ``branch`` holds it.

GitHub never retries; a redelivery from its UI keeps ``X-GitHub-Delivery``, the idempotency key.
That header is not signed, so a captured body sent again under a new one would pass the signature:
the event is also named by what the signature covers (``signed_key``), the run's (or job's) id,
its ``run_attempt`` and the action. A re-run in GitHub is a new attempt, so it runs again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from octorelease.serve.sources.base import BadPayload, BuildEvent, Ignored
from octorelease.serve.sources.common import bounded_values, delivery, field, hmac_matches, load_object, text, word

_RUN_EVENTS = {"requested": "build-created", "in_progress": "after-build-started", "completed": "build-completed"}
_JOB_EVENTS = {
    "queued": "before-stage-start",
    "in_progress": "sending-stage-to-agent",
    "waiting": "build-pending-promotion",
    "completed": "stage-completed",
}
_SUCCESS = frozenset({"success", "neutral"})


class GitHubSource:
    """``/hooks/github``: workflow runs are builds, workflow jobs are their stages."""

    name = "github"

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """GitHub's ``X-Hub-Signature-256``: ``sha256=<hex HMAC-SHA256 of the raw body>``."""
        return hmac_matches(headers.get("X-Hub-Signature-256"), body, secret)

    def parse(self, headers: Mapping[str, str], body: bytes) -> BuildEvent | Ignored:
        """A run or job event; ``ping``, other events and unknown actions are ignored."""
        kind_of_hook = headers.get("X-GitHub-Event")
        if not kind_of_hook:
            raise BadPayload("no X-GitHub-Event header: is this GitHub?")
        key = delivery(headers.get("X-GitHub-Delivery", ""), body, "X-GitHub-Delivery")
        payload = load_object(body)
        action = word(text(payload, "action"), "action")
        kind = word(f"{kind_of_hook} {action}".strip(), "X-GitHub-Event")
        if kind_of_hook == "workflow_run" and action in _RUN_EVENTS:
            return self._run(key, kind, _RUN_EVENTS[action], payload)
        if kind_of_hook == "workflow_job" and action in _JOB_EVENTS:
            return self._job(key, kind, _JOB_EVENTS[action], payload)
        if kind_of_hook == "ping":
            return Ignored(self.name, key, kind, "GitHub's ping: the webhook reaches the service")
        if kind_of_hook in ("workflow_run", "workflow_job"):
            return Ignored(self.name, key, kind, f"{kind_of_hook} action {action!r} is not a build event")
        return Ignored(self.name, key, kind, "only workflow_run and workflow_job events are build events")

    def _run(self, key: str, kind: str, event: str, payload: dict[str, Any]) -> BuildEvent | Ignored:
        run = field(payload, "workflow_run")
        if not isinstance(run, dict):
            raise BadPayload("a workflow_run event without 'workflow_run'")
        status = _status(run) if event == "build-completed" else None
        if status == "skipped":
            return Ignored(self.name, key, kind, "the run was skipped: nothing was built")
        values = _common_values(payload, run)
        values.update(
            number=text(run, "run_number"),
            id=text(run, "id"),
            trigger=text(run, "event"),
            job=text(payload, "workflow", "name") or text(run, "name"),
            actor=text(run, "triggering_actor", "login") or text(run, "actor", "login") or values["actor"],
        )
        return BuildEvent(self.name, key, event, status, None, bounded_values(self.name, values), kind,
                          signed_key=_signed_key(kind, run))

    def _job(self, key: str, kind: str, event: str, payload: dict[str, Any]) -> BuildEvent | Ignored:
        job = field(payload, "workflow_job")
        if not isinstance(job, dict):
            raise BadPayload("a workflow_job event without 'workflow_job'")
        stage = word(text(job, "name"), "the job's name")
        if not stage:
            raise BadPayload("a workflow_job without a name")
        status = _status(job) if event == "stage-completed" else None
        if status == "skipped":
            return Ignored(self.name, key, kind, f"job {stage!r} was skipped: the stage did not run")
        values = _common_values(payload, job)
        values.update(id=text(job, "run_id"), job=stage)
        return BuildEvent(self.name, key, event, status, stage, bounded_values(self.name, values), kind,
                          signed_key=_signed_key(kind, job))


def _signed_key(kind: str, item: dict[str, Any]) -> str:
    """``workflow_run 42 attempt 1 completed``: one event of one attempt, named by signed fields."""
    hook, _, action = kind.partition(" ")
    identifier = text(item, "id")
    if not identifier:
        return ""
    return word(f"{hook} {identifier} attempt {text(item, 'run_attempt') or '1'} {action}", "the run's id")


def _common_values(payload: dict[str, Any], item: dict[str, Any]) -> dict[str, str]:
    return {
        "branch": text(item, "head_branch"),
        "commit": text(item, "head_sha"),
        "url": text(item, "html_url"),
        "repository": text(payload, "repository", "full_name"),
        "actor": text(payload, "sender", "login"),
    }


def _status(item: dict[str, Any]) -> str:
    """``success``, ``failure``, or ``skipped`` for a conclusion that says nothing ran."""
    conclusion = text(item, "conclusion")
    if conclusion == "skipped":
        return "skipped"
    return "success" if conclusion in _SUCCESS else "failure"


SOURCE = GitHubSource()
