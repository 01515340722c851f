"""The value forms octo and the Go CLI users bring along, accepted beside octorelease's own and
checked in the server's resulting deployments and releases."""

from __future__ import annotations

from typing import Any

import pytest
from tests.cli.test_promote import TEST_TO_STAGING, new_deployments, server_deployments

from testing.cli import run_cli

#: Billing 3.0.0 has the required prompted variable Approver (label "Approver").
BILLING_TO_DEV = ("deploy", "--project", "Billing", "--release", "3.0.0", "--to", "Development")


def machine_ids(sandbox: Any, *names: str) -> list[str]:
    return [sandbox.get("/api/Spaces-1/machines", name=name)["Items"][0]["Id"] for name in names]


@pytest.mark.parametrize(
    ("given", "value"),
    [
        ("Approver:alice", "alice"),  # octo's Label:Value
        ("Approver=alice", "alice"),
        ("Approver=http://host:80", "http://host:80"),  # '=' comes first: the ':' is the value's
        ("Approver:a=b", "a=b"),  # ':' comes first: the '=' is the value's
    ],
)
def test_variable_name_ends_at_the_first_separator(sandbox, octorelease, given, value):
    before = server_deployments(sandbox)
    run = octorelease(*BILLING_TO_DEV, "--variable", given)
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert list(created["FormValues"].values()) == [value]


def test_variable_by_label_in_octo_form(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, "--variable", "Change ticket:CHG-7")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert list(created["FormValues"].values()) == ["CHG-7"]


@pytest.mark.parametrize("given", ["Approver", ":alice", "=alice"])
def test_variable_without_a_name_is_exit_2_and_creates_nothing(sandbox, octorelease, given):
    before = server_deployments(sandbox)
    run = octorelease(*BILLING_TO_DEV, "--variable", given)
    assert run.code == 2
    assert "--variable expects NAME=VALUE or NAME:VALUE" in run.err
    assert "Traceback" not in run.everything
    assert new_deployments(sandbox, before) == []


@pytest.mark.parametrize(("given", "guided"), [("true", True), ("false", False), ("TRUE", True), ("on", True)])
def test_guided_failure_takes_octos_true_and_false(sandbox, octorelease, given, guided):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, "--guided-failure", given)
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert created["UseGuidedFailure"] is guided


def test_guided_failure_unknown_value_is_exit_2(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, "--guided-failure", "maybe")
    assert run.code == 2
    assert "maybe" in run.err
    assert new_deployments(sandbox, before) == []


@pytest.mark.parametrize(
    "flags",
    [
        ["--machine", "stage-web-01,stage-web-02"],
        ["--machine", " stage-web-01 , stage-web-02, "],
        ["--machine", "stage-web-01", "--machine", "stage-web-02"],
    ],
)
def test_machines_as_a_comma_list_or_repeated(sandbox, octorelease, flags):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, *flags)
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert sorted(created["SpecificMachineIds"]) == sorted(machine_ids(sandbox, "stage-web-01", "stage-web-02"))


def test_excluded_machines_as_a_comma_list(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(
        "create", "--project", "Web", "--channel", "Hotfix", "--deploy-to", "Production",
        "--exclude-machine", "prod-web-01,", "--exclude-machine", "prod-web-02",
    )
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert sorted(created["ExcludedMachineIds"]) == sorted(machine_ids(sandbox, "prod-web-01", "prod-web-02"))


def test_skip_as_a_comma_list(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, "--skip", "smoke test,Deploy web", "--json")
    assert run.code == 0, run.err
    (created,) = new_deployments(sandbox, before)
    assert len(created["SkipActions"]) == 2


def test_tenants_as_a_comma_list(sandbox, octorelease):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, "--tenant", "Acme,Globex")
    assert run.code == 0, run.err
    assert sorted(d["TenantId"] for d in new_deployments(sandbox, before)) == ["Tenants-1", "Tenants-2"]


@pytest.mark.parametrize("flag", ["--machine", "--exclude-machine", "--skip", "--tenant"])
@pytest.mark.parametrize("blank", ["", " , "])
def test_a_blank_list_is_exit_2_not_everything(sandbox, octorelease, flag, blank):
    before = server_deployments(sandbox)
    run = octorelease(*TEST_TO_STAGING, flag, blank)
    assert run.code == 2
    assert flag in run.err and "expects a name" in run.err
    assert new_deployments(sandbox, before) == []


@pytest.mark.parametrize("given", ["Web:1.3.0", "Deploy web:1.3.0", "Deploy web=1.3.0", "web=1.3.0", "*:1.3.0"])
def test_package_by_step_or_package_id_in_either_form(sandbox, octorelease, given):
    run = octorelease("create", "--project", "Web", "--version", "1.3.0", "--package", given, "--json")
    assert run.code == 0, run.err
    release = sandbox.get(f"/api/Spaces-1/releases/{run.json['release']['id']}")
    assert [p["Version"] for p in release["SelectedPackages"]] == ["1.3.0"]


