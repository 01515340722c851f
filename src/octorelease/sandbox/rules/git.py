"""Version-controlled ("Config as Code") projects: refs, commits, and the process at a ref.

A version-controlled project keeps its process in Git, so Octopus serves it only at a ref
(``/projects/{id}/{gitRef}/deploymentprocesses``) and answers 404 for the database process id
(``deploymentprocess-Projects-423``, OctopusDeploy/Issues #7746). A ref is a branch (``main``,
``refs/heads/main``), a tag (``v1.0``, ``refs/tags/v1.0``) or a commit (its hash, or a prefix of
seven or more characters). A release of such a project names a ref or a commit and freezes the
process of that commit: a later commit on the branch leaves the release as it was.

The functions here are pure (a project in, a project or a commit out), so both the release rules
and the editing rules use them without depending on each other.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from octorelease.sandbox.errors import GitRefNotFound, ResourceNotFound, ValidationFailed
from octorelease.sandbox.state.entities import GitCommit, GitRepository, Project, Step, Variable

BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"
#: the shortest prefix of a commit hash taken for the commit
MIN_HASH_PREFIX = 7
#: what looks like a commit hash (or a prefix of one) rather than a branch's name
_HASH = re.compile(rf"[0-9a-f]{{{MIN_HASH_PREFIX},40}}")

#: the repository's collections (``/projects/{id}/git/{kind}``), and each named kind's ref prefix
Kind = Literal["branches", "tags", "commits"]
_PREFIXES = {"branches": BRANCH_PREFIX, "tags": TAG_PREFIX}


@dataclass(frozen=True)
class Resolved:
    """What a ref names: its canonical form (``refs/heads/main``, or the hash for a commit), the
    commit, and the branch name when it is a branch (the only kind that can be committed to)."""

    ref: str
    commit: GitCommit
    branch: str | None = None

    @property
    def kind(self) -> Kind:
        """The collection it is in: a branch, a tag, or a bare commit."""
        if self.branch is not None:
            return "branches"
        return "tags" if self.ref.startswith(TAG_PREFIX) else "commits"

    @property
    def name(self) -> str:
        """Its short name: the branch's or the tag's (``main``, ``v1.0``), or the commit's hash."""
        return self.branch if self.branch is not None else self.ref.removeprefix(TAG_PREFIX)


def is_git(project: Project) -> bool:
    return project.git is not None


def repository(project: Project) -> GitRepository:
    """The project's repository; a database project has none, and a Git route refuses it (the
    real server stopped ignoring the ref in 2023.3: OctopusDeploy/Issues #8217)."""
    if project.git is None:
        # the sandbox's own wording: #8217 says the route stopped answering, not what it says instead
        raise ValidationFailed(f"The project '{project.name}' is not version controlled: its deployment process is "
                               "in the database, at the routes without a Git reference.")
    return project.git


def database_only(project: Project, resource_id: str) -> None:
    """A database route (``deploymentprocess-{id}``, ``deploymentsettings-{id}``) of a
    version-controlled project: 404 naming the resource, as the real server answers."""
    if project.git is not None:
        raise ResourceNotFound(resource_id)


def resolve(project: Project, ref: str) -> Resolved:
    """The commit a ref names; a ref the repository lacks is 404 naming it."""
    repo = repository(project)
    wanted = ref.strip()
    if wanted.startswith(BRANCH_PREFIX) and wanted[len(BRANCH_PREFIX):] in repo.branches:
        name = wanted[len(BRANCH_PREFIX):]
        return Resolved(wanted, repo.commits[repo.branches[name]], name)
    if wanted.startswith(TAG_PREFIX) and wanted[len(TAG_PREFIX):] in repo.tags:
        return Resolved(wanted, repo.commits[repo.tags[wanted[len(TAG_PREFIX):]]])
    if wanted in repo.branches:
        return Resolved(BRANCH_PREFIX + wanted, repo.commits[repo.branches[wanted]], wanted)
    if wanted in repo.tags:
        return Resolved(TAG_PREFIX + wanted, repo.commits[repo.tags[wanted]])
    commit = find_commit(repo, wanted)
    if commit is None:
        raise not_found(wanted)
    return Resolved(commit.hash, commit)


#: the real server's words for a branch or a tag its repository lacks: OctopusDeploy/Issues #7717
#: quotes the branch's (with the full ref), #8344 the tag's (double quotes, as quoted there)
NO_BRANCH = "No branch with the name '{ref}' exists in the repository"
NO_TAG = 'No tag with the name "{name}" exists in the repository'


def not_found(ref: str) -> GitRefNotFound | ResourceNotFound:
    """What the server says of a ref its repository lacks: a tag (``refs/tags/...``) or a branch
    (anything else that is not a commit hash, taken as ``refs/heads/...``); a hash it lacks is
    the sandbox's own "resource not found" (no real text for it is published)."""
    if ref.startswith(TAG_PREFIX):
        return GitRefNotFound(NO_TAG.format(name=ref[len(TAG_PREFIX):]))
    if _HASH.fullmatch(ref.lower()):
        return ResourceNotFound(ref)
    return GitRefNotFound(NO_BRANCH.format(ref=ref if ref.startswith(BRANCH_PREFIX) else BRANCH_PREFIX + ref))


