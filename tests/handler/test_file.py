"""The handler file: what loads, and the one line each kind of mistake gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from octorelease.actions.options import DeploymentOptions
from octorelease.actions.plan import WaitOptions
from octorelease.errors import InvalidInput
from octorelease.handler.file import HandlerFileError, expand_handler, load_handler_file, parse_handler_file

ENVIRON = {"OCTOPUS_URL": "https://octopus.example", "OCTOPUS_API_KEY": "API-TESTKEY0000000000000000"}

GOOD = """\
server: ${OCTOPUS_URL}
api_key: ${OCTOPUS_API_KEY}
space: Default
handlers:
  - name: Ship to Test
    project: Web
    on: {event: build-completed, status: success}
    conditions: ["{build.branch} == main"]
    variables: {Greeting: hello, Port: 8080}
    create:
      version: "1.4.{build.number}"
      packages: {"Deploy web": "1.4.{build.number}"}
      notes: Built from {build.commit}
      ignore_existing: true
    deploy: {to: Development}
    promote:
      from: Development
      to: [Test]
      notes: Promoted by build {build.number}
    timeout: 1h30m
"""


def error_of(text: str) -> str:
    with pytest.raises(HandlerFileError) as caught:
        parse_handler_file(text, environ=ENVIRON)
    return str(caught.value)


def test_a_good_file_loads_with_env_expanded_and_build_placeholders_kept() -> None:
    loaded = parse_handler_file(GOOD, environ=ENVIRON)
    assert loaded.server == "https://octopus.example"
    assert loaded.api_key is not None and loaded.api_key.get_secret_value() == ENVIRON["OCTOPUS_API_KEY"]
    handler = loaded.handlers[0]
    assert handler.on.event == "build-completed" and handler.on.status == "success"
    assert handler.variables == {"Greeting": "hello", "Port": "8080"}
    assert handler.create is not None and handler.create.version == "1.4.{build.number}"
    assert handler.deploy is not None and handler.deploy.to == ["Development"]
    assert handler.promote is not None and (handler.promote.from_, handler.promote.to) == ("Development", ["Test"])
    assert handler.timeout == 5400.0


def test_the_api_key_never_shows_in_the_loaded_files_repr() -> None:
    assert ENVIRON["OCTOPUS_API_KEY"] not in repr(parse_handler_file(GOOD, environ=ENVIRON))


def test_defaults_follow_the_command_line_defaults() -> None:
    text = "handlers:\n- {name: a, project: Web, on: {event: build-completed}, deploy: {to: T, release: latest}}\n"
    handler = parse_handler_file(text, environ={}).handlers[0]
    assert (handler.enabled, handler.wait, handler.fail_build_on_error, handler.log_messages) == (True,) * 4
    assert (handler.timeout, handler.cancel_on_timeout, handler.run_order) == (600.0, False, None)
    assert WaitOptions.of(handler.wait_options()) == WaitOptions()


def test_scalars_stay_text_so_versions_keep_their_digits() -> None:
    text = GOOD.replace('version: "1.4.{build.number}"', "version: 1.10").replace(
        "status: success", "status: Successful"
    )
    handler = parse_handler_file(text, environ=ENVIRON).handlers[0]
    assert handler.create is not None and handler.create.version == "1.10"
    assert handler.on.status == "success"


def test_yaml_1_1_on_and_off_are_words_not_booleans() -> None:
    text = GOOD.replace("deploy: {to: Development}", "deploy: {to: Development, guided_failure: on}")
    handler = parse_handler_file(text, environ=ENVIRON).handlers[0]
    assert handler.deploy is not None and handler.deploy.guided_failure == "on"


def test_guided_failure_takes_octos_true_false_as_the_flag_does() -> None:
    text = GOOD.replace("deploy: {to: Development}", "deploy: {to: Development, guided_failure: TRUE}")
    handler = parse_handler_file(text, environ=ENVIRON).handlers[0]
    assert handler.deploy is not None
    assert DeploymentOptions.of(handler.deploy.deployment_options()).guided_failure == "on"


def test_doubled_dollar_escapes_an_env_reference() -> None:
    text = GOOD.replace("notes: Built from {build.commit}", "notes: costs $${PRICE}")
    handler = parse_handler_file(text, environ=ENVIRON).handlers[0]
    assert handler.create is not None and handler.create.notes == "costs ${PRICE}"


def test_load_handler_file_reads_the_file_and_names_it_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("octorelease.yml").write_text(GOOD.replace("project: Web", "project: [Web]"), encoding="utf-8")
    with pytest.raises(HandlerFileError) as caught:
        load_handler_file("octorelease.yml", ENVIRON)
    assert str(caught.value) == "octorelease.yml:6: handlers[0].project: expected a string, got a list"


def test_a_missing_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HandlerFileError, match=r"^ci/octorelease.yml: no such file$"):
        load_handler_file("ci/octorelease.yml", ENVIRON)


def test_handler_file_errors_are_usage_errors() -> None:
    assert issubclass(HandlerFileError, InvalidInput)


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            "deploy: {to: Development}",
            "deploy: {too: Development}",
            "octorelease.yml:15: handlers[0].deploy.too: unknown key 'too' (did you mean 'to'?)",
        ),
        (
            "space: Default",
            "spaces: Default",
            "octorelease.yml:3: spaces: unknown key 'spaces' (did you mean 'space'?)",
        ),
        (
            "    timeout: 1h30m",
            "    timout: 1h30m",
            "octorelease.yml:20: handlers[0].timout: unknown key 'timout' (did you mean 'timeout'?)",
        ),
        (
            "deploy: {to: Development}",
            "deploy: {to: Development, timeout: 5m}",
            "octorelease.yml:15: handlers[0].deploy.timeout: unknown key 'timeout' "
            "('timeout' is a field of handlers[0]: put it beside deploy:, not under it)",
        ),
        (
            "project: Web",
            "project: {name: Web}",
            "octorelease.yml:6: handlers[0].project: expected a string, got a mapping",
        ),
        (
            "ignore_existing: true",
            "ignore_existing: maybe",
            "octorelease.yml:14: handlers[0].create.ignore_existing: expected true or false, got 'maybe'",
        ),
        (
            "    timeout: 1h30m",
            "    run_order: first",
            "octorelease.yml:20: handlers[0].run_order: expected a whole number, got 'first'",
        ),
        (
            "deploy: {to: Development}",
            "deploy: [Development]",
            "octorelease.yml:15: handlers[0].deploy: expected a mapping (key: value), got a list",
        ),
        (
            "Greeting: hello",
            "Greeting: [a, b]",
            "octorelease.yml:9: handlers[0].variables.Greeting: expected a string, got a list",
        ),
        (
            "    timeout: 1h30m",
            "    timeout: soon",
            "octorelease.yml:20: "
            "handlers[0].timeout: invalid duration 'soon': use 90s, 10m, 1h30m, plain seconds or hh:mm:ss",
        ),
        (
            "deploy: {to: Development}",
            "deploy: {to: Development, guided_failure: sometimes}",
            "octorelease.yml:15: handlers[0].deploy.guided_failure: expected on, off or default, got 'sometimes'",
        ),
        (
            "    project: Web\n",
            "",
            "octorelease.yml:5: handlers[0]: missing required field 'project'",
        ),
        (
            "      from: Development\n",
            "",
            "octorelease.yml:16: handlers[0].promote: missing required field 'from'",
        ),
        (
            "event: build-completed",
            "event: build-finished",
            "octorelease.yml:7: "
            "handlers[0].on.event: unknown build event 'build-finished' (did you mean 'build-completed'?)",
        ),
        (
            "event: build-completed",
            "event: build-created",
            "octorelease.yml:7: "
            "handlers[0].on.status: build-created has no status; only stage-completed and build-completed do",
        ),
        (
            "status: success",
            "stage: Build",
            "octorelease.yml:7: handlers[0].on.stage: build-completed happens at no stage; stage: is for stage events",
        ),
        (
            "to: [Test]",
            "to: [Test, Development]",
            "octorelease.yml:18: handlers[0].promote.to[1]: 'Development' is listed in both from and to",
        ),
        (
            "deploy: {to: Development}",
            "deploy: {to: [Dev, Test], tenants: '*'}",
            "octorelease.yml:15: handlers[0].deploy.tenants: a tenanted deployment goes to one environment, not 2 (to)",
        ),
        (
            "      notes: Built from {build.commit}\n",
            "      notes: x\n      notes_file: NOTES.md\n",
            "octorelease.yml:14: handlers[0].create.notes_file: give notes or notes_file, not both",
        ),
        (
            "== main",
            "= main",
            "octorelease.yml:8: handlers[0].conditions[0]: "
            "invalid condition '{build.branch} = main': unknown operator '=' (did you mean '=='?)",
        ),
        (
            '"1.4.{build.number}"',
            '"1.4.{build.}"',
            "octorelease.yml:11: handlers[0].create.version: bad placeholder {build.}",
        ),
        (
            "${OCTOPUS_API_KEY}",
            "API-ABCDEF0123456789",
            "octorelease.yml:2: api_key: write a reference such as ${OCTOPUS_API_KEY}, "
            "not the key itself (a key in a file ends up in version control)",
        ),
        (
            "${OCTOPUS_URL}",
            "${OCTOPUS_SERVER}",
            "octorelease.yml:1: server: environment variable OCTOPUS_SERVER is not set",
        ),
        (
            "${OCTOPUS_URL}",
            "${OCTOPUS URL}",
            "octorelease.yml:1: server: bad environment variable reference ${OCTOPUS URL}",
        ),
        (
            "project: Web",
            "project: Web: Site",
            "octorelease.yml:6: YAML syntax error: mapping values are not allowed here",
        ),
        (
            "    project: Web",
            "    project: Web\n    project: Api",
            "octorelease.yml:7: handlers[0].project: duplicate key 'project'",
        ),
    ],
)
def test_each_mistake_gets_one_line_naming_file_line_and_field(old: str, new: str, line: str) -> None:
    assert old in GOOD
    assert error_of(GOOD.replace(old, new)) == line


def test_an_unquoted_placeholder_in_a_flow_mapping_gets_a_quoting_hint() -> None:
    text = GOOD.replace("variables: {Greeting: hello, Port: 8080}", "variables: {Greeting: hi {build.number}}")
    assert error_of(text) == (
        "octorelease.yml:9: YAML syntax error: expected ',' or '}', but got '{' "
        "(put quotes around values with {build.*} in them)"
    )


def test_the_api_key_error_does_not_repeat_the_key() -> None:
    message = error_of(GOOD.replace("${OCTOPUS_API_KEY}", "API-ABCDEF0123456789"))
    assert "API-ABCDEF0123456789" not in message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("", "octorelease.yml:1: the file is empty; it needs a handlers: list"),
        ("- a\n", "octorelease.yml:1: (top level): expected a mapping (key: value), got a list"),
        ("server: x\n", "octorelease.yml:1: (top level): missing required field 'handlers'"),
        ("handlers: []\n", "octorelease.yml:1: handlers: at least one handler is needed"),
        (
            "handlers:\n  - name: a\n    project: Web\n    on: {event: build-completed}\n",
            "octorelease.yml:2: handlers[0]: a handler needs at least one of create, deploy or promote",
        ),
        (
            "handlers:\n  - name: a\n    project: Web\n    on: {event: build-completed}\n    deploy: {to: Test}\n",
            "octorelease.yml:5: handlers[0].deploy: no release to deploy: give release: or add a create: action",
        ),
        (
            "handlers:\n"
            "  - {name: a, project: Web, on: {event: build-created}, deploy: {to: T, release: latest}}\n"
            "  - {name: a, project: Api, on: {event: build-created}, deploy: {to: T, release: latest}}\n",
            "octorelease.yml:3: handlers[1].name: 'a' is also the name of handlers[0]",
        ),
    ],
)
def test_file_level_mistakes(text: str, line: str) -> None:
    assert error_of(text) == line


def test_the_first_mistake_in_the_file_is_the_one_reported() -> None:
    text = GOOD.replace("project: Web", "project: [Web]").replace("to: [Test]", "to: [Development]")
    assert error_of(text) == "octorelease.yml:6: handlers[0].project: expected a string, got a list"


def test_expand_handler_fills_build_values_but_keeps_conditions_as_written() -> None:
    loaded = parse_handler_file(GOOD, environ=ENVIRON)
    handler = expand_handler(loaded, 0, {"number": "7", "commit": "abc", "branch": "main"})
    assert handler.create is not None and handler.create.version == "1.4.7"
    assert handler.create.packages == {"Deploy web": "1.4.7"}
    assert handler.create.notes == "Built from abc"
    assert handler.promote is not None and handler.promote.notes == "Promoted by build 7"
    assert handler.conditions == ["{build.branch} == main"]


def test_expand_handler_points_at_the_field_with_an_unknown_build_value() -> None:
    loaded = parse_handler_file(GOOD.replace("{build.commit}", "{build.comit}"), environ=ENVIRON)
    with pytest.raises(HandlerFileError) as caught:
        expand_handler(loaded, 0, {"number": "7", "commit": "abc"})
    assert str(caught.value) == (
        "octorelease.yml:13: handlers[0].create.notes: unknown build value {build.comit} (did you mean {build.commit}?)"
    )


def test_expand_handler_names_a_package_step_with_spaces_readably() -> None:
    loaded = parse_handler_file(GOOD.replace('version: "1.4.{build.number}"', "version: 1.4.0"), environ=ENVIRON)
    with pytest.raises(HandlerFileError) as caught:
        expand_handler(loaded, 0, {"commit": "abc"})
    assert str(caught.value) == (
        "octorelease.yml:12: handlers[0].create.packages['Deploy web']: "
        "{build.number} is not set in this build: pass --var number=VALUE"
    )


def test_a_few_aliases_still_share_values_between_handlers() -> None:
    text = GOOD.replace("deploy: {to: Development}", "deploy: {to: Development, machines: &web [web-01, web-02]}")
    text = text.replace("      to: [Test]\n", "      to: [Test]\n      machines: *web\n")
    (handler,) = parse_handler_file(text, environ=ENVIRON).handlers
    assert handler.deploy is not None and handler.promote is not None
    assert handler.promote.machines == handler.deploy.machines == ["web-01", "web-02"]


def test_an_alias_inside_the_value_it_names_is_refused() -> None:
    assert error_of("x: &loop [a, *loop]\n" + GOOD) == (
        "octorelease.yml:1: an alias (*name) refers to a value that contains it"
    )


def test_a_huge_file_is_refused_without_being_read_whole(tmp_path: Path) -> None:
    huge = tmp_path / "octorelease.yml"
    with huge.open("wb") as file:
        file.write(GOOD.encode())
        file.truncate(4 * 1024**3)  # 4 GiB, sparse: reading it whole would exhaust memory
    with pytest.raises(HandlerFileError) as caught:
        load_handler_file(huge, ENVIRON)
    assert str(caught.value) == (
        f"{huge}:{GOOD.count(chr(10)) + 1}: the file is larger than 256 KiB (a handler file may be at most 256 KiB)"
    )
