"""Interruptions: the deployments that wait for a person, and answering one.

``pending`` finds what waits (for a project, a task, an environment, or the tasks of a run's
JSON) as plain data a report can show: where, what kind, the title and instructions, the teams
who can act, how long it has waited, and the link. ``answer`` proceeds, aborts, retries, ignores,
excludes or fails one, taking responsibility first, as the portal does; outside the responsible
teams it stops before writing anything and names the teams (exit 4). This is what lets a ChatOps
bot, a GitHub environment approval or a GitLab manual job approve an Octopus deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from octorelease import errors
from octorelease.octopus.api import SpaceApi, looks_like_id
from octorelease.octopus.models import Environment, Interruption, parse_time

MANUAL, GUIDED = "ManualIntervention", "GuidedFailure"
#: each verb of ``octorelease interruptions``: the form field it sets, its value, and the type it answers
ANSWERS: dict[str, tuple[str, str, str]] = {
    "proceed": ("Result", "Proceed", MANUAL),
    "abort": ("Result", "Abort", MANUAL),
    "retry": ("Guidance", "Retry", GUIDED),
    "ignore": ("Guidance", "Ignore", GUIDED),
    "exclude": ("Guidance", "Exclude", GUIDED),
    "fail": ("Guidance", "Fail", GUIDED),
}
#: how an answer reads in a sentence ("proceeded by ...")
PAST = {"Proceed": "proceeded", "Abort": "aborted", "Retry": "retried", "Ignore": "ignored",
        "Exclude": "excluded the machine", "Fail": "failed"}
KINDS = {MANUAL: "manual intervention", GUIDED: "guided failure"}


@dataclass(frozen=True)
class PendingInterruption:
    """What a report says about a deployment that waits for a person."""

    id: str
    type: str
    title: str
    instructions: str
    teams: list[str]
    task_id: str
    environment: str | None
    waited_seconds: float | None
    web_url: str
    can_act: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def kind(self) -> str:
        return KINDS.get(self.type, self.type)

    def sentence(self) -> str:
        """One line: where it waits, for what, and who can act."""
        where = f" in {self.environment}" if self.environment else ""
        who = ", ".join(self.teams) if self.teams else "anyone who may deploy there"
        return f"{self.task_id}{where} waits for a person ({self.kind}): {self.title}; who can act: {who}"


def describe(space: SpaceApi, found: Interruption, environments: dict[str, str | None] | None = None,
             ) -> PendingInterruption:
    """The report's view of an interruption: team and environment names, wait, link
    (``environments``: names already looked up, shared by the calls of one listing)."""
    names = environments if environments is not None else {}
    environment = None
    for related in found.related_document_ids:
        if looks_like_id(related, "Environments"):
            if related not in names:
                names[related] = _environment_name(space, related)
            environment = names[related]
    created = parse_time(found.created)
    waited = round((datetime.now(timezone.utc) - created).total_seconds(), 1) if created else None
    return PendingInterruption(
        found.id, found.type, found.title, found.instructions, space.team_names(found.responsible_team_ids),
        found.task_id, environment, max(waited, 0.0) if waited is not None else None,
        space.task_url(found.task_id), found.can_take_responsibility)


def _environment_name(space: SpaceApi, environment_id: str) -> str | None:
    try:
        return space._one(f"environments/{environment_id}", Environment.from_json).name
    except errors.NotFound:
        return None


def pending(space: SpaceApi, *, regarding: Sequence[str] = (), within: Sequence[str] = ()) -> list[PendingInterruption]:
    """The pending interruptions about any of ``regarding`` (task or deployment ids) and about
    every one of ``within`` (a project, an environment), newest first, each once; neither: the
    whole space."""
    seen: dict[str, Interruption] = {}
    asked: list[str | None] = [*regarding] or ([within[0]] if within else [None])
    for document in asked:
        for found in space.interruptions(regarding=document, pending_only=True):
            about = {found.task_id.lower(), *(r.lower() for r in found.related_document_ids)}
            if all(w.lower() in about for w in within):
                seen.setdefault(found.id, found)
    names: dict[str, str | None] = {}
    return [describe(space, i, names) for i in seen.values()]


def answer(space: SpaceApi, interruption_id: str, verb: str, notes: str | None) -> Interruption:
    """Answer one interruption: check it may be answered so (pending, the right kind, a team the
    key's user is in), take responsibility, submit. Nothing is written when a check fails."""
    field, value, kind = ANSWERS[verb]
    found = space.interruption(interruption_id)
    if not found.is_pending:
        done = found.answer
        raise errors.OctopusRejected(
            f"Interruption {found.id} ({found.title}) was already answered"
            + (f": {PAST.get(done, done)}" + (f" by {found.answered_by}" if found.answered_by else "") if done else "")
            + ".")
    if found.type != kind:
        verbs = [v for v, (_, _, k) in ANSWERS.items() if k == found.type]
        raise errors.InvalidInput(
            f"Interruption {found.id} is a {KINDS.get(found.type, found.type)}: answer it with "
            + (" or ".join(verbs) if verbs else "the Octopus portal") + f", not {verb}.")
    if not (found.can_take_responsibility or found.has_responsibility):
        raise _not_responsible(space, found)
    try:
        space.take_responsibility(found.id)
    except errors.PermissionDenied:
        raise _not_responsible(space, found) from None
    body = {field: value}
    if notes:
        body["Notes"] = notes
    return space.submit_interruption(found, body)


def _not_responsible(space: SpaceApi, found: Interruption) -> errors.PermissionDenied:
    teams = space.team_names(found.responsible_team_ids)
    return errors.PermissionDenied(
        f"Only members of {', '.join(repr(t) for t in teams) or 'its responsible teams'} can answer "
        f"interruption {found.id} ({found.title}); this API key's user is in none of them.",
        hint="use an API key of a member of one of those teams, or ask one of them to answer it")


def one_pending(space: SpaceApi, regarding: Sequence[str], within: Sequence[str], what: str) -> str:
    """The id of the only pending interruption ``pending`` finds; an error names them when there
    is none or more than one."""
    found = pending(space, regarding=regarding, within=within)
    if not found:
        raise errors.NotFound(f"Nothing waits for a person {what}.")
    if len(found) > 1:
        raise errors.InvalidInput(
            f"{len(found)} interruptions wait {what}: name one ("
            + "; ".join(f"{p.id}: {p.title}" for p in found) + ").")
    return found[0].id
