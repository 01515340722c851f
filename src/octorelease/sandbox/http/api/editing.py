"""The HTTP side of ``editing.py``: Octopus's create, modify and delete routes for environments,
machines, project groups, projects, deployment processes, channels and tenants, and package
upload (``POST packages/raw``). Thin: bind the request, call one rule, shape the answer.

Statuses as Octopus's (octopus-api-more.md §6): ``POST`` to a collection is 201 with the
resource, ``PUT /{id}`` 200 with it, ``DELETE /{id}`` 200 with no body; refusals are the
validation envelope (400, 409 for a package that exists). A ``PUT`` carries the whole resource,
as clients send it back; only its writeable fields are applied, and create-only ones (a
channel's ``ProjectId``) are ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from octorelease.sandbox.errors import ValidationFailed
from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.binding import Body, read_body
from octorelease.sandbox.http.middleware import BASE_KEY
from octorelease.sandbox.rules import git
from octorelease.sandbox.rules.editing import MachineFields, ProjectFields, StepFields, VersioningFields
from octorelease.sandbox.rules.models import Backend
from octorelease.sandbox.state.entities import DonorPackage, ProjectGroup

Json = dict[str, Any]


class Call:
    """One request, bound: its body, the space it is scoped to, the base URL for links."""

    def __init__(self, request: Request, body: Body) -> None:
        self.request, self.body = request, body
        self.backend: Backend = request.app.state.sandbox.backend
        self.space_id = self.backend.space(request.path_params.get("space_id")).id
        self.base = str(request.scope.get(BASE_KEY, ""))

    def arg(self, name: str) -> str:
        return str(self.request.path_params[name])

    def q(self, name: str) -> str | None:
        return next((v for k, v in self.request.query_params.multi_items() if k.lower() == name.lower()), None)


def endpoint(status: int = 200, *, multipart: bool = False
             ) -> Callable[[Callable[[Call], Any]], Callable[[Request], Awaitable[Response]]]:
    """A Starlette endpoint that runs the handler under the models' lock; ``None`` is an empty
    answer (a delete). ``multipart``: the body is a form (an upload), read before the lock."""

    def wrap(handler: Callable[[Call], Any]) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def run(request: Request) -> Response:
            body = Body({"file": await _first_file(request)}) if multipart else read_body(await request.body())
            backend: Backend = request.app.state.sandbox.backend
            with backend.lock:
                result = handler(Call(request, body))
            if isinstance(result, Response):
                return result
            return Response(status_code=status) if result is None else JSONResponse(result, status_code=status)

        return run

    return wrap


async def _first_file(request: Request) -> Json | None:
    """The first file part of a multipart body, whatever its field name (``file``, ``fileToUpload``,
    ``data``: clients differ), as its name and size."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ValidationFailed("The package must be sent as multipart/form-data.")
    async with request.form() as form:
        for _, value in form.multi_items():
            if isinstance(value, UploadFile):  # spooled to disk by the parser; only its size is kept
                return {"name": value.filename or "", "size": value.size or 0}
    return None


# -- environments ----------------------------------------------------------------------------------


def _save_environment(call: Call, environment_id: str | None) -> Json:
    b = call.body
    saved = call.backend.save_environment(call.space_id, environment_id, b.text("Name"), b.text("Description"),
                                          b.number("SortOrder"), b.maybe_flag("UseGuidedFailure"))
    return shape.environment(call.base, saved)


@endpoint(201)
def create_environment(call: Call) -> Json:
    return _save_environment(call, None)


@endpoint()
def modify_environment(call: Call) -> Json:
    return _save_environment(call, call.arg("id"))


@endpoint()
def delete_environment(call: Call) -> None:
    call.backend.delete_environment(call.space_id, call.arg("id"))


# -- machines --------------------------------------------------------------------------------------


def _save_machine(call: Call, machine_id: str | None) -> Json:
    b = call.body
    endpoint_body = b.object("Endpoint") or Body(None)
    fields = MachineFields(
        name=b.text("Name"), environment_ids=b.strings("EnvironmentIds"), roles=b.strings("Roles"),
        tenant_ids=b.strings("TenantIds"), is_disabled=b.flag("IsDisabled"),
        communication_style=endpoint_body.text("CommunicationStyle"),
        uri=endpoint_body.text("Uri") or b.text("Uri"),
        thumbprint=endpoint_body.text("Thumbprint") or b.text("Thumbprint"),
        tenanted_participation=b.text("TenantedDeploymentParticipation"), description=b.text("Description"))
    return shape.machine(call.base, call.backend.save_machine(call.space_id, machine_id, fields))


