"""The history page of ``octorelease serve``: recent events and runs, and each run in full.

Server-rendered HTML (Jinja2, every value autoescaped) with one small script (``static/live.js``)
that fetches the page's fragment again while a run is going and swaps it in; no build step, no
CDN, nothing fetched from elsewhere. The page reads what the JSON API gives (``/api/runs``,
``/api/runs/{id}``: ``run_json`` in ``app.py``), turned into rows by ``view.py``.

``routes()`` is what the app mounts: ``/`` (recent runs; ``?before=ID`` pages back),
``/runs/{id}`` and ``/static/``; for an operator, ``POST /runs/{id}/rerun`` and ``/cancel``, the
page's buttons, which do what the API's do and come back to a run's page (``access.py`` keeps
them to this site's own page). Each page, given ``?fragment=1``, answers only its ``<main>``.
Pages are sent with a Content-Security-Policy that allows only this service's own script and
style: even a value that slipped past escaping could not run a script.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from octorelease.pages import HEADERS, templates
from octorelease.serve.access import identity
from octorelease.serve.app import operate, run_json, run_url
from octorelease.serve.pages.view import any_active, run_detail, run_row

#: Runs on one page of the history; older ones are a link away.
PAGE_SIZE = 50
#: Seconds between refreshes while nothing shown is going (a new event may arrive any time).
IDLE_REFRESH_SECONDS = 3

_TEMPLATES = templates("octorelease.serve.pages")


def routes() -> list[BaseRoute]:
    """The page's routes, for the app to mount beside the API."""
    return [
        Route("/", index, methods=["GET"], name="page_index"),
        Route("/runs/{run_id:int}", run_page, methods=["GET"], name="page_run"),
        Route("/runs/{run_id:int}/rerun", rerun, methods=["POST"]),
        Route("/runs/{run_id:int}/cancel", cancel, methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("octorelease.serve.pages", "static")]), name="page_static"),
    ]


async def index(request: Request) -> Response:
    """Recent events and runs, newest first."""
    before_text = request.query_params.get("before", "")
    before = int(before_text) if before_text.isascii() and before_text.isdigit() else None
    store = request.app.state.service.store
    runs = await run_in_threadpool(store.recent, PAGE_SIZE, before)
    rows = [run_row(run_json(run, run_url(request, run.id), full=False)) for run in runs]
    older = rows[-1]["id"] if len(rows) == PAGE_SIZE else None
    context = {"rows": rows, "older": older, "live": any_active(rows)}
    return _render(request, "index.html", "_runs.html", context)


async def run_page(request: Request) -> Response:
    """One run: its event, build values, handlers, actions, deployments and log."""
    run = await run_in_threadpool(request.app.state.service.store.get, request.path_params["run_id"])
    if run is None:
        return HTMLResponse("<!doctype html><title>No such run</title><p>No such run.</p>", 404, headers=HEADERS)
    detail = run_detail(run_json(run, run_url(request, run.id)))
    context = {"run": detail, "live": detail["active"], "operator": identity(request).operator}
    return _render(request, "run.html", "_run.html", context)


async def _act(request: Request, action: str) -> Response:
    status, doc = await operate(request, action)
    if status != 200:
        return HTMLResponse(render("error.html", {"message": doc["error"]}, _root(request)), status, headers=HEADERS)
    return RedirectResponse(f"{_root(request)}runs/{doc['id']}", status_code=303, headers=HEADERS)


async def rerun(request: Request) -> Response:
    """An operator's Re-run button: the failed run's event queued again; shows the new run."""
    return await _act(request, "rerun")


async def cancel(request: Request) -> Response:
    """An operator's Cancel button: the queued run will not run; shows it, cancelled."""
    return await _act(request, "cancel")


def render(template: str, context: dict[str, Any], root: str = "/") -> str:
    """One template, with the links every page needs (``root``: where the app is mounted)."""
    defaults = {"root": root, "static": root + "static", "refresh": IDLE_REFRESH_SECONDS, "live": False}
    return _TEMPLATES.get_template(template).render({**defaults, **context})


def _root(request: Request) -> str:
    root: str = request.scope.get("root_path", "").rstrip("/") + "/"
    return root


def _render(request: Request, page: str, fragment: str, context: dict[str, Any]) -> Response:
    template = fragment if request.query_params.get("fragment") else page
    return HTMLResponse(render(template, context, _root(request)), headers=HEADERS)
