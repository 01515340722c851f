"""Selecting handlers: each one gets a decision and a reason, in run order."""

from __future__ import annotations

import pytest

from octorelease.handler.file import HandlerFile, HandlerFileError, parse_handler_file
from octorelease.handler.select import run_order, select_handlers

MAIN = {"branch": "main", "number": "7"}
FEATURE = {"branch": "feature/x", "number": "7"}


def handlers(*lines: str) -> HandlerFile:
    """A handler file with one flow-style handler per line; each deploys ``latest`` to Test."""
    body = "".join(f"  - {{{line}, project: Web, deploy: {{to: Test, release: latest}}}}\n" for line in lines)
    return parse_handler_file("handlers:\n" + body, environ={})


def reasons(handler_file: HandlerFile, values: dict[str, str] = MAIN, **trigger: str) -> list[tuple[str, bool, str]]:
    trigger.setdefault("event", "build-completed")
    decisions = select_handlers(handler_file, values=values, **trigger)
    return [(decision.handler.name, decision.will_run, decision.reason) for decision in decisions]


def test_a_matching_handler_runs_and_says_what_matched() -> None:
    file = handlers("name: a, on: {event: build-completed, status: success}, conditions: ['{build.branch} == main']")
    assert reasons(file, status="success") == [
        ("a", True, "event is build-completed, status success, 1 condition holds")
    ]


def test_a_disabled_handler_never_runs() -> None:
    file = handlers("name: a, enabled: false, on: {event: build-completed}")
    assert reasons(file) == [("a", False, "disabled")]


def test_another_event_does_not_trigger_the_handler() -> None:
    file = handlers("name: a, on: {event: stage-completed}")
    assert reasons(file) == [("a", False, "event is build-completed, handler waits for stage-completed")]


def test_the_event_may_be_spelled_as_continuaci_labels_it() -> None:
    file = handlers("name: a, on: {event: build-completed}")
    assert reasons(file, event="On Build Completed") == [("a", True, "event is build-completed")]


def test_another_status_does_not_trigger_the_handler() -> None:
    file = handlers("name: a, on: {event: build-completed, status: success}")
    assert reasons(file, status="failure") == [("a", False, "status is failure, handler runs on success")]


def test_a_handler_without_status_runs_on_either() -> None:
    file = handlers("name: a, on: {event: build-completed}")
    assert reasons(file, status="failure") == [("a", True, "event is build-completed")]


def test_a_handler_that_needs_a_status_does_not_guess_one() -> None:
    file = handlers("name: a, on: {event: build-completed, status: success}")
    assert reasons(file) == [("a", False, "no status given (--status), handler runs on success")]


def test_a_status_given_for_an_event_without_status_is_ignored() -> None:
    file = handlers("name: a, on: {event: build-created}")
    assert reasons(file, event="build-created", status="failure") == [("a", True, "event is build-created")]


def test_another_stage_does_not_trigger_the_handler() -> None:
    file = handlers("name: a, on: {event: stage-completed, stage: Build}")
    assert reasons(file, event="stage-completed", stage="Test") == [
        ("a", False, "stage is Test, handler runs on stage Build")
    ]
    assert reasons(file, event="stage-completed") == [
        ("a", False, "no stage given (--stage), handler runs on stage Build")
    ]
    assert reasons(file, event="stage-completed", stage="Build") == [
        ("a", True, "event is stage-completed, stage Build")
    ]


def test_a_handler_without_stage_runs_at_every_stage() -> None:
    file = handlers("name: a, on: {event: stage-completed}")
    assert reasons(file, event="stage-completed", stage="Test") == [("a", True, "event is stage-completed")]


def test_a_false_condition_is_named_with_its_values() -> None:
    file = handlers(
        "name: a, on: {event: build-completed}, conditions: ['{build.number} > 1', '{build.branch} == main']"
    )
    assert reasons(file, values=FEATURE) == [
        ("a", False, "condition false: {build.branch} == main ('feature/x' == 'main')")
    ]


def test_conditions_stop_at_the_first_false_one() -> None:
    file = handlers(
        "name: a, on: {event: build-completed}, conditions: ['{build.branch} == main', '{build.nope} == x']"
    )
    decision = select_handlers(file, event="build-completed", values=FEATURE)[0]
    assert [evaluation.holds for evaluation in decision.conditions] == [False]


def test_conditions_are_not_evaluated_when_the_event_does_not_match() -> None:
    file = handlers("name: a, on: {event: stage-completed}, conditions: ['{build.nope} == x']")
    assert reasons(file)[0][1] is False


def test_an_unknown_build_value_in_a_condition_points_at_it() -> None:
    file = handlers("name: a, on: {event: build-completed}, conditions: ['{build.brnch} == main']")
    with pytest.raises(HandlerFileError) as caught:
        select_handlers(file, event="build-completed", values=MAIN)
    assert str(caught.value) == (
        "octorelease.yml:2: handlers[0].conditions[0]: unknown build value {build.brnch} (did you mean {build.branch}?)"
    )


def test_handlers_run_by_run_order_then_file_order_and_unnumbered_last() -> None:
    file = handlers(
        "name: a, on: {event: build-completed}",
        "name: b, run_order: 20, on: {event: build-completed}",
        "name: c, on: {event: build-completed}",
        "name: d, run_order: 10, on: {event: build-completed}",
        "name: e, run_order: 10, on: {event: build-completed}",
    )
    assert run_order(file) == [3, 4, 1, 0, 2]
    assert [name for name, _, _ in reasons(file)] == ["d", "e", "b", "a", "c"]
