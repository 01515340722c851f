"""Run the handlers a build event selects: variables first, then create, deploy, promote.

Everything that can be checked without the server is checked for every selected handler
before the first request: ``{build.*}`` values are filled in and ``notes_file`` is read, so a
typo in the third handler does not leave the first one half done.

Everything the server can tell without a write is checked for every action of a handler before
the handler's first write: the handler is first planned as its dry run plans it (project,
packages and feed versions, environments, machines, steps, tenants, prompted variables), so a
typo in ``promote`` does not leave a release created and deployed. A fault found then is named
by file, line and field. A dry run is exactly that plan, so it lists the deployments the real
run makes.

Within a handler, an action that fails stops the handler's later actions (a deploy of a
release that was not created makes no sense). A failed handler with ``fail_build_on_error``
(the default) also stops the handlers after it, which are reported as skipped: handlers run in
order precisely so that "ship to Test" can gate "promote to Production". With
``fail_build_on_error: false`` the failure is reported and ignored, as ``--no-fail-on-error``
does on the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from octorelease.actions.plan import WaitOptions
from octorelease.actions.result import ActionResult, SilentObserver
from octorelease.actions.wording import HANDLER_FILE
from octorelease.errors import CodeFor, Interrupted, OctoreleaseError, error_object
from octorelease.handler.build_values import git_of_build
from octorelease.handler.file import (
    Deploy,
    Handler,
    HandlerFile,
    HandlerFileError,
    expand_handler,
)
from octorelease.handler.locate import fault_location, point_at_file
from octorelease.handler.select import Decision, check_build_values, select_handlers
from octorelease.handler.variables import ReleaseAt, set_project_variables

if TYPE_CHECKING:
    from octorelease.client import Octopus


@dataclass
class HandlerRun:
    """What became of one handler: whether it ran, why, and its actions' results."""

    name: str
    ran: bool
    reason: str
    actions: list[ActionResult] = field(default_factory=list)
    #: Its ``fail_build_on_error``: false makes a failure "failed (ignored)".
    fails_build: bool = True

    @property
    def error(self) -> OctoreleaseError | None:
        return next((action.error for action in self.actions if action.error is not None), None)

    @property
    def outcome(self) -> str:
        """``skipped``, ``succeeded``, ``failed`` or ``failed (ignored)``: the one word the
        console, each CI, the JSON and the serve page give it. A refusal and a failed deployment
        are both failures; ``fail_build_on_error: false`` ignores either (never an interrupt)."""
        if not self.ran:
            return "skipped"
        failed = self.error is not None or any(
            deployment.failed for action in self.actions for deployment in action.deployments
        )
        if not failed:
            return "succeeded"
        ignored = not self.fails_build and not isinstance(self.error, Interrupted)
        return "failed (ignored)" if ignored else "failed"

    def to_dict(self, code_for: CodeFor) -> dict[str, Any]:
        return {
            "name": self.name,
            "ran": self.ran,
            "outcome": self.outcome,
            "reason": self.reason,
            "actions": [action.to_dict(code_for) for action in self.actions],
        }


@dataclass
class RunResult:
    """The outcome of ``run``: every handler, in run order. ``error`` fails the build."""

    handlers: list[HandlerRun] = field(default_factory=list)
    error: OctoreleaseError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self, code_for: CodeFor) -> dict[str, Any]:
        """The ``--json`` object of ``run``."""
        return {
            "ok": self.ok,
            "handlers": [handler.to_dict(code_for) for handler in self.handlers],
            "error": error_object(self.error, code_for),
        }


@dataclass(frozen=True)
class _Prepared:
    decision: Decision
    handler: Handler  # with {build.*} filled in
    release_notes: str | None
    #: the build's branch and commit: a version-controlled project's ref unless the handler names one
    build_git: tuple[str | None, str | None, str] | None = None
    #: the build's number, when the CI gives one (``{build.number}``)
    build_number: str | None = None


