"""CI-native output: each CI's own markers, escaped, redacted, and files where the CI reads them."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest

from octorelease.report.ci import (
    CiReporter,
    SummaryRow,
    log_groups,
    markdown_summary,
    step_outputs,
    summary_rows,
    teamcity_value,
)

GITHUB = {"GITHUB_ACTIONS": "true"}
GITLAB = {"GITLAB_CI": "true"}
AZURE = {"TF_BUILD": "True"}
TEAMCITY = {"TEAMCITY_VERSION": "2024.03"}
JENKINS = {"JENKINS_URL": "https://ci.example/"}
KEY = "API-ABCDEFGHIJKLMNOPQRSTUV12"


def reporter(environ: dict[str, str], secrets: tuple[str, ...] = ()) -> tuple[CiReporter, io.StringIO]:
    stream = io.StringIO()
    return CiReporter(environ, stream, secrets=secrets, clock=lambda: 1700000000.0), stream


def grouped(environ: dict[str, str], title: str = "Deploy to Test") -> str:
    ci, stream = reporter(environ)
    with ci.group(title):
        stream.write("inside\n")
    return stream.getvalue()


def test_github_groups_use_workflow_commands() -> None:
    assert grouped(GITHUB) == "::group::Deploy to Test\ninside\n::endgroup::\n"


#: GitLab's section markers (docs.gitlab.com, "Custom collapsible sections"): the name is
#: letters, digits, '_', '.' and '-'.
SECTION_START = re.compile(r"\x1b\[0Ksection_start:(\d+):([A-Za-z0-9_.-]+)\[collapsed=true\]\r\x1b\[0K(.*)")
SECTION_END = re.compile(r"\x1b\[0Ksection_end:(\d+):([A-Za-z0-9_.-]+)\r\x1b\[0K")


def test_gitlab_groups_are_collapsed_sections_with_a_timestamp() -> None:
    start, inside, end, rest = grouped(GITLAB).split("\n")
    opened, closed = SECTION_START.fullmatch(start), SECTION_END.fullmatch(end)
    assert opened is not None and closed is not None, (start, end)
    assert opened.groups() == ("1700000000", closed.group(2), "Deploy to Test")
    assert (inside, closed.group(1), rest) == ("inside", "1700000000", "")


def test_gitlab_sections_are_marked_when_they_began_and_ended() -> None:
    folds = log_groups(GITLAB, clock=lambda: 5.0)
    assert folds is not None
    assert SECTION_START.fullmatch(folds.open("Deploy", at=1700000000.9)).group(1) == "1700000000"  # type: ignore[union-attr]
    assert SECTION_END.fullmatch(folds.close("Deploy", at=1700000042.0)).group(1) == "1700000042"  # type: ignore[union-attr]


def test_gitlab_section_names_are_unique_across_the_runs_of_one_job() -> None:
    first, second = log_groups(GITLAB), log_groups(GITLAB)
    assert first is not None and second is not None
    names = [SECTION_START.fullmatch(folds.open("Deploy to Test")).group(2)  # type: ignore[union-attr]
             for folds in (first, second, first)]
    assert len(set(names)) == 3, names
    assert all(str(os.getpid()) in name for name in names)  # another process, another name


def test_gitlab_nested_sections_close_in_order() -> None:
    folds = log_groups(GITLAB, clock=lambda: 5.0)
    assert folds is not None
    outer = SECTION_START.fullmatch(folds.open("outer")).group(2)  # type: ignore[union-attr]
    inner = SECTION_START.fullmatch(folds.open("inner")).group(2)  # type: ignore[union-attr]
    assert folds.close("inner") == f"\x1b[0Ksection_end:5:{inner}\r\x1b[0K"
    assert folds.close("outer") == f"\x1b[0Ksection_end:5:{outer}\r\x1b[0K"


def test_azure_groups() -> None:
    assert grouped(AZURE) == "##[group]Deploy to Test\ninside\n##[endgroup]\n"


def test_teamcity_groups_are_blocks_with_escaped_names() -> None:
    assert grouped(TEAMCITY, "Deploy [Test] 'now'") == (
        "##teamcity[blockOpened name='Deploy |[Test|] |'now|'']\n"
        "inside\n"
        "##teamcity[blockClosed name='Deploy |[Test|] |'now|'']\n"
    )


def test_jenkins_groups_are_a_plain_title_line() -> None:
    assert grouped(JENKINS) == "== Deploy to Test\ninside\n"


def test_outside_ci_nothing_is_written() -> None:
    ci, stream = reporter({})
    with ci.group("x"):
        ci.error("boom")
        ci.warning("hmm")
        ci.set_outputs({"release": "1.0.0"})
    assert ci.ci is None
    assert stream.getvalue() == ""


def test_a_group_is_closed_even_when_the_block_fails() -> None:
    ci, stream = reporter(GITHUB)
    with pytest.raises(RuntimeError), ci.group("x"):
        raise RuntimeError("boom")
    assert stream.getvalue() == "::group::x\n::endgroup::\n"


def test_log_groups_offers_folds_only_where_a_ci_has_them() -> None:
    assert log_groups(GITHUB) is not None
    assert log_groups(JENKINS) is not None  # headed lines, no closing marker
    assert log_groups({}) is None


@pytest.mark.parametrize(
    ("environ", "error", "warning"),
    [
        (
            GITHUB,
            "::error title=Promote Web%3A Test::Deployment failed%0Aat step 2, 100%25",
            "::warning::Skipped",
        ),
        (
            AZURE,
            "##vso[task.logissue type=error]Promote Web: Test: Deployment failed%0Aat step 2, 100%AZP25",
            "##vso[task.logissue type=warning]Skipped",
        ),
        (
            TEAMCITY,
            "##teamcity[buildProblem description='Promote Web: Test: Deployment failed|nat step 2, 100%']",
            "##teamcity[message text='Skipped' status='WARNING']",
        ),
        # No annotations there: the console's "Error:" line is the one error line, not followed by "ERROR:".
        (GITLAB, None, "WARNING: Skipped"),
        (JENKINS, None, "WARNING: Skipped"),
    ],
)
def test_errors_and_warnings_speak_each_cis_language(environ: dict[str, str], error: str | None, warning: str) -> None:
    ci, stream = reporter(environ)
    ci.error("Deployment failed\nat step 2, 100%", title="Promote Web: Test")
    ci.warning("Skipped")
    assert stream.getvalue() == (f"{error}\n" if error else "") + f"{warning}\n"


def test_a_message_cannot_forge_a_second_github_command() -> None:
    ci, stream = reporter(GITHUB)
    ci.error("bad\n::set-env name=X::y")
    # one line; and the ``::`` that began a line of the message is defused too (safe_text)
    assert stream.getvalue() == "::error::bad%0A:\u200b:set-env name=X::y\n"


def test_teamcity_escapes_every_special_character() -> None:
    assert teamcity_value("a|b'c\nd\re[f]g\u0085h\u2028i\u2029") == "a||b|'c|nd|re|[f|]g|xh|li|p"


def test_github_outputs_are_appended_to_the_github_output_file(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.write_text("earlier=1\n", encoding="utf-8")
    ci, stream = reporter({**GITHUB, "GITHUB_OUTPUT": str(output)})
    ci.set_outputs({"release_version": "1.4.7", "ok": "true"})
    assert output.read_text(encoding="utf-8") == "earlier=1\nrelease_version=1.4.7\nok=true\n"
    assert stream.getvalue() == ""


def test_github_multi_line_outputs_use_a_delimiter_the_value_does_not_contain(tmp_path: Path) -> None:
    output = tmp_path / "output"
    ci, _ = reporter({**GITHUB, "GITHUB_OUTPUT": str(output)})
    ci.set_outputs({"notes": "line one\nline two"})
    first, *body, last = output.read_text(encoding="utf-8").splitlines()
    name, delimiter = first.split("<<")
    assert (name, body, last) == ("notes", ["line one", "line two"], delimiter)
    assert delimiter.startswith("ghadelimiter_")


def test_azure_outputs_are_output_variables() -> None:
    ci, stream = reporter(AZURE)
    ci.set_outputs({"release_version": "1.4.7", "notes": "a;b]\nc"})
    assert stream.getvalue() == (
        "##vso[task.setvariable variable=release_version;isOutput=true]1.4.7\n"
        "##vso[task.setvariable variable=notes;isOutput=true]a;b]%0Ac\n"
    )


def test_teamcity_outputs_are_parameters_under_octorelease() -> None:
    ci, stream = reporter(TEAMCITY)
    ci.set_outputs({"release_version": "1.4.7"})
    assert stream.getvalue() == "##teamcity[setParameter name='octorelease.release_version' value='1.4.7']\n"


def test_output_names_must_be_plain() -> None:
    ci, _ = reporter(AZURE)
    with pytest.raises(ValueError, match="output name 'a;b'"):
        ci.set_outputs({"a;b": "x"})


def test_secrets_and_anything_shaped_like_an_api_key_are_never_written(tmp_path: Path) -> None:
    output, summary = tmp_path / "output", tmp_path / "summary"
    environ = {**GITHUB, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    ci, stream = reporter(environ, secrets=("hunter2",))
    with ci.group(f"key {KEY}"):
        ci.error(f"server said: bad key {KEY}, password hunter2", title="hunter2")
    ci.set_outputs({"echo": f"{KEY} hunter2"})
    ci.write_summary([SummaryRow("promote", "Web", "1.0.0", f"Test {KEY}", "Success")])
    written = stream.getvalue() + output.read_text(encoding="utf-8") + summary.read_text(encoding="utf-8")
    assert KEY not in written and "hunter2" not in written
    assert "::error title=***::server said: bad key ***, password ***" in written


def test_the_summary_is_a_markdown_table_appended_to_the_step_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary"
    ci, _ = reporter({**GITHUB, "GITHUB_STEP_SUMMARY": str(summary)})
    rows = [
        SummaryRow("Ship / promote", "Web", "1.4.0", "Test", "Success", 3.24, "ServerTasks-40", "https://o/t/40"),
        SummaryRow("Ship / promote", "Web", "1.4.0", "Prod", "Failed", 75.0, "ServerTasks-41", "https://o/t/41"),
    ]
    ci.write_summary(rows)
    assert summary.read_text(encoding="utf-8") == (
        "### octorelease\n"
        "\n"
        "| Handler/Action | Project | Release | Environment | State | Duration | Task link |\n"
        "|---|---|---|---|---|---|---|\n"
        "| Ship / promote | Web | 1.4.0 | Test | ✅ Success | 3.2s | [ServerTasks-40](https://o/t/40) |\n"
        "| Ship / promote | Web | 1.4.0 | Prod | ❌ Failed | 1m15s | [ServerTasks-41](https://o/t/41) |\n"
        "\n"
    )


def test_summary_cells_cannot_break_the_table_or_inject_html() -> None:
    row = SummaryRow("a|b", "<script>", "1\n2", "Test", "Queued", None, None, "javascript:alert(1)")
    assert markdown_summary([row]).rstrip().splitlines()[-1] == "| a\\|b | &lt;script&gt; | 1 2 | Test | Queued |  |  |"


def test_the_summary_goes_only_to_github() -> None:
    ci, stream = reporter(AZURE)
    ci.write_summary([SummaryRow("deploy", "Web", "1.0.0", "Test", "Success")])
    assert stream.getvalue() == ""


def test_summary_rows_come_from_an_action_result() -> None:
    result = {
        "ok": True,
        "action": "promote",
        "project": {"id": "Projects-1", "name": "Web"},
        "release": {"id": "Releases-7", "version": "1.4.0"},
        "from": "Test",
        "deployments": [
            {
                "environment": "Production",
                "deployment_id": "Deployments-12",
                "task_id": "ServerTasks-40",
                "state": "Success",
                "duration_seconds": 3.2,
                "web_url": "https://o/t/40",
            }
        ],
        "error": None,
    }
    assert summary_rows(result) == [
        SummaryRow("promote", "Web", "1.4.0", "Production", "Success", 3.2, "ServerTasks-40", "https://o/t/40")
    ]


def test_summary_rows_of_a_run_name_the_handler_and_keep_actions_without_deployments() -> None:
    result = {
        "ok": False,
        "handlers": [
            {
                "name": "Ship",
                "ran": True,
                "reason": "event is build-completed",
                "actions": [
                    {
                        "action": "create",
                        "project": {"name": "Web"},
                        "release": {"version": "1.4.7"},
                        "created": True,
                        "deployments": [],
                        "error": None,
                    },
                    {
                        "action": "deploy",
                        "project": {"name": "Web"},
                        "release": None,
                        "deployments": [],
                        "error": {"code": 3, "message": "no"},
                    },
                ],
            },
            {"name": "Skipped", "ran": False, "reason": "disabled", "actions": []},
        ],
    }
    assert summary_rows(result) == [
        SummaryRow("Ship / create", "Web", "1.4.7", "", "Created"),
        SummaryRow("Ship / deploy", "Web", "", "", "Error", message="no"),
    ]


def test_step_outputs_give_the_release_the_task_ids_and_the_whole_result() -> None:
    result = {
        "ok": True,
        "action": "deploy",
        "release": {"id": "Releases-7", "version": "1.4.0"},
        "deployments": [
            {"environment": "Test", "deployment_id": "Deployments-1", "task_id": "ServerTasks-1", "state": "Success",
             "web_url": "https://o/app#/tasks/ServerTasks-1"},
            {"environment": "A, B", "deployment_id": "Deployments-2", "task_id": "ServerTasks-2", "state": "Queued"},
            {"environment": "Planned only", "state": "Planned"},
        ],
        "error": None,
    }
    outputs = step_outputs(result)
    assert outputs == {
        "ok": "true",
        "release_version": "1.4.0",
        "release_id": "Releases-7",
        "environments": "Test,A%2C B",
        "deployment_ids": "Deployments-1,Deployments-2",
        "task_ids": "ServerTasks-1,ServerTasks-2",
        "states": "Success,Queued",
        "web_urls": "https://o/app#/tasks/ServerTasks-1,",
        "result": json.dumps(result, separators=(",", ":")),
    }


def test_step_outputs_of_a_run_take_the_last_release_acted_on() -> None:
    result = {
        "ok": False,
        "handlers": [
            {"name": "a", "actions": [{"release": {"id": "Releases-1", "version": "1.0.0"}, "deployments": []}]},
            {"name": "b", "actions": [{"release": None, "deployments": [{"task_id": "ServerTasks-9"}]}]},
            {"name": "c", "actions": []},
        ],
    }
    outputs = step_outputs(result)
    assert (outputs["ok"], outputs["release_version"], outputs["task_ids"]) == ("false", "1.0.0", "ServerTasks-9")


def test_an_action_that_ended_in_error_names_the_error_in_its_summary_row() -> None:
    result = {"action": "promote", "project": {"name": "Web"}, "release": None, "deployments": [],
              "error": {"code": 3, "message": "the lifecycle does not allow Production"}}
    (row,) = summary_rows(result)
    assert markdown_summary([row]).rstrip().splitlines()[-1] == (
        "| promote | Web |  |  | ❌ Error: the lifecycle does not allow Production |  |  |"
    )


def test_a_summary_row_says_what_a_person_was_asked_and_how_it_was_answered() -> None:
    waiting = {"environment": "Production", "task_id": "ServerTasks-41", "state": "Executing",
               "pending_interruptions": [{"title": "Approve production", "teams": ["Release Managers"]}]}
    answered = {"environment": "Staging", "task_id": "ServerTasks-40", "state": "Success",
                "answered_interruptions": [{"title": "Approve staging", "answer": "Proceed", "answered_by": "jane"}]}
    rows = summary_rows({"action": "promote", "project": {"name": "Web"}, "release": {"version": "1.4.0"},
                         "deployments": [waiting, answered]})
    assert [row.message for row in rows] == ["waits for a person: Approve production (Release Managers)",
                                             "Approve staging: proceeded by jane"]
    assert "Executing: waits for a person: Approve production (Release Managers)" in markdown_summary(rows)
