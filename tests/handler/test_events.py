"""Build events and statuses: ContinuaCI's names, in kebab-case or as ContinuaCI labels them."""

from __future__ import annotations

import pytest

from octorelease.errors import InvalidInput
from octorelease.handler.events import BUILD_EVENTS, parse_event, parse_status


def test_all_twelve_continuaci_events_are_known() -> None:
    assert len(BUILD_EVENTS) == 12
    assert all(parse_event(event) == event for event in BUILD_EVENTS)


@pytest.mark.parametrize("spelling", ["On Build Completed", "build_completed", "BUILD-COMPLETED", "on-build-completed"])
def test_continuaci_labels_name_the_same_event(spelling: str) -> None:
    assert parse_event(spelling) == "build-completed"


@pytest.mark.parametrize(
    ("spelling", "suggestion"),
    [("build-finished", "build-completed"), ("build-complete", "build-completed"), ("stage-done", "stage-completed")],
)
def test_an_unknown_event_suggests_the_one_meant(spelling: str, suggestion: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_event(spelling)
    assert str(caught.value) == f"unknown build event {spelling!r} (did you mean {suggestion!r}?)"


def test_an_unknown_event_with_no_likeness_gets_no_suggestion() -> None:
    with pytest.raises(InvalidInput, match=r"^unknown build event 'xyz'$"):
        parse_event("xyz")


@pytest.mark.parametrize(
    ("spelling", "status"), [("success", "success"), ("Successful", "success"), ("failed", "failure")]
)
def test_statuses_accept_continuaci_labels(spelling: str, status: str) -> None:
    assert parse_status(spelling) == status


def test_an_unknown_status_lists_the_two_there_are() -> None:
    with pytest.raises(InvalidInput, match=r"^unknown build status 'broken': use success or failure$"):
        parse_status("broken")
