"""Plan the deployments of a release that is not created yet.

A dry run of ``create --deploy-to`` (or of a handler that creates, deploys and promotes) lists
the deployments the real run would make, and a handler checks them before its first write.
What the new release will be made of is known before it exists: a release takes a snapshot of
the deployment process and of the project's variables, prompted ones included, so its steps
and prompts are read from the project. Where its lifecycle lets it go first is known too: a
release with no deployment goes to the environments of the lifecycle's phases up to the first
one that must be completed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from octorelease import errors
from octorelease.actions.choose import ChosenRelease, OnRelease
from octorelease.actions.options import DeploymentOptions
from octorelease.actions.plan import DeploymentPlan
from octorelease.actions.targets import build_plan, newest_per_target, resolve_environments
from octorelease.actions.wording import COMMAND_LINE, Wording
from octorelease.octopus.api import SpaceApi
from octorelease.octopus.models import DeploymentPreview, Environment, FormElement, PreviewStep, Project, Release

#: What the id of a release that does not exist yet reads as, in plans and ``--json``.
NEW_RELEASE_ID = "(new)"


def _variables(space: SpaceApi, project: Project, git_ref: str | None) -> list[dict[str, Any]]:
    """The project's variables; a version-controlled project's Git ones at ``git_ref`` and its
    sensitive ones, which stay in the database."""
    found = list(space.variable_set(project, git_ref).get("Variables") or ())
    return [*found, *(space.variable_set(project).get("Variables") or ())] if git_ref else found


def release_content(space: SpaceApi, project: Project, git_ref: str | None = None) -> DeploymentPreview:
    """The steps and prompted variables a release created now would have (two GETs); a
    version-controlled project's at the ref the release is made at."""
    process = space.deployment_process(project, git_ref)
    steps = tuple(
        PreviewStep(action.get("Id") or "", action.get("Name") or "", (), True, False)
        for step in process.get("Steps") or ()
        for action in step.get("Actions") or ()
        if not action.get("IsDisabled")
    )
    form = tuple(
        FormElement(
            variable.get("Id") or "",
            variable.get("Name") or "",
            (variable["Prompt"].get("Label") or variable.get("Name") or ""),
            bool(variable["Prompt"].get("Required")),
        )
        for variable in _variables(space, project, git_ref)
        if variable.get("Prompt")
    )
    return DeploymentPreview(steps, form, False)


def first_environments(space: SpaceApi, project: Project, channel: str | None) -> tuple[set[str], str | None]:
    """Where a release with no deployment yet may go (environment ids), and the phase that holds
    the rest back: the channel's lifecycle (else the project's), phase by phase until the first
    one that needs deployments to complete (two or three GETs)."""
    wanted = (channel or "").strip().lower()
    lifecycle_id = project.lifecycle_id
    for found in space.channels(project):
        named = wanted in (str(found.get("Id")).lower(), str(found.get("Name")).lower())
        if (named if wanted else found.get("IsDefault")) and found.get("LifecycleId"):
            lifecycle_id = str(found["LifecycleId"])
    if lifecycle_id is None:
        return set(), None
    allowed: set[str] = set()
    for phase in space.lifecycle_preview(lifecycle_id).get("Phases") or ():
        targets = [*(phase.get("AutomaticDeploymentTargets") or ()), *(phase.get("OptionalDeploymentTargets") or ())]
        allowed.update(targets)
        need = min(int(phase.get("MinimumEnvironmentsBeforePromotion") or 0) or len(targets), len(targets))
        if not phase.get("IsOptionalPhase") and need > 0:
            return allowed, str(phase.get("Name") or "")
    return allowed, None


def check_first_lifecycle(
    space: SpaceApi, project: Project, version: str, channel: str | None, environments: Sequence[Environment]
) -> None:
    """Refuse targets the lifecycle will not let a new release reach first, naming each."""
    allowed, blocker = first_environments(space, project, channel)
    refused = [env for env in environments if env.id not in allowed]
    if not refused:
        return
    reason = f"the lifecycle has not reached it yet (phase '{blocker}' is not complete)" if blocker else (
        "not in the release's lifecycle"
    )
    names = ", ".join(env.name for env in refused)
    raise errors.DeploymentNotAllowed(
        f"Release {version} of {project.name} cannot be deployed to {names}: {reason}. Nothing was created.",
        reasons={env.name: reason for env in refused},
        hint="Deploy to the earlier environments of the lifecycle first.",
    ).about("to", [env.name for env in refused])


def plan_new_release(
    space: SpaceApi,
    *,
    action: Literal["deploy", "promote"],
    project: str | Project,
    version: str,
    targets: Sequence[str],
    source: str | None = None,
    options: DeploymentOptions | None = None,
    reason: str = "the release this run creates",
    on_release: OnRelease | None = None,
    lifecycle: bool = True,
    channel: str | None = None,
    baseline: bool = False,
    git_ref: str | None = None,
    wording: Wording = COMMAND_LINE,
) -> DeploymentPlan:
    """Validate deployments of the release ``version`` that this run will create (GETs only):
    environments, tenants, machines, steps to skip, prompted variables and, unless
    ``lifecycle=False`` (an earlier deployment moves it on), where the lifecycle of ``channel``
    lets a new release go first. ``baseline``: read what each target has now (the dashboard), so
    that the plan can be carried out once the release is made (``create --deploy-to``): only a
    deployment made after this look can then be ours after a lost answer, or a twin. ``wording``:
    how its refusals name settings (a handler's fields)."""
    found_project = project if isinstance(project, Project) else space.project(project)
    named = [source, *targets] if source is not None else list(targets)
    environments = resolve_environments(space, named)
    source_env = environments.pop(0) if source is not None else None
    if lifecycle:
        check_first_lifecycle(space, found_project, version, channel, environments)
    release = Release(NEW_RELEASE_ID, version, found_project.id, None, {})
    return build_plan(
        space,
        action=action,
        project=found_project,
        chosen=ChosenRelease(release, reason),
        environments=environments,
        options=options,
        from_environment=source_env,
        on_release=on_release,
        content=release_content(space, found_project, git_ref),
        newest=newest_per_target(space.dashboard(found_project.id, [e.id for e in environments], False))
        if baseline
        else None,
        wording=wording,
    )
