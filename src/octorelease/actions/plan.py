"""A deployment plan: plain data saying exactly what would be created where.

``--dry-run`` prints it, tests assert on it, and ``execute`` turns each target into one
``POST /deployments``. Building a plan sends only GET requests, so a plan that fails
validation has created nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any, Literal

from octorelease.actions.options import DeploymentOptions
from octorelease.actions.result import DeploymentResult, Ref
from octorelease.actions.wording import COMMAND_LINE, Wording
from octorelease.octopus.models import parse_time
from octorelease.schedule import format_time, octopus_time, parse_duration


@dataclass(frozen=True)
class WaitOptions:
    """How to follow the tasks once queued."""

    wait: bool = True
    timeout_seconds: float = 600.0
    cancel_on_timeout: bool = False
    log: bool = True
    fail_on_error: bool = True
    #: How messages name settings: a handler's fields, not flags the user never passed.
    wording: Wording = COMMAND_LINE
    #: On SIGINT/SIGTERM, cancel the tasks this action created before stopping.
    cancel_on_interrupt: bool = False
    #: When a deployment waits for a person: keep waiting, end the wait (exit 7), or cancel it.
    on_interruption: str = "wait"
    #: How long a person may take, counted apart from ``timeout_seconds`` (None: no limit).
    interruption_timeout_seconds: float | None = None

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> WaitOptions:
        """The wait options from values named as the fields are (the command line's flags, a
        handler's fields), rejecting unknown names loudly: a DURATION (text or seconds) for
        either timeout, read and checked by ``schedule.parse_duration``; any case for
        ``on_interruption``. A value left out or None keeps its default."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TypeError(f"unknown wait option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        clean = {name: value for name, value in values.items() if value is not None}
        for name in ("timeout_seconds", "interruption_timeout_seconds"):
            if name in clean:
                clean[name] = parse_duration(clean[name])
        if "on_interruption" in clean:
            clean["on_interruption"] = str(clean["on_interruption"]).lower()
        return cls(**clean)


_NEVER = datetime.min.replace(tzinfo=timezone.utc)


def creation_order(created: str, deployment_id: str) -> tuple[datetime, int, str]:
    """Sort key for deployments in the order the server made them: its own ``Created`` stamp
    (milliseconds, one clock), then the number in the id for stamps that tie."""
    digits = deployment_id.rpartition("-")[2]
    return (parse_time(created) or _NEVER, int(digits) if digits.isdigit() else 0, deployment_id)


@dataclass(frozen=True)
class Mark:
    """A deployment's place in the server's history: what "made after it" is measured from."""

    deployment_id: str
    created: str
    #: How long its task ran, if it has ended: what the wait expects the next one to take.
    took_seconds: float | None = None

    def is_before(self, created: str, deployment_id: str) -> bool:
        """Whether the deployment (``created``, ``deployment_id``) was made after this one."""
        return creation_order(self.created, self.deployment_id) < creation_order(created, deployment_id)


@dataclass(frozen=True)
class Existing:
    """A deployment of the planned release that the target already has, succeeded or still
    running: promoting again would deploy the same thing twice, so none is created."""

    deployment_id: str
    task_id: str
    state: str
    created: str = ""


@dataclass(frozen=True)
class FreezeWindow:
    """The window of one freeze that matters to a target: in force when it would start, or the
    next one to come."""

    freeze_id: str
    name: str
    start: datetime
    end: datetime
    #: whether it is in force when the deployment would start (now, or at ``--deploy-at``)
    in_force: bool

    def describe(self) -> str:
        if self.in_force:
            return f"deployment freeze '{self.name}' in force until {format_time(self.end)}"
        return f"deployment freeze '{self.name}' from {format_time(self.start)} to {format_time(self.end)}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.freeze_id, "name": self.name, "start": octopus_time(self.start),
                "end": octopus_time(self.end), "in_force": self.in_force}


