"""Version-controlled projects over HTTP: the process, its release template, the deployment
settings and the variables at a ref (``/projects/{id}/{gitRef}/...``), and the repository's
branches, tags and commits (``/projects/{id}/git/...``, the reference's ``branches.md``).

A ref in the path may be a branch, a tag, ``refs/heads/...`` (escaped, ``refs%2Fheads%2Fmain``,
or not) or a commit hash; the rules (``rules/git.py``) say what it names.
"""

from __future__ import annotations

from octorelease.sandbox.errors import ResourceNotFound
from octorelease.sandbox.http import resources as shape
from octorelease.sandbox.http.api.context import Ctx, Json, route
from octorelease.sandbox.http.api.variables import variables_body
from octorelease.sandbox.rules import git
from octorelease.sandbox.state.entities import Environment, GitRepository, Project


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
        found = ctx.backend.save_variables_at(ctx.space_id, project, ref, variables_body(ctx.body))
    else:
        found = ctx.backend.variables_at(ctx.space_id, project, ref)
    return shape.variable_set(ctx.base, found, ctx.backend.all(Environment, ctx.space_id), ref)


def _repository(ctx: Ctx) -> tuple[Project, GitRepository]:
    project = ctx.backend.project(ctx.space_id, ctx.arg("ref"))
    return project, git.repository(project)


def _matching(names: list[str], ctx: Ctx) -> list[str]:
    wanted = (ctx.q("searchByName") or "").strip().lower()
    return [n for n in sorted(names, key=str.lower) if wanted in n.lower()]


#: the two kinds of named ref: (the repository's map, canonical prefix, item type, whether it has IsProtected)
_KINDS = {"branches": (git.BRANCH_PREFIX, "GitBranch", True), "tags": (git.TAG_PREFIX, "GitTag", False)}


def _refs_of(repo: GitRepository, kind: str) -> dict[str, str]:
    return repo.branches if kind == "branches" else repo.tags


def _listed(ctx: Ctx, kind: str) -> Json:
    """A page of the repository's branches or tags, ``searchByName`` a part of the name."""
    project, repo = _repository(ctx)
    prefix, item_type, protectable = _KINDS[kind]
    refs = _refs_of(repo, kind)
    own = f"{ctx.base}/api/{ctx.space_id}/projects/{project.id}/git/{kind}"
    return ctx.page(_matching(list(refs), ctx), item_type, f"{own}{{/name}}{{?skip,take,searchByName}}",
                    lambda n: shape.git_ref(ctx.base, project, n, prefix + n, refs[n],
                                            protected=False if protectable else None))


def _one(ctx: Ctx, kind: str) -> Json:
    """One branch or tag, by its short or canonical name (404 when the repository lacks it)."""
    project, repo = _repository(ctx)
    prefix, _, protectable = _KINDS[kind]
    refs = _refs_of(repo, kind)
    name = ctx.arg("name").strip().removeprefix(prefix)
    if name not in refs:
        raise ResourceNotFound(ctx.arg("name"))
    return shape.git_ref(ctx.base, project, name, prefix + name, refs[name], protected=False if protectable else None)


@route()
def branches(ctx: Ctx) -> Json:
    return _listed(ctx, "branches")


@route()
def branch(ctx: Ctx) -> Json:
    return _one(ctx, "branches")


@route()
def tags(ctx: Ctx) -> Json:
    return _listed(ctx, "tags")


@route()
def tag(ctx: Ctx) -> Json:
    return _one(ctx, "tags")


@route()
def named_ref(ctx: Ctx) -> Json:
    """``git/refs/{refName}``: a branch or a tag, by its short or canonical name."""
    project, _ = _repository(ctx)
    resolved = git.resolve(project, ctx.arg("name"))
    if resolved.ref == resolved.commit.hash:  # a commit is not a named ref
        raise ResourceNotFound(ctx.arg("name"))
    name = resolved.ref.removeprefix(git.BRANCH_PREFIX).removeprefix(git.TAG_PREFIX)
    return shape.git_ref(ctx.base, project, name, resolved.ref, resolved.commit.hash,
                         protected=False if resolved.branch else None)


@route()
def commits(ctx: Ctx) -> Json:
    """The repository's commits, newest first."""
    project, repo = _repository(ctx)
    own = f"{ctx.base}/api/{ctx.space_id}/projects/{project.id}/git/commits"
    return ctx.page(list(reversed(repo.commits)), "GitCommit", f"{own}{{/hash}}{{?skip,take}}",
                    lambda h: shape.git_ref(ctx.base, project, h, h, h, protected=None))


@route()
def commit(ctx: Ctx) -> Json:
    project, repo = _repository(ctx)
    found = git.find_commit(repo, ctx.arg("hash"))
    if found is None:
        raise ResourceNotFound(ctx.arg("hash"))
    return shape.git_ref(ctx.base, project, found.hash, found.hash, found.hash, protected=None)
