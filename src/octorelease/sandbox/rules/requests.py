"""What callers ask the models for, as plain data: ``http/api/`` binds JSON to these, the models obey them.

Keeping them apart from the HTTP layer lets the seed and the tests drive the same rules that the
routes do, with no request in sight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ReleaseRequest:
    """Create a release: classic ``POST /releases`` (``version_required``) or ``releases/create/v1``."""

    project: str
    version: str | None = None
    channel: str | None = None
    release_notes: str | None = None
    #: default version for every package step without one of its own
    package_version: str | None = None
    #: step name, action name or package id (any case) -> version
    packages: dict[str, str] = field(default_factory=dict)
    ignore_if_exists: bool = False
    version_required: bool = False
    #: a version-controlled project's branch, tag or commit (required for one, refused for others)
    git_ref: str | None = None
    git_commit: str | None = None


@dataclass
class DeploymentRequest:
    """Create one deployment (classic ``POST /deployments``); ids, as Octopus's resource has them."""

    release_id: str | None
    environment_id: str | None
    tenant_id: str | None = None
    force_package_download: bool = False
    force_package_redeployment: bool = False
    skip_actions: list[str] = field(default_factory=list)
    specific_machine_ids: list[str] = field(default_factory=list)
    excluded_machine_ids: list[str] = field(default_factory=list)
    use_guided_failure: bool | None = None
    comments: str | None = None
    form_values: dict[str, str | None] = field(default_factory=dict)
    queue_time: datetime | None = None
    queue_time_expiry: datetime | None = None
    #: overriding deployment freezes: the reason, and the freezes (names or ids; none: every one in force)
    freeze_override_reason: str | None = None
    freeze_names: list[str] = field(default_factory=list)


@dataclass
class ExecutionRequest:
    """Create deployments by names (the executions API, ``deployments/create/*/v1``)."""

    project: str
    release_version: str
    environment_names: list[str]
    tenants: list[str] = field(default_factory=list)
    tenant_tags: list[str] = field(default_factory=list)
    tenanted: bool = False
    force_package_download: bool = False
    force_package_redeployment: bool = False
    specific_machine_names: list[str] = field(default_factory=list)
    excluded_machine_names: list[str] = field(default_factory=list)
    skip_step_names: list[str] = field(default_factory=list)
    use_guided_failure: bool | None = None
    run_at: datetime | None = None
    no_run_after: datetime | None = None
    #: prompted variables by name or label
    variables: dict[str, str] = field(default_factory=dict)
    update_variable_snapshot: bool = False
    freeze_override_reason: str | None = None
    freeze_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fault:
    """Make a step fail; every criterion given (names, any case) must match, ``None`` matches all."""

    step: str | None = None
    machine: str | None = None
    environment: str | None = None
    message: str | None = None

    def matches(self, step: str, machine: str, environment: str) -> bool:
        pairs = ((self.step, step), (self.machine, machine), (self.environment, environment))
        return all(want is None or want.strip().lower() == have.lower() for want, have in pairs)
