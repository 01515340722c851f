"""What the history page shows of a run, made from the JSON that ``/api/runs`` gives.

The page and the API show one thing, so the page is built from the API's own documents
(``run_json`` in ``app.py``) and never reads the store in a way the API does not. Everything in
those documents came from outside: webhook payloads, handler files, Octopus's answers and task
logs. The templates autoescape every value (Jinja2, ``autoescape=True``), ``finalize`` strips
the control and bidirectional characters that would make text read unlike it is, and
``safe_link`` lets through only ``http``/``https`` URLs, so a ``javascript:`` link from a
payload is shown as text, never followed.

The functions here turn those documents into plain rows for the templates: each key the
template reads is there, whatever the document lacked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from octorelease.pages import has_invisible

#: States of a run that may still change: while the page shows one, it refreshes quickly.
ACTIVE_STATES = frozenset({"queued", "running"})

def safe_link(url: Any) -> str | None:
    """``url`` when it is an absolute ``http``/``https`` URL, else None (shown as text only)."""
    if not isinstance(url, str) or has_invisible(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def when(seconds: Any) -> str:
    """An epoch time as ``2026-12-01 22:31:05 UTC``; ``""`` when unknown."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def duration(seconds: Any) -> str:
    """``3.2 s``, ``2 min 05 s``, ``1 h 02 min``; ``""`` when unknown."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def run_row(run: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the history: the event, the build, and what each handler did."""
    values = _mapping(run.get("values"))
    return {
        "id": run.get("id"),
        "received": when(run.get("received_at")),
        "source": _text(run.get("source")),
        "kind": _text(run.get("kind")),
        "event": _text(run.get("event")),
        "status": _text(run.get("status")),
        "stage": _text(run.get("stage")),
        "number": _text(values.get("number")),
        "branch": _text(values.get("branch") or values.get("tag")),
        "state": _text(run.get("state")) or "unknown",
        "reason": _text(run.get("reason")),
        "error": _error_text(run.get("error")),
        "duration": duration(run.get("duration_seconds")),
        "handlers": [_handler(handler) for handler in _list(run.get("handlers"))],
        "active": run.get("state") in ACTIVE_STATES,
    }


def run_detail(run: Mapping[str, Any]) -> dict[str, Any]:
    """The whole of one run: its row, its build values, each action's deployments and the log."""
    row = run_row(run)
    values = _mapping(run.get("values"))
    row.update(
        delivery=_text(run.get("delivery")),
        started=when(run.get("started_at")),
        finished=when(run.get("finished_at")),
        attempts=run.get("attempts") if isinstance(run.get("attempts"), int) else "",
        build_values=[{"name": _text(k), "value": _text(v), "link": safe_link(v)} for k, v in sorted(values.items())],
        log=[_text(line) for line in _list(run.get("log"))],
        rerun_of=run.get("rerun_of") if isinstance(run.get("rerun_of"), int) else None,
        audit=[_audit(entry) for entry in _list(run.get("audit"))],
        waiting=[_waiting(entry) for entry in _list(run.get("pending_interruptions"))],
    )
    return row


def _waiting(entry: Any) -> dict[str, Any]:
    """A deployment that waits for a person: where, what, who can act, how long, and the link."""
    entry = _mapping(entry)
    teams = [_text(team) for team in _list(entry.get("teams"))]
    manual = entry.get("type") == "ManualIntervention"
    return {
        "id": _text(entry.get("id")),
        "deployment": _text(entry.get("deployment")),
        "environment": _text(entry.get("environment")),
        "kind": _text(entry.get("kind")) or _text(entry.get("type")),
        "title": _text(entry.get("title")),
        "instructions": _text(entry.get("instructions")),
        "teams": ", ".join(teams) if teams else "anyone who may deploy there",
        "waited": duration(entry.get("waited_seconds")),
        "task": _text(entry.get("task_id")),
        "link": safe_link(entry.get("web_url")),
        "url": _text(entry.get("web_url")),
        "verbs": "proceed|abort" if manual else "retry|ignore|exclude|fail",
    }


def _audit(entry: Any) -> dict[str, Any]:
    entry = _mapping(entry)
    by = _mapping(entry.get("by"))
    run = entry.get("run")
    return {"action": {"cancel": "cancelled", "rerun": "re-ran"}.get(_text(entry.get("action")), "acted on"),
            "by": _text(by.get("name")), "when": when(entry.get("at")), "run": run if isinstance(run, int) else None}


def any_active(rows: Sequence[Mapping[str, Any]]) -> bool:
    return any(row.get("active") for row in rows)


def _handler(handler: Any) -> dict[str, Any]:
    handler = _mapping(handler)
    return {
        "name": _text(handler.get("name")),
        "ran": handler.get("ran") is True,
        # what became of it, as the console and the CI say it (older runs: ran or skipped)
        "outcome": _text(handler.get("outcome")) or ("ran" if handler.get("ran") is True else "skipped"),
        "reason": _text(handler.get("reason")),
        "actions": [_action(action) for action in _list(handler.get("actions"))],
    }


def _action(action: Any) -> dict[str, Any]:
    action = _mapping(action)
    project, release = _mapping(action.get("project")), _mapping(action.get("release"))
    return {
        "action": _text(action.get("action")),
        "ok": action.get("ok") is not False and not action.get("error"),
        "project": _text(project.get("name")),
        "release": _text(release.get("version")),
        "from_env": _text(action.get("from")),
        "created": action.get("created") is True,
        "dry_run": action.get("dry_run") is True,
        "error": _error_text(action.get("error")),
        "messages": [_text(message) for message in _list(action.get("messages"))],
        "deployments": [_deployment(d) for d in _list(action.get("deployments"))],
        "not_created": [_not_created(n) for n in _list(action.get("not_created"))],
    }


def _deployment(deployment: Any) -> dict[str, Any]:
    deployment = _mapping(deployment)
    environment, tenant = _text(deployment.get("environment")), _text(deployment.get("tenant"))
    return {
        "target": f"{environment} ({tenant})" if tenant else environment,
        "state": _text(deployment.get("state")),
        "duration": duration(deployment.get("duration_seconds")),
        "task": _text(deployment.get("task_id")),
        "link": safe_link(deployment.get("web_url")),
        "already": deployment.get("already_deployed") is True,
        "error": _text(deployment.get("error_message")),
        "failed_step": _text(deployment.get("failed_step")),
    }


def _not_created(item: Any) -> dict[str, str]:
    item = _mapping(item)
    environment, tenant = _text(item.get("environment")), _text(item.get("tenant"))
    return {"target": f"{environment} ({tenant})" if tenant else environment, "reason": _text(item.get("reason"))}


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping):
        message, hint = _text(error.get("message")), _text(error.get("hint"))
        return f"{message} ({hint})" if hint else message
    return _text(error)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)
