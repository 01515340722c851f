"""A run that starts again after a crash adopts what its first attempt made; it never makes it twice.

A killed service is a lost answer on a larger scale: the first attempt's POSTs may or may not
have been carried out, and nothing of its memory is left. The reconciliation that ``create``
and ``deploy`` do after a lost answer (``actions/once.py``, ``TargetPlan.newest_before``) applies,
measured from a mark taken before the first attempt's first write: the newest deployment in the
space then (``take_mark``, one GET, stored with the run).

When the run starts again (``ResumingOctopus``):

- ``create``: a release of the version asked for (or, without a version, the project's newest)
  made since the mark and carrying what we asked for (notes, package versions: ``made_as_asked``) is
  the first attempt's, and is used instead of created;
- ``deploy``, ``promote`` and ``create``'s ``deploy_to``: a deployment of the planned release to a
  target made since the mark is the first attempt's, and is joined and followed (whatever its
  state, a failure included) instead of deployed again; a joined target is not checked against
  the lifecycle again (the first attempt's deployment under way may be what holds it back now).

Runs for one project never overlap in the service, so what was made there since the mark is the
first attempt's, unless someone outside the service deployed the same release meanwhile (then
that one is followed, which is what the run asked for anyway).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from octorelease import errors
from octorelease.actions.create import ReleaseRequest, made_as_asked
from octorelease.actions.plan import Existing, Mark
from octorelease.actions.result import ActionResult, Observer
from octorelease.client import Octopus
from octorelease.octopus.models import Release, parse_time

if TYPE_CHECKING:
    from octorelease.actions.targets import TargetKey
    from octorelease.octopus.api import SpaceApi
    from octorelease.octopus.models import Project


@dataclasses.dataclass(frozen=True)
class Connection:
    """Where the handlers' actions go: the handler file's server, key and space (or the flags')."""

    server: str
    api_key: str
    space: str | None = None
    verify: bool | str = True


#: A deployment's end that an operator's re-run deploys again rather than joins.
UNSUCCESSFUL_STATES = frozenset({"Failed", "Canceled", "TimedOut"})


def connect(connection: Connection, observer: Observer, mark: Mapping[str, Any] | None, *,
            retry_failed: bool = False) -> Octopus:
    """The run's Octopus: a plain one for a first attempt, a ``ResumingOctopus`` for a later one
    or an operator's re-run (``retry_failed``: what failed is made again, the rest adopted)."""
    options: dict[str, Any] = {"space": connection.space, "verify": connection.verify, "observer": observer}
    if mark is None:
        return Octopus(connection.server, connection.api_key, **options)
    return ResumingOctopus(connection.server, connection.api_key, mark=mark, retry_failed=retry_failed, **options)


def take_mark(octopus: Octopus) -> dict[str, Any]:
    """The newest deployment in the space now (``{}`` when there is none): what "made since the
    first attempt began" is measured from."""
    space = octopus.space
    page = space.http.get_object(space.path("deployments"), {"take": 1})
    items = page.get("Items") or []
    if not items:
        return {}
    newest = space.http.expect_object(items[0], "GET", space.path("deployments"))
    return {"deployment_id": str(newest.get("Id") or ""), "created": str(newest.get("Created") or "")}


class ResumingOctopus(Octopus):
    """An ``Octopus`` for a run's later attempt: it adopts what was made since ``mark``."""

    def __init__(self, server: str, api_key: str, *, mark: Mapping[str, Any], retry_failed: bool = False,
                 **options: Any) -> None:
        super().__init__(server, api_key, **options)
        #: an operator's re-run of a failed run: a deployment since the mark that failed, was
        #: cancelled or timed out is deployed again, not joined (joined, it would fail again)
        self.retry_failed = retry_failed
        self.mark = Mark(mark["deployment_id"], mark["created"]) if mark.get("deployment_id") else None
        self._adopt = self._first_attempts_deployments

    def _since_mark(self, created: str, deployment_id: str = "") -> bool:
        if self.mark is None:
            return True
        mark_time, when = parse_time(self.mark.created), parse_time(created)
        if deployment_id:
            return self.mark.is_before(created, deployment_id)
        return mark_time is None or when is None or when >= mark_time

    def create(self, project: str, *, version: str | None = None, ignore_existing: bool = False,
               notes: str | None = None, packages: Mapping[str, str] | None = None, **rest: Any) -> ActionResult:
        adopted = None if ignore_existing else self._first_attempts_release(project, version, notes, packages)
        if adopted is not None:
            version, ignore_existing = adopted.version, True
        result = super().create(project, version=version, ignore_existing=ignore_existing, notes=notes,
                                packages=packages, **rest)
        if adopted is not None and not rest.get("dry_run"):
            message = f"Release {adopted.version} was created by this run before the service restarted: using it."
            result.messages.insert(0, message)
            self.observer.note(message)
        return result

    def _first_attempts_release(self, project: str, version: str | None, notes: str | None,
                                packages: Mapping[str, str] | None) -> Release | None:
        try:
            found_project = self.space.project(project)
            release = (self.space.find_release(found_project, version) if version
                       else self.space.latest_release(found_project))
        except errors.OctoreleaseError:
            return None  # create itself says what is wrong
        if release is None or not self._since_mark(str(release.raw.get("Assembled") or "")):
            return None
        request = ReleaseRequest(project, version, packages=dict(packages or {}), notes=notes)
        return release if made_as_asked(release, request) else None

    def _first_attempts_deployments(self, space: SpaceApi, project: Project, release: Release,
                                    targets: Sequence[TargetKey]) -> dict[TargetKey, Existing]:
        """The deployment of ``release`` each target got since the mark (newest first): the first
        attempt's, joined and followed instead of made again, and so not checked against the
        lifecycle again either (its own run may be what holds the lifecycle back now)."""
        if not targets:
            return {}
        listed = space.deployments(project_id=project.id, environment_ids=sorted({env for env, _ in targets}))
        mine = [d for d in listed if d.release_id == release.id and self._since_mark(d.created, d.id)]
        tasks = {task.id: task for task in space.tasks([d.task_id for d in mine if d.task_id])}
        adopted: dict[TargetKey, Existing] = {}
        for deployment in mine:  # newest first: the first one found per target is kept
            key = (deployment.environment_id, deployment.tenant_id)
            if key in targets and key not in adopted:
                task = tasks.get(deployment.task_id)
                state = task.state if task is not None else "Queued"
                if self.retry_failed and state in UNSUCCESSFUL_STATES:
                    continue
                adopted[key] = Existing(deployment.id, deployment.task_id, state, deployment.created)
        return adopted