@dataclass(frozen=True)
class TargetPlan:
    """One deployment to create: an environment (and tenant), with ids resolved."""

    environment: Ref
    tenant: Ref | None = None
    specific_machines: tuple[Ref, ...] = ()
    excluded_machines: tuple[Ref, ...] = ()
    skip_steps: tuple[Ref, ...] = ()
    form_values: Mapping[str, str] = field(default_factory=dict)
    use_guided_failure: bool = False
    #: why guided failure is on or off: "--guided-failure", "the project's default" or
    #: "the environment's default" (said in the plan and, when on, before deploying)
    guided_failure_source: str = "the environment's default"
    already: Existing | None = None
    #: Set only when the plan's targets take different releases (tenants running different
    #: releases in the source): then this target's own; else the plan's ``release``.
    release: Ref | None = None
    #: The newest deployment the target had when the plan was made (any release), or None when it
    #: had none: where the run's window opens (``twins.Episode``). A deployment made after it did
    #: not exist before our first POST: only such a one can be ours after a lost answer, or a
    #: concurrent run's twin.
    newest_before: Mark | None = None
    #: How far along the release's lifecycle the environment is (higher: a later phase).
    lifecycle_rank: int = 0
    #: The deployment freezes of the target, in force when it would start or still to come
    #: (``freezes.with_freezes``); empty when none, or when they were not read.
    freezes: tuple[FreezeWindow, ...] = ()

    @property
    def freezes_in_force(self) -> tuple[FreezeWindow, ...]:
        """The target's freezes in force when it would start."""
        return tuple(w for w in self.freezes if w.in_force)

    def describe_freezes(self, reason: str | None) -> list[str]:
        """The target's freezes as the plan says them (an overridden one says so)."""
        return [w.describe() + (f" (overridden: {reason!r})" if w.in_force and reason else "") for w in self.freezes]

    def result(self, **fields: Any) -> DeploymentResult:
        """The result entry for this target, with the given fields (ids, state, ...)."""
        return DeploymentResult(
            environment=self.environment.name,
            environment_id=self.environment.id,
            tenant=self.tenant.name if self.tenant else None,
            tenant_id=self.tenant.id if self.tenant else None,
            release=self.release,
            expected_seconds=self.newest_before.took_seconds if self.newest_before else None,
            freezes=[w.to_dict() for w in self.freezes],
            **fields,
        )

    def request_body(self, release_id: str, options: DeploymentOptions) -> dict[str, Any]:
        """The body of the classic ``POST /deployments`` (it alone carries ``Comments``)."""
        return {
            "ReleaseId": release_id,
            "EnvironmentId": self.environment.id,
            "TenantId": self.tenant.id if self.tenant else None,
            "SkipActions": [s.id for s in self.skip_steps],
            "ForcePackageDownload": options.force_package_download,
            "ForcePackageRedeployment": options.force_redeploy,
            "UseGuidedFailure": self.use_guided_failure,
            "SpecificMachineIds": [m.id for m in self.specific_machines],
            "ExcludedMachineIds": [m.id for m in self.excluded_machines],
            "FormValues": dict(self.form_values),
            "Comments": options.notes,
            "QueueTime": octopus_time(options.deploy_at),
            "QueueTimeExpiry": octopus_time(options.no_deploy_after),
        }


