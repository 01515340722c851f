"""Interruptions: a task that waits for a person, and the person's answer.

A manual intervention step (``Octopus.Manual``) and, under guided failure, a failed step raise an
interruption; the task stays ``Executing`` with ``HasPendingInterruptions`` until someone from a
responsible team takes responsibility and submits ``Result`` (Proceed/Abort) or ``Guidance``
(Fail/Retry/Ignore/Exclude). The runner (``runner.py``) waits on the interruption and carries out
the answer; these rules only record it, with who gave it and when.
"""

from __future__ import annotations

from octorelease.sandbox.errors import SandboxError, ValidationFailed
from octorelease.sandbox.state.entities import Interruption, Task, Team
from octorelease.sandbox.state.state import USER_ID, USERNAME, Caller, State

MANUAL = "ManualIntervention"
GUIDED = "GuidedFailure"
#: the answers each type takes, as the reference spells them (matched in any letter case)
RESULTS = ("Proceed", "Abort")
GUIDANCE = ("Fail", "Retry", "Ignore", "Exclude")


class NotResponsible(SandboxError):
    """The key's user is in none of the teams responsible for the interruption (403)."""

    status = 403

    def __init__(self) -> None:
        super().__init__("You do not have permission to perform this action. Only members of the teams responsible "
                         "for this interruption can take responsibility for it or submit it.")


class InterruptionRules(State):
    def teams_of(self, caller: Caller) -> list[Team]:
        """The teams the key's user belongs to: those the key was limited to, else the sandbox
        user's own (``Team.member``)."""
        teams = self.all(Team)
        if caller.teams is None:
            return [t for t in teams if t.member]
        return [t for t in teams if t.name.lower() in caller.teams or t.id.lower() in caller.teams]

    def team_names(self, team_ids: list[str]) -> list[str]:
        """The names of these teams (an id no team has is shown as it is)."""
        names = []
        for team_id in team_ids:
            team = self.get(Team, None, team_id)
            names.append(team.name if team else team_id)
        return names

    def may_act_on(self, caller: Caller, interruption: Interruption) -> bool:
        """``CanTakeResponsibility``: pending, and no responsible teams or the user is in one."""
        return interruption.is_pending and self.in_responsible_team(caller, interruption)

    def has_responsibility(self, caller: Caller, interruption: Interruption) -> bool:
        """``HasResponsibility``: the user took it (before or after it was answered)."""
        return interruption.responsible_user_id == USER_ID and self.in_responsible_team(caller, interruption)

    def responsibility_taken(self, space_id: str, interruption_id: str) -> bool:
        """``GET responsible``: whether the sandbox's user has taken responsibility for it."""
        return self.require(Interruption, space_id, interruption_id).responsible_user_id == USER_ID

    def in_responsible_team(self, caller: Caller, interruption: Interruption) -> bool:
        if not interruption.responsible_team_ids:
            return True
        mine = {t.id.lower() for t in self.teams_of(caller)}
        return any(team.lower() in mine for team in interruption.responsible_team_ids)

    def raise_interruption(self, task: Task, kind: str, title: str, instructions: str, correlation_id: str,
                           related: list[str], team_ids: list[str]) -> Interruption:
        """A new pending interruption of the task; the task now says it waits for one of this type."""
        interruption = Interruption(
            id=self.new_id("Interruptions"), space_id=task.space_id, task_id=task.id, type=kind, title=title,
            instructions=instructions, created=self.clock(), correlation_id=correlation_id,
            related_document_ids=[r for r in related if r], responsible_team_ids=list(team_ids))
        if kind not in task.pending_interruption_types:
            task.pending_interruption_types.append(kind)
        self.put(interruption, task)
        return interruption

    def close_interruption(self, task: Task, interruption: Interruption) -> None:
        """The runner has acted on the answer: the task no longer waits for it."""
        still = {i.type for i in self.indexed(Interruption, "regarding", task.id.lower())
                 if i.is_pending and i.id != interruption.id}
        task.pending_interruption_types = [t for t in task.pending_interruption_types if t in still]
        self.put(task)

    def interruptions(self, space_id: str, *, regarding: str | None, pending_only: bool,
                      ids: list[str]) -> list[Interruption]:
        """The space's interruptions, newest first, as the reference sorts them."""
        found = (self.indexed(Interruption, "regarding", regarding.strip().lower()) if regarding
                 else self.all(Interruption, space_id))
        wanted = {i.lower() for i in ids}
        chosen = [i for i in found if i.space_id == space_id and (not pending_only or i.is_pending)
                  and (not wanted or i.id.lower() in wanted)]
        return sorted(chosen, key=lambda i: (i.created, int(i.id.rpartition("-")[2])), reverse=True)

    def take_responsibility(self, space_id: str, interruption_id: str, caller: Caller) -> Interruption:
        """``PUT responsible``: only a member of a responsible team may; taking it again is harmless."""
        interruption = self.require(Interruption, space_id, interruption_id)
        if not self.may_act_on(caller, interruption):
            if not interruption.is_pending:
                raise ValidationFailed("This interruption has already been submitted; there is nothing to take "
                                       "responsibility for.")
            raise NotResponsible()
        interruption.responsible_user_id = USER_ID
        self.put(interruption)
        return interruption

    def submit_interruption(self, space_id: str, interruption_id: str, caller: Caller, *, result: str | None,
                            guidance: str | None, notes: str | None, body_id: str | None = None) -> Interruption:
        """``POST submit``: the answer of the user who has responsibility, checked against the
        interruption's type; the runner acts on it at its next look. An ``Id`` in the body
        (``body_id``) must be the interruption's in the path."""
        if body_id and body_id.lower() != interruption_id.lower():
            raise ValidationFailed(f"The Id '{body_id}' in the body is not the interruption in the path.")
        interruption = self.require(Interruption, space_id, interruption_id)
        if not interruption.is_pending:
            raise ValidationFailed("This interruption has already been submitted.")
        if not self.may_act_on(caller, interruption):
            raise NotResponsible()
        if interruption.responsible_user_id != USER_ID:
            raise ValidationFailed("Only the user with responsibility for this interruption can submit it: take "
                                   "responsibility first (PUT interruptions/{id}/responsible).")
        field, given, allowed = (("Result", result, RESULTS) if interruption.type == MANUAL
                                 else ("Guidance", guidance, GUIDANCE))
        answer = next((a for a in allowed if (given or "").strip().lower() == a.lower()), None)
        if answer is None:
            raise ValidationFailed(f"Please provide a {field} for this {interruption.type} interruption: one of "
                                   f"{', '.join(allowed)}.")
        interruption.is_pending, interruption.answer, interruption.notes = False, answer, notes
        interruption.answered_by, interruption.answered_on = USERNAME, self.clock()
        self.put(interruption)
        return interruption
