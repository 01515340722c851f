"""A project's versioning strategy: the version a release made without one gets.

Octopus takes it from the project's template (``VersioningStrategy.Template``) or, when the project
names a donor package, from the version the release picks for that package. A template is written
in Octopus's variable syntax (docs ``releases/release-versioning.md``)::

    #{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}

with the special variables ``Octopus.Version.(Last|Next)(Major|Minor|Patch|Build|Revision|Suffix)``
(the project's latest release), ``Octopus.Version.Channel.(...)`` (the channel's),
``Octopus.Version.Channel[Name].(...)`` (another channel's), ``Octopus.Release.Channel.Name``,
``Octopus.Date.(Day|Month|Year|DayOfYear)`` and ``Octopus.Time.(Hour|Minute|Second)``, the
project's unscoped variables, and the mask characters ``i`` (the latest matching release's part
plus one, or 0) and ``c`` (its part as it is) in place of a number.

What the sandbox does not do: Octostache's conditionals and filters (``#{if}``, ``| ToLower``)
stay as written, as does any variable it does not know. "Latest" is the highest version; the
real server has been reported to take the most recently created one (OctopusDeploy/Issues
#6045). ``Build`` is the third number, as ``Patch`` is (the .NET ``Version`` naming);
``Revision`` the fourth; ``Suffix`` the pre-release tag with its dash (``-beta``), or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from octorelease.sandbox.rules.versions import version_key

_PARTS = {"major": 0, "minor": 1, "patch": 2, "build": 2, "revision": 3}
_TOKEN = re.compile(r"#\{([^{}]*)\}")
_VERSION_VARIABLE = re.compile(r"^octopus\.version\.(?:(channel)(?:\[([^\]]*)\])?\.)?(last|next)"
                               r"(major|minor|patch|build|revision|suffix)$", re.IGNORECASE)
_NUMBERS = re.compile(r"^(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?")


@dataclass(frozen=True)
class History:
    """What a template reads: the latest release of the project, of the release's channel and of
    each other channel (by name), the channel's name, the time and the project's variables."""

    project_versions: Sequence[str]
    channel_name: str
    channel_versions: Sequence[str]
    other_channels: Mapping[str, Sequence[str]]
    now: datetime
    variables: Mapping[str, str]


def _latest(versions: Sequence[str]) -> str | None:
    return max(versions, key=version_key) if versions else None


def _part(version: str | None, name: str, following: bool) -> str:
    """One part of ``version`` (``Last``), or the next (``Next``: plus one; a suffix stays)."""
    match = _NUMBERS.match(version.strip()) if version else None
    if name == "suffix":
        return f"-{match.group(2)}" if match and match.group(2) else ""
    numbers = [int(n) for n in match.group(1).split(".")] if match else []
    index = _PARTS[name]
    value = numbers[index] if index < len(numbers) else 0
    return str(value + 1 if following else value)


def _value(name: str, history: History) -> str | None:
    """The value of one variable of the template, or None for one the sandbox does not know."""
    key = name.strip()
    found = _VERSION_VARIABLE.match(key)
    if found:
        channel, other, which, part = found.groups()
        if other is not None:
            versions = next((v for n, v in history.other_channels.items() if n.lower() == other.strip().lower()), ())
        else:
            versions = history.channel_versions if channel else history.project_versions
        return _part(_latest(versions), part.lower(), which.lower() == "next")
    lowered = key.lower()
    times = {"octopus.date.day": history.now.day, "octopus.date.month": history.now.month,
             "octopus.date.year": history.now.year, "octopus.date.dayofyear": history.now.timetuple().tm_yday,
             "octopus.time.hour": history.now.hour, "octopus.time.minute": history.now.minute,
             "octopus.time.second": history.now.second}
    if lowered in times:
        return str(times[lowered])
    if lowered == "octopus.release.channel.name":
        return history.channel_name
    return next((v for n, v in history.variables.items() if n.lower() == lowered), None)


def _masked(version: str, existing: Sequence[str]) -> str:
    """``i`` and ``c`` in the numbers of ``version``, from the highest release whose numbers
    before the first mask are the same (``1.2.i`` after 1.2.5 is 1.2.6; after none, 1.2.0)."""
    release, dash, tag = version.partition("-")
    parts = release.split(".")
    if not any(p in ("i", "c") for p in parts):
        return version
    first = next(n for n, p in enumerate(parts) if p in ("i", "c"))
    fixed = parts[:first]
    matching = [v for v in existing if _NUMBERS.match(v) and v.split("-")[0].split(".")[:first] == fixed]
    latest = _latest(matching)
    numbers = [int(n) for n in latest.split("-")[0].split(".")] if latest else []
    resolved = []
    for index, part in enumerate(parts):
        had = numbers[index] if index < len(numbers) else 0
        if part == "c":
            resolved.append(str(had))
        elif part == "i":
            resolved.append(str(had + 1 if latest else 0))
        else:
            resolved.append(part)
    return ".".join(resolved) + dash + tag


def evaluate(template: str, history: History) -> str:
    """The version ``template`` gives now (see the module's docstring for what it reads)."""
    def substitute(match: re.Match[str]) -> str:
        value = _value(match.group(1), history)
        return match.group(0) if value is None else value

    return _masked(_TOKEN.sub(substitute, template).strip(), history.project_versions)
