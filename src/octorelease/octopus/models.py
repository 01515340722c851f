"""The resources octorelease reads from Octopus: small frozen dataclasses built from its JSON.

Each keeps the raw document in ``raw`` for the fields we do not model. ``api.py`` makes the
requests and checks the shapes (``_build``: a field a resource cannot do without is a
``BadResponse`` naming the URL); these classes only read what came back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Task states in which a task is still going (octopus-api.md §6).
ACTIVE_TASK_STATES = frozenset({"Queued", "Executing", "Cancelling"})


def parse_time(value: Any) -> datetime | None:
    """An Octopus timestamp (ISO-8601 with offset, e.g. ``2024-08-02T05:07:42.445+00:00``), or None."""
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def seconds_between(start: Any, end: Any) -> float | None:
    """Seconds from one Octopus timestamp to another (both read on the server's clock, so no
    skew between its clock and ours enters), or None when either is missing or unreadable."""
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None or first.year < 2 or last < first:
        return None
    return (last - first).total_seconds()


@dataclass(frozen=True)
class Space:
    id: str
    name: str
    is_default: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Space:
        return cls(doc["Id"], doc["Name"], bool(doc.get("IsDefault")), doc)


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    slug: str
    lifecycle_id: str | None
    tenanted_mode: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Project:
        return cls(
            doc["Id"],
            doc["Name"],
            doc.get("Slug") or "",
            doc.get("LifecycleId"),
            doc.get("TenantedDeploymentMode") or "Untenanted",
            doc,
        )


@dataclass(frozen=True)
class Environment:
    id: str
    name: str
    sort_order: int
    use_guided_failure: bool

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Environment:
        return cls(doc["Id"], doc["Name"], int(doc.get("SortOrder") or 0), bool(doc.get("UseGuidedFailure")))


@dataclass(frozen=True)
class Machine:
    id: str
    name: str
    environment_ids: tuple[str, ...]
    roles: tuple[str, ...]
    is_disabled: bool
    health: str

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Machine:
        return cls(
            doc["Id"],
            doc["Name"],
            tuple(doc.get("EnvironmentIds") or ()),
            tuple(doc.get("Roles") or ()),
            bool(doc.get("IsDisabled")),
            str(doc.get("HealthStatus") or "Unknown"),
        )


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    project_environments: dict[str, list[str]] = field(compare=False)
    #: canonical tag names, ``TagSetName/TagName``
    tags: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Tenant:
        return cls(
            doc["Id"],
            doc["Name"],
            dict(doc.get("ProjectEnvironments") or {}),
            tuple(str(t) for t in doc.get("TenantTags") or ()),
        )


@dataclass(frozen=True)
class TagSet:
    id: str
    name: str
    tags: tuple[str, ...]

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TagSet:
        tags = doc.get("Tags") or ()
        return cls(doc["Id"], doc["Name"], tuple(str(t.get("Name")) for t in tags if isinstance(t, dict)))


@dataclass(frozen=True)
class Release:
    id: str
    version: str
    project_id: str
    channel_id: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Release:
        return cls(doc["Id"], doc["Version"], doc.get("ProjectId") or "", doc.get("ChannelId"), doc)


@dataclass(frozen=True)
class TemplatePackage:
    """A package a new release must pick a version of (one entry of the release template)."""

    step_name: str
    action_name: str
    package_id: str
    feed_id: str
    feed_name: str
    resolvable: bool
    #: the package reference's name within its step (empty for a step's primary package)
    reference_name: str = ""


@dataclass(frozen=True)
class ReleaseTemplate:
    """How a new release of a channel would be made (``deploymentprocesses/{id}/template``): its
    packages, and the version the project's versioning strategy gives it."""

    packages: list[TemplatePackage]
    #: ``NextVersionIncrement``: what the versioning template gives now; None with a donor package
    next_version: str | None = None
    #: the donor package (``VersioningPackageStepName``, ``...ReferenceName``) whose version it takes
    versioning_step: str | None = None
    versioning_reference: str | None = None


