"""The HTTP routes of the emulated Octopus API, thin: parse, call one model method, shape the JSON.

Each space-scoped route answers at ``/api/{spaceId}/...``, at ``/api/...`` (the default space) and
at ``/api/spaces/{spaceId}/...``; task routes without a space see every space. The routing table
at the bottom reads at a glance (moto's ``urls.py``). Errors from the models are served by
``middleware.py`` as Octopus's envelope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute

from octorelease.sandbox import estate_api
from octorelease.sandbox import resources as shape
from octorelease.sandbox.binding import Body, parse_bool, parse_csv, read_body
from octorelease.sandbox.entities import (
    Channel,
    Deployment,
    Environment,
    Feed,
    LibraryVariableSet,
    Lifecycle,
    Machine,
    Named,
    Phase,
    Project,
    Prompt,
    Release,
    Space,
    TagSet,
    Task,
    Tenant,
    Variable,
)
from octorelease.sandbox.errors import ResourceNotFound, ValidationFailed
from octorelease.sandbox.middleware import BASE_KEY, PATH_KEY
from octorelease.sandbox.models import Backend
from octorelease.sandbox.requests import DeploymentRequest, ExecutionRequest, ReleaseRequest
from octorelease.sandbox.routing import Mount, Route
from octorelease.sandbox.service import Sandbox
from octorelease.sandbox.state import UNLIMITED, Caller, select

T = TypeVar("T")
N = TypeVar("N", bound=Named)
Json = dict[str, Any]
ALL = 2147483647


class SpaceIdConvertor(Convertor[str]):
    """Matches ``Spaces-N`` only, so ``/api/{spaceId}/...`` never swallows ``/api/tasks/...``."""

    regex = "[Ss][Pp][Aa][Cc][Ee][Ss]-[0-9]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("space", SpaceIdConvertor())


@dataclass
class Ctx:
    """What a route needs from its request, already parsed."""

    request: Request
    sandbox: Sandbox
    body: Body

    @property
    def backend(self) -> Backend:
        return self.sandbox.backend

    @property
    def base(self) -> str:
        return str(self.request.scope.get(BASE_KEY, ""))

    @property
    def caller(self) -> Caller:
        caller = self.request.scope.get("state", {}).get("caller", UNLIMITED)
        return caller if isinstance(caller, Caller) else UNLIMITED

    @property
    def space(self) -> Space:
        return self.backend.space(self.request.path_params.get("space_id"))

    @property
    def space_id(self) -> str:
        return self.space.id

    @property
    def task_space(self) -> str | None:
        """Task routes without a space in the path see the tasks of every space."""
        given = self.request.path_params.get("space_id")
        return self.backend.space(given).id if given else None

    def arg(self, name: str) -> str:
        return str(self.request.path_params[name])

    def q(self, name: str) -> str | None:
        for key, value in self.request.query_params.multi_items():
            if key.lower() == name.lower():
                return value
        return None

    def q_list(self, name: str) -> list[str]:
        return parse_csv([v for k, v in self.request.query_params.multi_items() if k.lower() == name.lower()])

    def q_bool(self, name: str) -> bool | None:
        value = self.q(name)
        return None if value is None else parse_bool(value, name)

    def q_int(self, name: str, default: int) -> int:
        value = self.q(name)
        if value is None or not value.strip():
            return default
        try:
            number = int(value)
        except ValueError:
            raise ValidationFailed(f"The value '{value}' of '{name}' is not a valid number.") from None
        if number < 0:
            raise ValidationFailed(f"The value of '{name}' cannot be negative.")
        return number

    def page(self, items: Sequence[T], item_type: str, template: str, render: Callable[[T], Json]) -> Json:
        """Octopus's paged envelope (octopus-api.md §7.1): ``Page.Next`` only when more remain."""
        skip, take = self.q_int("skip", 0), self.q_int("take", 30)
        total = len(items)
        pages = max(1, -(-total // take)) if take else 1
        path = str(self.request.scope.get(PATH_KEY, self.request.url.path))
        others = [(k, v) for k, v in self.request.query_params.multi_items() if k.lower() not in ("skip", "take")]

        def at(s: int, t: int) -> str:
            return f"{path}?{urlencode([*others, ('skip', s), ('take', t)])}"

        links = {"Self": at(skip, take), "Template": template, "Page.All": at(0, ALL), "Page.Current": at(skip, take)}
        if take and skip + take < total:
            links["Page.Next"] = at(skip + take, take)
        links["Page.Last"] = at(take * (pages - 1), take)
        return {"ItemType": item_type, "TotalResults": total, "ItemsPerPage": take, "NumberOfPages": pages,
                "LastPageNumber": pages - 1, "Items": [render(i) for i in items[skip: skip + take] if take],
                "Links": links}

    def every(self, items: Sequence[T], render: Callable[[T], Json]) -> list[Json]:
        """An ``/all`` route's answer: a bare JSON array of every item, no envelope, no paging
        (octopus-api-more.md §1); ``skip``/``take`` are ignored, as Octopus does."""
        return [render(i) for i in items]

    def named(self, items: Sequence[Any]) -> list[Any]:
        return select(items, name=self.q("name"), partial_name=self.q("partialName"), ids=self.q_list("ids"))

    def stored(self, cls: type[N], within: list[N] | None = None) -> list[N]:
        """``named`` for a stored kind: the models find ``name`` and ``ids`` by index."""
        return self.backend.named(cls, self.space_id, name=self.q("name"), partial_name=self.q("partialName"),
                                  ids=self.q_list("ids"), within=within)

    def template(self, name: str) -> str:
        return f"{self.base}/api/{self.space_id}{shape.SPACE_LINKS[name]}"


Handler = Callable[[Ctx], Any]
Endpoint = Callable[[Request], Awaitable[Response]]


def route(status: int = 200) -> Callable[[Handler], Endpoint]:
    """Make a Starlette endpoint: read the body, run the handler under the models' lock (so a
    response never mixes two moments of a running task), serve its dict as JSON."""

    def wrap(handler: Handler) -> Endpoint:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            body = read_body(await request.body()) if request.method != "GET" else Body(None)
            sandbox: Sandbox = request.app.state.sandbox
            with sandbox.backend.lock:
                result = handler(Ctx(request, sandbox, body))
            return result if isinstance(result, Response) else JSONResponse(result, status_code=status)

        return endpoint

    return wrap


def _env_names(ctx: Ctx) -> dict[str, str]:
    return {e.id: e.name for e in ctx.backend.all(Environment)}


def _deployment(ctx: Ctx, d: Deployment) -> Json:
    tenant = ctx.backend.get(Tenant, None, d.tenant_id) if d.tenant_id else None
    environment = ctx.backend.get(Environment, None, d.environment_id)
    return shape.deployment(ctx.base, d, environment.name if environment else "", tenant.name if tenant else None)


def _task(ctx: Ctx, t: Task) -> Json:
    d = ctx.backend.get(Deployment, None, t.deployment_id)
    return shape.task(ctx.base, t, ctx.backend.clock(), d.project_id if d else None)


# -- system ----------------------------------------------------------------------------------------


@route()
def api_root(ctx: Ctx) -> Json:
    defaults = [s for s in ctx.backend.all(Space) if s.is_default]
    return shape.root(ctx.base, defaults[0] if defaults else None)


@route()
def spaces(ctx: Ctx) -> Json:
    return ctx.page(ctx.named(ctx.backend.all(Space)), "Space",
                    f"{ctx.base}/api/spaces{{/id}}{{?name,skip,ids,take,partialName}}",
                    lambda s: shape.space(ctx.base, s))


@route()
def all_spaces(ctx: Ctx) -> list[Json]:
    return ctx.every(ctx.named(ctx.backend.all(Space)), lambda s: shape.space(ctx.base, s))


@route()
def space(ctx: Ctx) -> Json:
    return shape.space(ctx.base, ctx.backend.space(ctx.arg("id")))


@route()
def space_root(ctx: Ctx) -> Json:
    return shape.space_root(ctx.base, ctx.space)


@route()
def current_user(ctx: Ctx) -> Json:
    return shape.user(ctx.base)


@route()
def all_users(ctx: Ctx) -> list[Json]:
    return [shape.user(ctx.base)]


@route()
def user(ctx: Ctx) -> Json:
    if ctx.arg("id").lower() != "users-1":
        raise ResourceNotFound(ctx.arg("id"))
    return shape.user(ctx.base)


def _sandbox_user(ctx: Ctx) -> None:
    if ctx.arg("id").lower() not in ("users-1", "me"):
        raise ResourceNotFound(ctx.arg("id"))


@route()
def users(ctx: Ctx) -> Json:
    return ctx.page([shape.user(ctx.base)], "User", f"{ctx.base}/api/users{{/id}}{{?skip,take,ids,filter}}",
                    lambda u: u)


def _api_keys(ctx: Ctx) -> list[Json]:
    """The sandbox user's keys: its own, then each limited one (``/_sandbox/api-keys``)."""
    _sandbox_user(ctx)
    now = ctx.backend.clock()
    return [shape.api_key(ctx.base, n, now) for n in range(1, len(ctx.backend.api_keys) + 2)]


@route()
def user_api_keys(ctx: Ctx) -> Json:
    return ctx.page(_api_keys(ctx), "ApiKey", f"{ctx.base}/api/users/Users-1/apikeys{{/id}}{{?skip,take}}",
                    lambda k: k)


@route()
def user_api_key(ctx: Ctx) -> Json:
    for key in _api_keys(ctx):
        if key["Id"].lower() == ctx.arg("key").lower():
            return key
    raise ResourceNotFound(ctx.arg("key"))


@route()
def user_permissions(ctx: Ctx) -> Json:
    _sandbox_user(ctx)
    return shape.user_permissions(ctx.base, [s.id for s in ctx.backend.all(Space)])


@route()
def user_spaces(ctx: Ctx) -> list[Json]:
    if ctx.arg("id").lower() not in ("users-1", "me"):
        raise ResourceNotFound(ctx.arg("id"))
    return [shape.space(ctx.base, s) for s in ctx.backend.all(Space)]


# -- catalog ---------------------------------------------------------------------------------------


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
    return shape.deployment_settings(ctx.base, ctx.backend.project(ctx.space_id, ctx.arg("ref")))


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
def project_channel(ctx: Ctx) -> Json:
    return shape.channel(ctx.base, ctx.backend.project_channel(ctx.space_id, ctx.arg("ref"), ctx.arg("id")))


@route()
def channel_releases(ctx: Ctx) -> Json:
    items = ctx.backend.channel_releases(ctx.space_id, ctx.arg("id"))
    return ctx.page(items, "Release", f"{ctx.base}/api/{ctx.space_id}/channels/{ctx.arg('id')}/releases"
                    "{?skip,take,searchByVersion}", lambda r: shape.release(ctx.base, r))


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
    items = [p for p in ctx.backend.all(Project, ctx.space_id)
             if not ctx.q_list("ids") or p.process_id.lower() in {i.lower() for i in ctx.q_list("ids")}]
    return ctx.page(items, "DeploymentProcess", ctx.template("DeploymentProcesses"),
                    lambda p: shape.deployment_process(ctx.base, p))


@route()
def deployment_process(ctx: Ctx) -> Json:
    ref = ctx.arg("ref").removeprefix("deploymentprocess-")
    return shape.deployment_process(ctx.base, ctx.backend.project(ctx.space_id, ref))


@dataclass(frozen=True)
class Collection:
    """The three endpoints of a space's collection: the page, ``/all`` and one item; and what
    ``/all`` answers, for the wrapped variants (``wrapped_all``)."""

    listing: Endpoint
    every: Endpoint
    single: Endpoint
    everything: Callable[[Ctx], list[Json]]

    def routes(self, path: str, *, with_all: bool = True) -> list[BaseRoute]:
        """``/all`` (where Octopus has one) before ``/{id}``, so that "all" is never taken for an id."""
        every = [Route(f"{path}/all", self.every)] if with_all else []
        return [Route(path, self.listing), *every, Route(f"{path}/{{id}}", self.single)]


@route()
def release_template(ctx: Ctx) -> Json:
    ref = ctx.request.path_params.get("ref") or ctx.arg("project")
    return shape.release_template(ctx.base, ctx.backend.release_template(ctx.space_id, ref, ctx.q("channel"),
                                                                         ctx.q("releaseId")))


def catalog(cls: type[N], item_type: str, link: str, render: Callable[[str, N], Json],
            narrow: Callable[[Ctx, list[N]], list[N]] | None = None,
            within: Callable[[Ctx], list[N] | None] | None = None) -> Collection:
    """The endpoints of a named resource: ``name``/``partialName``/``ids`` filters, paging (not
    on ``/all``), 404 for an unknown id; ``narrow`` adds the resource's own filters, ``within``
    the models' query that narrows first (None: it does not apply)."""

    def chosen(ctx: Ctx) -> list[N]:
        items: list[N] = ctx.stored(cls, within(ctx) if within else None)
        return narrow(ctx, items) if narrow else items

    @route()
    def listing(ctx: Ctx) -> Json:
        return ctx.page(chosen(ctx), item_type, ctx.template(link), lambda i: render(ctx.base, i))

    def everything(ctx: Ctx) -> list[Json]:
        return ctx.every(chosen(ctx), lambda i: render(ctx.base, i))

    @route()
    def single(ctx: Ctx) -> Json:
        return render(ctx.base, ctx.backend.require(cls, ctx.space_id, ctx.arg("id")))

    return Collection(listing, route()(everything), single, everything)


def unemulated(item_type: str, link: str) -> Collection:
    """A collection the sandbox does not emulate (README): empty pages, an empty ``/all``, and
    404 for any id, so that tools which list it work and find nothing."""

    @route()
    def listing(ctx: Ctx) -> Json:
        return ctx.page([], item_type, ctx.template(link), lambda i: i)

    def everything(ctx: Ctx) -> list[Json]:
        return []

    @route()
    def single(ctx: Ctx) -> Json:
        raise ResourceNotFound(ctx.arg("id"))

    return Collection(listing, route()(everything), single, everything)


def _machine_filters(ctx: Ctx, items: list[Machine]) -> list[Machine]:
    env_ids = {e.lower() for e in ctx.q_list("environmentIds")}
    roles = {r.lower() for r in ctx.q_list("roles")}
    health = {h.lower() for h in ctx.q_list("healthStatuses")}
    disabled = ctx.q_bool("isDisabled")
    return [m for m in items
            if (not env_ids or env_ids & {e.lower() for e in m.environment_ids})
            and (not roles or roles & {r.lower() for r in m.roles})
            and (not health or m.health_status.lower() in health)
            and (disabled is None or m.is_disabled == disabled)]


def _tenant_filters(ctx: Ctx, items: list[Tenant]) -> list[Tenant]:
    """``projectId``, and ``tags`` (canonical names): any tag of one set, one of each set given."""
    project_id, tags = ctx.q("projectId"), ctx.q_list("tags")
    return [t for t in items if (not project_id or project_id in t.project_environments) and t.has_tags(tags)]


ENVIRONMENTS = catalog(Environment, "Environment", "Environments", shape.environment,
                       lambda ctx, items: sorted(items, key=lambda e: e.sort_order))
MACHINES = catalog(Machine, "Machine", "Machines", shape.machine, _machine_filters,
                   lambda ctx: ctx.backend.machines_in_any(ctx.space_id, ids) if (ids := ctx.q_list("environmentIds"))
                   else None)
LIFECYCLES = catalog(Lifecycle, "Lifecycle", "Lifecycles", shape.lifecycle)


@route()
def save_lifecycle(ctx: Ctx) -> Json:
    b = ctx.body
    phases = [Phase(id=p.text("Id") or "", name=p.text("Name") or "", automatic=p.strings("AutomaticDeploymentTargets"),
                    optional=p.strings("OptionalDeploymentTargets"),
                    minimum=p.number("MinimumEnvironmentsBeforePromotion") or 0,
                    is_optional_phase=p.flag("IsOptionalPhase")) for p in b.objects("Phases")]
    saved = ctx.backend.save_lifecycle(ctx.space_id, ctx.request.path_params.get("id"), b.text("Name"),
                                       b.text("Description"), phases)
    return shape.lifecycle(ctx.base, saved)


CHANNELS = catalog(Channel, "Channel", "Channels", shape.channel)
TENANTS = catalog(Tenant, "Tenant", "Tenants", shape.tenant, _tenant_filters)
FEEDS = catalog(Feed, "Feed", "Feeds", shape.feed)
LIBRARY_VARIABLE_SETS = catalog(
    LibraryVariableSet, "LibraryVariableSet", "LibraryVariables", shape.library_variable_set,
    lambda ctx, items: [s for s in sorted(items, key=lambda s: s.name.lower())
                        if (ctx.q("contentType") or s.content_type).lower() == s.content_type.lower()])
TAG_SETS = catalog(TagSet, "TagSet", "TagSets", shape.tag_set,
                   lambda ctx, items: sorted(items, key=lambda s: s.sort_order))
RUNBOOKS = unemulated("Runbook", "Runbooks")
ACCOUNTS = unemulated("Account", "Accounts")
ACTION_TEMPLATES = unemulated("ActionTemplate", "ActionTemplates")
PROXIES = unemulated("Proxy", "Proxies")
CERTIFICATES = unemulated("Certificate", "Certificates")
SUBSCRIPTIONS = unemulated("Subscription", "Subscriptions")
ARTIFACTS = unemulated("Artifact", "Artifacts")
INTERRUPTIONS = unemulated("Interruption", "Interruptions")
RUNBOOK_PROCESSES = unemulated("RunbookProcess", "RunbookProcesses")
RUNBOOK_SNAPSHOTS = unemulated("RunbookSnapshot", "RunbookSnapshots")
RUNBOOK_RUNS = unemulated("RunbookRun", "RunbookRuns")
WORKER_POOLS = unemulated("WorkerPool", "WorkerPools")
WORKERS = unemulated("Worker", "Workers")


@route(201)
def create_library_variable_set(ctx: Ctx) -> Json:
    b = ctx.body
    return shape.library_variable_set(ctx.base, ctx.backend.save_library_variable_set(
        ctx.space_id, None, b.text("Name"), b.text("Description"), b.text("ContentType")))


@route()
def update_library_variable_set(ctx: Ctx) -> Json:
    b = ctx.body
    return shape.library_variable_set(ctx.base, ctx.backend.save_library_variable_set(
        ctx.space_id, ctx.arg("id"), b.text("Name"), b.text("Description"), None))


def wrapped_all(collection: Collection, key: str) -> Endpoint:
    """The newer wrapped ``/all/v1`` variant of a collection: ``{key: [every item]}``
    (octopus-api-more.md §1), e.g. ``environments/all/v1`` -> ``{"Environments": [...]}``."""

    @route()
    def endpoint(ctx: Ctx) -> Json:
        return {key: collection.everything(ctx)}

    return endpoint


@route()
def project_runbooks_v2(ctx: Ctx) -> Json:
    """``/projects/{id}/runbooks/all/v2``: ``{"Runbooks": []}``, runbooks not being emulated."""
    ctx.backend.project(ctx.space_id, ctx.arg("ref"))
    return {"Runbooks": []}


@route()
def machine_roles(ctx: Ctx) -> list[str]:
    """``machineroles/all``: every role in use in the space, as a plain array of strings."""
    return sorted({r for m in ctx.backend.all(Machine, ctx.space_id) for r in m.roles}, key=str.lower)


@route()
def operating_systems(ctx: Ctx) -> list[str]:
    """``machines/operatingsystem/names/all``: every target runs the same OS (``shape.machine``)."""
    return [shape.MACHINE_OS] if ctx.backend.all(Machine, ctx.space_id) else []


@route()
def shells(ctx: Ctx) -> list[str]:
    """``machines/operatingsystem/shells/all``: every target has the same shell (``shape.machine``)."""
    return [shape.MACHINE_SHELL] if ctx.backend.all(Machine, ctx.space_id) else []


@route()
def no_strings(ctx: Ctx) -> list[str]:
    """The string lists of something the sandbox has none of (workers' operating systems)."""
    return []


@route()
def machine_connection(ctx: Ctx) -> Json:
    m = ctx.backend.require(Machine, ctx.space_id, ctx.arg("id"))
    return shape.machine_connection(ctx.base, m, ctx.backend.clock())


@route()
def machine_tasks(ctx: Ctx) -> Json:
    items = ctx.backend.machine_tasks(ctx.space_id, ctx.arg("id"))
    return ctx.page(items, "Task", f"{ctx.base}/api/{ctx.space_id}/machines/{ctx.arg('id')}/tasks{{?skip,take,type}}",
                    lambda t: _task(ctx, t))


@route()
def tenant_variables(ctx: Ctx) -> Json:
    return shape.tenant_variables(ctx.base, ctx.backend.tenant_variables(ctx.space_id, ctx.arg("id")))


@route()
def all_tenant_variables(ctx: Ctx) -> list[Json]:
    """``tenantvariables/all``: every tenant's variables, as ``/tenants/{id}/variables`` gives them."""
    return [shape.tenant_variables(ctx.base, ctx.backend.tenant_variables(ctx.space_id, t.id))
            for t in ctx.backend.all(Tenant, ctx.space_id)]


@route()
def lifecycle_preview(ctx: Ctx) -> Json:
    life, phases = ctx.backend.lifecycle_preview(ctx.space_id, ctx.arg("id"))
    return shape.lifecycle(ctx.base, life, phases)


@route()
def lifecycle_projects(ctx: Ctx) -> list[Json]:
    return [shape.project(ctx.base, p) for p in ctx.backend.lifecycle_projects(ctx.space_id, ctx.arg("id"))]


@route()
def package_search(ctx: Ctx) -> Json:
    feed_id = ctx.arg("id")
    return ctx.page(ctx.backend.package_search(ctx.space_id, feed_id, ctx.q("term")), "PackageDescription",
                    f"{ctx.base}/api/{ctx.space_id}/feeds/{feed_id}/packages/search{{?term,take,skip}}",
                    lambda p: shape.package_description(ctx.base, feed_id, p))


@route()
def environment_machines(ctx: Ctx) -> Json:
    items = ctx.backend.environment_machines(ctx.space_id, ctx.arg("id"))
    return ctx.page(_machine_filters(ctx, items), "Machine",
                    f"{ctx.base}/api/{ctx.space_id}/environments/{ctx.arg('id')}/machines{{?skip,take,partialName,"
                    "roles,isDisabled,healthStatuses}", lambda m: shape.machine(ctx.base, m))


@route()
def project_channels(ctx: Ctx) -> Json:
    items = ctx.backend.project_channels(ctx.space_id, ctx.arg("ref"))
    return ctx.page(ctx.named(items), "Channel",
                    f"{ctx.base}/api/{ctx.space_id}/projects/{ctx.arg('ref')}/channels{{/id}}{{?skip,take,partialName}}",
                    lambda c: shape.channel(ctx.base, c))


@route()
def package_versions(ctx: Ctx) -> Json:
    versions = ctx.backend.package_versions(ctx.space_id, ctx.arg("id"), ctx.q("packageId"), ctx.q("filter"),
                                            ctx.q_bool("includePreRelease"), ctx.q("versionRange"))
    return ctx.page(versions, "PackageVersion", f"{ctx.base}/api/{ctx.space_id}/feeds/{ctx.arg('id')}/packages/"
                    "versions{?packageId,take,skip,includePreRelease,versionRange,preReleaseTag,filter}",
                    lambda p: shape.package_version(ctx.base, ctx.arg("id"), p))


# -- variables -------------------------------------------------------------------------------------


def _variables_body(body: Body) -> list[Variable]:
    variables = []
    for item in body.objects("Variables"):
        prompt = item.object("Prompt")
        scope = item.raw("Scope")
        variables.append(Variable(
            id=item.text("Id") or "", name=item.text("Name") or "", value=item.text("Value"),
            type=item.text("Type") or "String", is_sensitive=item.flag("IsSensitive"),
            scope={str(k): [str(v) for v in vs] for k, vs in scope.items() if isinstance(vs, list)}
            if isinstance(scope, dict) else {},
            prompt=Prompt(label=prompt.text("Label") or item.text("Name") or "",
                          description=prompt.text("Description") or "", required=prompt.flag("Required"))
            if prompt else None,
        ))
    return variables


def _variables(ctx: Ctx, set_id: str) -> Json:
    if ctx.request.method == "PUT":
        variables = _variables_body(ctx.body)
        result = ctx.backend.replace_variables(ctx.space_id, set_id, variables, ctx.body.number("Version"))
    else:
        result = ctx.backend.variable_set(ctx.space_id, set_id)
    return shape.variable_set(ctx.base, result, ctx.backend.all(Environment, ctx.space_id))


@route()
def variable_set(ctx: Ctx) -> Json:
    return _variables(ctx, ctx.arg("id"))


@route()
def variable_sets(ctx: Ctx) -> list[Json]:
    """``GET /variables?ids=`` and ``/variables/all``: a bare array of variable sets."""
    environments = ctx.backend.all(Environment, ctx.space_id)
    return [shape.variable_set(ctx.base, v, environments)
            for v in ctx.backend.variable_sets(ctx.space_id, ctx.q_list("ids"))]


@route()
def project_variables(ctx: Ctx) -> Json:
    return _variables(ctx, ctx.backend.project(ctx.space_id, ctx.arg("ref")).variable_set_id)


# -- releases --------------------------------------------------------------------------------------


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
    created, _ = ctx.backend.create_release(ctx.space_id, ReleaseRequest(
        project=b.text("ProjectId") or "", version=b.text("Version"), channel=b.text("ChannelId"),
        release_notes=b.text("ReleaseNotes"), packages={k: v for k, v in packages.items() if k and v},
        version_required=True,
    ))
    return shape.release(ctx.base, created)


@route(201)
def create_release_v1(ctx: Ctx) -> Json:
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
        ignore_if_exists=b.flag("IgnoreIfAlreadyExists"),
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
                    "{?skip,take}", lambda d: _deployment(ctx, d))


@route()
def deployment_template(ctx: Ctx) -> Json:
    return shape.template(ctx.base, ctx.backend.deployment_template(ctx.space_id, ctx.arg("id"), ctx.caller))


@route()
def deployment_preview(ctx: Ctx) -> Json:
    tenant_id = ctx.request.path_params.get("tenant")
    return shape.preview(ctx.backend.deployment_preview(ctx.space_id, ctx.arg("id"), ctx.arg("env"), tenant_id))


@route()
def release_progression(ctx: Ctx) -> Json:
    result = ctx.backend.release_progression(ctx.space_id, ctx.arg("id"))
    return shape.progression(ctx.base, result, _env_names(ctx), ctx.backend.clock())


# -- deployments -----------------------------------------------------------------------------------


@route(201)
def create_deployment(ctx: Ctx) -> Json:
    b = ctx.body
    created = ctx.backend.create_deployment(ctx.space_id, DeploymentRequest(
        release_id=b.text("ReleaseId"), environment_id=b.text("EnvironmentId"), tenant_id=b.text("TenantId"),
        force_package_download=b.flag("ForcePackageDownload"),
        force_package_redeployment=b.flag("ForcePackageRedeployment"),
        skip_actions=b.strings("SkipActions"), specific_machine_ids=b.strings("SpecificMachineIds"),
        excluded_machine_ids=b.strings("ExcludedMachineIds"), use_guided_failure=b.maybe_flag("UseGuidedFailure"),
        comments=b.text("Comments"), form_values=b.mapping("FormValues"),
        queue_time=b.when("QueueTime"), queue_time_expiry=b.when("QueueTimeExpiry"),
    ), ctx.caller)
    return _deployment(ctx, created)


def _execute(ctx: Ctx, *, tenanted: bool) -> Json:
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
    return ctx.page(items, "Deployment", ctx.template("Deployments"), lambda d: _deployment(ctx, d))


@route()
def deployment(ctx: Ctx) -> Json:
    return _deployment(ctx, ctx.backend.require(Deployment, ctx.space_id, ctx.arg("id")))


@route()
def dashboard(ctx: Ctx) -> Json:
    result = ctx.backend.dashboard(ctx.space_id, ctx.q_list("projects") or ctx.q_list("projectId"),
                                   ctx.q_list("environments"), bool(ctx.q_bool("includePrevious")))
    return shape.dashboard(ctx.base, result, ctx.backend.clock())


# -- tasks -----------------------------------------------------------------------------------------


@route()
def tasks(ctx: Ctx) -> Json:
    items = ctx.backend.tasks(ctx.task_space, ids=ctx.q_list("ids"), states=ctx.q_list("states"),
                              project=ctx.q("project"), environment=ctx.q("environment"), active=ctx.q_bool("active"))
    prefix = f"/api/{ctx.request.path_params['space_id']}" if "space_id" in ctx.request.path_params else "/api"
    return ctx.page(items, "Task", f"{ctx.base}{prefix}{shape.TASKS_TEMPLATE}", lambda t: _task(ctx, t))


@route()
def task(ctx: Ctx) -> Json:
    return _task(ctx, ctx.backend.task(ctx.task_space, ctx.arg("id")))


@route()
def task_details(ctx: Ctx) -> Json:
    t = ctx.backend.task(ctx.task_space, ctx.arg("id"))
    d = ctx.backend.get(Deployment, None, t.deployment_id)
    tail = ctx.q_int("tail", 0) or None
    return shape.task_details(ctx.base, t, ctx.backend.clock(), d.project_id if d else None, tail)


@route()
def task_raw(ctx: Ctx) -> Response:
    t = ctx.backend.task(ctx.task_space, ctx.arg("id"))
    d = ctx.backend.get(Deployment, None, t.deployment_id)
    related = [i for i in (t.deployment_id, d.release_id if d else None, d.project_id if d else None,
                           d.environment_id if d else None, t.space_id) if i]
    return PlainTextResponse(shape.raw_log(t, related))


@route()
def queued_behind(ctx: Ctx) -> Json:
    items = ctx.backend.queued_behind(ctx.task_space, ctx.arg("id"))
    prefix = f"/api/{ctx.request.path_params['space_id']}" if "space_id" in ctx.request.path_params else "/api"
    return ctx.page(items, "Task", f"{ctx.base}{prefix}/tasks/{ctx.arg('id')}/queued-behind{{?skip,take}}",
                    lambda t: _task(ctx, t))


@route()
def cancel_task(ctx: Ctx) -> Json:
    return _task(ctx, ctx.backend.cancel_task(ctx.task_space, ctx.arg("id")))


# -- routing table ---------------------------------------------------------------------------------

SPACE_ROUTES: list[BaseRoute] = [
    *estate_api.ROUTES,  # create, modify and delete (editing.py)
    Route("/projects", projects),
    Route("/projects/all", all_projects),
    Route("/projects/{ref}", project),
    Route("/projects/{ref}/runbooks", project_runbooks),
    Route("/projects/{ref}/runbooks/all/v2", project_runbooks_v2),
    Route("/projects/{ref}/deploymentsettings", project_deployment_settings),
    Route("/projects/{ref}/progression", project_progression),
    Route("/projects/{ref}/triggers", project_triggers),
    Route("/projects/{ref}/logo", project_logo),
    Route("/projects/{ref}/channels/{id}", project_channel),
    Route("/projects/{ref}/releases", project_releases),
    Route("/projects/{ref}/releases/{version}", project_release),
    Route("/projects/{ref}/channels", project_channels),
    Route("/projects/{ref}/deploymentprocesses", deployment_process),
    Route("/projects/{project}/deploymentprocesses/template", release_template),
    Route("/projects/{ref}/variables", project_variables, methods=["GET", "PUT"]),
    Route("/projectgroups", project_groups),
    Route("/projectgroups/all", all_project_groups),
    Route("/projectgroups/{id}", project_group),
    Route("/projectgroups/{id}/projects", project_group_projects),
    Route("/deploymentprocesses", deployment_processes),
    Route("/deploymentprocesses/{ref}", deployment_process),
    Route("/deploymentprocesses/{ref}/template", release_template),
    Route("/environments/all/v1", wrapped_all(ENVIRONMENTS, "Environments")),
    *ENVIRONMENTS.routes("/environments"),
    Route("/environments/{id}/machines", environment_machines),
    Route("/machines/operatingsystem/names/all", operating_systems),
    Route("/machines/operatingsystem/shells/all", shells),
    Route("/workers/operatingsystem/names/all", no_strings),
    Route("/workers/operatingsystem/shells/all", no_strings),
    *MACHINES.routes("/machines"),
    Route("/machines/{id}/connection", machine_connection),
    Route("/machines/{id}/tasks", machine_tasks),
    Route("/machineroles/all", machine_roles),
    *LIFECYCLES.routes("/lifecycles"),
    Route("/lifecycles", save_lifecycle, methods=["POST"]),
    Route("/lifecycles/{id}", save_lifecycle, methods=["PUT"]),
    Route("/lifecycles/{id}/preview", lifecycle_preview),
    Route("/lifecycles/{id}/projects", lifecycle_projects),
    *CHANNELS.routes("/channels"),
    Route("/channels/{id}/releases", channel_releases),
    *TENANTS.routes("/tenants"),
    Route("/tenants/{id}/variables", tenant_variables),
    Route("/tenantvariables/all", all_tenant_variables),
    *FEEDS.routes("/feeds"),
    Route("/feeds/{id}/packages/search", package_search),
    *ARTIFACTS.routes("/artifacts", with_all=False),
    *INTERRUPTIONS.routes("/interruptions", with_all=False),
    Route("/libraryvariablesets/all/v1", wrapped_all(LIBRARY_VARIABLE_SETS, "LibraryVariableSets")),
    *LIBRARY_VARIABLE_SETS.routes("/libraryvariablesets"),
    Route("/libraryvariablesets", create_library_variable_set, methods=["POST"]),
    Route("/libraryvariablesets/{id}", update_library_variable_set, methods=["PUT"]),
    *TAG_SETS.routes("/tagsets"),
    *ACCOUNTS.routes("/accounts"),
    *ACTION_TEMPLATES.routes("/actiontemplates"),
    *PROXIES.routes("/proxies"),
    *CERTIFICATES.routes("/certificates"),
    *SUBSCRIPTIONS.routes("/subscriptions"),
    *RUNBOOKS.routes("/runbooks"),
    *RUNBOOK_PROCESSES.routes("/runbookProcesses"),
    *RUNBOOK_SNAPSHOTS.routes("/runbookSnapshots"),
    *RUNBOOK_RUNS.routes("/runbookRuns"),
    *WORKER_POOLS.routes("/workerpools"),
    *WORKERS.routes("/workers"),
    Route("/feeds/{id}/packages/versions", package_versions),
    Route("/variables", variable_sets),
    Route("/variables/all", variable_sets),
    Route("/variables/{id}", variable_set, methods=["GET", "PUT"]),
    Route("/releases", releases),
    Route("/releases", create_release, methods=["POST"]),
    Route("/releases/create/v1", create_release_v1, methods=["POST"]),
    Route("/releases/{id}", release),
    Route("/releases/{id}/snapshot-variables", snapshot_variables, methods=["POST"]),
    Route("/releases/{id}/deployments", release_deployments),
    Route("/releases/{id}/deployments/template", deployment_template),
    Route("/releases/{id}/deployments/preview/{env}", deployment_preview),
    Route("/releases/{id}/deployments/preview/{env}/{tenant}", deployment_preview),
    Route("/releases/{id}/progression", release_progression),
    Route("/releases/{id}/defects", release_defects),
    Route("/deployments", deployments),
    Route("/deployments", create_deployment, methods=["POST"]),
    Route("/deployments/create/untenanted/v1", create_untenanted_v1, methods=["POST"]),
    Route("/deployments/create/tenanted/v1", create_tenanted_v1, methods=["POST"]),
    Route("/deployments/{id}", deployment),
    Route("/dashboard/dynamic", dashboard),
    Route("/dashboard", dashboard),
    Route("/tasks", tasks),
    Route("/tasks/{id}", task),
    Route("/tasks/{id}/details", task_details),
    Route("/tasks/{id}/raw", task_raw),
    Route("/tasks/{id}/queued-behind", queued_behind),
    Route("/tasks/{id}/cancel", cancel_task, methods=["POST"]),
]

ROUTES: list[BaseRoute] = [
    Route("/api", api_root),
    Route("/api/", api_root),
    Route("/api/spaces", spaces),
    Route("/api/spaces/all", all_spaces),
    Route("/api/spaces/{id}", space),
    Route("/api/users", users),
    Route("/api/users/all", all_users),
    Route("/api/users/me", current_user),
    Route("/api/users/{id}", user),
    Route("/api/users/{id}/spaces", user_spaces),
    Route("/api/users/{id}/apikeys", user_api_keys),
    Route("/api/users/{id}/apikeys/{key}", user_api_key),
    Route("/api/users/{id}/permissions", user_permissions),
    Route("/api/{space_id:space}", space_root),
    Mount("/api/spaces/{space_id:space}", routes=SPACE_ROUTES),
    Mount("/api/{space_id:space}", routes=SPACE_ROUTES),
    Mount("/api", routes=SPACE_ROUTES),
]
