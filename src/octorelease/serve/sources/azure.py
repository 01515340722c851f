"""Azure DevOps: service hooks for a build completed, a run's state and a stage's state.

Route ``/hooks/azure``. In Project settings > Service hooks, add a "Web Hooks" subscription per
event ("Build completed", "Run state changed", "Run stage state changed"), with the URL, and
either basic authentication (user name and password; Azure sends basic auth only over HTTPS) or
an HTTP header ``X-Octorelease-Token:<secret>``. Keep "Resource details to send" at "All".

Azure signs nothing, so the secret is checked as sent: a secret written ``user:password`` must
match both, a secret without a colon is the password (any user name), and the header
``X-Octorelease-Token`` may carry the whole secret instead.

===================================================== =========================================
Azure DevOps ``eventType`` (state, result)            ContinuaCI event (status)
===================================================== =========================================
``build.complete`` (result)                           ``build-completed``
``ms.vss-pipelines.run-state-changed-event``          ``after-build-started`` (inProgress),
                                                      ``build-stopping`` (canceling),
                                                      ``build-completed`` (completed, result)
``ms.vss-pipelines.stage-state-changed-event``        ``before-stage-start`` (running),
                                                      ``stage-completed`` (completed, result);
                                                      stage = the stage's name
anything else                                         ignored, recorded with why
===================================================== =========================================

A result of ``succeeded`` is success; ``partiallySucceeded`` (some task failed and was allowed
to), ``failed``, ``canceled`` and ``rejected`` are failure: a deploy handler never fires on a
build that did not fully pass. A stage result ``skipped`` is ignored (the stage never ran).
Subscribe "Build completed" *or* "Run state changed" for the end of a build, not both, or each
build completes twice (two events with their own ids).

Values (``build.complete``): ``number`` buildNumber, ``id`` id, ``branch`` / ``tag`` the source
branch without ``refs/heads/`` / ``refs/tags/``, ``commit`` sourceVersion, ``url`` the web link,
``trigger`` reason, ``repository`` the repository's name, ``job`` the definition's name,
``actor`` requestedFor's uniqueName. Run and stage events carry less: ``number`` the run's name,
``id`` the run's id, ``url`` its web link, ``job`` the pipeline's name.

Idempotency: the event's ``id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from octorelease.serve.sources.base import BadPayload, BuildEvent, Ignored
from octorelease.serve.sources.common import (
    basic_or_header_matches,
    bounded_values,
    delivery,
    field,
    load_object,
    text,
    word,
)

BUILD_COMPLETE = "build.complete"
RUN_CHANGED = "ms.vss-pipelines.run-state-changed-event"
STAGE_CHANGED = "ms.vss-pipelines.stage-state-changed-event"

_RUN_EVENTS = {"inprogress": "after-build-started", "canceling": "build-stopping", "completed": "build-completed"}
_STAGE_EVENTS = {"running": "before-stage-start", "completed": "stage-completed"}


class AzureSource:
    """``/hooks/azure``: builds and runs are builds, a run's stages are its stages."""

    name = "azure"

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Basic auth or ``X-Octorelease-Token``: Azure DevOps has no payload signature."""
        return basic_or_header_matches(headers, secret)

    def parse(self, headers: Mapping[str, str], body: bytes) -> BuildEvent | Ignored:
        """The three subscriptions above; other event types are ignored."""
        payload = load_object(body)
        key = delivery(text(payload, "id"), body, "id")
        event_type = word(text(payload, "eventType"), "eventType")
        if not event_type:
            raise BadPayload("no 'eventType': is this an Azure DevOps service hook?")
        resource = field(payload, "resource")
        if event_type not in (BUILD_COMPLETE, RUN_CHANGED, STAGE_CHANGED):
            return Ignored(self.name, key, event_type, "not a build, run or stage event")
        if not isinstance(resource, dict) or not resource:
            reason = "the event has no resource: set the subscription's 'Resource details to send' to All"
            return Ignored(self.name, key, event_type, reason)
        if event_type == BUILD_COMPLETE:
            return self._build(key, resource)
        return self._run_or_stage(key, event_type, resource)

    def _build(self, key: str, build: dict[str, Any]) -> BuildEvent:
        result = text(build, "result")
        source_branch = text(build, "sourceBranch")
        values = {
            "number": text(build, "buildNumber"),
            "id": text(build, "id"),
            "branch": _under(source_branch, "refs/heads/"),
            "tag": _under(source_branch, "refs/tags/"),
            "commit": text(build, "sourceVersion"),
            "url": text(build, "_links", "web", "href"),
            "trigger": text(build, "reason"),
            "repository": text(build, "repository", "name"),
            "job": text(build, "definition", "name"),
            "actor": text(build, "requestedFor", "uniqueName"),
        }
        kind = word(f"build.complete {result}".strip(), "result")
        return BuildEvent(
            self.name, key, "build-completed", _status(result), None, bounded_values(self.name, values), kind
        )

    def _run_or_stage(self, key: str, event_type: str, resource: dict[str, Any]) -> BuildEvent | Ignored:
        run = field(resource, "run")
        if not isinstance(run, dict):
            raise BadPayload(f"a {event_type} without 'resource.run'")
        values = {
            "number": text(run, "name"),
            "id": text(run, "id"),
            "url": text(run, "_links", "web", "href"),
            "job": text(resource, "pipeline", "name") or text(run, "pipeline", "name"),
        }
        if event_type == RUN_CHANGED:
            item, table, stage, what = run, _RUN_EVENTS, None, "run"
        else:
            item, table, what = field(resource, "stage"), _STAGE_EVENTS, "stage"
            stage = word(text(item, "name"), "the stage's name")
            if not stage:
                raise BadPayload(f"a {event_type} without 'resource.stage.name'")
        state, result = text(item, "state"), text(item, "result")
        kind = word(" ".join(part for part in (what, state, result) if part), "state")
        event = table.get(state.lower())
        if event is None:
            return Ignored(self.name, key, kind, f"{what} state {state!r} is not a build event")
        status = None
        if event in ("build-completed", "stage-completed"):
            if result.lower() == "skipped":
                return Ignored(self.name, key, kind, f"{what} {stage or ''}".strip() + " was skipped: it never ran")
            status = _status(result)
        return BuildEvent(self.name, key, event, status, stage, bounded_values(self.name, values), kind)


def _under(ref: str, prefix: str) -> str:
    """``main`` for ``refs/heads/main`` under ``refs/heads/``; ``""`` for a ref not under it."""
    return ref[len(prefix) :] if ref.startswith(prefix) else ""


def _status(result: str) -> str:
    return "success" if result.lower() == "succeeded" else "failure"


SOURCE = AzureSource()
