"""The ``{build.*}`` values: what the CI says about the build, plus ``--var`` overrides.

A handler writes ``version: "1.4.{build.number}"`` once and runs on any CI. The values come
from the CI's own environment variables; the CI is recognised by the variable in the first row.

| value | GitHub Actions | GitLab CI | Jenkins | Azure DevOps | TeamCity |
|---|---|---|---|---|---|
| detected by | GITHUB_ACTIONS | GITLAB_CI | JENKINS_URL | TF_BUILD | TEAMCITY_VERSION |
| build.ci | github | gitlab | jenkins | azure | teamcity |
| build.number | GITHUB_RUN_NUMBER | CI_PIPELINE_IID | BUILD_NUMBER | BUILD_BUILDNUMBER | BUILD_NUMBER |
| build.version | build.number | build.number | build.number | build.number | build.number |
| build.id | GITHUB_RUN_ID | CI_PIPELINE_ID | BUILD_ID | BUILD_BUILDID | - |
| build.branch | (a) | (b) | (c) | (d) | - (g) |
| build.tag | GITHUB_REF_NAME (e) | CI_COMMIT_TAG | TAG_NAME | BUILD_SOURCEBRANCH (f) | - |
| build.commit | GITHUB_SHA | CI_COMMIT_SHA | GIT_COMMIT | BUILD_SOURCEVERSION | BUILD_VCS_NUMBER |
| build.url | (h) | CI_PIPELINE_URL | BUILD_URL | (i) | - (g) |
| build.trigger | GITHUB_EVENT_NAME | CI_PIPELINE_SOURCE | - | BUILD_REASON | - |
| build.repository | GITHUB_REPOSITORY | CI_PROJECT_PATH | GIT_URL | BUILD_REPOSITORY_NAME | - |
| build.job | GITHUB_JOB | CI_JOB_NAME | JOB_NAME | AGENT_JOBNAME | TEAMCITY_BUILDCONF_NAME |
| build.actor | GITHUB_ACTOR | GITLAB_USER_LOGIN | - | BUILD_REQUESTEDFOR | - |

(a) GITHUB_HEAD_REF on pull requests, else GITHUB_REF_NAME; none on tag builds.
(b) CI_COMMIT_BRANCH, else CI_MERGE_REQUEST_SOURCE_BRANCH_NAME, else CI_COMMIT_REF_NAME unless
    the pipeline runs for a tag.
(c) BRANCH_NAME (multibranch pipelines), else GIT_BRANCH without its ``origin/``.
(d) SYSTEM_PULLREQUEST_SOURCEBRANCH, else BUILD_SOURCEBRANCH, when they start with
    ``refs/heads/``, which is removed.
(e) only when GITHUB_REF_TYPE is ``tag``.  (f) when it starts with ``refs/tags/``, removed.
(g) not in TeamCity's environment: pass it with ``--var branch=%teamcity.build.branch%``.
(h) GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID.
(i) SYSTEM_COLLECTIONURI + SYSTEM_TEAMPROJECT/_build/results?buildId=BUILD_BUILDID.

Choices, and why:

- ``build.branch`` is the branch a person would name. On a GitHub pull request that is the
  head branch (``GITHUB_REF_NAME`` there is ``123/merge``); Azure's ``BUILD_SOURCEBRANCHNAME``
  keeps only the last path segment (``x`` for ``feature/x``), so the full ref is stripped instead.
- ``build.version`` defaults to ``build.number``: every CI has a counter, none has a release
  version, and Octopus needs one. Give the real one with ``--var version=1.4.2``.
- Outside any CI, ``build.ci`` is ``local`` and nothing else is set.
- A variable that is set but empty counts as absent.

``--var KEY=VALUE`` wins over the environment; ``KEY`` may be written with or without the
``build.`` prefix, and may name a value of its own (``--var ring=canary`` gives ``{build.ring}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from octorelease.ci_env import detect_ci, variable_text
from octorelease.errors import InvalidInput
from octorelease.suggest import closest

#: Every value some CI can give: used to tell "not set here" from "no such value".
KNOWN_VALUES = (
    "ci",
    "number",
    "id",
    "version",
    "branch",
    "tag",
    "commit",
    "url",
    "trigger",
    "repository",
    "job",
    "actor",
    "stage",  # the --stage value
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{build\.([^{}]*)\}")

Environ = Mapping[str, str]


def build_values(environ: Environ, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``{build.*}`` values, keyed without the ``build.`` prefix.

    ``overrides`` are the ``--var`` pairs; their keys may carry the ``build.`` prefix.
    """
    ci = detect_ci(environ)
    values = {"ci": ci or "local"}
    if ci is not None:
        found = _READERS[ci](_Env(environ))
        values.update({key: value for key, value in found.items() if value})
    if "number" in values:
        values.setdefault("version", values["number"])
    for key, value in (overrides or {}).items():
        values[_override_name(key)] = value
    return values


