"""The generic source: a build event any CI can send with ``curl``, signed like GitHub's webhooks.

Route ``/hooks/generic``. The body is JSON::

    {"event": "build-completed", "status": "success", "stage": null,
     "values": {"number": "57", "branch": "main"}, "delivery": "57-build-completed"}

``event`` takes the spellings ``octorelease run --event`` takes (ContinuaCI's labels too);
``status`` and ``stage`` are optional, as with ``run``. ``values`` are ``{build.*}`` values:
strings only, bounded in number and length. ``delivery`` is the idempotency key: the same
delivery, sent twice, runs once; without one, the SHA-256 of the body stands in for it.

The header ``X-Octorelease-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`` proves the
sender holds the secret and that the body is the one it sent (GitHub's scheme, so the same few
lines of shell sign both). A sender that cannot compute an HMAC, such as ContinuaCI's own HTTP
Request build event handler, sends the secret itself instead: in the header
``X-Octorelease-Token``, or as the password of HTTP basic auth (a secret written
``user:password`` must match both). That proves the sender but not the body, as GitLab's token
does; send it over HTTPS only.
"""

from __future__ import annotations

from collections.abc import Mapping

from octorelease.errors import InvalidInput
from octorelease.handler.events import STAGE_EVENTS, STATUS_EVENTS, parse_event, parse_status
from octorelease.serve.sources.base import BadPayload, BuildEvent, Ignored
from octorelease.serve.sources.common import (
    basic_or_header_matches,
    bounded_values,
    delivery,
    hmac_matches,
    load_object,
    word,
)

SIGNATURE_HEADER = "X-Octorelease-Signature-256"


class GenericSource:
    """``/hooks/generic``: ContinuaCI's own event names, sent by a script."""

    name = "generic"

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """The body's HMAC-SHA256 under ``secret`` is in ``X-Octorelease-Signature-256``, or the
        secret itself is sent (``X-Octorelease-Token`` or basic auth) by a sender that cannot sign."""
        return hmac_matches(headers.get(SIGNATURE_HEADER), body, secret) or basic_or_header_matches(headers, secret)

    def parse(self, headers: Mapping[str, str], body: bytes) -> BuildEvent | Ignored:
        """An unknown event name is ignored (202, recorded), a malformed body is :class:`BadPayload`."""
        payload = load_object(body)
        key = delivery(_optional_string(payload, "delivery"), body, "delivery")
        given = _optional_string(payload, "event")
        if not given:
            raise BadPayload("no 'event': give one of ContinuaCI's build events, e.g. build-completed")
        kind = word(given, "event")
        try:
            event = parse_event(kind)
        except InvalidInput as error:
            return Ignored(self.name, key, kind, str(error))
        status_text = _optional_string(payload, "status")
        try:
            status = parse_status(status_text) if status_text else None
        except InvalidInput as error:
            raise BadPayload(str(error)) from error
        status = status if event in STATUS_EVENTS else None  # as run: other events have none
        stage_text = _optional_string(payload, "stage")
        stage = word(stage_text, "stage") if stage_text and event in STAGE_EVENTS else None
        values = payload.get("values") or {}
        if not isinstance(values, dict):
            raise BadPayload("'values' must be an object of strings")
        return BuildEvent(
            source=self.name,
            delivery=key,
            event=event,
            status=status,
            stage=stage,
            values=bounded_values(self.name, values),
            kind=kind,
        )


def _optional_string(payload: Mapping[str, object], key: str) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadPayload(f"{key!r} must be a string")
    return value


SOURCE = GenericSource()
