"""Typed access to the parts of the Octopus REST API that octorelease needs.

Resources are the small frozen dataclasses of ``models.py``, built from Octopus JSON. This is
where shapes are checked: an object where an object belongs (``get_object``), a list of objects
in ``Items``, and the fields a resource cannot do without (``_build``); anything else is a
``BadResponse`` naming the URL, not a ``KeyError`` three modules further on. Every lookup asks
for as little as the job needs: what is named is resolved with the API's filters (``ids=``,
``name=``, ``environmentIds=``, ``projectId=``), so a space of thousands of environments costs
what a space of ten does; whole collections are read only on the error path, to suggest a name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from octorelease import errors
from octorelease.octopus.http import NOT_OCTOPUS_HINT, OctopusHttp
from octorelease.octopus.models import (
    DashboardItem,
    Deployment,
    DeploymentFreeze,
    DeploymentPreview,
    DeploymentTemplate,
    Environment,
    Interruption,
    Machine,
    Project,
    Release,
    ReleaseTemplate,
    Space,
    TagSet,
    Task,
    TemplatePackage,
    Tenant,
)
from octorelease.suggest import closest

R = TypeVar("R")

#: Octopus ids look like ``Projects-12``; anything else is a name (or a slug).
_ID_PATTERN = re.compile(r"^[A-Za-z]+-\d+$")

#: Large enough that one page holds every environment, machine or tenant of a real space.
BIG_PAGE = 1000
#: The most pages of one collection read (``_items``): a hundred thousand items at ``BIG_PAGE``.
MAX_PAGES = 100

#: The first Octopus Server with the executions API (``releases/create/v1``), as the official
#: npm client checks it before using that API.
EXECUTIONS_API_VERSION = "2022.3.5512"


def version_at_least(version: str, minimum: str) -> bool:
    """True when an Octopus Server ``version`` (``2024.3.10989``) is ``minimum`` or later. A
    local build of the server says ``0.0.0`` (with a suffix) and counts as the newest; a version
    that cannot be read counts as new enough, so that an odd answer never stops a release."""
    if re.fullmatch(r"0\.0\.0(?:[-+].*)?", version.strip()):
        return True
    wanted = [int(part) for part in minimum.split(".")]
    found = re.match(r"^\s*(\d+)\.(\d+)\.(\d+)", version)
    if found is None:
        return True
    return [int(part) for part in found.groups()] >= wanted


def looks_like_id(value: str, kind: str) -> bool:
    """True when ``value`` is an Octopus id of ``kind`` (e.g. ``Projects-1`` for ``Projects``)."""
    return bool(_ID_PATTERN.fullmatch(value)) and value.lower().startswith(kind.lower() + "-")


def segment(value: str) -> str:
    """``value`` (a version, an id the user typed) as one path segment of a request: every
    character percent-encoded but letters, digits and ``-._~``, so that ``/``, ``?``, ``#``, ``..``
    and control characters stay part of the value instead of changing which request is made."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def did_you_mean(wanted: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate (case-insensitive), or the few there are, or None."""
    names = list(candidates)
    close = closest(wanted, names, ignore_case=True, cutoff=0.5)
    if close:
        return f"did you mean '{close}'?"
    if names and len(names) <= 8:
        return "known: " + ", ".join(f"'{n}'" for n in names)
    return None


def _build(http: OctopusHttp, path: str, make: Callable[[dict[str, Any]], R], doc: Any, method: str = "GET") -> R:
    """``make(doc)`` for one resource of the answer to ``path``; a resource that is not an object
    or lacks a field it cannot do without is a ``BadResponse`` naming the URL."""
    try:
        return make(http.expect_object(doc, method, path))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        missing = f"without {exc}" if isinstance(exc, KeyError) else f"of the wrong shape ({exc})"
        raise errors.BadResponse(
            f"{method} {http.server}{path} answered a resource {missing}, not as Octopus does.", hint=NOT_OCTOPUS_HINT
        ) from None