#: how each CI is named when a version-controlled project's ref is taken from its build
CI_NAMES = {"github": "GitHub Actions", "gitlab": "GitLab CI", "jenkins": "Jenkins", "azure": "Azure DevOps",
            "teamcity": "TeamCity", "local": "--var"}


def git_of_build(values: Mapping[str, str]) -> tuple[str | None, str | None, str] | None:
    """The build's branch (else its tag, as ``refs/tags/...``) and commit, and where they come
    from: what a version-controlled project's release is made at when no ref is given. None when
    the build names neither."""
    branch, tag, commit = values.get("branch"), values.get("tag"), values.get("commit")
    ref = f"refs/heads/{branch}" if branch else f"refs/tags/{tag}" if tag else None
    if not ref and not commit:
        return None
    what = " and ".join(w for w, v in (("branch" if branch else "tag", ref), ("commit", commit)) if v)
    return ref, commit, f"the build's {what}, from {CI_NAMES.get(values.get('ci', ''), 'the CI')}"


def parse_var(text: str) -> tuple[str, str]:
    """Split one ``--var KEY=VALUE`` into its name (without ``build.``) and value."""
    key, sep, value = text.partition("=")
    if not sep:
        raise InvalidInput(f"--var {text!r}: expected KEY=VALUE, e.g. --var version=1.4.2")
    return _override_name(key), value


def expand_build_values(text: str, values: Mapping[str, str]) -> str:
    """Replace every ``{build.NAME}`` in ``text``; ``{{`` and ``}}`` stand for ``{`` and ``}``.

    Other braces are left alone, so a regular expression such as ``\\d{3}`` needs no escaping.
    """

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name in values:
            return values[name]
        raise InvalidInput(_unknown_value(name, values))

    return _PLACEHOLDER.sub(replace, text)


def placeholders(text: str) -> list[str]:
    """The names of the ``{build.*}`` placeholders in ``text``, in order (escapes skipped)."""
    return [match.group(1) for match in _PLACEHOLDER.finditer(text) if match.group(1) is not None]


def unfilled_references(text: str, values: Mapping[str, str], *, runs: bool) -> list[str]:
    """The names of the ``{build.*}`` in ``text`` that cannot be filled in: with ``runs`` (the
    handler runs in this build), each that this build lacks; else each that no CI and no
    ``--var`` can give, a typo (``{build.nubmer}``) being found whether the handler runs or not."""
    known = set(values) if runs else set(values) | set(KNOWN_VALUES)
    return [name for name in placeholders(text) if name not in known]


def unfilled_message(faults: Sequence[tuple[str, str]], values: Mapping[str, str]) -> str:
    """One line for every ``{build.*}`` that cannot be filled in, ``faults`` being (where, name):
    a run stops once, naming them all, not once per value. Typos come first, then the values this
    build lacks, with every ``--var`` that gives them."""
    typos = [(where, name) for where, name in faults if name not in KNOWN_VALUES]
    unset = [(where, name) for where, name in faults if name in KNOWN_VALUES]
    said = [f"{where}: {_unknown_value(name, values)}" for where, name in typos]
    said += [f"{where}: {{build.{name}}} is not set in this build" for where, name in unset]
    if unset:
        passing = " ".join(f"--var {name}=VALUE" for name in dict.fromkeys(name for _, name in unset))
        said[-1] += f": pass {passing}"
    return "; ".join(said)


def _unknown_value(name: str, values: Mapping[str, str]) -> str:
    """Why ``{build.NAME}`` cannot be filled in, with the ``--var`` or the spelling that fixes it."""
    if name in KNOWN_VALUES:
        return f"{{build.{name}}} is not set in this build: pass --var {name}=VALUE"
    close = closest(name, sorted(set(values) | set(KNOWN_VALUES)))
    hint = f" (did you mean {{build.{close}}}?)" if close else ""
    return f"unknown build value {{build.{name}}}{hint}"


