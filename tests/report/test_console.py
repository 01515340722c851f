"""What a user reads: the console reporter's lines, its summary, and the one JSON object."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Mapping
from typing import Any

import pytest

from octorelease.actions.options import DeploymentOptions
from octorelease.actions.plan import DeploymentPlan, TargetPlan
from octorelease.actions.result import ActionResult, DeploymentResult, LogLine, Ref
from octorelease.ci_env import running_in_ci
from octorelease.errors import DeploymentFailed, NotFound, WaitTimedOut
from octorelease.report.console import ConsoleReporter, render_json
from octorelease.secrets import redact

API_KEY = "API-SECRETKEY0123456789"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RULE = "<rule>"


def make_reporter(environ: Mapping[str, str] | None = None, **options: Any) -> tuple[ConsoleReporter, io.StringIO]:
    """A reporter writing to a string, in CI (plain lines) unless ``environ`` says otherwise."""
    stream = io.StringIO()
    reporter = ConsoleReporter(stream, environ={"CI": "true"} if environ is None else environ, **options)
    return reporter, stream


def lines_of(stream: io.StringIO) -> list[str]:
    """The output as a user reads it: escape codes gone, runs of spaces (table padding) as one,
    and the rule under a table's heading as ``RULE``."""
    lines = [" ".join(line.split()) for line in ANSI.sub("", stream.getvalue()).splitlines()]
    return [RULE if line and set(line) == {"─"} else line for line in lines]


def deployment(environment: str, number: int, **fields: Any) -> DeploymentResult:
    return DeploymentResult(
        environment,
        f"Environments-{number}",
        deployment_id=f"Deployments-{number}",
        task_id=f"ServerTasks-{number}",
        **fields,
    )


def finish(reporter: ConsoleReporter, target: DeploymentResult, state: str, seconds: float, **fields: str) -> None:
    target.state = state
    target.duration_seconds = seconds
    for name, value in fields.items():
        setattr(target, name, value)
    reporter.task_updated(target)


def promote_result(*deployments: DeploymentResult, **fields: Any) -> ActionResult:
    return ActionResult(
        "promote",
        project=Ref("Projects-1", "Web"),
        release=Ref("Releases-3", "1.1.0"),
        from_environment="Development",
        deployments=list(deployments),
        **fields,
    )


class FoldMarkers:
    """GitHub's markers, as report/ci.py would give them; ``times`` records each marker's ``at``."""

    def __init__(self) -> None:
        self.times: list[tuple[str, float | None]] = []

    def open(self, title: str, at: float | None = None) -> str:
        self.times.append((f"open {title}", at))
        return f"::group::{title}"

    def close(self, title: str, at: float | None = None) -> str:
        self.times.append((f"close {title}", at))
        return "::endgroup::"


def test_redact_replaces_every_secret_and_ignores_empty_ones() -> None:
    assert redact("key API-1 and API-12 here", ["API-1", "API-12", ""]) == "key *** and *** here"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, False), ({"CI": "true"}, True), ({"CI": "false"}, False), ({"TF_BUILD": "True"}, True)],
)
def test_running_in_ci_reads_ci_and_the_variables_only_a_ci_sets(environ: dict[str, str], expected: bool) -> None:
    assert running_in_ci(environ) is expected


def test_plain_mode_prints_queued_and_each_state_change_once() -> None:
    reporter, stream = make_reporter()
    test = deployment("Test", 12)
    reporter.deployment_queued(test)
    test.state = "Executing"
    reporter.task_updated(test)
    reporter.task_updated(test)
    finish(reporter, test, "Success", 3.21)
    reporter.task_updated(test)
    assert lines_of(stream) == ["[Test] Queued ServerTasks-12", "[Test] Executing", "[Test] Success in 3.2s"]


def test_a_failed_state_line_leaves_why_to_the_summarys_table() -> None:
    reporter, stream = make_reporter()
    staging = deployment("Staging", 13, web_url="http://octopus/app#/Spaces-1/deployments/Deployments-13")
    reporter.deployment_queued(staging)
    finish(reporter, staging, "Failed", 64, failed_step="Deploy web", error_message="exit code 1")
    assert lines_of(stream)[-1] == "[Staging] Failed in 1m4s http://octopus/app#/Spaces-1/deployments/Deployments-13"


def test_each_log_line_is_printed_once_with_its_environment_and_step() -> None:
    reporter, stream = make_reporter()
    test = deployment("Test", 12)
    reporter.log_lines(
        test, [LogLine("Deploy web", "web-01", "Info", "Installing"), LogLine("Notify", None, "Warning", "slow")]
    )
    reporter.log_lines(test, [LogLine("Deploy web", "web-01", "Info", "Done")])
    assert lines_of(stream) == [
        "[Test] Deploy web (web-01): Installing",
        "[Test] Notify: slow",
        "[Test] Deploy web (web-01): Done",
    ]