def run_handlers(
    octopus: Octopus,
    handler_file: HandlerFile,
    *,
    event: str,
    status: str | None = None,
    stage: str | None = None,
    values: Mapping[str, str],
    dry_run: bool = False,
    on_handler: Callable[[str, bool, str], None] | None = None,
    after_handler: Callable[[HandlerRun], None] | None = None,
) -> RunResult:
    """Select the handlers for this build event and run the actions of those that match.

    ``on_handler(name, runs, reason)`` is told about each handler just before its actions run
    (or as it is passed over), and ``after_handler(run)`` once a handler's actions are done, so
    a console can head each handler's output and report it as it finishes.
    Raises HandlerFileError (before any request) for a fault found while preparing; errors
    from the server are captured in the actions' results.
    """
    check_build_values(handler_file, event=event, status=status, stage=stage, values=values)
    decisions = select_handlers(handler_file, event=event, status=status, stage=stage, values=values)
    prepared = [_prepare(handler_file, decision, values) for decision in decisions if decision.will_run]
    by_index = {item.decision.index: item for item in prepared}
    result = RunResult()
    failed: str | None = None  # the handler whose failure fails the build
    for decision in decisions:
        name = decision.handler.name
        item = by_index.get(decision.index)
        if item is None:
            result.handlers.append(HandlerRun(name, False, decision.reason))
        elif failed is not None:
            stopped = "was interrupted" if isinstance(result.error, Interrupted) else "failed"
            result.handlers.append(HandlerRun(name, False, f"skipped: handler '{failed}' {stopped}"))
        else:
            if on_handler is not None:
                on_handler(name, True, decision.reason)
            run = HandlerRun(name, True, decision.reason, _run_actions(octopus, handler_file, item, dry_run),
                             fails_build=item.handler.fail_build_on_error)
            result.handlers.append(run)
            if after_handler is not None:
                after_handler(run)
            if run.error is not None and (item.handler.fail_build_on_error or isinstance(run.error, Interrupted)):
                result.error, failed = run.error, name
            continue
        if on_handler is not None:
            on_handler(name, False, result.handlers[-1].reason)
    return result


def _prepare(handler_file: HandlerFile, decision: Decision, values: Mapping[str, str]) -> _Prepared:
    handler = expand_handler(handler_file, decision.index, values)
    notes = handler.create.notes if handler.create is not None else None
    if handler.create is not None and handler.create.notes_file is not None:
        path = handler_file.resolve(handler.create.notes_file)
        notes = _read_notes(path, handler_file.locate(("handlers", decision.index, "create", "notes_file")))
    return _Prepared(decision, handler, notes, git_of_build(values), (values.get("number") or "").strip() or None)


#: The most release notes a ``notes_file`` may hold. The path comes from a file a pull request
#: may change, so ``/dev/zero`` or a huge log must be refused, not read whole; a megabyte is a book.
MAX_NOTES_BYTES = 1024 * 1024