def _override_name(key: str) -> str:
    name = key.strip()
    name = name[len("build.") :] if name.startswith("build.") else name
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"--var {key!r}: a build value name is letters, digits, '_' and '-'")
    return name


class _Env:
    """Reads the environment with empty values treated as absent."""

    def __init__(self, environ: Environ) -> None:
        self._environ = environ

    def __call__(self, *names: str) -> str:
        """The first of ``names`` that is set and not empty, else ``""``."""
        for name in names:
            value = variable_text(self._environ, name)
            if value:
                return value
        return ""

    def strip(self, name: str, prefix: str) -> str:
        """The variable without ``prefix``, or ``""`` when it does not start with it."""
        value = self(name)
        return value[len(prefix) :] if value.startswith(prefix) else ""


def _github(env: _Env) -> dict[str, str]:
    server, repository, run_id = env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID")
    return {
        "number": env("GITHUB_RUN_NUMBER"),
        "id": run_id,
        "branch": env("GITHUB_HEAD_REF") or ("" if env("GITHUB_REF_TYPE") == "tag" else env("GITHUB_REF_NAME")),
        "tag": env("GITHUB_REF_NAME") if env("GITHUB_REF_TYPE") == "tag" else "",
        "commit": env("GITHUB_SHA"),
        "url": f"{server}/{repository}/actions/runs/{run_id}" if server and repository and run_id else "",
        "trigger": env("GITHUB_EVENT_NAME"),
        "repository": repository,
        "job": env("GITHUB_JOB"),
        "actor": env("GITHUB_ACTOR"),
    }


def _gitlab(env: _Env) -> dict[str, str]:
    return {
        "number": env("CI_PIPELINE_IID"),
        "id": env("CI_PIPELINE_ID"),
        "branch": env("CI_COMMIT_BRANCH", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
        or ("" if env("CI_COMMIT_TAG") else env("CI_COMMIT_REF_NAME")),
        "tag": env("CI_COMMIT_TAG"),
        "commit": env("CI_COMMIT_SHA"),
        "url": env("CI_PIPELINE_URL"),
        "trigger": env("CI_PIPELINE_SOURCE"),
        "repository": env("CI_PROJECT_PATH"),
        "job": env("CI_JOB_NAME"),
        "actor": env("GITLAB_USER_LOGIN"),
    }


def _jenkins(env: _Env) -> dict[str, str]:
    branch = env("BRANCH_NAME", "GIT_BRANCH")
    return {
        "number": env("BUILD_NUMBER"),
        "id": env("BUILD_ID"),
        "branch": branch[len("origin/") :] if branch.startswith("origin/") else branch,
        "tag": env("TAG_NAME"),
        "commit": env("GIT_COMMIT"),
        "url": env("BUILD_URL"),
        "repository": env("GIT_URL"),
        "job": env("JOB_NAME"),
    }


def _azure(env: _Env) -> dict[str, str]:
    collection, project, build_id = env("SYSTEM_COLLECTIONURI"), env("SYSTEM_TEAMPROJECT"), env("BUILD_BUILDID")
    url = f"{collection.rstrip('/')}/{project}/_build/results?buildId={build_id}"
    return {
        "number": env("BUILD_BUILDNUMBER"),
        "id": build_id,
        "branch": env.strip("SYSTEM_PULLREQUEST_SOURCEBRANCH", "refs/heads/")
        or env.strip("BUILD_SOURCEBRANCH", "refs/heads/"),
        "tag": env.strip("BUILD_SOURCEBRANCH", "refs/tags/"),
        "commit": env("BUILD_SOURCEVERSION"),
        "url": url if collection and project and build_id else "",
        "trigger": env("BUILD_REASON"),
        "repository": env("BUILD_REPOSITORY_NAME"),
        "job": env("AGENT_JOBNAME"),
        "actor": env("BUILD_REQUESTEDFOR"),
    }


def _teamcity(env: _Env) -> dict[str, str]:
    return {
        "number": env("BUILD_NUMBER"),
        "commit": env("BUILD_VCS_NUMBER"),
        "job": env("TEAMCITY_BUILDCONF_NAME"),
    }


_READERS: dict[str, Callable[[_Env], dict[str, str]]] = {
    "github": _github,
    "gitlab": _gitlab,
    "jenkins": _jenkins,
    "azure": _azure,
    "teamcity": _teamcity,
}
