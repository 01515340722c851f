"""Deployments: create (classic and the executions API's ``create/*/v1``), listing, one, and the
dashboard.
"""

from __future__ import annotations

from octorelease.sandbox.errors import ValidationFailed
from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.http.binding import Body
from octorelease.sandbox.rules.requests import DeploymentRequest, ExecutionRequest
from octorelease.sandbox.state.entities import (
    Deployment,
    Environment,
    Tenant,
)


def deployment_json(ctx: Ctx, d: Deployment) -> Json:
    tenant = ctx.backend.get(Tenant, None, d.tenant_id) if d.tenant_id else None
    environment = ctx.backend.get(Environment, None, d.environment_id)
    return shape.deployment(ctx.base, d, environment.name if environment else "", tenant.name if tenant else None)


@route(201)
def create_deployment(ctx: Ctx) -> Json:
    return deployment_json(ctx, _create_deployment(ctx, ctx.body, None))


@route(201)
def override_freeze(ctx: Ctx) -> Json:
    """``POST deployments/override``: a classic deployment (``CreateDeploymentCommand``) made
    despite the freezes ``FreezeIds``, for ``Reason``."""
    b = ctx.body
    if not (b.text("Reason") or "").strip():
        raise ValidationFailed("The Reason field is required.")
    command = b.object("CreateDeploymentCommand")
    if command is None:
        raise ValidationFailed("The CreateDeploymentCommand field is required.")
    return {"Deployment": deployment_json(ctx, _create_deployment(ctx, command, b))}


def _create_deployment(ctx: Ctx, b: Body, override: Body | None) -> Deployment:
    created = ctx.backend.create_deployment(ctx.space_id, DeploymentRequest(
        release_id=b.text("ReleaseId"), environment_id=b.text("EnvironmentId"), tenant_id=b.text("TenantId"),
        force_package_download=b.flag("ForcePackageDownload"),
        force_package_redeployment=b.flag("ForcePackageRedeployment"),
        skip_actions=b.strings("SkipActions"), specific_machine_ids=b.strings("SpecificMachineIds"),
        excluded_machine_ids=b.strings("ExcludedMachineIds"), use_guided_failure=b.maybe_flag("UseGuidedFailure"),
        comments=b.text("Comments"), form_values=b.mapping("FormValues"),
        queue_time=b.when("QueueTime"), queue_time_expiry=b.when("QueueTimeExpiry"),
        freeze_override_reason=override.text("Reason") if override else None,
        freeze_names=override.strings("FreezeIds") if override else [],
    ), ctx.caller)
    return created


def _execute(ctx: Ctx, *, tenanted: bool) -> Json:
    ctx.require("EnvironmentName" if tenanted else "EnvironmentNames", "ProjectName", "ReleaseVersion", "SpaceId",
                "SpaceIdOrName")
    b = ctx.body
    names = [b.text("EnvironmentName") or ""] if tenanted else b.strings("EnvironmentNames")
    variables = {k: v or "" for k, v in b.mapping("Variables").items()}
    created = ctx.backend.create_deployments_v1(ctx.space_id, ExecutionRequest(
        project=b.text("ProjectName") or "", release_version=b.text("ReleaseVersion") or "",
        environment_names=[n for n in names if n], tenants=b.strings("Tenants"), tenant_tags=b.strings("TenantTags"),
        tenanted=tenanted, force_package_download=b.flag("ForcePackageDownload"),
        force_package_redeployment=b.flag("ForcePackageRedeployment"),
        specific_machine_names=b.strings("SpecificMachineNames"),
        excluded_machine_names=b.strings("ExcludedMachineNames"),
        skip_step_names=b.strings("SkipStepNames"), use_guided_failure=b.maybe_flag("UseGuidedFailure"),
        run_at=b.when("RunAt"), no_run_after=b.when("NoRunAfter"), variables=variables,
        update_variable_snapshot=b.flag("UpdateVariableSnapshot"),
        freeze_override_reason=b.text("DeploymentFreezeOverrideReason"),
        freeze_names=b.strings("DeploymentFreezeNames"),
    ), ctx.caller)
    return {"DeploymentServerTasks": [{"DeploymentId": d.id, "ServerTaskId": d.task_id} for d in created]}


@route()
def create_untenanted_v1(ctx: Ctx) -> Json:
    return _execute(ctx, tenanted=False)


@route()
def create_tenanted_v1(ctx: Ctx) -> Json:
    return _execute(ctx, tenanted=True)


@route()
def deployments(ctx: Ctx) -> Json:
    items = ctx.backend.deployments(
        ctx.space_id, ids=ctx.q_list("ids"), projects=ctx.q_list("projects"), environments=ctx.q_list("environments"),
        tenants=ctx.q_list("tenants"), channels=ctx.q_list("channels"), task_states=ctx.q_list("taskState"))
    return ctx.page(items, "Deployment", ctx.template("Deployments"), lambda d: deployment_json(ctx, d))


@route()
def deployment(ctx: Ctx) -> Json:
    return deployment_json(ctx, ctx.backend.require(Deployment, ctx.space_id, ctx.arg("id")))


@route()
def dashboard(ctx: Ctx) -> Json:
    result = ctx.backend.dashboard(ctx.space_id, ctx.q_list("projects") or ctx.q_list("projectId"),
                                   ctx.q_list("environments"), bool(ctx.q_bool("includePrevious")))
    return shape.dashboard(ctx.base, result, ctx.backend.clock())