def _read_notes(path: Path, where: str) -> str:
    """The text of a ``notes_file``; anything but UTF-8 text within MAX_NOTES_BYTES is an error at ``where``."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_NOTES_BYTES + 1)
    except OSError as exc:
        raise HandlerFileError(f"{where}: cannot read {str(path)!r} ({exc.strerror})") from None
    if len(data) > MAX_NOTES_BYTES:
        raise HandlerFileError(f"{where}: {str(path)!r} is larger than {MAX_NOTES_BYTES // 1024} KiB "
                               f"(release notes may be at most {MAX_NOTES_BYTES // 1024} KiB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise HandlerFileError(f"{where}: {str(path)!r} is not a UTF-8 text file") from None


def _run_actions(octopus: Octopus, handler_file: HandlerFile, item: _Prepared, dry_run: bool) -> list[ActionResult]:
    """Plan every action of the handler (GETs only); unless that found a fault or this is a dry
    run, then run them."""
    if dry_run:
        planned = _actions(octopus, item, dry_run=True)
    else:
        with _quiet(octopus):  # the plan is the real run's check, not news for its console
            planned = _actions(octopus, item, dry_run=True)
    failed = next((action for action in planned if action.error is not None), None)
    if failed is not None and isinstance(failed.error, Interrupted):
        return [failed]  # a signal, not a fault of the file: nothing to point at
    if failed is not None and failed.error is not None:
        loc = fault_location(item.handler, item.decision.index, failed.action, failed.error)
        point_at_file(failed.error, handler_file, loc)
        if dry_run:
            return planned
        failed.dry_run, failed.deployments = False, []
        failed.messages.append("Nothing was done: the handler is checked before its first write.")
        return [failed]
    if dry_run:
        return planned
    return _actions(octopus, item, dry_run=False)


@contextmanager
def _quiet(octopus: Octopus) -> Iterator[None]:
    """Tell the console nothing for a while (the check before a real run)."""
    observer, octopus.observer = octopus.observer, SilentObserver()
    try:
        yield
    finally:
        octopus.observer = observer


def _actions(octopus: Octopus, item: _Prepared, dry_run: bool) -> list[ActionResult]:
    """The handler's actions in order, stopping at the first that fails."""
    handler = item.handler
    wait = WaitOptions.of({**handler.wait_options(), "wording": HANDLER_FILE})
    actions: list[ActionResult] = []
    steps: list[Callable[[], ActionResult]] = []
    if handler.variables:
        steps.append(lambda: _set_variables(octopus, item, dry_run))
    if handler.create is not None:
        create = handler.create
        steps.append(
            lambda: octopus.create(
                handler.project,
                version=create.version,
                channel=create.channel,
                packages=create.packages,
                default_package_version=create.default_package_version,
                notes=item.release_notes,
                ignore_existing=create.ignore_existing,
                deploy_to=create.deploy_to,
                dry_run=dry_run,
                wait=wait,
                git_ref=create.git_ref,
                git_commit=create.git_commit,
                build_git=item.build_git,
                **create.deployment_options(),
            )
        )
    if handler.deploy is not None:
        steps.append(lambda: _deploy(octopus, handler, actions, dry_run, wait))
    if handler.promote is not None:
        steps.append(lambda: _promote(octopus, handler, actions, dry_run, wait))
    for step in steps:
        actions.append(step())
        if actions[-1].error is not None:
            break
    return actions


def _set_variables(octopus: Octopus, item: _Prepared, dry_run: bool) -> ActionResult:
    """The handler's ``variables:``; a version-controlled project's on the branch its release is
    made at."""
    handler, create = item.handler, item.handler.create
    at = ReleaseAt(create.git_ref if create else None, create.git_commit if create else None, item.build_git)
    why = f"handler '{handler.name}'" + (f", build {item.build_number}" if item.build_number else "")
    result = set_project_variables(octopus.space, handler.project, handler.variables, dry_run=dry_run, at=at,
                                   why=why)
    for message in result.messages:
        octopus.observer.note(message)
    if handler.create is None and result.ok and not _updates_snapshots(handler):
        result.messages.append(_SNAPSHOT_NOTE)
        octopus.observer.warn(_SNAPSHOT_NOTE)
    return result


def _updates_snapshots(handler: Handler) -> bool:
    """Whether every deploy and promote action of the handler refreshes its release's variable
    snapshot, so the variables the handler sets reach the deployments."""
    return all(action.update_variables for action in (handler.deploy, handler.promote) if action is not None)


_SNAPSHOT_NOTE = (
    "A release keeps the variables it was created with: deploying or promoting an existing "
    "release does not use these values unless its snapshot is updated (add update_variables: true "
    "to the deploy and promote actions, or a create: action to this handler)."
)


def _deploy(
    octopus: Octopus, handler: Handler, earlier: list[ActionResult], dry_run: bool, wait: WaitOptions
) -> ActionResult:
    """Deploy ``deploy.release``, else the release this handler's create action made."""
    assert handler.deploy is not None
    deploy = handler.deploy
    created = next((action for action in earlier if action.action == "create"), None)
    release = deploy.release or (created.release.name if created is not None and created.release else None)
    if dry_run:
        planned, new = _plan(octopus, handler, earlier, "deploy", deploy, release)
        if new:
            _say(octopus, planned, f"Would deploy the new release to {', '.join(deploy.to)} once it exists.")
        return planned
    return octopus.deploy(
        handler.project,
        release=release or "",
        to=deploy.to,
        dry_run=dry_run,
        wait=wait,
        release_reason=None if deploy.release else "the release this handler created",
        notes=deploy.notes,
        **deploy.deployment_options(),
    )


