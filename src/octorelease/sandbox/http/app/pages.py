"""The pages' endpoints: each reads its view (``views.py``) under the models' lock and renders it,
or, for a form, acts through the rules the API's routes use and comes back to a page.

Every page answers at a plain path (``/app/Spaces-1/deployments/Deployments-6``) that renders
without JavaScript; ``?fragment=1`` answers only its ``<main>``, which the script swaps in while
something on the page runs. A form is refused when a browser says another site sent it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from octorelease.pages import HEADERS, cross_site, templates
from octorelease.sandbox.errors import SandboxError, ValidationFailed
from octorelease.sandbox.http.app import views
from octorelease.sandbox.http.app.access import KEY_COOKIE, Visitor, api_caller, is_admin_key, visitor
from octorelease.sandbox.http.middleware import BASE_KEY
from octorelease.sandbox.http.service import Sandbox
from octorelease.sandbox.rules.requests import Fault
from octorelease.sandbox.state.entities import Deployment, Interruption, Release

#: Seconds between refreshes while nothing on the page runs (a pipeline may start something).
IDLE_REFRESH_SECONDS = 5

_TEMPLATES = templates("octorelease.sandbox.http.app")


@dataclass
class View:
    """A page to render: its template, the fragment that is its ``<main>``, and what they show."""

    page: str
    fragment: str
    context: dict[str, Any] = field(default_factory=dict)
    live: bool = False
    title: str = "Octopus sandbox"
    space_id: str | None = None


Build = Callable[[Request, Sandbox, Visitor], View]


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


def _root(request: Request) -> str:
    return f"{request.scope.get(BASE_KEY, '')}/app/"


def render(request: Request, template: str, context: dict[str, Any], status: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    root = _root(request)
    defaults = {"root": root, "static": root + "static", "refresh": IDLE_REFRESH_SECONDS, "live": False,
                "controls": False, "spaces": [], "space_id": None, "title": "Octopus sandbox"}
    html = _TEMPLATES.get_template(template).render({**defaults, **context})
    return HTMLResponse(html, status, headers={**HEADERS, **(headers or {})})


def _message(request: Request, text: str, status: int, who: Visitor | None = None) -> HTMLResponse:
    return render(request, "message.html", {"message": text, "title": "Octopus sandbox",
                                            "controls": who is not None and who.controls}, status)


def _sign_in(request: Request, status: int = 401, problem: str | None = None) -> HTMLResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    given = request.query_params.get("next") if request.url.path.endswith("/sign-in") else target
    return render(request, "sign_in.html", {"next": _safe_next(request, given), "problem": problem,
                                            "title": "Sign in · Octopus sandbox"}, status)


def _safe_next(request: Request, target: str | None) -> str:
    """Where to go after signing in: a page of this app, never another site."""
    root = _root(request)
    if not target or not target.startswith(root) or "//" in target or "\\" in target:
        return root
    return target


async def _serve(request: Request, build: Build) -> Response:
    sandbox = _sandbox(request)
    who = visitor(request, sandbox)
    if who is None:
        return _sign_in(request)
    try:
        with sandbox.backend.lock:
            view = build(request, sandbox, who)
            spaces = views.spaces(sandbox.backend)
    except SandboxError as error:
        return _message(request, error.message, error.status, who)
    context = {**view.context, "live": view.live, "controls": who.controls, "how": who.how, "spaces": spaces,
               "space_id": view.space_id or spaces[0]["id"] if spaces else None, "title": view.title}
    template = view.fragment if request.query_params.get("fragment") else view.page
    return render(request, template, context)


# -- pages ---------------------------------------------------------------------------------------


def _dashboard(request: Request, sandbox: Sandbox, who: Visitor) -> View:
    space = sandbox.backend.space(request.path_params.get("space_id"))
    grid = views.dashboard(sandbox.backend, space, sandbox.backend.clock())
    return View("dashboard.html", "_dashboard.html", {"grid": grid}, grid["live"],
                f"{space.name} · Octopus sandbox", space.id)


def _task_view(sandbox: Sandbox, who: Visitor, space_id: str | None, task_id: str) -> View:
    backend = sandbox.backend
    task = backend.task(backend.space(space_id).id if space_id else None, task_id)
    shown = views.task(backend, task, who.caller, backend.clock())
    title = f"{shown['description']} · {shown['project']} {shown['release']}"
    return View("task.html", "_task.html", {"task": shown}, not shown["completed"], title, task.space_id)


def _task(request: Request, sandbox: Sandbox, who: Visitor) -> View:
    return _task_view(sandbox, who, request.path_params.get("space_id"), request.path_params["id"])


def _deployment(request: Request, sandbox: Sandbox, who: Visitor) -> View:
    space_id = request.path_params.get("space_id")
    backend = sandbox.backend
    deployment = backend.require(Deployment, backend.space(space_id).id if space_id else None,
                                 request.path_params["id"])
    return _task_view(sandbox, who, space_id, deployment.task_id)


def _release_view(sandbox: Sandbox, release: Release) -> View:
    shown = views.release(sandbox.backend, release, sandbox.backend.clock())
    return View("release.html", "_release.html", {"release": shown}, shown["live"],
                f"{shown['project']} {shown['version']} · Octopus sandbox", release.space_id)


def _release(request: Request, sandbox: Sandbox, who: Visitor) -> View:
    space = sandbox.backend.space(request.path_params.get("space_id"))
    release = sandbox.backend.project_release(space.id, request.path_params["project"], request.path_params["version"])
    return _release_view(sandbox, release)


def _release_by_id(request: Request, sandbox: Sandbox, who: Visitor) -> View:
    space = sandbox.backend.space(request.path_params.get("space_id"))
    return _release_view(sandbox, sandbox.backend.require(Release, space.id, request.path_params["id"]))


def _controls(request: Request, sandbox: Sandbox, who: Visitor) -> View:
    if not who.controls:
        raise ControlsHidden()
    return View("controls.html", "_controls.html", {"sandbox": views.controls(sandbox)}, True,
                "Controls · Octopus sandbox")


class ControlsHidden(SandboxError):
    """The controls asked for by someone ``controls_allowed`` refuses (403; nothing says more)."""

    status = 403

    def __init__(self) -> None:
        super().__init__("The sandbox's controls are shown on this machine only, or with its admin key.")


async def dashboard(request: Request) -> Response:
    """Projects by environments (``/app``, ``/app/Spaces-1/projects``)."""
    return await _serve(request, _dashboard)


async def task(request: Request) -> Response:
    """A task: the deployment it carries out, its state and its log (``/app/Spaces-1/tasks/ServerTasks-6``)."""
    return await _serve(request, _task)


async def deployment(request: Request) -> Response:
    """A deployment: its task's page (``/app/Spaces-1/deployments/Deployments-6``)."""
    return await _serve(request, _deployment)