@endpoint(201)
def create_machine(call: Call) -> Json:
    return _save_machine(call, None)


@endpoint()
def modify_machine(call: Call) -> Json:
    return _save_machine(call, call.arg("id"))


@endpoint()
def delete_machine(call: Call) -> None:
    call.backend.delete_machine(call.space_id, call.arg("id"))


# -- project groups --------------------------------------------------------------------------------


def _group(call: Call, group: ProjectGroup) -> Json:
    return shape.project_group(call.base, group)


@endpoint(201)
def create_project_group(call: Call) -> Json:
    return _group(call, call.backend.save_project_group(call.space_id, None, call.body.text("Name"),
                                                        call.body.text("Description")))


@endpoint()
def modify_project_group(call: Call) -> Json:
    return _group(call, call.backend.save_project_group(call.space_id, call.arg("id"), call.body.text("Name"),
                                                        call.body.text("Description")))


@endpoint()
def delete_project_group(call: Call) -> None:
    call.backend.delete_project_group(call.space_id, call.arg("id"))


# -- projects --------------------------------------------------------------------------------------


def versioning_fields(body: Body) -> VersioningFields | None:
    """A body's ``VersioningStrategy`` (a project's, or its deployment settings'), if it has one."""
    strategy = body.object("VersioningStrategy")
    if strategy is None:
        return None
    donor = strategy.object("DonorPackage")
    action = donor.text("DeploymentAction") if donor is not None else None
    return VersioningFields(strategy.text("Template"), DonorPackage(
        action=action, reference=donor.text("PackageReference") or "") if donor is not None and action else None)


def _save_project(call: Call, project_id: str | None) -> Json:
    b = call.body
    fields = ProjectFields(
        name=b.text("Name"), lifecycle_id=b.text("LifecycleId"), project_group_id=b.text("ProjectGroupId"),
        description=b.text("Description"), tenanted_mode=b.text("TenantedDeploymentMode"),
        is_disabled=b.maybe_flag("IsDisabled"),
        included_library_variable_set_ids=b.strings("IncludedLibraryVariableSetIds")
        if b.raw("IncludedLibraryVariableSetIds") is not None else None,
        versioning=versioning_fields(b))
    return shape.project(call.base, call.backend.save_project(call.space_id, project_id, fields))


@endpoint()
def modify_deployment_settings(call: Call) -> Json:
    """``PUT projects/{id}/deploymentsettings`` (a version-controlled project's at
    ``projects/{id}/{gitRef}/deploymentsettings``, its database route 404): of what it carries,
    the sandbox keeps the versioning strategy (the rest is not emulated)."""
    project = call.backend.project(call.space_id, call.arg("ref"))
    git_ref = call.request.path_params.get("gitRef")
    if git_ref is not None:  # a version-controlled project's, at a branch: a commit
        saved = call.backend.save_settings_at(call.space_id, project.id, git_ref, versioning_fields(call.body))
        return shape.deployment_settings(call.base, saved, git_ref)
    git.database_only(project, f"deploymentsettings-{project.id}")
    fields = ProjectFields(name=None, lifecycle_id=None, versioning=versioning_fields(call.body))
    return shape.deployment_settings(call.base, call.backend.save_project(call.space_id, project.id, fields))


@endpoint(201)
def create_project(call: Call) -> Json:
    return _save_project(call, None)


@endpoint()
def modify_project(call: Call) -> Json:
    project = call.backend.project(call.space_id, call.arg("ref"))
    return _save_project(call, project.id)


@endpoint()
def delete_project(call: Call) -> None:
    call.backend.delete_project(call.space_id, call.backend.project(call.space_id, call.arg("ref")).id)


# -- deployment process ----------------------------------------------------------------------------


def _properties(body: Body) -> dict[str, Any]:
    """A step's or action's ``Properties``, keys in lower case (values are strings, or objects
    for sensitive ones)."""
    raw = body.raw("Properties")
    if raw is not None and not isinstance(raw, dict):
        raise ValidationFailed("The value of 'Properties' must be an object.")
    return {str(k).lower(): v for k, v in (raw or {}).items()}