@dataclass(frozen=True)
class DeploymentPlan:
    """Everything ``deploy`` or ``promote`` will do, decided before anything is created."""

    action: Literal["deploy", "promote"]
    #: The space; its name is "" for the default space, whose resource is not read for a plan
    #: (the project's ``SpaceId`` says which space it is).
    space: Ref
    project: Ref
    release: Ref
    release_reason: str
    targets: tuple[TargetPlan, ...]
    options: DeploymentOptions
    from_environment: Ref | None = None
    warnings: tuple[str, ...] = ()
    #: Checks left to the server's answer to the first POST (``targets.build_plan``): a real run
    #: saves their requests; a refusal is then explained by making them (``explain_refusal``).
    deferred: tuple[str, ...] = ()

    def release_of(self, target: TargetPlan) -> Ref:
        """The release ``target`` gets: its own when tenants differ, else the plan's."""
        return target.release or self.release

    @property
    def creation_order(self) -> tuple[TargetPlan, ...]:
        """The targets in the order to create them: those joined (nothing to create) first, then
        later lifecycle phases first. A new deployment to an earlier phase makes the lifecycle
        count that phase unfinished again, which would make the server refuse the later ones of
        the same plan; the reverse never happens."""
        return tuple(sorted(self.targets, key=lambda t: (t.already is None, -t.lifecycle_rank)))

    @classmethod
    def per_release(cls, plans: Sequence[DeploymentPlan], warnings: Sequence[str] = ()) -> DeploymentPlan:
        """One plan from plans of the same action that differ only in their release (one per
        group of tenants): each target then names its own release; the first plan's leads."""
        first = plans[0]
        if len(plans) == 1:
            return replace(first, warnings=first.warnings + tuple(warnings))
        targets = tuple(replace(t, release=plan.release) for plan in plans for t in plan.targets)
        reasons = "; ".join(f"{plan.release.name}: {plan.release_reason}" for plan in plans)
        all_warnings = tuple(dict.fromkeys(w for plan in plans for w in plan.warnings)) + tuple(warnings)
        return replace(first, targets=targets, release_reason=reasons, warnings=all_warnings)

    @property
    def releases_to_deploy(self) -> tuple[Ref, ...]:
        """The releases the plan makes a deployment of (a target that already has it makes
        none), each once, in target order."""
        return tuple(dict.fromkeys(self.release_of(t) for t in self.targets if t.already is None))

    def describe(self) -> list[str]:
        """The plan as plain lines, for ``--dry-run`` and the logs."""
        if any(t.release for t in self.targets):
            lines = [f"{self.action} {self.project.name}, a release per tenant ({self.release_reason})"]
        else:
            lines = [f"{self.action} {self.project.name} release {self.release.name} ({self.release_reason})"]
        for target in self.targets:
            where = target.environment.name + (f" for tenant {target.tenant.name}" if target.tenant else "")
            if target.release:
                where += f": release {target.release.name}"
            if target.already is not None:
                lines.append(f"  -> {where}: already has it ({target.already.deployment_id}, {target.already.state})")
                continue
            details = []
            if target.specific_machines:
                details.append("only machines " + ", ".join(m.name for m in target.specific_machines))
            if target.excluded_machines:
                details.append("excluding " + ", ".join(m.name for m in target.excluded_machines))
            if target.skip_steps:
                details.append("skipping steps " + ", ".join(s.name for s in target.skip_steps))
            if target.form_values:
                details.append(f"{len(target.form_values)} prompted variable(s)")
            details.append("guided failure " + ("on" if target.use_guided_failure else "off")
                           + f" ({target.guided_failure_source})")
            details += target.describe_freezes(self.options.freeze_override)
            lines.append(f"  -> {where}: " + "; ".join(details))
        flags = []
        if self.options.force_package_download:
            flags.append("force package download")
        if self.options.force_redeploy:
            flags.append("force package redeployment")
        if self.options.redeploys and self.action == "promote":
            flags.append("redeploy where the release already runs")
        if self.options.deploy_at is not None:
            flags.append(f"scheduled for {format_time(self.options.deploy_at)}")
        if self.options.no_deploy_after is not None:
            flags.append(f"not started after {format_time(self.options.no_deploy_after)}")
        if self.options.update_variables:
            flags.append("update the release's variable snapshot first")
        if self.options.notes:
            flags.append(f"notes: {self.options.notes!r}")
        if flags:
            lines.append("  options: " + ", ".join(flags))
        return lines