async def release(request: Request) -> Response:
    """A release by project and version (``/app/Spaces-1/projects/web/releases/1.0.0``)."""
    return await _serve(request, _release)


async def release_by_id(request: Request) -> Response:
    """A release by id, as the API's ``Links.Web`` gives it (``/app/Spaces-1/releases/Releases-1``)."""
    return await _serve(request, _release_by_id)


async def controls(request: Request) -> Response:
    """The sandbox's own controls and its request log (``/app/sandbox``)."""
    return await _serve(request, _controls)


# -- forms ---------------------------------------------------------------------------------------


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)}


def _back(to: str, headers: dict[str, str] | None = None) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers={**HEADERS, **(headers or {})})


async def _act(request: Request, act: Callable[[Sandbox, Visitor, dict[str, str]], str], *,
               controls: bool = False) -> Response:
    """A form: from this site's own page, by someone the pages answer (with the controls, for
    one of those); ``act`` returns the page to go back to, or raises the rules' error."""
    sandbox = _sandbox(request)
    who = visitor(request, sandbox)
    if who is None:
        return _sign_in(request)
    if cross_site(request):
        return _message(request, "A form must be sent from this sandbox's own page.", 403, who)
    if controls and not who.controls:
        return _message(request, ControlsHidden().message, 403, who)
    try:
        to = act(sandbox, who, await _form(request))
    except SandboxError as error:
        return _message(request, error.message, error.status, who)
    return _back(_root(request) + to)


