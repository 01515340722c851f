"""Version-controlled projects over HTTP: the process, its release template, the deployment
settings and the variables at a ref (``/projects/{id}/{gitRef}/...``), and the repository's
branches, tags and commits (``/projects/{id}/git/...``, the reference's ``branches.md``).

A ref in the path may be a branch, a tag, ``refs/heads/...`` (escaped, ``refs%2Fheads%2Fmain``,
or not) or a commit hash; the rules (``rules/git.py``) say what it names.
"""

from __future__ import annotations

from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.http.api.variables import variables_body
from octorelease.sandbox.rules import git
from octorelease.sandbox.state.entities import Environment, Project


def _at_ref(ctx: Ctx) -> Project:
    """The project named in the path, as it is at the ref in the path."""
    project = ctx.backend.project(ctx.space_id, ctx.arg("ref"))
    return git.at(project, git.resolve(project, ctx.arg("gitRef")).commit)


@route()
def deployment_process(ctx: Ctx) -> Json:
    return shape.deployment_process(ctx.base, _at_ref(ctx), ctx.arg("gitRef"))


@route()
def release_template(ctx: Ctx) -> Json:
    return shape.release_template(ctx.base, ctx.backend.release_template(
        ctx.space_id, ctx.arg("ref"), ctx.q("channel"), ctx.q("releaseId"), ctx.arg("gitRef")))


@route()
def deployment_settings(ctx: Ctx) -> Json:
    return shape.deployment_settings(ctx.base, _at_ref(ctx), ctx.arg("gitRef"))


@route()
def variables(ctx: Ctx) -> Json:
    """The project's non-sensitive variables at a ref (``GET``), or a new commit of them on a
    branch (``PUT``); its sensitive ones stay at ``/projects/{id}/variables``."""
    project, ref = ctx.arg("ref"), ctx.arg("gitRef")
    if ctx.request.method == "PUT":
        found = ctx.backend.save_variables_at(ctx.space_id, project, ref, variables_body(ctx.body),
                                              ctx.body.text("ChangeDescription"))
    else:
        found = ctx.backend.variables_at(ctx.space_id, project, ref)
    return shape.variable_set(ctx.base, found, ctx.backend.all(Environment, ctx.space_id), ref)


def _project(ctx: Ctx) -> Project:
    """The project named in the path; a database project's Git routes are 400 (``git.repository``)."""
    project = ctx.backend.project(ctx.space_id, ctx.arg("ref"))
    git.repository(project)
    return project


def _listed(ctx: Ctx, kind: git.Kind, item_type: str, query: str) -> Json:
    """A page of the repository's branches, tags (``searchByName`` a part of the name) or commits."""
    project = _project(ctx)
    wanted = (ctx.q("searchByName") or "").strip().lower() if kind != "commits" else ""
    items = [r for r in git.refs(project, kind) if wanted in r.name.lower()]
    own = f"{ctx.base}/api/{ctx.space_id}/projects/{project.id}/git/{kind}"
    return ctx.page(items, item_type, f"{own}{query}", lambda r: shape.git_ref(ctx.base, project, r))


def _one(ctx: Ctx, kind: git.Kind | None) -> Json:
    """One branch or tag (either, for ``None``), by its short or canonical name."""
    project = _project(ctx)
    return shape.git_ref(ctx.base, project, git.named(project, ctx.arg("name"), kind))


@route()
def branches(ctx: Ctx) -> Json:
    return _listed(ctx, "branches", "GitBranch", "{/name}{?skip,take,searchByName}")


@route()
def branch(ctx: Ctx) -> Json:
    return _one(ctx, "branches")


@route()
def tags(ctx: Ctx) -> Json:
    return _listed(ctx, "tags", "GitTag", "{/name}{?skip,take,searchByName}")


@route()
def tag(ctx: Ctx) -> Json:
    return _one(ctx, "tags")


@route()
def named_ref(ctx: Ctx) -> Json:
    """``git/refs/{refName}``: a branch or a tag, by its short or canonical name."""
    return _one(ctx, None)


@route()
def commits(ctx: Ctx) -> Json:
    """The repository's commits, newest first."""
    return _listed(ctx, "commits", "GitCommit", "{/hash}{?skip,take}")


@route()
def commit(ctx: Ctx) -> Json:
    project = _project(ctx)
    return shape.git_ref(ctx.base, project, git.commit_ref(project, ctx.arg("hash")))