def _page_items(http: OctopusHttp, path: str, page: dict[str, Any]) -> list[Any]:
    """The ``Items`` of a collection page, which must be a list (possibly missing: none)."""
    items = page.get("Items")
    if items is None:
        return []
    if not isinstance(items, list):
        raise errors.BadResponse(
            f"GET {http.server}{path} answered 'Items' that is not a list, not as Octopus does.",
            hint=NOT_OCTOPUS_HINT,
        )
    return items


def _collection(http: OctopusHttp, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The items of one page of a collection, each checked to be an object."""
    page = http.get_object(path, params)
    return [http.expect_object(item, "GET", path) for item in _page_items(http, path, page)]


class OctopusApi:
    """Typed calls on one Octopus server. ``space(...)`` resolves a space and returns the
    space-scoped API that everything else goes through."""

    def __init__(self, http: OctopusHttp) -> None:
        self.http = http

    def server_version(self) -> str:
        """The server's ``Version`` from ``GET /api`` (one request, no key needed); "" when the
        answer has none."""
        root = self.http.get_object("/api")
        version = root.get("Version")
        return version if isinstance(version, str) else ""

    def space(self, identifier: str | None) -> SpaceApi:
        """The space named or numbered ``identifier``, or the server's default space."""
        http = self.http
        if not identifier:
            return SpaceApi(http, None)
        if looks_like_id(identifier, "Spaces"):
            path = f"/api/spaces/{segment(identifier)}"
            try:
                return SpaceApi(http, _build(http, path, Space.from_json, http.get(path)))
            except errors.NotFound:
                pass
        spaces = [_build(http, "/api/spaces", Space.from_json, d)
                  for d in _collection(http, "/api/spaces", {"partialName": identifier, "take": BIG_PAGE})]
        for space in spaces:
            if space.name.strip().lower() == identifier.strip().lower():
                return SpaceApi(http, space)
        everything = _collection(http, "/api/spaces", {"take": BIG_PAGE})
        raise errors.NotFound(
            f"Space '{identifier}' not found.",
            hint=did_you_mean(identifier, (str(d.get("Name")) for d in everything)),
        )

    def default_space(self) -> Space:
        """The server's default space (one request); an error when it has none."""
        http = self.http
        for doc in _collection(http, "/api/spaces", {"take": BIG_PAGE}):
            space = _build(http, "/api/spaces", Space.from_json, doc)
            if space.is_default:
                return space
        raise errors.InvalidInput(
            "Octopus has no default space, so a space must be named.", hint="Pass --space NAME or set OCTOPUS_SPACE."
        )


class SpaceApi:
    """Calls scoped to one space (paths ``/api/{spaceId}/...``); tasks are system-level.

    Without a space (``space=None``: the server's default), nothing is asked up front: the
    first lookup goes to Octopus's unscoped routes (``/api/projects``), which serve the default
    space, and the project it finds says which space that is (``SpaceId``); every later path is
    scoped to it. The space's own resource (its name) is read only when something needs it."""

    def __init__(self, http: OctopusHttp, space: Space | None) -> None:
        self.http = http
        self._space = space
        self.space_id: str | None = space.id if space is not None else None
        self._prefix = f"/api/{space.id}" if space is not None else "/api"

    @property
    def space(self) -> Space:
        """The space resource; for the default space, looked up on first use (one request)."""
        if self._space is None:
            self._space = OctopusApi(self.http).default_space()
            self._scope(self._space.id)
        return self._space

    @property
    def space_name(self) -> str:
        """The space's name when it is known without a request, else ""."""
        return self._space.name if self._space is not None else ""

    def _scope(self, space_id: str | None) -> None:
        """Scope later paths to ``space_id``, once an unscoped answer has said which space it is."""
        if space_id and self.space_id is None:
            self.space_id = space_id
            self._prefix = f"/api/{space_id}"

    def path(self, rest: str) -> str:
        return f"{self._prefix}/{rest.lstrip('/')}"

    def web_url(self, deployment_id: str, link: str | None = None) -> str:
        """The portal page of a deployment: its ``Web`` link, or where Octopus puts it."""
        return self.http.server + link if link else self._portal(f"deployments/{deployment_id}")

    def task_url(self, task_id: str) -> str:
        """The portal page of a task (where a person answers what it waits for)."""
        return self._portal(f"tasks/{task_id}")

    def _portal(self, page: str) -> str:
        return f"{self.http.server}/app#/{self.known_space_id()}/{page}"

    def items(self, rest: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a paged collection of the space (``rest``: its path under the space)."""
        return self._items(rest, params)

    def _items(self, rest: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a paged collection, following ``Page.Next`` (one page when small).

        A server's pages are trusted to end no more than its other answers are: the reading stops
        once ``TotalResults`` items are read, and a ``Page.Next`` that links back to a page already
        read, or a collection longer than :data:`MAX_PAGES` pages, is a ``BadResponse`` (without
        it, a server whose pages always link a next one is read until memory runs out)."""
        first = path = self.path(rest)
        page = self.http.get_object(path, {"take": BIG_PAGE, **(params or {})})
        read: set[str] = set()
        count = 0
        while True:
            read.add(path)
            items = _page_items(self.http, path, page)
            yield from (self.http.expect_object(item, "GET", path) for item in items)
            count += len(items)
            total = page.get("TotalResults")
            if isinstance(total, int) and not isinstance(total, bool) and count >= total:
                return
            links = page.get("Links")
            next_link = links.get("Page.Next") if isinstance(links, dict) else None
            if not next_link or not items:
                return
            path = str(next_link)
            if path in read or len(read) >= MAX_PAGES:
                endless = ("links back to a page already read" if path in read
                           else f"goes on past {MAX_PAGES} pages of {BIG_PAGE}")
                raise errors.BadResponse(
                    f"GET {self.http.server}{first}: its Page.Next {endless} ({path}), not as Octopus does.",
                    hint=NOT_OCTOPUS_HINT,
                )
            page = self.http.get_object(path)

    def _one(self, rest: str, make: Callable[[dict[str, Any]], R], params: dict[str, Any] | None = None) -> R:
        """One resource of the space, shape-checked."""
        path = self.path(rest)
        return _build(self.http, path, make, self.http.get(path, params))

    def _all(self, rest: str, make: Callable[[dict[str, Any]], R], params: dict[str, Any] | None = None) -> list[R]:
        """Every resource of a collection of the space, shape-checked."""
        return [_build(self.http, self.path(rest), make, doc) for doc in self._items(rest, params)]

    # -- projects, environments, machines, tenants ----------------------------------------------

    def project(self, identifier: str) -> Project:
        """A project by id, name or slug (names match case-insensitively), looked up with the
        API's filters (its id, ``name=``, its slug as a path): one request when it is named as
        Octopus knows it, whatever the size of the space. Only when none matches is the list
        read, to suggest a name."""
        if looks_like_id(identifier, "Projects"):
            try:
                return self._found(self._one(f"projects/{segment(identifier)}", Project.from_json))
            except errors.NotFound:
                pass
        wanted = identifier.strip().lower()
        try:
            named = self._all("projects", Project.from_json, {"name": identifier.strip()})
        except errors.NotFound:
            if self.space_id is not None:
                raise
            # The unscoped routes serve the default space: a server without one says so here.
            self._scope(self.space.id)
            named = self._all("projects", Project.from_json, {"name": identifier.strip()})
        for project in named:
            if project.name.lower() == wanted:
                return self._found(project)
        try:
            project = self._one(f"projects/{segment(wanted)}", Project.from_json)
            if project.slug and project.slug.lower() == wanted:
                return self._found(project)
        except errors.NotFound:
            pass
        names = [p.name for p in self._all("projects", Project.from_json)]
        raise errors.NotFound(
            f"Project '{identifier}' not found in space '{self.space.name}'.", hint=did_you_mean(identifier, names)
        ).about("project", [identifier])

    def _found(self, project: Project) -> Project:
        """``project``, after scoping later paths to its space (when the lookup was unscoped)."""
        self._scope(str(project.raw.get("SpaceId") or "") or None)
        return project

    def environments(self) -> list[Environment]:
        """Every environment of the space: for suggestions on the error path only, since a large
        space has thousands (``environments_named`` resolves what is named)."""
        return self._all("environments", Environment.from_json)

    def environments_named(self, wanted: Sequence[str]) -> dict[str, Environment]:
        """The environments named by id or name, keyed by the lower-case text given; one ``ids=``
        request for those that look like ids, one ``name=`` request per other name, so the cost
        is the same in a space of ten environments and of thousands. Missing ones are absent."""
        originals: dict[str, str] = {}
        for given in wanted:
            originals.setdefault(given.strip().lower(), given.strip())
        found: dict[str, Environment] = {}
        ids = [given for given in originals.values() if looks_like_id(given, "Environments")]
        if ids:
            for env in self._all("environments", Environment.from_json, {"ids": ids}):
                found[env.id.lower()] = env
        for key, given in originals.items():
            if key in found:
                continue
            for env in self._all("environments", Environment.from_json, {"name": given}):
                if env.name.lower() == key:
                    found[key] = env
                    break
        return found

    def machines(self, environment_ids: Sequence[str], name: str | None = None) -> list[Machine]:
        """The machines of some environments in one request; only those called ``name`` (exactly,
        ignoring case) when it is given, so a large environment costs no more than a small one."""
        params: dict[str, Any] = {"environmentIds": list(environment_ids)}
        if name is None:
            return self._all("machines", Machine.from_json, params)
        wanted = name.strip().lower()
        return [m for m in self._all("machines", Machine.from_json, {**params, "name": name.strip()})
                if m.name.lower() == wanted]

    def tenants(self) -> list[Tenant]:
        """Every tenant of the space: for suggestions on the error path only."""
        return self._all("tenants", Tenant.from_json)

    def tag_sets(self) -> list[TagSet]:
        """Every tag set of the space (octo pages through them too: the link has no name filter)."""
        return self._all("tagsets", TagSet.from_json)

    def tenant_named(self, identifier: str) -> Tenant | None:
        """A tenant by id or name (ignoring case), with the API's filters; None when there is none."""
        wanted = identifier.strip()
        if looks_like_id(wanted, "Tenants"):
            for tenant in self._all("tenants", Tenant.from_json, {"ids": [wanted]}):
                return tenant
        return next(
            (t for t in self._all("tenants", Tenant.from_json, {"name": wanted}) if t.name.lower() == wanted.lower()),
            None,
        )

    def project_tenants(self, project_id: str) -> list[Tenant]:
        """The tenants connected to a project (``projectId=``), not every tenant of the space."""
        return self._all("tenants", Tenant.from_json, {"projectId": project_id})

    # -- releases ---------------------------------------------------------------------------------

    def _at(self, project: Project, git_ref: str | None) -> str:
        """A project's own path, at ``git_ref`` for a version-controlled one (``{gitRef}`` sits in
        the middle of the path, one escaped segment: ``refs%2Fheads%2Fmain``)."""
        return f"projects/{project.id}/{segment(git_ref)}" if git_ref else f"projects/{project.id}"

    def deployment_process(self, project: Project, git_ref: str | None = None) -> dict[str, Any]:
        """The project's process; a version-controlled project's at a branch, tag or commit."""
        result: dict[str, Any] = self.http.get(self.path(f"{self._at(project, git_ref)}/deploymentprocesses"))
        return result

    def release(self, release_id: str) -> Release:
        return self._one(f"releases/{segment(release_id)}", Release.from_json)

    def git_commit(self, project: Project, commit: str) -> str:
        """The full hash of a commit of a version-controlled project's repository (404 when none)."""
        doc = self.http.get_object(self.path(f"projects/{project.id}/git/commits/{segment(commit)}"))
        return str(doc.get("Id") or commit)

    def is_git_branch(self, project: Project, ref: str) -> bool:
        """Whether a version-controlled project's repository has the branch ``ref`` names
        (``main`` or ``refs/heads/main``): a tag or a commit is no branch, and cannot be written to."""
        name = ref.strip().removeprefix("refs/heads/")
        try:
            self.http.get_object(self.path(f"projects/{project.id}/git/branches/{segment(name)}"))
        except errors.NotFound:
            return False
        return True

    def channels(self, project: Project) -> list[dict[str, Any]]:
        return list(self._items(f"projects/{project.id}/channels"))

    def lifecycle_preview(self, lifecycle_id: str) -> dict[str, Any]:
        """A lifecycle with its phases as they apply (environments filled in)."""
        result: dict[str, Any] = self.http.get(self.path(f"lifecycles/{lifecycle_id}/preview"))
        return result

    def release_template(self, process_id: str, channel_id: str | None, *, project: Project | None = None,
                         git_ref: str | None = None) -> ReleaseTemplate:
        """The release template (``deploymentprocesses/{id}/template``; a version-controlled
        project's at its ref): a new release's packages, and the version the project's versioning
        strategy gives it."""
        params = {"channel": channel_id} if channel_id else None
        path = f"{self._at(project, git_ref)}/deploymentprocesses/template" if project and git_ref \
            else f"deploymentprocesses/{process_id}/template"
        doc = self.http.get(self.path(path), params)
        packages = [
            TemplatePackage(
                p.get("StepName") or p.get("ActionName") or "",
                p.get("ActionName") or p.get("StepName") or "",
                p.get("PackageId") or "",
                p.get("FeedId") or "",
                p.get("FeedName") or p.get("FeedId") or "",
                bool(p.get("IsResolvable", True)),
                p.get("PackageReferenceName") or "",
            )
            for p in doc.get("Packages") or ()
        ]
        return ReleaseTemplate(packages, doc.get("NextVersionIncrement") or None,
                               doc.get("VersioningPackageStepName") or None,
                               doc.get("VersioningPackageReferenceName"))

    def package_versions(self, feed_id: str, package_id: str, version: str | None = None) -> list[str]:
        """The feed's versions of a package, newest first: exactly ``version`` when given (a NuGet
        range ``[v]``), else the newest one. One request, whatever the size of the feed."""
        params: dict[str, Any] = {"packageId": package_id, "includePreRelease": True, "take": 1}
        if version is not None:
            params["versionRange"] = f"[{version}]"
        doc = self.http.get(self.path(f"feeds/{feed_id}/packages/versions"), params)
        return [str(item.get("Version")) for item in doc.get("Items") or ()]

    def find_release(self, project: Project, version: str) -> Release | None:
        """The project's release of this version, or None (one request, no listing)."""
        try:
            return self._one(f"projects/{project.id}/releases/{segment(version)}", Release.from_json)
        except errors.NotFound:
            return None

    def release_by_version(self, project: Project, version: str) -> Release:
        """The project's release of this version; when there is none, the error names the recent
        ones (read only then, since the error is going to be shown)."""
        release = self.find_release(project, version)
        if release is not None:
            return release
        releases = _collection(self.http, self.path(f"projects/{project.id}/releases"), {"take": 5})
        recent = [str(d.get("Version")) for d in releases]
        raise errors.NotFound(
            f"Release '{version}' of project '{project.name}' not found.",
            hint=("recent releases: " + ", ".join(recent[:5])) if recent else "the project has no releases yet",
        ).about("release", [version])

    def latest_release(self, project: Project) -> Release | None:
        """The newest release of the project."""
        path = self.path(f"projects/{project.id}/releases")
        items = _collection(self.http, path, {"take": 1})
        return _build(self.http, path, Release.from_json, items[0]) if items else None

    def create_release(self, project: Project, body: dict[str, Any]) -> Release:
        """``POST releases/create/v1`` (the executions API: names, not ids). The body carries the
        space twice, as ``SpaceId`` and ``SpaceIdOrName``: the server requires both (its reference
        marks them required; both official clients send them). Its answer names the release made
        (``ReleaseId``, ``ReleaseVersion``): all a deployment of it needs, so the release is not
        read again."""
        path = self.path("releases/create/v1")
        space_id = self.known_space_id()
        sent = {"SpaceId": space_id, "SpaceIdOrName": space_id, **body}
        answer = self.http.expect_object(self.http.post(path, sent), "POST", path)
        return _build(
            self.http, path, lambda d: Release(d["ReleaseId"], d["ReleaseVersion"], project.id, None, d), answer, "POST"
        )

    def dashboard(self, project_id: str, environment_ids: Sequence[str], include_previous: bool) -> list[DashboardItem]:
        path = self.path("dashboard/dynamic")
        items = _collection(
            self.http,
            path,
            {"projects": [project_id], "environments": list(environment_ids), "includePrevious": include_previous},
        )
        return [_build(self.http, path, DashboardItem.from_json, i) for i in items]

    def template(self, release_id: str) -> DeploymentTemplate:
        return self._one(f"releases/{release_id}/deployments/template", DeploymentTemplate.from_json)

    def preview(self, release_id: str, environment_id: str, tenant_id: str | None = None) -> DeploymentPreview:
        rest = f"releases/{release_id}/deployments/preview/{environment_id}"
        if tenant_id:
            rest += f"/{tenant_id}"
        return self._one(rest, DeploymentPreview.from_json)

    def snapshot_variables(self, release_id: str) -> None:
        """``POST releases/{id}/snapshot-variables``: the release takes the project's variables as
        they are now, as octo's ``--updateVariables`` does. The body names the release and its
        space (``ReleaseId``, ``SpaceId``: the reference marks both required). Repeating it
        changes nothing more, so it is retried like a GET."""
        body = {"ReleaseId": release_id, "SpaceId": self.known_space_id()}
        self.http.post(self.path(f"releases/{segment(release_id)}/snapshot-variables"), body, idempotent=True)

    def progression(self, release_id: str) -> dict[str, Any]:
        return self.http.get_object(self.path(f"releases/{release_id}/progression"))

    # -- deployments and tasks ----------------------------------------------------------------------

    def create_deployment(self, body: dict[str, Any]) -> Deployment:
        """``POST deployments`` (classic: the only endpoint that takes ``Comments``)."""
        path = self.path("deployments")
        return _build(self.http, path, Deployment.from_json, self.http.post(path, body), "POST")

    def create_deployment_overriding(self, body: dict[str, Any], freeze_ids: Sequence[str], reason: str) -> Deployment:
        """``POST deployments/override`` (the reference's deployment-freeze.md): the classic body
        as ``CreateDeploymentCommand``, made despite the freezes ``FreezeIds`` for ``Reason``."""
        path = self.path("deployments/override")
        command = {"CreateDeploymentCommand": body, "FreezeIds": list(freeze_ids), "Reason": reason,
                   "SpaceId": self.known_space_id()}
        answer = self.http.expect_object(self.http.post(path, command), "POST", path)
        return _build(self.http, path, Deployment.from_json, answer.get("Deployment"), "POST")

    def deployment_freezes(self, project_id: str, environment_ids: Sequence[str]) -> list[DeploymentFreeze]:
        """The freezes of the project in these environments that are in force or still to come
        (``GET /api/deploymentfreezes``, system-wide; one request). A server without freezes
        (before 2024.2) answers 404: it has none."""
        path = "/api/deploymentfreezes"
        params = {"projectIds": [project_id], "environmentIds": list(environment_ids), "includeComplete": "false",
                  "skip": 0, "take": BIG_PAGE}
        try:
            page = self.http.get_object(path, params)
        except errors.NotFound:
            return []
        found = page.get("DeploymentFreezes")
        if not isinstance(found, list):
            raise errors.BadResponse(
                f"GET {self.http.server}{path} answered 'DeploymentFreezes' that is not a list, not as Octopus does.",
                hint=NOT_OCTOPUS_HINT,
            )
        return [_build(self.http, path, DeploymentFreeze.from_json, doc) for doc in found]

    def deployments(self, *, project_id: str, environment_ids: Sequence[str], take: int = 30) -> list[Deployment]:
        """The newest deployments of a project to some environments, newest first."""
        path = self.path("deployments")
        items = _collection(
            self.http, path, {"projects": [project_id], "environments": list(environment_ids), "take": take}
        )
        return [_build(self.http, path, Deployment.from_json, d) for d in items]

    def tasks(self, task_ids: Sequence[str]) -> list[Task]:
        """Many tasks in one request, at the space's route (``/api/{spaceId}/tasks?ids=A,B``, as the
        official npm client asks); those Octopus does not return are absent."""
        if not task_ids:
            return []
        path = self.path("tasks")
        items = _collection(self.http, path, {"ids": list(task_ids), "take": len(task_ids)})
        return [_build(self.http, path, Task.from_json, d) for d in items]

    def task_details(self, task_id: str, tail: int | None = None) -> dict[str, Any]:
        """A task's activity log; ``tail``: only the last so many lines of each element."""
        params: dict[str, Any] = {"verbose": False}
        if tail:
            params["tail"] = tail
        return self.http.get_object(self.path(f"tasks/{segment(task_id)}/details"), params)

    def cancel_task(self, task_id: str) -> Task:
        path = self.path(f"tasks/{segment(task_id)}/cancel")
        return _build(self.http, path, Task.from_json, self.http.post(path, idempotent=True), "POST")

    def known_space_id(self) -> str:
        """The space's id: known once a lookup has scoped the paths; else read (one request)."""
        return self.space_id or self.space.id

    # -- people: interruptions and teams -------------------------------------------------------------

    def interruptions(self, *, regarding: str | None = None, pending_only: bool = True) -> list[Interruption]:
        """The space's interruptions (newest first), about one document (a task, deployment,
        project or environment id) when ``regarding`` is given."""
        params: dict[str, Any] = {"pendingOnly": pending_only}
        if regarding:
            params["regarding"] = regarding
        return self._all("interruptions", Interruption.from_json, params)

    def interruption(self, interruption_id: str) -> Interruption:
        return self._one(f"interruptions/{segment(interruption_id)}", Interruption.from_json)

    def take_responsibility(self, interruption_id: str) -> None:
        """``PUT interruptions/{id}/responsible``: taking it again changes nothing, so it is retried."""
        self.http.put(self.path(f"interruptions/{segment(interruption_id)}/responsible"), None)

    def submit_interruption(self, interruption: Interruption, answer: dict[str, str]) -> Interruption:
        """``POST interruptions/{id}/submit`` with ``Result`` or ``Guidance`` (and ``Notes``)."""
        path = self.path(f"interruptions/{segment(interruption.id)}/submit")
        body = {"Id": interruption.id, "SpaceId": self.known_space_id(), **answer}
        return _build(self.http, path, Interruption.from_json, self.http.post(path, body), "POST")

    def team_names(self, team_ids: Sequence[str]) -> list[str]:
        """The names of these teams (an id the server does not show stays as it is)."""
        if not team_ids:
            return []
        items = _collection(self.http, self.path("teams"), {"ids": list(team_ids), "take": len(team_ids)})
        names = {str(t.get("Id")): str(t.get("Name")) for t in items if isinstance(t, dict)}
        return [names.get(t, t) for t in team_ids]

    # -- project variables ----------------------------------------------------------------------------

    def variable_set(self, project: Project, git_ref: str | None = None) -> dict[str, Any]:
        """The project's variables; with ``git_ref``, a version-controlled project's non-sensitive
        ones at that ref (its sensitive ones are the set without a ref, in the database)."""
        return self.http.get_object(self.path(f"{self._at(project, git_ref)}/variables"))

    def save_variable_set(self, project: Project, variable_set: dict[str, Any],
                          git_ref: str | None = None, change: str | None = None) -> dict[str, Any]:
        """Save the project's variables; with ``git_ref`` (a branch), a version-controlled
        project's non-sensitive ones, as a commit on that branch (the body names it: ``GitRef``)
        whose message is ``change`` (``ChangeDescription``; the server's own when none)."""
        path = self.path(f"{self._at(project, git_ref)}/variables")
        body = {**variable_set, "GitRef": git_ref, "ProjectId": project.id} if git_ref else variable_set
        if git_ref and change:
            body["ChangeDescription"] = change
        return self.http.expect_object(self.http.put(path, body), "PUT", path)