async def answer(request: Request) -> Response:
    """Answer an interruption: take responsibility for it (unless taken), then submit the button
    pressed and the notes, through the interruption rules as the visitor's user."""
    space_id, interruption_id = request.path_params["space_id"], request.path_params["id"]

    def act(sandbox: Sandbox, who: Visitor, form: dict[str, str]) -> str:
        backend, given = sandbox.backend, form.get("answer", "")
        with backend.lock:
            found = backend.require(Interruption, backend.space(space_id).id, interruption_id)
            if found.is_pending and not backend.responsibility_taken(found.space_id, found.id):
                backend.take_responsibility(found.space_id, found.id, who.caller)
            backend.submit_interruption(found.space_id, found.id, who.caller, result=given, guidance=given,
                                        notes=form.get("notes") or None)
        return f"{found.space_id}/tasks/{quote(found.task_id)}"

    return await _act(request, act)


def _speed(sandbox: Sandbox, who: Visitor, form: dict[str, str]) -> str:
    try:
        seconds = float(form.get("seconds", ""))
    except ValueError:
        raise ValidationFailed("The speed is a number of seconds per step, 0 or more.") from None
    sandbox.set_speed(seconds)
    return "sandbox"


def _fault(sandbox: Sandbox, who: Visitor, form: dict[str, str]) -> str:
    environment = form.get("environment", "").strip()
    if not environment:
        raise ValidationFailed("Name the environment whose deployments are to fail.")
    sandbox.add_fault(Fault(environment=environment, step=form.get("step", "").strip() or None,
                            message=form.get("message", "").strip() or None))
    return "sandbox"


def _clear_faults(sandbox: Sandbox, who: Visitor, form: dict[str, str]) -> str:
    sandbox.clear_faults()
    return "sandbox"


def _reset(sandbox: Sandbox, who: Visitor, form: dict[str, str]) -> str:
    sandbox.reset("demo")
    return "sandbox"


def _clear_requests(sandbox: Sandbox, who: Visitor, form: dict[str, str]) -> str:
    sandbox.requests.clear()
    return "sandbox"


_CONTROLS = {"speed": _speed, "faults": _fault, "faults-clear": _clear_faults, "reset": _reset,
             "requests-clear": _clear_requests}


async def control(request: Request) -> Response:
    """One of the controls' forms (``POST /app/sandbox/{speed,faults,faults-clear,reset,requests-clear}``)."""
    act = _CONTROLS.get(request.path_params["control"])
    if act is None:
        return _message(request, "No such control.", 404)
    return await _act(request, act, controls=True)


# -- signing in ----------------------------------------------------------------------------------


async def sign_in(request: Request) -> Response:
    """The form that takes a key of this sandbox (its API key, a limited one, or the admin key)
    from a browser elsewhere, and the cookie that keeps it for these pages."""
    sandbox = _sandbox(request)
    if request.method == "GET":
        return _sign_in(request, 200)
    if cross_site(request):
        return _message(request, "A form must be sent from this sandbox's own page.", 403)
    form = await _form(request)
    key = form.get("key", "").strip()
    if api_caller(sandbox, key) is None and not is_admin_key(sandbox, key):
        return _sign_in(request, 401, "That is not a key of this sandbox.")
    cookie = f"{KEY_COOKIE}={quote(key, safe='')}; Path={_root(request).rstrip('/')}; HttpOnly; SameSite=Strict"
    return _back(_safe_next(request, form.get("next")), {"Set-Cookie": cookie})