def _promote(
    octopus: Octopus, handler: Handler, earlier: list[ActionResult], dry_run: bool, wait: WaitOptions
) -> ActionResult:
    """Promote ``promote.release``; else, when this handler deployed to ``from``, the release it
    deployed there; else the latest successful release in ``from``.

    The handler's own deployment decides because the source may not show it yet: a dry run
    deploys nothing, and with ``wait: false`` the deployment is only queued (the lifecycle then
    refuses the promotion until it succeeds, instead of an older release being promoted).
    """
    assert handler.promote is not None
    promote = handler.promote
    release = promote.release
    placed = None if release is not None else _deployed_to(handler, earlier, promote.from_)
    if placed is not None:
        release = placed.release.name if placed.release else None
    if dry_run:
        planned, new = _plan(
            octopus, handler, earlier, "promote", promote, release, source=promote.from_, redeploy=promote.redeploy
        )
        if new:
            message = f"Would promote the new release from {promote.from_} to {', '.join(promote.to)} once it is there."
            _say(octopus, planned, message)
        return planned
    return octopus.promote(
        handler.project,
        source=promote.from_,
        to=promote.to,
        release=release,
        dry_run=dry_run,
        wait=wait,
        release_reason=f"the release this handler deployed to {promote.from_}" if placed is not None else None,
        notes=promote.notes,
        redeploy=promote.redeploy,
        **promote.deployment_options(),
    )


def _plan(
    octopus: Octopus,
    handler: Handler,
    earlier: list[ActionResult],
    action: Literal["deploy", "promote"],
    section: Deploy,
    release: str | None,
    **extra: Any,
) -> tuple[ActionResult, bool]:
    """The dry run of a deploy or promote action (GETs only), and whether its release is the
    one this handler creates first."""
    created = next((a for a in earlier if a.action == "create"), None)
    if release is not None and release.strip().lower() == "latest" and _is_new(created, _name(created)):
        release = _name(created)  # the release this handler creates is the newest when the real run gets here
    new = _is_new(created, release)
    planned = octopus.plan(
        action,
        handler.project,
        to=section.to,
        release=release,
        new_release=release if new else None,
        channel=handler.create.channel if handler.create is not None else None,
        lifecycle=_lifecycle_known(earlier, release),
        wording=HANDLER_FILE,
        notes=section.notes,
        **extra,
        **section.deployment_options(),
    )
    return planned, new


def _is_new(created: ActionResult | None, release: str | None) -> bool:
    """Whether ``release`` is the one this handler's create action would create (a dry run
    creates nothing, so it cannot be looked up yet)."""
    return (
        created is not None
        and bool(created.release_created)
        and created.release is not None
        and release is not None
        and created.release.name.casefold() == release.casefold()
    )


def _name(action: ActionResult | None) -> str | None:
    return action.release.name if action is not None and action.release is not None else None


def _lifecycle_known(earlier: list[ActionResult], release: str | None) -> bool:
    """Whether the lifecycle can be checked now for ``release``: not when an earlier action of
    the handler deploys it first, which moves it on."""
    moved = {a.release.name.casefold() for a in earlier if a.deployments and a.release is not None}
    return release is None or release.casefold() not in moved


def _say(octopus: Octopus, result: ActionResult, message: str) -> None:
    result.messages.append(message)
    octopus.observer.note(message)


def _deployed_to(handler: Handler, earlier: list[ActionResult], environment: str) -> ActionResult | None:
    """The last of this handler's earlier actions that deploys to ``environment``, if any."""
    targets = {
        "create": handler.create.deploy_to if handler.create is not None else [],
        "deploy": handler.deploy.to if handler.deploy is not None else [],
    }
    for action in reversed(earlier):
        if any(name.casefold() == environment.casefold() for name in targets.get(action.action, [])):
            return action
    return None

