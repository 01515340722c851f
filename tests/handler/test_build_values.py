"""Build values from each CI's environment, and --var overrides."""

from __future__ import annotations

import pytest

from octorelease.ci_env import detect_ci
from octorelease.errors import InvalidInput
from octorelease.handler.build_values import build_values, expand_build_values, parse_var

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_RUN_NUMBER": "42",
    "GITHUB_RUN_ID": "9001",
    "GITHUB_REF_NAME": "main",
    "GITHUB_REF_TYPE": "branch",
    "GITHUB_SHA": "abc123",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/web",
    "GITHUB_EVENT_NAME": "push",
    "GITHUB_JOB": "ship",
    "GITHUB_ACTOR": "ada",
}
GITLAB = {
    "GITLAB_CI": "true",
    "CI_PIPELINE_IID": "17",
    "CI_PIPELINE_ID": "5550",
    "CI_COMMIT_BRANCH": "main",
    "CI_COMMIT_REF_NAME": "main",
    "CI_COMMIT_SHA": "def456",
    "CI_PIPELINE_URL": "https://gitlab.com/acme/web/-/pipelines/5550",
    "CI_PIPELINE_SOURCE": "push",
    "CI_PROJECT_PATH": "acme/web",
    "CI_JOB_NAME": "ship",
    "GITLAB_USER_LOGIN": "ada",
}
JENKINS = {
    "JENKINS_URL": "https://ci.acme.test/",
    "BUILD_NUMBER": "311",
    "BUILD_ID": "311",
    "GIT_BRANCH": "origin/main",
    "GIT_COMMIT": "0badc0de",
    "BUILD_URL": "https://ci.acme.test/job/web/311/",
    "GIT_URL": "https://git.acme.test/web.git",
    "JOB_NAME": "web",
}
AZURE = {
    "TF_BUILD": "True",
    "BUILD_BUILDNUMBER": "20240101.3",
    "BUILD_BUILDID": "77",
    "BUILD_SOURCEBRANCH": "refs/heads/feature/x",
    "BUILD_SOURCEBRANCHNAME": "x",
    "BUILD_SOURCEVERSION": "feedbeef",
    "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
    "SYSTEM_TEAMPROJECT": "Web",
    "BUILD_REASON": "IndividualCI",
    "BUILD_REPOSITORY_NAME": "web",
    "AGENT_JOBNAME": "Ship",
    "BUILD_REQUESTEDFOR": "Ada Lovelace",
}
TEAMCITY = {
    "TEAMCITY_VERSION": "2024.03",
    "BUILD_NUMBER": "88",
    "BUILD_VCS_NUMBER": "cafe01",
    "TEAMCITY_BUILDCONF_NAME": "Ship",
}


@pytest.mark.parametrize(
    ("environ", "ci"),
    [
        (GITHUB, "github"),
        (GITLAB, "gitlab"),
        (JENKINS, "jenkins"),
        (AZURE, "azure"),
        (TEAMCITY, "teamcity"),
        ({}, None),
    ],
)
def test_detect_ci_recognises_each_ci_by_its_marker(environ: dict[str, str], ci: str | None) -> None:
    assert detect_ci(environ) == ci


def test_github_values() -> None:
    assert build_values(GITHUB) == {
        "ci": "github",
        "number": "42",
        "version": "42",
        "id": "9001",
        "branch": "main",
        "commit": "abc123",
        "url": "https://github.com/acme/web/actions/runs/9001",
        "trigger": "push",
        "repository": "acme/web",
        "job": "ship",
        "actor": "ada",
    }


def test_github_pull_request_branch_is_the_head_branch_not_the_merge_ref() -> None:
    environ = {**GITHUB, "GITHUB_REF_NAME": "7/merge", "GITHUB_HEAD_REF": "feature/x"}
    assert build_values(environ)["branch"] == "feature/x"


def test_github_tag_build_gives_a_tag_and_no_branch() -> None:
    values = build_values({**GITHUB, "GITHUB_REF_NAME": "v1.4.0", "GITHUB_REF_TYPE": "tag"})
    assert values["tag"] == "v1.4.0"
    assert "branch" not in values


def test_gitlab_values() -> None:
    assert build_values(GITLAB) == {
        "ci": "gitlab",
        "number": "17",
        "version": "17",
        "id": "5550",
        "branch": "main",
        "commit": "def456",
        "url": "https://gitlab.com/acme/web/-/pipelines/5550",
        "trigger": "push",
        "repository": "acme/web",
        "job": "ship",
        "actor": "ada",
    }


