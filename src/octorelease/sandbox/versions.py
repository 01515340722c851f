"""Release and package version order, as Octopus compares them (semver-aware, not as strings).

``1.10.0`` sorts above ``1.9.0``, and a pre-release (``1.3.0-beta``) below its release.
"""

from __future__ import annotations

import re

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


def next_version(versions: list[str]) -> str:
    """The version after the highest one: its last number plus one (``1.3.0`` -> ``1.3.1``)."""
    if not versions:
        return "0.0.1"
    highest = max(versions, key=version_key)
    match = _NUMBERS.match(highest.strip())
    if not match:
        return f"{highest}.1"
    parts = match.group(1).split(".")
    parts[-1] = str(int(parts[-1]) + 1)
    return ".".join(parts)