def test_log_false_shows_states_only() -> None:
    reporter, stream = make_reporter(log=False)
    test = deployment("Test", 12)
    reporter.deployment_queued(test)
    reporter.log_lines(test, [LogLine("Deploy web", None, "Info", "Installing")])
    assert lines_of(stream) == ["[Test] Queued ServerTasks-12"]


def test_one_task_log_streams_in_its_fold_and_the_others_follow_whole_when_it_ends() -> None:
    reporter, stream = make_reporter(groups=FoldMarkers())
    reporter.release_chosen("Web", "1.3.0")
    test, staging = deployment("Test", 12), deployment("Staging", 13)
    reporter.log_lines(test, [LogLine("Deploy web", None, "Info", "one")])
    reporter.log_lines(staging, [LogLine("Deploy web", None, "Info", "three")])
    reporter.log_lines(test, [LogLine("Deploy web", None, "Info", "two")])
    assert lines_of(stream) == ["::group::Deploy Web 1.3.0 to Test", "Deploy web: one", "Deploy web: two"]
    finish(reporter, staging, "Executing", 1)
    finish(reporter, staging, "Success", 1)
    reporter.log_lines(test, [LogLine("Deploy web", None, "Info", "four")])
    finish(reporter, test, "Success", 2)
    reporter.close()
    assert lines_of(stream) == [
        "::group::Deploy Web 1.3.0 to Test",
        "Deploy web: one",
        "Deploy web: two",
        "Deploy web: four",
        "::endgroup::",
        "[Test] Success in 2s",
        "[Staging] Executing",  # held while Test's fold was open: never inside another's fold
        "::group::Deploy Web 1.3.0 to Staging",
        "Deploy web: three",
        "::endgroup::",
        "[Staging] Success in 1s",
    ]


def test_a_held_task_still_running_streams_next() -> None:
    reporter, stream = make_reporter(groups=FoldMarkers())
    test, staging = deployment("Test", 12), deployment("Staging", 13)
    reporter.log_lines(test, [LogLine("Deploy web", None, "Info", "one")])
    reporter.log_lines(staging, [LogLine("Deploy web", None, "Info", "two")])
    finish(reporter, test, "Success", 2)
    reporter.log_lines(staging, [LogLine("Deploy web", None, "Info", "three")])
    assert lines_of(stream)[-4:] == [
        "[Test] Success in 2s", "::group::Deploy to Staging", "Deploy web: two", "Deploy web: three",
    ]
    finish(reporter, staging, "Success", 3)
    assert lines_of(stream)[-2:] == ["::endgroup::", "[Staging] Success in 3s"]


def test_a_fold_still_open_when_the_wait_ends_is_closed_before_the_table() -> None:
    reporter, stream = make_reporter(groups=FoldMarkers())
    test = deployment("Test", 12, state="Executing", duration_seconds=600)
    reporter.log_lines(test, [LogLine("Deploy web", None, "Info", "one")])
    reporter.summary(promote_result(test, error=WaitTimedOut("the wait timed out after 10m")))
    assert lines_of(stream)[:4] == ["::group::Deploy to Test", "Deploy web: one", "::endgroup::",
                                    "Environment State Duration Task"]


def test_a_fold_is_marked_from_when_its_task_began_to_when_it_ended() -> None:
    markers = FoldMarkers()
    reporter, _ = make_reporter(groups=markers)
    test = deployment("Test", 12, state="Executing", duration_seconds=30)
    before = time.time()
    reporter.log_lines(test, [LogLine("Deploy web", None, "Info", "one")])
    finish(reporter, test, "Success", 31)
    after = time.time()
    (opened, began), (closed, ended) = markers.times
    assert (opened, closed) == ("open Deploy to Test", "close Deploy to Test")
    assert began is not None and ended is not None
    assert before - 30 - 1 <= began <= after - 30  # the task had run 30 s when its log was first read
    assert before <= ended <= after


def test_the_fold_of_a_task_that_did_not_end_is_printed_at_close() -> None:
    reporter, stream = make_reporter(groups=FoldMarkers())
    test = deployment("Test", 12)
    reporter.log_lines(test, [LogLine("Deploy web", None, "Info", "one")])
    assert lines_of(stream) == ["::group::Deploy to Test", "Deploy web: one"]  # streamed as it runs
    reporter.close()
    reporter.close()
    assert lines_of(stream) == ["::group::Deploy to Test", "Deploy web: one", "::endgroup::"]


