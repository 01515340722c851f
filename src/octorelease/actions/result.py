"""What an action hands back: plain data that the console, the JSON output, the handler
runner and the Python API all render from (pipx's ``OperationResult`` idea).

``ActionResult.to_dict`` is the contract's JSON object. The exit code of an error is not
decided here: the caller passes ``code_for`` (``cli.exit_code_for``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from octorelease.errors import CodeFor, OctoreleaseError, error_object

#: Task states that end a deployment badly.
FAILED_STATES = frozenset({"Failed", "Canceled", "TimedOut"})


@dataclass(frozen=True)
class Ref:
    """An Octopus resource named for the user: id and name (or version)."""

    id: str
    name: str


@dataclass
class DeploymentResult:
    """One deployment of the action: planned, queued, running or finished."""

    environment: str
    environment_id: str
    tenant: str | None = None
    tenant_id: str | None = None
    deployment_id: str | None = None
    task_id: str | None = None
    state: str = "Planned"
    duration_seconds: float | None = None
    web_url: str | None = None
    error_message: str | None = None
    failed_step: str | None = None
    cancelled_by_us: bool = False
    already_deployed: bool = False
    #: Our own deployment that we cancelled while queued because a concurrent run's twin of it
    #: was made first (``deployment_id`` is then that twin's).
    cancelled_twin: str | None = None
    #: Set only when the action's deployments are of different releases (one per tenant).
    release: Ref | None = None
    #: When a scheduled deployment (``--deploy-at``) may start, as the messages show it.
    scheduled_for: str | None = None
    #: Seconds the target's previous deployment ran, if known: when to look for the end of
    #: this one (the wait polls densely around then). Not reported.
    expected_seconds: float | None = None
    #: What the task waits for a person for now (``PendingInterruption.to_dict()`` each), and
    #: the interruptions answered while we waited (id, title, answer, answered_by).
    pending_interruptions: list[dict[str, Any]] = field(default_factory=list)
    answered_interruptions: list[dict[str, Any]] = field(default_factory=list)
    #: The target's deployment freezes in force or to come (``FreezeWindow.to_dict()`` each).
    freezes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How the console names this deployment: the environment, and the tenant if any."""
        return f"{self.environment} ({self.tenant})" if self.tenant else self.environment

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES

    @property
    def waiting_for_schedule(self) -> bool:
        """Queued for a later time (``--deploy-at``), not merely waiting its turn."""
        return self.scheduled_for is not None and self.state in ("Planned", "Queued")

    @property
    def finished(self) -> bool:
        """The task has ended on the server, one way or the other."""
        return self.state in FAILED_STATES or self.state == "Success"

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "environment": self.environment,
            "deployment_id": self.deployment_id,
            "task_id": self.task_id,
            "state": self.state,
            "duration_seconds": self.duration_seconds,
            "web_url": self.web_url,
        }
        if self.tenant:
            doc["tenant"] = self.tenant
        if self.error_message:
            doc["error_message"] = self.error_message
        if self.failed_step:
            doc["failed_step"] = self.failed_step
        if self.already_deployed:
            doc["already_deployed"] = True
        if self.cancelled_twin:
            doc["cancelled_twin"] = self.cancelled_twin
        if self.release is not None:
            doc["release"] = {"id": self.release.id, "version": self.release.name}
        if self.scheduled_for:
            doc["scheduled_for"] = self.scheduled_for
        if self.pending_interruptions:
            doc["pending_interruptions"] = self.pending_interruptions
        if self.answered_interruptions:
            doc["answered_interruptions"] = self.answered_interruptions
        if self.freezes:
            doc["freezes"] = self.freezes
        return doc


def did_not_succeed(deployments: Sequence[DeploymentResult], *, why: bool = True) -> str:
    """``1 of 2 deployments did not succeed: Test Failed at step 'Deploy web': Disk full``.
    ``why=False`` leaves out each one's step and message, for a report that shows them beside
    the deployment (the console's table), so that a failure's message is said once."""
    failed = [d for d in deployments if d.failed]
    detail = "; ".join(
        f"{d.label} {d.state}"
        + (f" at step '{d.failed_step}'" if why and d.failed_step else "")
        + (f": {d.error_message}" if why and d.error_message else "")
        for d in failed
    )
    return f"{len(failed)} of {len(deployments)} deployments did not succeed: {detail}"


