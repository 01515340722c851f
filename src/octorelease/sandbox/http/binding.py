"""Reading requests the way Octopus does: JSON bound case-insensitively, lenient query values.

Bodies are bounded (MAX_BODY_BYTES, MAX_JSON_DEPTH): the sandbox may listen beyond loopback,
and a huge or deeply nested body is a 400 in Octopus's envelope, not memory or a 500.

Clients differ in casing (the Go client sends camelCase, the TS and C# clients PascalCase), send
.NET booleans as ``True``/``False`` and lists as CSV, and add fields a server must ignore. Values
of the wrong type are a 400 naming the field, never a 500.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from octorelease.sandbox.errors import MissingFields, ValidationFailed

#: The largest request body served; a bigger one is a 400, counted as it arrives, never held whole.
#: Octopus's own bodies are a few KiB (a variable set with hundreds of values stays far below).
MAX_BODY_BYTES = 1024 * 1024
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
#: The deepest JSON nesting served; Octopus's bodies nest 5 levels at most (variable scopes).
MAX_JSON_DEPTH = 32

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def parse_bool(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationFailed(f"The value '{value}' of '{name}' is not a valid boolean.")


def parse_csv(values: list[str]) -> list[str]:
    """``ids=A,B&ids=C`` -> ``["A", "B", "C"]`` (repeated parameters and CSV both work)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def parse_datetime(value: Any, name: str) -> datetime | None:
    """An ISO 8601 date; one without an offset is taken as UTC so that it compares with the clock."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"The value of '{name}' is not a valid date.")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(f"The value '{value}' of '{name}' is not a valid date.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class Body:
    """A JSON object read case-insensitively; each getter checks the type it returns."""

    def __init__(self, data: Any) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ValidationFailed("The request body must be a JSON object.")
        self._data = {str(k).lower(): v for k, v in data.items()}

    def raw(self, name: str) -> Any:
        return self._data.get(name.lower())

    def has(self, name: str) -> bool:
        return self.raw(name) is not None

    def require(self, *names: str) -> None:
        """Each field named must hold a value, as ASP.NET's ``[Required]`` has it: null, absent or
        a blank string hold none (an empty list does); the missing ones are one 400 naming them."""
        missing = [n for n in names if self.raw(n) is None or str(self.raw(n)).strip() == ""]
        if missing:
            raise MissingFields(*missing)

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ValidationFailed(f"The value of '{name}' must be a string.")

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.maybe_flag(name)
        return default if value is None else value

    def maybe_flag(self, name: str) -> bool | None:
        value = self.raw(name)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            return parse_bool(value, name)
        raise ValidationFailed(f"The value of '{name}' must be true or false.")

    def number(self, name: str) -> int | None:
        value = self.raw(name)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        digits = value.strip().lstrip("-") if isinstance(value, str) else ""
        if digits.isascii() and digits.isdigit():  # "²" is a digit to isdigit, not to int
            return int(value)
        raise ValidationFailed(f"The value of '{name}' must be a number.")

    def strings(self, name: str) -> list[str]:
        value = self.raw(name)
        if value is None:
            return []
        if isinstance(value, str):
            return parse_csv([value])
        if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
            return [str(v) for v in value]
        raise ValidationFailed(f"The value of '{name}' must be a list of strings.")

    def objects(self, name: str) -> list[Body]:
        value = self.raw(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValidationFailed(f"The value of '{name}' must be a list.")
        return [Body(v) for v in value]

    def object(self, name: str) -> Body | None:
        value = self.raw(name)
        return None if value is None else Body(value)

    def mapping(self, name: str) -> dict[str, str | None]:
        value = self.raw(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValidationFailed(f"The value of '{name}' must be an object.")
        return {str(k): (None if v is None else v if isinstance(v, str) else str(v)) for k, v in value.items()}

    def when(self, name: str) -> datetime | None:
        return parse_datetime(self.raw(name), name)


def read_body(raw: bytes) -> Body:
    """A request body as a ``Body``: empty is ``{}``, anything but a JSON object is a 400, and
    so is JSON nested deeper than MAX_JSON_DEPTH (Python's parser recurses once per level)."""
    if not raw.strip():
        return Body(None)
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise ValidationFailed("The request body is not valid JSON.") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise _too_deep()
    if _SURROGATE_ESCAPE.search(raw) is None or not _holds_lone_surrogate(data):  # the walk only when one may be
        return Body(data)
    raise ValidationFailed("The request body holds text that is not valid Unicode (a lone surrogate, such as "
                           "\\ud800), which no name or value can hold.")


#: JSON's ``"\ud800"`` escape decodes to a lone surrogate: a string Python holds but no UTF-8
#: (the database, an answer) can. Refused here, before any rule runs, so nothing is half written
#: (before, such a name was stored, then its answer failed: a 500, and every list with it).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _holds_lone_surrogate(data: Any) -> bool:
    """Whether any key or string in ``data`` holds a lone surrogate (found without recursion)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _too_deep() -> ValidationFailed:
    return ValidationFailed(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.")


def _depth(data: Any) -> int:
    """How deeply lists and objects nest in ``data``, found without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, level)
            stack.extend((item, level + 1) for item in value if isinstance(item, (dict, list)))
    return deepest


def body_limit(path: str) -> int:
    """The most bytes a request to ``path`` may send: a package upload (``packages/raw``, its file
    spooled to disk and only its size kept) may be far larger than a JSON body."""
    return MAX_UPLOAD_BYTES if path.rstrip("/").lower().endswith("/packages/raw") else MAX_BODY_BYTES


def body_too_large(limit: int = MAX_BODY_BYTES) -> ValidationFailed:
    """The 400 for a body over ``limit`` (the middleware counts the bytes as they arrive)."""
    return ValidationFailed(f"The request body is larger than {limit // 1024} KiB.")