def named(project: Project, name: str, kind: Kind | None = None) -> Resolved:
    """A branch or a tag (of ``kind``, when given) by its short or canonical name; a commit is 404
    naming it as given, and so is a name the repository lacks at a ``kind``'s own route (else
    ``resolve`` says it in the server's words)."""
    prefix = _PREFIXES.get(kind or "")
    if prefix:
        try:
            resolved = resolve(project, prefix + name.strip().removeprefix(prefix))
        except ResourceNotFound:
            raise ResourceNotFound(name) from None
    else:
        resolved = resolve(project, name)
    if resolved.kind == "commits" or kind not in (None, resolved.kind):
        raise ResourceNotFound(name)
    return resolved


def refs(project: Project, kind: Kind) -> list[Resolved]:
    """The repository's branches or tags by name (in any letter case), or its commits, newest first."""
    repo = repository(project)
    if kind == "commits":
        return [Resolved(h, repo.commits[h]) for h in reversed(repo.commits)]
    named_refs = repo.branches if kind == "branches" else repo.tags
    return [Resolved(_PREFIXES[kind] + n, repo.commits[named_refs[n]], n if kind == "branches" else None)
            for n in sorted(named_refs, key=str.lower)]


def commit_ref(project: Project, hash_or_prefix: str) -> Resolved:
    """A commit of the repository by its hash or a prefix of it; else 404 naming what was given."""
    found = find_commit(repository(project), hash_or_prefix)
    if found is None:
        raise ResourceNotFound(hash_or_prefix)
    return Resolved(found.hash, found)


def find_commit(repo: GitRepository, hash_or_prefix: str) -> GitCommit | None:
    """The one commit whose hash is, or starts with, the text given (seven characters at least)."""
    wanted = hash_or_prefix.strip().lower()
    if len(wanted) < MIN_HASH_PREFIX:
        return None
    found = [c for h, c in repo.commits.items() if h.startswith(wanted)]
    return found[0] if len(found) == 1 else None


def at(project: Project, commit: GitCommit) -> Project:
    """The project as it is at a commit: its process and its versioning strategy are the commit's
    (a copy, never stored)."""
    return project.model_copy(update={"steps": commit.steps, "versioning_template": commit.versioning_template,
                                      "versioning_package": commit.versioning_package, "at_commit": commit.hash})


def new_commit(project: Project, steps: list[Step], message: str, when: datetime | None,
               variables: list[Variable] | None = None) -> GitCommit:
    """A commit holding ``steps`` (and ``variables``); its hash is derived from the project, the
    process and the number of commits before it, so the same estate gives the same hashes every time."""
    repo = repository(project)
    content = json.dumps([s.model_dump(mode="json") for s in steps], sort_keys=True)
    digest = hashlib.sha1(f"{project.name}\0{len(repo.commits)}\0{message}\0{content}".encode(), usedforsecurity=False)
    return GitCommit(hash=digest.hexdigest(), message=message, committed=when,
                     steps=[s.model_copy(deep=True) for s in steps],
                     variables=[v.model_copy(deep=True) for v in variables or []])


#: The longest commit message kept (the sandbox's own bound: the API states none for ``ChangeDescription``).
MAX_COMMIT_MESSAGE = 10_000

#: what a commit at a branch can change, by the route that writes it
_WRITES = {"steps": "deployment process", "variables": "variables", "versioning_template": "deployment settings"}


def commit_to(project: Project, ref: str, when: datetime | None, message: str | None = None,
              **changes: object) -> Project:
    """A copy of the project with a new commit on the branch ``ref`` names: the branch's head with
    ``changes`` made (``steps`` by ``PUT .../{gitRef}/deploymentprocesses``, ``variables`` by
    ``PUT .../{gitRef}/variables``, ``versioning_template`` and ``versioning_package`` by
    ``PUT .../{gitRef}/deploymentsettings``). A tag or a commit cannot move, so that is 400. The
    default branch's head is also the project's own process and versioning strategy (what an
    export writes as the project's). ``message``: the commit message, the body's
    ``ChangeDescription`` (blank or none: the sandbox's own, naming what changed)."""
    resolved = resolve(project, ref)
    if resolved.branch is None:
        # the sandbox's own wording: the real server's text for a write at a tag or commit is not published
        raise ValidationFailed(f"'{ref}' is not a branch: only a branch can be committed to.")
    project = project.model_copy(deep=True)
    repo = repository(project)
    head = resolved.commit.model_copy(deep=True, update=changes)
    what = next((w for field, w in _WRITES.items() if field in changes), "deployment settings")
    message = (message or "").strip()[:MAX_COMMIT_MESSAGE] or f"Update the {what} on {resolved.branch}"
    commit = new_commit(project, head.steps, message, when, head.variables)
    commit = commit.model_copy(update={"versioning_template": head.versioning_template,
                                       "versioning_package": head.versioning_package})
    repo.commits[commit.hash] = commit
    repo.branches[resolved.branch] = commit.hash
    if resolved.branch == repo.default_branch:
        project = at(project, commit).model_copy(update={"at_commit": None})
    return project