def test_package_without_a_version_separator_is_exit_2(sandbox, octorelease):
    run = octorelease("create", "--project", "Web", "--version", "1.3.0", "--package", "Web")
    assert run.code == 2
    assert "--package expects NAME=VALUE or NAME:VALUE, got 'Web'" in run.err
    releases = sandbox.get("/api/Spaces-1/projects/Projects-1/releases", take=100)["Items"]
    assert "1.3.0" not in [r["Version"] for r in releases]


def test_octo_environment_variables_are_read(sandbox, capsys, monkeypatch):
    monkeypatch.setenv("OCTOPUS_CLI_SERVER", sandbox.url)
    monkeypatch.setenv("OCTOPUS_CLI_API_KEY", sandbox.api_key)
    run = run_cli(capsys, "deploy", "--project", "Web", "--release", "latest", "--to", "Development", "--json")
    assert run.code == 0, run.err
    assert run.json["deployments"][0]["state"] == "Success"
    assert sandbox.api_key not in run.everything


def test_octopus_url_and_key_win_over_octos_names(sandbox, capsys, monkeypatch):
    monkeypatch.setenv("OCTOPUS_URL", sandbox.url)
    monkeypatch.setenv("OCTOPUS_API_KEY", sandbox.api_key)
    monkeypatch.setenv("OCTOPUS_CLI_SERVER", "http://127.0.0.1:9")
    monkeypatch.setenv("OCTOPUS_CLI_API_KEY", "API-WRONGWRONGWRONGWRONGWRONG")
    run = run_cli(capsys, "deploy", "--project", "Web", "--release", "latest", "--to", "Development", "--json")
    assert run.code == 0, run.err
    assert run.json["deployments"][0]["state"] == "Success"


def test_a_handler_files_machines_are_a_comma_list_as_the_flag_is(sandbox):
    from tests.handler.test_run import run

    before = server_deployments(sandbox)
    doc = run(sandbox, """\
handlers:
  - name: Two machines
    project: Web
    on: {event: build-completed}
    promote: {from: Test, to: Staging, machines: "stage-web-01, stage-web-02", skip: "Smoke test,"}
    log_messages: false
""")
    assert doc["ok"], doc
    (created,) = new_deployments(sandbox, before)
    assert sorted(created["SpecificMachineIds"]) == sorted(machine_ids(sandbox, "stage-web-01", "stage-web-02"))
    assert len(created["SkipActions"]) == 1


def test_a_blank_machine_in_a_handler_file_is_an_error_at_its_line():
    from octorelease.handler.file import HandlerFileError, parse_handler_file

    with pytest.raises(HandlerFileError, match=r"octorelease.yml:5: handlers\[0\].promote.machines: expects a name"):
        parse_handler_file("""\
handlers:
  - name: Blank
    project: Web
    on: {event: build-completed}
    promote: {from: Test, to: Staging, machines: " , "}
""", environ={})


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (("--api-key", "API-X"), ("No Octopus server given.", "OCTOPUS_URL", "OCTOPUS_CLI_SERVER", "--server")),
        (("--server", "http://127.0.0.1:9"), ("No API key given.", "OCTOPUS_API_KEY", "OCTOPUS_CLI_API_KEY",
                                             "--api-key")),
    ],
)
def test_a_missing_server_or_key_names_every_way_to_give_it(capsys, monkeypatch, given, words):
    for name in ("OCTOPUS_URL", "OCTOPUS_API_KEY", "OCTOPUS_CLI_SERVER", "OCTOPUS_CLI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    run = run_cli(capsys, "deploy", "--project", "Web", "--release", "latest", "--to", "Development", *given)
    assert run.code == 2
    assert all(word in run.err for word in words), run.err


def test_octos_step_package_version_form_names_one_package_of_a_step(sandbox, octorelease):
    run = octorelease("create", "--project", "Web", "--version", "1.3.0", "--package", "Deploy web:Web:1.3.0",
                      "--json")
    assert run.code == 0, run.err
    release = sandbox.get(f"/api/Spaces-1/releases/{run.json['release']['id']}")
    assert [(p["StepName"], p["Version"]) for p in release["SelectedPackages"]] == [("Deploy web", "1.3.0")]
    from octorelease.cli.options import parse_package_versions

    assert parse_package_versions(["Deploy web:Web:1.3.0", "Deploy web=Web:1.3.0", "Web:1.3.0"]) == {
        "Deploy web:Web": "1.3.0", "Web": "1.3.0"}


@pytest.mark.parametrize(
    ("given", "code", "words"),
    [
        ("Deploy web:Nope:1.3.0", 3, ("--package 'Deploy web:Nope': step Deploy web has no package 'Nope'",)),
        ("Deploy web:Web:", 2, ("--package expects STEP:PACKAGE:VERSION",)),
    ],
)
def test_a_bad_three_part_package_is_one_line_and_creates_nothing(sandbox, octorelease, given, code, words):
    run = octorelease("create", "--project", "Web", "--version", "1.3.0", "--package", given)
    assert run.code == code, run.err
    assert all(word in run.err for word in words), run.err
    releases = sandbox.get("/api/Spaces-1/projects/Projects-1/releases", take=100)["Items"]
    assert "1.3.0" not in [r["Version"] for r in releases]
