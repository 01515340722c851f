"""Releases: listing, create (classic and ``create/v1``), snapshot, a release's deployments,
template, preview and progression.
"""

from __future__ import annotations

from octorelease.sandbox.errors import ValidationFailed
from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.http.api.deployments import deployment_json
from octorelease.sandbox.rules.requests import ReleaseRequest
from octorelease.sandbox.state.entities import (
    Environment,
    Release,
)


def _env_names(ctx: Ctx) -> dict[str, str]:
    return {e.id: e.name for e in ctx.backend.all(Environment)}


@route()
def project_releases(ctx: Ctx) -> Json:
    items = ctx.backend.project_releases(ctx.space_id, ctx.arg("ref"), ctx.q("searchByVersion"))
    return ctx.page(items, "Release", f"{ctx.base}/api/{ctx.space_id}/projects/{ctx.arg('ref')}/releases{{/version}}"
                    "{?skip,take,searchByVersion}", lambda r: shape.release(ctx.base, r))


@route()
def project_release(ctx: Ctx) -> Json:
    return shape.release(ctx.base, ctx.backend.project_release(ctx.space_id, ctx.arg("ref"), ctx.arg("version")))


@route()
def releases(ctx: Ctx) -> Json:
    items = list(reversed(ctx.backend.all(Release, ctx.space_id)))
    ids = {i.lower() for i in ctx.q_list("ids")}
    return ctx.page([r for r in items if not ids or r.id.lower() in ids], "Release", ctx.template("Releases"),
                    lambda r: shape.release(ctx.base, r))


@route(201)
def create_release(ctx: Ctx) -> Json:
    b = ctx.body
    packages = {p.text("StepName") or p.text("ActionName") or p.text("PackageReferenceName") or "":
                p.text("Version") or "" for p in b.objects("SelectedPackages")}
    reference = b.object("VersionControlReference")
    created, _ = ctx.backend.create_release(ctx.space_id, ReleaseRequest(
        project=b.text("ProjectId") or "", version=b.text("Version"), channel=b.text("ChannelId"),
        release_notes=b.text("ReleaseNotes"), packages={k: v for k, v in packages.items() if k and v},
        version_required=True, git_ref=reference.text("GitRef") if reference else None,
        git_commit=reference.text("GitCommit") if reference else None,
    ))
    return shape.release(ctx.base, created)


@route(201)
def create_release_v1(ctx: Ctx) -> Json:
    ctx.require("ProjectName", "SpaceId", "SpaceIdOrName")
    b = ctx.body
    packages = {}
    for entry in b.strings("Packages"):
        key, _, version = entry.rpartition(":")
        if not key or not version:
            raise ValidationFailed(f"The package '{entry}' is not in the form 'StepName:Version'.")
        packages[key.split(":")[0]] = version
    release, _ = ctx.backend.create_release(ctx.space_id, ReleaseRequest(
        project=b.text("ProjectName") or "", version=b.text("ReleaseVersion"), channel=b.text("ChannelName"),
        release_notes=b.text("ReleaseNotes"), package_version=b.text("PackageVersion"), packages=packages,
        ignore_if_exists=b.flag("IgnoreIfAlreadyExists"), git_ref=b.text("GitRef"), git_commit=b.text("GitCommit"),
    ))
    return {"ReleaseId": release.id, "ReleaseVersion": release.version}


@route()
def release(ctx: Ctx) -> Json:
    return shape.release(ctx.base, ctx.backend.require(Release, ctx.space_id, ctx.arg("id")))


@route()
def snapshot_variables(ctx: Ctx) -> Json:
    return shape.release(ctx.base, ctx.backend.snapshot_variables(ctx.space_id, ctx.arg("id")))


@route()
def release_defects(ctx: Ctx) -> Json:
    """Release defects are not emulated: no release has any."""
    release = ctx.backend.require(Release, ctx.space_id, ctx.arg("id"))
    return ctx.page([], "Defect", f"{ctx.base}/api/{ctx.space_id}/releases/{release.id}/defects{{?skip,take}}",
                    lambda d: d)


@route()
def release_deployments(ctx: Ctx) -> Json:
    items = ctx.backend.release_deployments(ctx.space_id, ctx.arg("id"))
    return ctx.page(items, "Deployment", f"{ctx.base}/api/{ctx.space_id}/releases/{ctx.arg('id')}/deployments"
                    "{?skip,take}", lambda d: deployment_json(ctx, d))


@route()
def deployment_template(ctx: Ctx) -> Json:
    return shape.template(ctx.base, ctx.backend.deployment_template(ctx.space_id, ctx.arg("id"), ctx.caller))


@route()
def deployment_preview(ctx: Ctx) -> Json:
    tenant_id = ctx.request.path_params.get("tenant")
    return shape.preview(ctx.backend.deployment_preview(ctx.space_id, ctx.arg("id"), ctx.arg("env"), tenant_id))


@route()
def deployment_previews(ctx: Ctx) -> list[Json]:
    """``POST releases/{id}/deployments/previews``: one preview per environment (and tenant) asked
    for, in order (the official Go CLI reads the prompted variables' form from them)."""
    ctx.require("DeploymentPreviews", "ReleaseId", "SpaceId")
    return [shape.preview(ctx.backend.deployment_preview(ctx.space_id, ctx.arg("id"), p.text("EnvironmentId") or "",
                                                         p.text("TenantId") or None))
            for p in ctx.body.objects("DeploymentPreviews")]


@route()
def missing_packages(ctx: Ctx) -> Json:
    """``releases/{id}/missingpackages``: the release's packages the built-in feed lacks."""
    missing = ctx.backend.missing_packages(ctx.space_id, ctx.arg("id"))
    return {"Packages": [{"Id": p.package_id, "Version": p.version} for p in missing]}


@route()
def release_progression(ctx: Ctx) -> Json:
    result = ctx.backend.release_progression(ctx.space_id, ctx.arg("id"))
    return shape.progression(ctx.base, result, _env_names(ctx), ctx.backend.clock())