@dataclass(frozen=True)
class NotCreated:
    """A planned target that got no deployment because creating stopped part way (the server
    refused it, or refused or lost an earlier one), and why."""

    environment: str
    tenant: str | None
    reason: str

    @property
    def label(self) -> str:
        return f"{self.environment} ({self.tenant})" if self.tenant else self.environment

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"environment": self.environment}
        if self.tenant:
            doc["tenant"] = self.tenant
        doc["reason"] = self.reason
        return doc


@dataclass
class ActionResult:
    """The outcome of create, deploy or promote. ``error`` is None when all went well."""

    action: str
    project: Ref | None = None
    release: Ref | None = None
    from_environment: str | None = None
    deployments: list[DeploymentResult] = field(default_factory=list)
    error: OctoreleaseError | None = None
    messages: list[str] = field(default_factory=list)
    dry_run: bool = False
    release_created: bool | None = None
    plan: Any = None
    #: Targets left without a deployment when creating stopped after others were created.
    not_created: list[NotCreated] = field(default_factory=list)
    #: With ``update_variables``: whether this action refreshed a release's variable snapshot (in
    #: a dry run: would); false when none needed it (a release this run created or refreshed
    #: already, or no deployment to make). None when it was not asked for.
    variables_updated: bool | None = None
    #: The Octopus Server's version (``GET /api``), when it was read: for ``create``, and for
    #: every action when asked (``--json``, ``-v``).
    server_version: str | None = None
    #: a version-controlled project's release: its ``VersionControlReference`` (``GitRef``, ``GitCommit``)
    version_control: dict[str, str | None] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def raise_for_error(self) -> ActionResult:
        """Raise the captured error, if any, for callers who prefer exceptions."""
        if self.error is not None:
            raise self.error
        return self

    def to_dict(self, code_for: CodeFor) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "ok": self.ok,
            "action": self.action,
            "project": {"id": self.project.id, "name": self.project.name} if self.project else None,
            "release": {"id": self.release.id, "version": self.release.name} if self.release else None,
        }
        if doc["release"] is not None and self.version_control:
            doc["release"]["version_control_reference"] = dict(self.version_control)
        if self.action == "promote":
            doc["from"] = self.from_environment
        if self.release_created is not None:
            doc["created"] = self.release_created
        doc["deployments"] = [d.to_dict() for d in self.deployments]
        if self.variables_updated is not None:
            doc["variables_updated"] = self.variables_updated
        if self.not_created:
            doc["not_created"] = [n.to_dict() for n in self.not_created]
        if self.dry_run:
            doc["dry_run"] = True
        if self.messages:
            doc["messages"] = list(self.messages)
        if self.server_version:
            doc["server_version"] = self.server_version
        doc["error"] = error_object(self.error, code_for)
        if self.error is not None and self.error.hint:
            doc["error"]["hint"] = self.error.hint
        return doc


@dataclass(frozen=True)
class LogLine:
    """One line of an Octopus task log, with the step (and machine) it belongs to."""

    step: str
    machine: str | None
    category: str
    text: str


class Observer(Protocol):
    """What actions tell while they work; the console implements it, tests may record it.
    Actions never print: everything a user sees goes through here or the result."""

    def note(self, message: str) -> None:
        """Something the user should know (which release was chosen and why)."""

    def release_chosen(self, project: str, version: str) -> None:
        """The action settled on a release (before creating anything)."""

    def warn(self, message: str, detail: str | None = None) -> None:
        """Something that may be a mistake but does not stop the action. ``detail``: the same
        said in full (each failed deployment's step and message), for a report that does not
        show them beside each deployment as the console's table does."""

    def deployment_queued(self, deployment: DeploymentResult) -> None:
        """A deployment was created on the server."""

    def task_updated(self, deployment: DeploymentResult) -> None:
        """A deployment's task changed state (or its elapsed time moved on)."""

    def log_lines(self, deployment: DeploymentResult, lines: list[LogLine]) -> None:
        """New lines of a deployment's task log, each exactly once, in order."""


class SilentObserver:
    """The observer of the Python API and of ``--json``: hears everything, says nothing."""

    def note(self, message: str) -> None:
        pass

    def release_chosen(self, project: str, version: str) -> None:
        pass

    def warn(self, message: str, detail: str | None = None) -> None:
        pass

    def deployment_queued(self, deployment: DeploymentResult) -> None:
        pass

    def task_updated(self, deployment: DeploymentResult) -> None:
        pass

    def log_lines(self, deployment: DeploymentResult, lines: list[LogLine]) -> None:
        pass
