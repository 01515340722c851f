"""``create``: create a release, optionally deploying it straight away.

The version is the one given, or the next after the project's highest (1.3.0 -> 1.3.1). The
release is created with the executions API (``releases/create/v1``: names, not ids). A lost
answer is settled by looking the version up, never by posting again blindly (``once.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from octorelease.actions.choose import version_key
from octorelease.actions.once import create_once
from octorelease.octopus import errors
from octorelease.octopus.api import Project, Release, SpaceApi, did_you_mean


@dataclass(frozen=True)
class ReleaseRequest:
    """What the user asked for; empty fields are left to Octopus (channel, package versions)."""

    project: str
    version: str | None = None
    channel: str | None = None
    packages: Mapping[str, str] = field(default_factory=dict)
    default_package_version: str | None = None
    notes: str | None = None
    ignore_existing: bool = False


@dataclass(frozen=True)
class CreatedRelease:
    """The release made (or found, or that would be made by a dry run) and why this version."""

    release: Release
    project_name: str
    created: bool
    reason: str


def next_version(versions: list[str]) -> str:
    """The version after the highest of ``versions``: its last number plus one (0.0.1 if none)."""
    if not versions:
        return "0.0.1"
    highest = max(versions, key=version_key)
    match = re.match(r"^(.*?)(\d+)(\D*)$", highest.split("+")[0].split("-")[0])
    if not match:
        return highest + ".1"
    prefix, number, _ = match.groups()
    return f"{prefix}{int(number) + 1}"


def _step_names(space: SpaceApi, project: Project) -> list[str]:
    process = space.http.get(space.path(f"projects/{project.id}/deploymentprocesses"))
    names: list[str] = []
    for step in process.get("Steps") or ():
        names.append(step.get("Name") or "")
        names.extend(a.get("Name") or "" for a in step.get("Actions") or () if a.get("Name") != step.get("Name"))
    return [n for n in names if n]


def _existing(space: SpaceApi, project: Project, version: str) -> Release | None:
    try:
        return space.release_by_version(project, version)
    except errors.NotFound:
        return None


def create_release(space: SpaceApi, request: ReleaseRequest, *, dry_run: bool = False) -> CreatedRelease:
    """Validate the request (project, steps, version) and create the release (not on a dry run)."""
    project = space.project(request.project)
    if request.packages:
        steps = _step_names(space, project)
        for step in request.packages:
            if step.lower() not in {s.lower() for s in steps}:
                raise errors.NotFound(
                    f"--package '{step}': project {project.name} has no step of that name.",
                    hint=did_you_mean(step, steps),
                )
    version = (request.version or "").strip()
    reason = "as given"
    if not version:
        recent = space.http.get(space.path(f"projects/{project.id}/releases"), {"take": 100})["Items"]
        version = next_version([r["Version"] for r in recent])
        reason = "the next after the project's highest release" if recent else "the project's first release"
    existing = _existing(space, project, version)
    if existing is not None:
        if request.ignore_existing:
            return CreatedRelease(existing, project.name, False, "it already exists (--ignore-existing)")
        raise errors.OctopusRejected(
            f"Release {version} of {project.name} already exists.",
            hint="Pass --ignore-existing to use it, or choose another --version.",
        )
    if dry_run:
        planned = Release("(new)", version, project.id, None, {})
        return CreatedRelease(planned, project.name, True, reason)
    body = {
        "ProjectName": project.name,
        "ReleaseVersion": version,
        "ChannelName": request.channel,
        "PackageVersion": request.default_package_version,
        "Packages": [f"{step}:{ver}" for step, ver in request.packages.items()],
        "ReleaseNotes": request.notes,
        "IgnoreIfAlreadyExists": request.ignore_existing,
    }
    sent = {k: v for k, v in body.items() if v not in (None, [])}

    def post_and_read() -> Release:
        space.create_release(sent)
        return space.release_by_version(project, version)

    release = create_once(space.http, post_and_read, lambda: _existing(space, project, version))
    return CreatedRelease(release, project.name, True, reason)