def _step_fields(step: Body) -> StepFields:
    actions = step.objects("Actions")
    action = actions[0] if actions else Body(None)
    properties = {**_properties(step), **_properties(action)}
    roles = str(properties.get("octopus.action.targetroles") or "").split(",")
    packages = action.objects("Packages")
    package = packages[0] if packages else None
    package_id = (package.text("PackageId") if package else None) or properties.get("octopus.action.package.packageid")
    feed_id = (package.text("FeedId") if package else None) or properties.get("octopus.action.package.feedid")
    script = properties.get("octopus.action.script.scriptbody")
    instructions = properties.get("octopus.action.manual.instructions")
    teams = str(properties.get("octopus.action.manual.responsibleteamids") or "").split(",")
    return StepFields(
        id=step.text("Id"), name=step.text("Name"), roles=roles, action_id=action.text("Id"),
        action_name=action.text("Name"), action_type=action.text("ActionType") if actions else None,
        package_id=str(package_id) if package_id else None, feed_id=str(feed_id) if feed_id else None,
        script=script if isinstance(script, str) else "", is_disabled=action.flag("IsDisabled"),
        extra_actions=max(0, len(actions) - 1), environments=action.strings("Environments"),
        instructions=instructions if isinstance(instructions, str) else "",
        responsible_team_ids=[t.strip() for t in teams if t.strip()])


@endpoint()
def save_deployment_process(call: Call) -> Json:
    """``PUT deploymentprocesses/{id}`` or ``PUT projects/{ref}/deploymentprocesses``: the whole
    process; a release's frozen copy (``...-s-N-XXXXX``) is not the project's and is refused."""
    ref = call.request.path_params.get("ref", "")
    if "-s-" in ref:
        raise ValidationFailed("A release's snapshot of the deployment process cannot be changed.")
    project_ref = ref.removeprefix("deploymentprocess-").removeprefix("DeploymentProcess-")
    steps = [_step_fields(s) for s in call.body.objects("Steps")]
    git_ref = call.request.path_params.get("gitRef")
    project = call.backend.save_process(call.space_id, project_ref, call.body.number("Version"), steps, git_ref)
    return shape.deployment_process(call.base, project, git_ref)


# -- channels and tenants --------------------------------------------------------------------------


def _save_channel(call: Call, channel_id: str | None) -> Json:
    b = call.body
    saved = call.backend.save_channel(call.space_id, channel_id, b.text("ProjectId"), b.text("Name"),
                                      b.text("Description"), b.text("LifecycleId"), b.maybe_flag("IsDefault"))
    return shape.channel(call.base, saved)


@endpoint(201)
def create_channel(call: Call) -> Json:
    return _save_channel(call, None)


@endpoint()
def modify_channel(call: Call) -> Json:
    return _save_channel(call, call.arg("id"))


@endpoint()
def delete_channel(call: Call) -> None:
    call.backend.delete_channel(call.space_id, call.arg("id"))


def _save_tenant(call: Call, tenant_id: str | None) -> Json:
    b = call.body
    raw = b.raw("ProjectEnvironments")
    if raw is not None and not (isinstance(raw, dict) and all(isinstance(v, list) for v in raw.values())):
        raise ValidationFailed("ProjectEnvironments must map project ids to lists of environment ids.")
    connections = {str(k): [str(e) for e in v] for k, v in raw.items()} if raw is not None else None
    saved = call.backend.save_tenant(call.space_id, tenant_id, b.text("Name"), b.text("Description"), connections)
    return shape.tenant(call.base, saved)


@endpoint(201)
def create_tenant(call: Call) -> Json:
    return _save_tenant(call, None)


@endpoint()
def modify_tenant(call: Call) -> Json:
    return _save_tenant(call, call.arg("id"))


@endpoint()
def delete_tenant(call: Call) -> None:
    call.backend.delete_tenant(call.space_id, call.arg("id"))


# -- packages --------------------------------------------------------------------------------------


@endpoint(multipart=True)
def upload_package(call: Call) -> Response:
    """``POST packages/raw{?overwriteMode}`` (or the older ``?replace=true``): 201 for a file kept,
    200 for an existing one left as it was (``IgnoreIfExists``)."""
    mode = call.q("overwriteMode")
    if mode is None:
        replace = (call.q("replace") or "").strip().lower()
        mode = "OverwriteExisting" if replace == "true" else "FailIfExists"
    file = call.body.raw("file") or {}
    uploaded = call.backend.upload_package(call.space_id, file.get("name"), int(file.get("size") or 0), mode)
    return JSONResponse(shape.uploaded_package(call.base, call.space_id, uploaded.package),
                        status_code=201 if uploaded.created else 200)
