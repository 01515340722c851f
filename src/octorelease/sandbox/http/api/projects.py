"""Projects, project groups, deployment processes and the release template; the per-project
collections the sandbox does not emulate (triggers, runbooks) answer empty.
"""

from __future__ import annotations

from starlette.responses import Response

from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.rules import git
from octorelease.sandbox.state.entities import (
    Project,
)


@route()
def projects(ctx: Ctx) -> Json:
    return ctx.page(ctx.stored(Project), "Project", ctx.template("Projects"),
                    lambda p: shape.project(ctx.base, p))


@route()
def all_projects(ctx: Ctx) -> list[Json]:
    return ctx.every(ctx.stored(Project), lambda p: shape.project(ctx.base, p))


@route()
def project(ctx: Ctx) -> Json:
    return shape.project(ctx.base, ctx.backend.project(ctx.space_id, ctx.arg("ref")))


@route()
def project_deployment_settings(ctx: Ctx) -> Json:
    project = ctx.backend.project(ctx.space_id, ctx.arg("ref"))
    git.database_only(project, f"deploymentsettings-{project.id}")
    return shape.deployment_settings(ctx.base, project)


@route()
def project_progression(ctx: Ctx) -> Json:
    result = ctx.backend.project_progression(ctx.space_id, ctx.arg("ref"), ctx.q_int("releaseHistoryCount", 3))
    return shape.project_progression(ctx.base, result, ctx.backend.clock())


def _none_in_project(ctx: Ctx, item_type: str, collection: str) -> Json:
    """An empty page of a per-project collection the sandbox does not emulate, once the project
    is known to exist (404 otherwise), so tools that list it find nothing rather than fail."""
    project = ctx.backend.project(ctx.space_id, ctx.arg("ref"))
    return ctx.page([], item_type, f"{ctx.base}/api/{ctx.space_id}/projects/{project.id}/{collection}", lambda i: i)


@route()
def project_triggers(ctx: Ctx) -> Json:
    """Project triggers are not emulated: every project has none."""
    return _none_in_project(ctx, "ProjectTrigger", "triggers{?skip,take,partialName,triggerActionType}")


@route()
def project_logo(ctx: Ctx) -> Response:
    ctx.backend.project(ctx.space_id, ctx.arg("ref"))
    return Response(shape.LOGO_PNG, media_type="image/png")


@route()
def project_runbooks(ctx: Ctx) -> Json:
    """Runbooks are not emulated: every project has none (an empty page, for tools that list them)."""
    return _none_in_project(ctx, "Runbook", "runbooks{?skip,take,partialName}")


@route()
def project_groups(ctx: Ctx) -> Json:
    return ctx.page(ctx.named(ctx.backend.project_groups(ctx.space_id)), "ProjectGroup", ctx.template("ProjectGroups"),
                    lambda g: shape.project_group(ctx.base, g))


@route()
def all_project_groups(ctx: Ctx) -> list[Json]:
    return ctx.every(ctx.named(ctx.backend.project_groups(ctx.space_id)), lambda g: shape.project_group(ctx.base, g))


@route()
def project_group(ctx: Ctx) -> Json:
    return shape.project_group(ctx.base, ctx.backend.project_group(ctx.space_id, ctx.arg("id")))


@route()
def project_group_projects(ctx: Ctx) -> Json:
    group = ctx.backend.project_group(ctx.space_id, ctx.arg("id"))
    members = [p for p in ctx.backend.all(Project, ctx.space_id) if p.project_group_id == group.id]
    return ctx.page(members, "Project", f"{ctx.base}/api/{ctx.space_id}/projectgroups/{group.id}/projects"
                    "{?skip,take}", lambda p: shape.project(ctx.base, p))


@route()
def deployment_processes(ctx: Ctx) -> Json:
    ids = {i.lower() for i in ctx.q_list("ids")}
    items = [p for p in ctx.backend.all(Project, ctx.space_id)
             if not git.is_git(p) and (not ids or p.process_id.lower() in ids)]
    return ctx.page(items, "DeploymentProcess", ctx.template("DeploymentProcesses"),
                    lambda p: shape.deployment_process(ctx.base, p))


@route()
def deployment_process(ctx: Ctx) -> Json:
    ref = ctx.arg("ref").removeprefix("deploymentprocess-")
    project = ctx.backend.project(ctx.space_id, ref)
    git.database_only(project, project.process_id)
    return shape.deployment_process(ctx.base, project)


@route()
def release_template(ctx: Ctx) -> Json:
    ref = ctx.request.path_params.get("ref") or ctx.arg("project")
    return shape.release_template(ctx.base, ctx.backend.release_template(ctx.space_id, ref, ctx.q("channel"),
                                                                         ctx.q("releaseId")))


@route()
def project_runbooks_v2(ctx: Ctx) -> Json:
    """``/projects/{id}/runbooks/all/v2``: ``{"Runbooks": []}``, runbooks not being emulated."""
    ctx.backend.project(ctx.space_id, ctx.arg("ref"))
    return {"Runbooks": []}
