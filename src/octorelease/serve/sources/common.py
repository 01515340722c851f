"""What the webhook sources share: sender checks in constant time, and bounded payload reading.

Every request body comes from outside. A source checks the sender before it reads anything
(``hmac_matches``, ``token_matches``, ``basic_or_header_matches``), then reads the JSON through
``load_object`` and ``text``, which never raise anything but :class:`BadPayload`, and hands its
``{build.*}`` values through ``bounded_values``: only short strings, few of them, with names a
handler file can write. A value from a webhook ends up in release versions, notes and the
history page, so its size and its characters are checked here once, for every CI.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from octorelease.secrets import same_secret
from octorelease.serve.sources.base import BadPayload

#: Bounds on what a payload may hand to a handler: ``{build.*}`` values and the event's words.
MAX_VALUES = 64
MAX_NAME_LENGTH = 64
MAX_VALUE_LENGTH = 1024
MAX_WORD_LENGTH = 256  # a delivery id, a stage name, an event name

#: The header any source accepts when its sender can set headers but cannot sign (curl, Azure).
TOKEN_HEADER = "X-Octorelease-Token"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
#: C0 controls but tab and newline, DEL, C1, and the bidirectional controls: never in a value. Nor
#: a lone surrogate (JSON's ``"\ud800"`` decodes to one): no UTF-8 holds it, so a request, a
#: database row or a page carrying it would fail far from here.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_CONTROL_SAID = "contains a control character or a lone surrogate"


def hmac_matches(signature: str | None, body: bytes, secret: str) -> bool:
    """True when ``signature`` is ``sha256=<hex HMAC-SHA256 of body>`` (GitHub's scheme)."""
    if not signature or not secret:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return same_secret(signature.strip().lower(), expected)


def token_matches(given: str | None, secret: str) -> bool:
    """True when a plain shared token equals ``secret`` (compared as bytes, in constant time)."""
    if given is None or not secret:
        return False
    return same_secret(given, secret)


def basic_or_header_matches(headers: Mapping[str, str], secret: str) -> bool:
    """For senders that cannot sign: HTTP basic auth, or the secret in ``X-Octorelease-Token``.

    A secret written ``user:password`` must match both; a secret without a colon is the
    password, whatever the user name (Azure DevOps and Jenkins URLs both need one).
    """
    if token_matches(headers.get(TOKEN_HEADER), secret):
        return True
    credentials = _basic_credentials(headers.get("Authorization"))
    if credentials is None or not secret:
        return False
    expected = secret if ":" in secret else None
    if expected is not None:
        return token_matches(credentials, expected)
    return token_matches(credentials.partition(":")[2], secret)


def _basic_credentials(authorization: str | None) -> str | None:
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def load_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or :class:`BadPayload` in one line."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise BadPayload("the body is not UTF-8") from error
    except (ValueError, RecursionError) as error:
        raise BadPayload("the body is not JSON") from error
    if not isinstance(payload, dict):
        raise BadPayload(f"the body is a JSON {_json_type(payload)}, not an object")
    return payload


def field(payload: Any, *path: str) -> Any:
    """``payload[path[0]][path[1]]...``, or None where any step is missing or not an object."""
    for key in path:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def text(payload: Any, *path: str) -> str:
    """The string (or number) at ``path``; ``""`` when absent, null, or of another type."""
    value = field(payload, *path)
    if isinstance(value, bool):
        return ""
    if isinstance(value, (str, int, float)):
        return str(value)
    return ""


def word(value: str, what: str) -> str:
    """A short one-line identifier (delivery id, stage, event name), or :class:`BadPayload`."""
    if len(value) > MAX_WORD_LENGTH:
        raise BadPayload(f"{what} is longer than {MAX_WORD_LENGTH} characters")
    if _CONTROL.search(value) or "\n" in value or "\t" in value:
        raise BadPayload(f"{what} {_CONTROL_SAID}")
    return value


def bounded_values(ci: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The ``{build.*}`` values a payload gives, checked: at most :data:`MAX_VALUES` names a
    handler file can write (``build.`` prefix allowed), each value a string of at most
    :data:`MAX_VALUE_LENGTH` characters without control characters. Empty values are dropped,
    as ``run`` drops empty environment variables; ``version`` defaults to ``number`` and ``ci``
    names the sender, as ``run`` does.
    """
    if len(values) > MAX_VALUES:
        raise BadPayload(f"more than {MAX_VALUES} values")
    checked: dict[str, str] = {}
    for key, value in values.items():
        name = key[len("build.") :] if key.startswith("build.") else key
        if len(name) > MAX_NAME_LENGTH or not _NAME.fullmatch(name):
            shown = key[:MAX_NAME_LENGTH] + ("..." if len(key) > MAX_NAME_LENGTH else "")
            raise BadPayload(f"value name {shown!r}: use letters, digits, '_' and '-'")
        if not isinstance(value, str):
            raise BadPayload(f"value {name!r} is a JSON {_json_type(value)}, not a string")
        if len(value) > MAX_VALUE_LENGTH:
            raise BadPayload(f"value {name!r} is longer than {MAX_VALUE_LENGTH} characters")
        if _CONTROL.search(value):
            raise BadPayload(f"value {name!r} {_CONTROL_SAID}")
        if value:
            checked[name] = value
    checked.setdefault("ci", ci)
    if "number" in checked:
        checked.setdefault("version", checked["number"])
    return checked


def delivery(given: str, body: bytes, what: str) -> str:
    """The sender's delivery id, or, when it sends none, the body's SHA-256: a redelivered
    identical body is then the same delivery, and runs once."""
    if given:
        return word(given, what)
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "number", float: "number", list: "array", dict: "object", type(None): "null"}
    return names.get(type(value), type(value).__name__)