def test_gitlab_tag_pipeline_gives_a_tag_and_no_branch() -> None:
    environ = {**GITLAB, "CI_COMMIT_BRANCH": "", "CI_COMMIT_REF_NAME": "v1.4.0", "CI_COMMIT_TAG": "v1.4.0"}
    values = build_values(environ)
    assert values["tag"] == "v1.4.0"
    assert "branch" not in values


def test_jenkins_values_strip_the_remote_from_git_branch() -> None:
    assert build_values(JENKINS) == {
        "ci": "jenkins",
        "number": "311",
        "version": "311",
        "id": "311",
        "branch": "main",
        "commit": "0badc0de",
        "url": "https://ci.acme.test/job/web/311/",
        "repository": "https://git.acme.test/web.git",
        "job": "web",
    }


def test_jenkins_multibranch_branch_name_wins_over_git_branch() -> None:
    assert build_values({**JENKINS, "BRANCH_NAME": "PR-5"})["branch"] == "PR-5"


def test_azure_values_keep_the_whole_branch_path() -> None:
    assert build_values(AZURE) == {
        "ci": "azure",
        "number": "20240101.3",
        "version": "20240101.3",
        "id": "77",
        "branch": "feature/x",
        "commit": "feedbeef",
        "url": "https://dev.azure.com/acme/Web/_build/results?buildId=77",
        "trigger": "IndividualCI",
        "repository": "web",
        "job": "Ship",
        "actor": "Ada Lovelace",
    }


def test_azure_pull_request_branch_is_the_source_branch() -> None:
    environ = {**AZURE, "BUILD_SOURCEBRANCH": "refs/pull/5/merge", "SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/fix"}
    assert build_values(environ)["branch"] == "fix"


def test_azure_tag_build_gives_a_tag() -> None:
    values = build_values({**AZURE, "BUILD_SOURCEBRANCH": "refs/tags/v2.0.0"})
    assert values["tag"] == "v2.0.0"
    assert "branch" not in values


def test_teamcity_values_are_the_few_it_exports() -> None:
    assert build_values(TEAMCITY) == {
        "ci": "teamcity",
        "number": "88",
        "version": "88",
        "commit": "cafe01",
        "job": "Ship",
    }


def test_outside_ci_only_the_ci_is_known() -> None:
    assert build_values({}) == {"ci": "local"}


def test_var_overrides_win_with_or_without_the_build_prefix() -> None:
    values = build_values(GITHUB, {"build.branch": "hotfix", "version": "1.4.2", "ring": "canary"})
    picked = (values["branch"], values["version"], values["ring"], values["number"])
    assert picked == ("hotfix", "1.4.2", "canary", "42")


def test_empty_variables_count_as_absent() -> None:
    assert "commit" not in build_values({**GITHUB, "GITHUB_SHA": ""})


def test_parse_var_splits_at_the_first_equals_sign() -> None:
    assert parse_var("build.notes=a=b") == ("notes", "a=b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version", "--var 'version': expected KEY=VALUE, e.g. --var version=1.4.2"),
        ("no spaces=x", "--var 'no spaces': a build value name is letters, digits, '_' and '-'"),
    ],
)
def test_parse_var_refuses_malformed_pairs(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_var(text)
    assert str(caught.value) == message


def test_expand_build_values_fills_placeholders_and_unescapes_doubled_braces() -> None:
    values = {"number": "7"}
    assert expand_build_values("1.4.{build.number}", values) == "1.4.7"
    assert expand_build_values("{{build.number}} is {build.number}", values) == "{build.number} is 7"
    assert expand_build_values(r"\d{3} {x}", values) == r"\d{3} {x}"


def test_expand_build_values_says_how_to_give_a_value_this_ci_lacks() -> None:
    with pytest.raises(InvalidInput, match=r"^\{build.branch\} is not set in this build: pass --var branch=VALUE$"):
        expand_build_values("{build.branch}", {"number": "7"})


def test_expand_build_values_suggests_the_value_meant() -> None:
    with pytest.raises(InvalidInput) as caught:
        expand_build_values("{build.nmber}", {"number": "7"})
    assert str(caught.value) == "unknown build value {build.nmber} (did you mean {build.number}?)"