@dataclass(frozen=True)
class DashboardItem:
    """One dashboard cell: the latest (or previous successful) deployment of a project to an env."""

    deployment_id: str
    task_id: str
    release_id: str
    release_version: str
    environment_id: str
    tenant_id: str | None
    channel_id: str | None
    state: str
    is_current: bool
    is_previous: bool
    created: str
    #: How long its task ran (``CompletedTime - StartTime``), when it has ended: the next
    #: deployment of the project to the same place likely takes about as long.
    took_seconds: float | None = None

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DashboardItem:
        return cls(
            doc.get("DeploymentId") or doc["Id"],
            doc.get("TaskId") or "",
            doc["ReleaseId"],
            doc["ReleaseVersion"],
            doc["EnvironmentId"],
            doc.get("TenantId"),
            doc.get("ChannelId"),
            doc.get("State") or "",
            bool(doc.get("IsCurrent")),
            bool(doc.get("IsPrevious")),
            str(doc.get("Created") or doc.get("QueueTime") or ""),
            seconds_between(doc.get("StartTime"), doc.get("CompletedTime")),
        )


@dataclass(frozen=True)
class PromotionTarget:
    environment_id: str
    environment_name: str
    preview_link: str | None


@dataclass(frozen=True)
class DeploymentTemplate:
    """What ``releases/{id}/deployments/template`` says the release may be deployed to now."""

    promote_to: tuple[PromotionTarget, ...]
    tenant_promotions: dict[str, tuple[PromotionTarget, ...]]

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DeploymentTemplate:
        def targets(items: Sequence[dict[str, Any]]) -> tuple[PromotionTarget, ...]:
            return tuple(
                PromotionTarget(t["Id"], t["Name"], (t.get("Links") or {}).get("Preview")) for t in items or ()
            )

        tenants = {t["Id"]: targets(t.get("PromoteTo") or ()) for t in doc.get("TenantPromotions") or ()}
        return cls(targets(doc.get("PromoteTo") or ()), tenants)


@dataclass(frozen=True)
class PreviewStep:
    action_id: str
    action_name: str
    machine_names: tuple[str, ...]
    can_be_skipped: bool
    has_no_applicable_machines: bool


@dataclass(frozen=True)
class FormElement:
    """A prompted variable: ``name`` is the key for ``FormValues``; users say ``control_name``
    (the variable's name) or ``label``."""

    name: str
    control_name: str
    label: str
    required: bool


@dataclass(frozen=True)
class DeploymentPreview:
    steps: tuple[PreviewStep, ...]
    form: tuple[FormElement, ...]
    use_guided_failure_by_default: bool

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DeploymentPreview:
        steps = tuple(
            PreviewStep(
                s.get("ActionId") or "",
                s.get("ActionName") or "",
                tuple(s.get("MachineNames") or ()),
                bool(s.get("CanBeSkipped", True)),
                bool(s.get("HasNoApplicableMachines")),
            )
            for s in doc.get("StepsToExecute") or ()
        )
        elements = []
        for element in (doc.get("Form") or {}).get("Elements") or ():
            control = element.get("Control") or {}
            elements.append(
                FormElement(
                    element.get("Name") or "",
                    control.get("Name") or "",
                    control.get("Label") or control.get("Name") or "",
                    bool(element.get("IsValueRequired") or control.get("Required")),
                )
            )
        return cls(steps, tuple(elements), bool(doc.get("UseGuidedFailureModeByDefault")))


@dataclass(frozen=True)
class Deployment:
    id: str
    release_id: str
    environment_id: str
    tenant_id: str | None
    task_id: str
    created: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Deployment:
        return cls(
            doc["Id"],
            doc.get("ReleaseId") or "",
            doc.get("EnvironmentId") or "",
            doc.get("TenantId"),
            doc.get("TaskId") or "",
            str(doc.get("Created") or ""),
            doc,
        )

    @property
    def created_at(self) -> datetime | None:
        return parse_time(self.created)


