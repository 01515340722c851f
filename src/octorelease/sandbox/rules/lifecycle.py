"""Lifecycle rules: which environments a release may be deployed to now (octopus-api.md §9).

Pure functions over entities, so the rule reads in one place and the template, the progression
and every create path agree on it:

* a lifecycle without phases has one phase per environment, in ``SortOrder``;
* a phase without environments covers every environment not listed in an earlier phase;
* phases open in order; a phase is passed when the latest deployment of the release to enough of
  its environments succeeded (all of them, or ``MinimumEnvironmentsBeforePromotion``), or at once
  when it is optional; the current phase and all earlier ones are deployable.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from octorelease.sandbox.state.entities import Environment, Lifecycle

_PHASE_NAMESPACE = uuid.UUID("6f1d3c64-5a0e-4a53-9d67-3f1f5b0c2a11")


@dataclass(frozen=True)
class ResolvedPhase:
    """A phase with its environments worked out (``environment_ids`` in ``SortOrder``)."""

    id: str
    name: str
    environment_ids: list[str]
    automatic: list[str]
    optional: list[str]
    minimum: int
    is_optional_phase: bool


@dataclass
class PhaseProgress:
    phase: ResolvedPhase
    progress: str = "Pending"
    #: environments of the phase whose latest deployment of the release succeeded
    succeeded: list[str] = field(default_factory=list)


@dataclass
class Progression:
    phases: list[PhaseProgress]
    #: environments the release may be deployed to now, by phase then ``SortOrder``
    allowed: list[str]
    #: environments of the current phase that still lack a successful deployment
    next_deployments: list[str]
    #: how many more environments the current phase needs before the next one opens
    next_minimum: int


def resolve_phases(lifecycle: Lifecycle, environments: list[Environment]) -> list[ResolvedPhase]:
    """The lifecycle's phases with their environments, applying the two conventions above."""
    ordered = sorted(environments, key=lambda e: (e.sort_order, e.id))
    if not lifecycle.phases:
        return [
            ResolvedPhase(
                id=str(uuid.uuid5(_PHASE_NAMESPACE, f"{lifecycle.id}/{env.id}")),
                name=env.name,
                environment_ids=[env.id],
                automatic=[],
                optional=[env.id],
                minimum=0,
                is_optional_phase=False,
            )
            for env in ordered
        ]
    known = {e.id for e in ordered}
    listed: set[str] = set()
    phases = []
    for phase in lifecycle.phases:
        own = [e for e in phase.environment_ids if e in known]
        chosen = set(own) if phase.environment_ids else known - listed
        listed |= set(own)
        phases.append(
            ResolvedPhase(
                id=phase.id,
                name=phase.name,
                environment_ids=[e.id for e in ordered if e.id in chosen],
                automatic=list(phase.automatic),
                optional=list(phase.optional),
                minimum=phase.minimum,
                is_optional_phase=phase.is_optional_phase,
            )
        )
    return phases


def progress(phases: list[ResolvedPhase], latest_states: dict[str, str]) -> Progression:
    """Where a release stands, given the state of its latest deployment to each environment."""
    result = Progression(phases=[], allowed=[], next_deployments=[], next_minimum=0)
    allowed: set[str] = set()  # a set beside the list: an "any environment" phase has thousands
    blocked = False
    for phase in phases:
        item = PhaseProgress(phase, succeeded=[e for e in phase.environment_ids if latest_states.get(e) == "Success"])
        result.phases.append(item)
        if blocked:
            continue
        for e in phase.environment_ids:
            if e not in allowed:
                allowed.add(e)
                result.allowed.append(e)
        need = min(phase.minimum or len(phase.environment_ids), len(phase.environment_ids))
        if phase.is_optional_phase or len(item.succeeded) >= need:
            item.progress = "Complete"
            continue
        item.progress = "Current"
        succeeded = set(item.succeeded)
        result.next_deployments = [e for e in phase.environment_ids if e not in succeeded]
        result.next_minimum = need - len(item.succeeded)
        blocked = True
    return result
