"""Release and package version order, as Octopus compares them (semver-aware, not as strings).

``1.10.0`` sorts above ``1.9.0``, and a pre-release (``1.3.0-beta``) below its release.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from octorelease.sandbox.errors import ValidationFailed

_NUMBERS = re.compile(r"^(\d+(?:\.\d+)*)(.*)$")


def version_key(version: str) -> tuple[tuple[int, ...], int, str]:
    """A sort key: numeric parts, then releases above pre-releases, then the pre-release text."""
    match = _NUMBERS.match(version.strip())
    if not match:
        return ((), 0, version.lower())
    numbers = tuple(int(part) for part in match.group(1).split("."))
    numbers += (0,) * (4 - len(numbers))
    suffix = match.group(2).lstrip("-+")
    return (numbers, 0 if suffix else 1, suffix.lower())


def parse_range(text: str) -> Callable[[str], bool]:
    """A NuGet version range as a test: ``1.0`` (at least), ``[1.0]`` (exactly), ``[1.0,2.0)``,
    ``(,2.0]``... Octopus's package search and channel rules take this notation.

    A malformed range raises ``ValidationFailed`` with Octopus's wording."""
    spec = text.strip()
    if not spec:
        return lambda version: True
    if spec[0] not in "[(":
        low = version_key(spec)
        return lambda version: version_key(version) >= low
    if spec[-1] not in "])" or len(spec) < 3:
        raise ValidationFailed(f"'{text}' is not a valid version range.")
    inner = spec[1:-1]
    if "," not in inner:
        if spec[0] != "[" or spec[-1] != "]":
            raise ValidationFailed(f"'{text}' is not a valid version range.")
        exact = version_key(inner)
        return lambda version: version_key(version) == exact
    lower_text, upper_text = (part.strip() for part in inner.split(",", 1))
    lower = version_key(lower_text) if lower_text else None
    upper = version_key(upper_text) if upper_text else None
    low_closed, high_closed = spec[0] == "[", spec[-1] == "]"

    def within(version: str) -> bool:
        key = version_key(version)
        if lower is not None and (key < lower or (key == lower and not low_closed)):
            return False
        return upper is None or key < upper or (key == upper and high_closed)

    return within