def test_error_and_fatal_log_lines_are_red_and_warnings_yellow() -> None:
    reporter, stream = make_reporter({"CI": "true", "FORCE_COLOR": "1"})
    test = deployment("Test", 12)
    reporter.log_lines(
        test,
        [LogLine("S", None, "Error", "bad"), LogLine("S", None, "Fatal", "worse"), LogLine("S", None, "Warning", "hm")],
    )
    red, bold_red, yellow = "\x1b[31mbad", "\x1b[1;31mworse", "\x1b[33mhm"
    assert all(code in stream.getvalue() for code in (red, bold_red, yellow))


def test_no_color_wins_over_force_color_and_writes_no_escape_codes() -> None:
    reporter, stream = make_reporter({"CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "1"})
    test = deployment("Test", 12)
    reporter.deployment_queued(test)
    reporter.log_lines(test, [LogLine("S", None, "Error", "bad")])
    reporter.summary(promote_result(test))
    reporter.error(NotFound("no such thing"))
    assert "\x1b" not in stream.getvalue()
    assert stream.getvalue()


def test_summary_tables_every_deployment_and_why_failed_ones_failed() -> None:
    reporter, stream = make_reporter()
    test = deployment("Test", 12, state="Success", duration_seconds=3.2)
    staging = deployment("Staging", 13, state="Failed", duration_seconds=64, failed_step="Deploy web")
    staging.error_message = "exit code 1"
    production = deployment("Production", 14, state="Success", duration_seconds=5)
    failed = DeploymentFailed("1 of 3 deployments did not succeed: Staging Failed at step 'Deploy web': exit code 1")
    reporter.summary(promote_result(test, staging, production, error=failed))
    reporter.error(failed)
    assert lines_of(stream) == [
        "Environment State Duration Task Error",
        RULE,
        "Test Success 3.2s ServerTasks-12",
        "Staging Failed 1m4s ServerTasks-13 Deploy web: exit code 1",
        "Production Success 5s ServerTasks-14",
        "Error: 1 of 3 deployments did not succeed: Staging Failed",  # the table said why, once
    ]


def test_failures_ignored_are_counted_under_the_table() -> None:
    reporter, stream = make_reporter()
    staging = deployment("Staging", 13, state="Failed", duration_seconds=64, error_message="exit code 1")
    reporter.summary(promote_result(staging))
    assert lines_of(stream)[-1] == "1 of 1 deployment failed."


def test_summary_of_a_successful_promotion_says_what_was_promoted_where() -> None:
    reporter, stream = make_reporter()
    test = deployment("Test", 12, state="Success", duration_seconds=3)
    staging = deployment("Staging", 13, state="Success", duration_seconds=4)
    reporter.summary(promote_result(test, staging))
    assert lines_of(stream)[-1] == "Promoted Web 1.1.0 from Development to Test, Staging: 2 succeeded."


def test_summary_without_waiting_gives_the_queued_task_ids() -> None:
    reporter, stream = make_reporter()
    test = deployment("Test", 12, state="Queued")
    staging = deployment("Staging", 13, state="Executing")
    reporter.summary(promote_result(test, staging))
    assert lines_of(stream)[-1] == (
        "Promoted Web 1.1.0 from Development to Test, Staging: queued ServerTasks-12 (Test), ServerTasks-13 (Staging)."
    )


def test_summary_after_our_wait_timed_out_lists_the_unfinished_and_leaves_the_error_to_error() -> None:
    reporter, stream = make_reporter()
    test = deployment("Test", 12, state="Executing")
    reporter.summary(promote_result(test, error=WaitTimedOut("the wait timed out after 10m")))
    assert lines_of(stream)[-1] == "1 of 1 deployment had not finished: ServerTasks-12 (Test)"


def test_summary_of_an_action_rejected_before_any_deployment_prints_nothing() -> None:
    reporter, stream = make_reporter()
    reporter.summary(ActionResult("promote", error=NotFound("environment 'Prod' not found")))
    assert stream.getvalue() == ""


def test_summary_of_a_create_without_deployments_adds_nothing_to_what_the_create_said() -> None:
    created, created_stream = make_reporter()
    release = {"project": Ref("Projects-1", "Web"), "release": Ref("Releases-9", "1.4.0")}
    created.summary(ActionResult("create", release_created=True, **release))
    assert lines_of(created_stream) == []


def test_error_is_one_line_with_the_hint_on_a_second() -> None:
    reporter, stream = make_reporter()
    reporter.error(NotFound("environment 'Prod' not found", hint="did you mean 'Production'?"))
    reporter.error(ValueError("plain"))
    assert stream.getvalue().splitlines() == [
        "Error: environment 'Prod' not found",
        "  hint: did you mean 'Production'?",
        "Error: plain",
    ]


def test_dry_run_prints_the_plan_under_a_heading_that_nothing_was_created() -> None:
    plan = DeploymentPlan(
        action="promote",
        space=Ref("Spaces-1", "Default"),
        project=Ref("Projects-1", "Web"),
        release=Ref("Releases-3", "1.1.0"),
        release_reason="latest successful deployment to Development",
        targets=(TargetPlan(Ref("Environments-2", "Test")),),
        options=DeploymentOptions(),
        warnings=("Test has no machines",),
    )
    reporter, stream = make_reporter()
    reporter.summary(ActionResult("promote", dry_run=True, plan=plan))
    assert lines_of(stream) == [
        "Dry run: nothing was created. The plan:",
        "promote Web release 1.1.0 (latest successful deployment to Development)",
        "-> Test: guided failure off (the environment's default)",
        "Warning: Test has no machines",
    ]


def test_notes_marked_as_detail_show_only_with_verbosity() -> None:
    quiet, quiet_stream = make_reporter()
    loud, loud_stream = make_reporter(verbosity=1)
    for reporter in (quiet, loud):
        reporter.note("Promoting 1.1.0: the newest deployment to Development failed")
        reporter.note("3 requests so far", level=1)
    assert lines_of(quiet_stream) == ["Promoting 1.1.0: the newest deployment to Development failed"]
    assert lines_of(loud_stream)[-1] == "3 requests so far"


def test_the_api_key_never_appears_in_any_output() -> None:
    reporter, stream = make_reporter(secrets=[API_KEY], groups=FoldMarkers())
    leaky = deployment("Test", 12, state="Failed", duration_seconds=1, error_message=f"bad key {API_KEY}")
    reporter.release_chosen("Web", API_KEY)
    reporter.note(f"using {API_KEY}")
    reporter.warn(f"key {API_KEY}")
    reporter.deployment_queued(leaky)
    reporter.log_lines(leaky, [LogLine("Deploy", None, "Info", f"Octopus-ApiKey: {API_KEY}")])
    reporter.task_updated(leaky)
    reporter.summary(promote_result(leaky, error=NotFound(f"no {API_KEY}", hint=API_KEY)))
    reporter.close()
    assert API_KEY not in stream.getvalue()
    assert "Deploy: Octopus-ApiKey: ***" in lines_of(stream)


def test_render_json_writes_exactly_one_redacted_object_and_a_newline() -> None:
    stream = io.StringIO()
    result = promote_result(deployment("Test", 12, state="Success", error_message=API_KEY))
    render_json(result.to_dict(lambda exc: 1), stream, secrets=[API_KEY])
    text = stream.getvalue()
    assert text.endswith("}\n") and text.count("\n") == 1
    document = json.loads(text)
    assert document["ok"] is True and document["deployments"][0]["error_message"] == "***"


def test_render_json_defaults_to_the_stdout_of_the_call(capsys: pytest.CaptureFixture[str]) -> None:
    render_json({"ok": True})
    assert capsys.readouterr() == ('{"ok": true}\n', "")


def test_live_mode_renders_a_line_per_environment_and_logs_above_it() -> None:
    reporter, stream = make_reporter({}, live=True)
    test, staging = deployment("Test", 12), deployment("Staging", 13)
    reporter.deployment_queued(test)
    reporter.deployment_queued(staging)
    test.state = "Executing"
    reporter.task_updated(test)
    reporter.log_lines(test, [LogLine("Deploy web", None, "Info", "Installing")])
    finish(reporter, test, "Success", 3)
    finish(reporter, staging, "Success", 4)
    reporter.summary(promote_result(test, staging))
    reporter.close()
    output = ANSI.sub("", stream.getvalue())
    assert "Test    Executing" in output
    assert "Staging Queued" in output
    assert "[Test] Deploy web: Installing" in output
    assert lines_of(stream)[-1] == "Promoted Web 1.1.0 from Development to Test, Staging: 2 succeeded."


def test_live_mode_shows_no_escape_the_server_sent() -> None:
    """The live view writes its own cursor codes; none of the server's may reach the terminal."""
    reporter, stream = make_reporter({}, live=True)
    hostile = deployment("Test\x1b]0;pwned\x07\x1b[2J", 12)
    reporter.deployment_queued(hostile)
    reporter.log_lines(hostile, [LogLine("Deploy\x1b[8m web", "m\x9b1;1H", "Info", "a\x1b]8;;http://x\x1b\\b\rc")])
    finish(reporter, hostile, "Failed", 3, error_message="no\x1b[?1049h\nway")
    reporter.summary(promote_result(hostile))
    reporter.close()
    output = stream.getvalue()
    for sequence in ("\x1b]", "\x07", "\x1b[2J", "\x1b[8m", "\x9b", "\x1b[?1049h"):  # rich writes CRs itself
        assert sequence not in output
    assert {"[Test] Deploy web (m): ab", "[Test] Deploy web (m): c"} <= set(lines_of(stream))
