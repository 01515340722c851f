"""``DeploymentOptions.of`` and ``WaitOptions.of``: the one reading of the values every face
gathers (flags, handler fields, the Python API's keyword arguments), and errors that name the
value as the face spells it while remembering the field a handler file points at."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from octorelease.actions.options import DeploymentOptions
from octorelease.actions.plan import WaitOptions
from octorelease.errors import InvalidInput

FLAGS = {"guided_failure": "--guided-failure", "deploy_at": "--deploy-at", "no_deploy_after": "--no-deploy-after"}


@pytest.mark.parametrize(
    ("written", "read"),
    [("on", "on"), ("TRUE", "on"), (True, "on"), ("off", "off"), ("false", "off"), (False, "off"),
     ("Default", "default")],
)
def test_guided_failure_takes_on_off_default_and_octos_true_false(written: object, read: str) -> None:
    assert DeploymentOptions.of({"guided_failure": written}).guided_failure == read


def test_an_unknown_guided_failure_is_refused_naming_the_flag_and_remembering_the_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        DeploymentOptions.of({"guided_failure": "sometimes"}, labels=FLAGS)
    assert raised.value.message == "--guided-failure: expected on, off or default, got 'sometimes'"
    assert raised.value.option == "guided_failure"
    assert raised.value.detail == "expected on, off or default, got 'sometimes'"


def test_a_time_that_is_not_one_names_the_flag_or_else_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"^--deploy-at 'soon' is not a time: use ") as flagged:
        DeploymentOptions.of({"deploy_at": "soon"}, labels=FLAGS)
    assert flagged.value.option == "deploy_at"
    assert flagged.value.detail is not None and flagged.value.detail.startswith("'soon' is not a time")
    with pytest.raises(InvalidInput, match=r"^deploy_at 'soon' is not a time"):
        DeploymentOptions.of({"deploy_at": "soon"})


def test_a_schedule_in_the_wrong_order_is_about_no_deploy_after() -> None:
    with pytest.raises(InvalidInput, match=r"^--no-deploy-after .* is not after --deploy-at ") as raised:
        DeploymentOptions.of({"deploy_at": "+2h", "no_deploy_after": "+1h"}, labels=FLAGS)
    assert raised.value.option == "no_deploy_after"
    assert raised.value.detail is not None and " is not after deploy_at " in raised.value.detail


def test_times_are_read_relative_and_naive_ones_as_local_time() -> None:
    naive = datetime.now() + timedelta(hours=3)
    options = DeploymentOptions.of({"deploy_at": "+1h", "no_deploy_after": naive})
    assert options.deploy_at is not None and options.deploy_at.tzinfo is not None
    assert options.no_deploy_after == naive.astimezone()


def test_a_tenant_tag_without_its_set_is_refused_before_any_request() -> None:
    with pytest.raises(InvalidInput) as raised:
        DeploymentOptions.of({"tenant_tags": ["Region/EU", "Gold"]})
    assert raised.value.message == "--tenant-tag 'Gold': expected TagSetName/TagName."
    assert (raised.value.option, raised.value.values) == ("tenant_tags", ("Gold",))


@pytest.mark.parametrize(
    "written",
    ["web-01,web-02", ["web-01", "web-02"], ["web-01, web-02"], ("web-01,", " web-02 ")],
)
def test_names_are_comma_lists_from_every_face(written: object) -> None:
    """A flag, a handler field and a Python API argument alike: one place splits them."""
    assert DeploymentOptions.of({"machines": written}).machines == ("web-01", "web-02")


@pytest.mark.parametrize("blank", ["", " , ", ["web-01", ","]])
def test_a_blank_name_is_refused_never_read_as_every_machine(blank: object) -> None:
    with pytest.raises(InvalidInput, match=r"^--machine expects a name, got ") as raised:
        DeploymentOptions.of({"machines": blank}, labels={"machines": "--machine"})
    assert raised.value.option == "machines"
    assert raised.value.detail is not None and raised.value.detail.startswith("expects a name, got ")


def test_unknown_names_are_refused_loudly() -> None:
    with pytest.raises(TypeError, match="unknown deployment option"):
        DeploymentOptions.of({"machine": ["web-01"]})
    with pytest.raises(TypeError, match="unknown wait option"):
        WaitOptions.of({"timeout": "10m"})


def test_wait_options_read_durations_and_keep_defaults_for_what_is_not_given() -> None:
    wait = WaitOptions.of({"timeout_seconds": "1h30m", "interruption_timeout_seconds": None,
                           "on_interruption": "FAIL", "log": False})
    assert wait == WaitOptions(timeout_seconds=5400.0, on_interruption="fail", log=False)
    assert WaitOptions.of({"interruption_timeout_seconds": 90}).interruption_timeout_seconds == 90.0
    with pytest.raises(InvalidInput, match=r"^invalid duration 'soon'"):
        WaitOptions.of({"timeout_seconds": "soon"})
