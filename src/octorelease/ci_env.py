"""Which CI runs us, read from the variables each CI sets.

``report/ci.py`` speaks that CI's log markers, ``report/console.py`` drops the live view in any
CI, and ``handler/build_values.py`` reads the ``{build.*}`` values that CI offers.
"""

from __future__ import annotations

from collections.abc import Mapping

from octorelease.errors import InvalidInput

#: The variable whose presence says which CI runs us, checked in this order.
CI_MARKERS = (
    ("github", "GITHUB_ACTIONS"),
    ("gitlab", "GITLAB_CI"),
    ("azure", "TF_BUILD"),
    ("teamcity", "TEAMCITY_VERSION"),
    ("jenkins", "JENKINS_URL"),
)

#: Variables that only CI systems set; any of them means "no live view, whole lines only".
CI_VARIABLES = (
    "CI",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "TF_BUILD",
    "TEAMCITY_VERSION",
    "JENKINS_URL",
    "BUILDKITE",
    "CIRCLECI",
    "TRAVIS",
    "APPVEYOR",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",
)


def detect_ci(environ: Mapping[str, str]) -> str | None:
    """Which CI runs us (``github``, ``gitlab``, ``jenkins``, ``azure``, ``teamcity``), or None."""
    for name, marker in CI_MARKERS:
        if environ.get(marker):
            return name
    return None


def running_in_ci(environ: Mapping[str, str]) -> bool:
    """Whether a CI system runs us: ``CI`` or a variable only a CI sets, and not set to false."""
    return any(environ.get(name, "").strip().lower() not in ("", "0", "false") for name in CI_VARIABLES)


def variable_text(environ: Mapping[str, str], name: str) -> str:
    """The variable ``name`` (``""`` when unset), as text: a value carrying bytes that are not
    UTF-8 (Python keeps them as lone surrogates) is a usage error naming the variable, never its
    value, instead of failing deep in a request or a database."""
    value = environ.get(name, "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"The environment variable {name} is not valid UTF-8 text.",
                           hint="Set it as UTF-8 text, or give the value with --var.") from None
    return value
