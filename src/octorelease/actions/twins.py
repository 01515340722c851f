"""Twins: deployments of one release to one target made by concurrent runs, and the one that wins.

Octopus has no transaction a client can lean on: two runs that both see "not deployed yet" both
create, and a ``POST`` whose answer is lost leaves a deployment its run never heard of. So every
deployment octorelease makes says, at the end of its ``Comments`` (Octopus keeps them and lists
them with the deployment), which run made it and in which window::

    [octorelease 3f9c0a1b2c4d after Deployments-12]

``3f9c0a1b2c4d`` is the run (random, one per connection: ``OctopusHttp.run_id``), and
``Deployments-12`` the newest deployment the target had when that run's plan looked (``none``
when it had none). Runs that planned from the same newest deployment are one *episode*. Its
members are the deployments of the release to the target whose marker names that window, and
unmarked ones (made by a person or another tool) made after it.

The rule, computed the same by every run from the server's state: **the earliest member wins**
(creation order: the server's ``Created``, then the id's number), whatever its state. Every
run, whenever it looks, names the same winner without asking any task's state: one ``GET
deployments`` decides. So a run of the episode may cancel every member octorelease made other
than the earliest, another run's as well as its own (``settle.py``), and each run finds its own
by its marker, even when the answer to its ``POST`` was lost, to report it. The earliest member
is never cancelled by this rule, nor is an unmarked one. (A person who cancels the winner by
hand, or a run cancelling its own on interrupt or timeout, ends it for all: every run then
reports it Canceled.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from octorelease.actions.plan import Mark, TargetPlan, creation_order
from octorelease.octopus.models import Deployment

#: Task states of a deployment that no longer counts: cancelled, or being cancelled.
CANCELLED = frozenset({"Canceled", "Cancelling"})

#: The marker, on the last line of ``Comments``.
_MARKER = re.compile(r"\[octorelease (?P<run>[0-9a-f]{12}) after (?P<after>[A-Za-z]+-\d+|none)\]\s*\Z")
_NONE = "none"


@dataclass(frozen=True)
class Marker:
    """Which run made a deployment, and after which deployment its window opened."""

    run_id: str
    after: str

    @property
    def line(self) -> str:
        return f"[octorelease {self.run_id} after {self.after}]"


def read_marker(comments: object) -> Marker | None:
    """The marker at the end of a deployment's ``Comments``, if octorelease made it."""
    found = _MARKER.search(comments) if isinstance(comments, str) else None
    return Marker(found["run"], found["after"]) if found else None


def marker_of(deployment: Deployment) -> Marker | None:
    return read_marker(deployment.raw.get("Comments"))


def with_marker(notes: str | None, marker: Marker) -> str:
    """``Comments`` for a new deployment: the user's notes, then the marker on a line of its own."""
    return f"{notes.rstrip()}\n\n{marker.line}" if notes and notes.strip() else marker.line


def notes_without_marker(comments: str | None) -> str | None:
    """The user's notes of a deployment octorelease made, without its marker."""
    if comments is None or read_marker(comments) is None:
        return comments
    return _MARKER.sub("", comments).rstrip() or None


@dataclass(frozen=True)
class Episode:
    """The twins of one target: deployments of ``release_id`` to the environment and tenant made
    by runs that planned when ``after`` was the target's newest deployment."""

    release_id: str
    environment_id: str
    tenant_id: str | None
    after: Mark | None

    @classmethod
    def of_target(cls, target: TargetPlan, release_id: str, after: Mark | None) -> Episode:
        return cls(release_id, target.environment.id, target.tenant.id if target.tenant else None, after)

    @classmethod
    def of_deployment(cls, deployment: Deployment, listed: Sequence[Deployment]) -> Episode | None:
        """The episode a marked deployment belongs to (``None`` for an unmarked one); the window's
        own deployment is looked up in ``listed`` for its ``Created``."""
        marker = marker_of(deployment)
        if marker is None:
            return None
        after = None
        if marker.after != _NONE:
            opening = next((d for d in listed if d.id == marker.after), None)
            after = Mark(marker.after, opening.created if opening is not None else "")
        return cls(deployment.release_id, deployment.environment_id, deployment.tenant_id, after)

    def marker(self, run_id: str) -> Marker:
        return Marker(run_id, self.after.deployment_id if self.after is not None else _NONE)

    def members(self, listed: Sequence[Deployment]) -> list[Deployment]:
        """The episode's deployments among ``listed``, earliest first."""
        opened = self.after.deployment_id if self.after is not None else _NONE
        found = []
        for d in listed:
            if (d.release_id, d.environment_id, d.tenant_id) != (self.release_id, self.environment_id, self.tenant_id):
                continue
            marker = marker_of(d)
            if marker is not None:
                if marker.after != opened:
                    continue  # another episode: a run that planned at another moment
            elif self.after is not None and not self.after.is_before(d.created, d.id):
                continue  # unmarked, and made before the window opened
            found.append(d)
        return sorted(found, key=lambda d: creation_order(d.created, d.id))

    def winner(self, listed: Sequence[Deployment]) -> Deployment | None:
        """The episode's winner among ``listed``: its earliest member, whoever looks."""
        members = self.members(listed)
        return members[0] if members else None


def is_made_by(deployment: Deployment, run_id: str) -> bool:
    """Whether the run ``run_id`` made the deployment, by its marker."""
    marker = marker_of(deployment)
    return marker is not None and marker.run_id == run_id

