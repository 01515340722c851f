"""Plan the deployments of a release that is not created yet.

A dry run of ``create --deploy-to`` (or of a handler that creates, deploys and promotes) lists
the deployments the real run would make, and a handler checks them before its first write.
What the new release will be made of is known before it exists: a release takes a snapshot of
the deployment process and of the project's variables, prompted ones included, so its steps
and prompts are read from the project. Where its lifecycle will let it go is not known until
it exists; the real run checks that before it creates any deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from octorelease.actions.choose import ChosenRelease
from octorelease.actions.plan import DeploymentOptions, DeploymentPlan
from octorelease.actions.targets import build_plan, resolve_environments
from octorelease.octopus.api import DeploymentPreview, FormElement, PreviewStep, Project, Release, SpaceApi

#: What the id of a release that does not exist yet reads as, in plans and ``--json``.
NEW_RELEASE_ID = "(new)"


def release_content(space: SpaceApi, project: Project) -> DeploymentPreview:
    """The steps and prompted variables a release created now would have (two GETs)."""
    process = space.deployment_process(project)
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
        for variable in space.variable_set(project).get("Variables") or ()
        if variable.get("Prompt")
    )
    return DeploymentPreview(steps, form, False)


def plan_new_release(
    space: SpaceApi,
    *,
    action: Literal["deploy", "promote"],
    project: str,
    version: str,
    targets: Sequence[str],
    source: str | None = None,
    options: DeploymentOptions | None = None,
    reason: str = "the release this run creates",
) -> DeploymentPlan:
    """Validate deployments of the release ``version`` that this run will create (GETs only):
    environments, tenants, machines, steps to skip and prompted variables, not the lifecycle."""
    found_project = space.project(project)
    named = [source, *targets] if source is not None else list(targets)
    environments = resolve_environments(space.environments(), named, space.space.name)
    source_env = environments.pop(0) if source is not None else None
    release = Release(NEW_RELEASE_ID, version, found_project.id, None, {})
    return build_plan(
        space,
        action=action,
        project=found_project,
        chosen=ChosenRelease(release, reason),
        environments=environments,
        options=options,
        from_environment=source_env,
        content=release_content(space, found_project),
    )