@dataclass(frozen=True)
class Task:
    id: str
    state: str
    description: str
    error_message: str
    duration: str
    is_completed: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Task:
        state = doc.get("State") or ""
        return cls(
            doc["Id"],
            state,
            doc.get("Description") or "",
            doc.get("ErrorMessage") or "",
            doc.get("Duration") or "",
            bool(doc.get("IsCompleted", state not in ACTIVE_TASK_STATES)),
            doc,
        )

    @property
    def succeeded(self) -> bool:
        return self.state == "Success"

    @property
    def elapsed_seconds(self) -> float | None:
        """Seconds from start to completion, or to now while it runs; None before it starts."""
        start = parse_time(self.raw.get("StartTime"))
        if start is None:
            return None
        end = parse_time(self.raw.get("CompletedTime")) or datetime.now(start.tzinfo)
        return round(max((end - start).total_seconds(), 0.0), 1)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Interruption:
    """A task waiting for a person: a manual intervention (answered Proceed or Abort) or guided
    failure (answered Fail, Retry, Ignore or Exclude)."""

    id: str
    type: str
    title: str
    task_id: str
    is_pending: bool
    created: str
    instructions: str
    responsible_team_ids: tuple[str, ...]
    can_take_responsibility: bool
    has_responsibility: bool
    related_document_ids: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Interruption:
        form = _object(doc.get("Form"))
        elements = form.get("Elements")
        text = next((str(_object(e.get("Control")).get("Text") or "") for e in
                     (elements if isinstance(elements, list) else []) if isinstance(e, dict)
                     and e.get("Name") == "Instructions"), "")
        return cls(
            doc["Id"], str(doc.get("Type") or ""), str(doc.get("Title") or ""), str(doc.get("TaskId") or ""),
            bool(doc.get("IsPending")), str(doc.get("Created") or ""), text,
            tuple(str(t) for t in doc.get("ResponsibleTeamIds") or ()), bool(doc.get("CanTakeResponsibility")),
            bool(doc.get("HasResponsibility")), tuple(str(r) for r in doc.get("RelatedDocumentIds") or ()), doc,
        )

    @property
    def answer(self) -> str | None:
        """What it was answered (``Proceed``, ``Retry``, ...), once it is no longer pending."""
        values = _object(_object(self.raw.get("Form")).get("Values"))
        found = values.get("Result") or values.get("Guidance")
        return str(found) if found else None

    @property
    def answered_by(self) -> str | None:
        """Who answered it (its last modifier once it is no longer pending)."""
        who = self.raw.get("LastModifiedBy")
        return str(who) if who and not self.is_pending else None


@dataclass(frozen=True)
class DeploymentFreeze:
    """A window in which Octopus (2024.2 and later) refuses deployments of some projects to
    some environments (``ProjectEnvironmentScope``: project id -> environment ids), or of some
    tenants' (``TenantProjectEnvironmentScope``), repeated by ``RecurringSchedule`` if it has one."""

    id: str
    name: str
    start: datetime
    end: datetime
    project_environments: dict[str, tuple[str, ...]]
    tenant_scopes: tuple[tuple[str, str, str], ...]
    recurring: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DeploymentFreeze:
        start, end = parse_time(doc.get("Start")), parse_time(doc.get("End"))
        if start is None or end is None:
            raise ValueError("Start and End must be times")
        scope = _object(doc.get("ProjectEnvironmentScope"))
        tenants = [_object(t) for t in doc.get("TenantProjectEnvironmentScope") or ()]
        schedule = doc.get("RecurringSchedule")
        return cls(
            str(doc["Id"]), str(doc.get("Name") or doc["Id"]), start, end,
            {str(p): tuple(str(e) for e in envs) for p, envs in scope.items() if isinstance(envs, list)},
            tuple((str(t.get("TenantId")), str(t.get("ProjectId")), str(t.get("EnvironmentId"))) for t in tenants),
            schedule if isinstance(schedule, dict) and schedule else None, doc,
        )

    def scopes(self, project_id: str, environment_id: str, tenant_id: str | None) -> bool:
        """Whether it freezes a deployment of the project to the environment (for the tenant)."""
        return environment_id in self.project_environments.get(project_id, ()) or (
            tenant_id is not None and (tenant_id, project_id, environment_id) in self.tenant_scopes)
