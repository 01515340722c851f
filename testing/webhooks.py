"""Webhook requests as CI servers send them: recorded payloads, signed with a test secret."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from starlette.datastructures import Headers

PAYLOADS = Path(__file__).resolve().parent.parent / "tests" / "serve" / "payloads"
SECRET = "It's a Secret to Everybody"


def payload(source: str, name: str) -> bytes:
    """The recorded body ``tests/serve/payloads/<source>/<name>``, byte for byte."""
    return (PAYLOADS / source / name).read_bytes()


def signature(body: bytes, secret: str = SECRET) -> str:
    """``sha256=<hex HMAC-SHA256>``: GitHub's ``X-Hub-Signature-256`` and the generic source's."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(**pairs: str) -> Headers:
    """Case-insensitive headers, as Starlette hands them to a source; ``_`` in a name is ``-``."""
    return Headers(headers={name.replace("_", "-"): value for name, value in pairs.items()})
