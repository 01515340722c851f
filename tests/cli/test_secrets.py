"""The API key is never shown: not when it is in the server URL, not on the top-level error
path, not in -vv retry lines, not in JSON, not on the exit-70 path. (Every run_cli in the
suite is also searched for every key it was given: testing/cli.py.)"""

from __future__ import annotations

import io

import pytest

from octorelease.secrets import RedactingStream, same_secret, secrets_of
from testing.cli import CliRun, assert_no_secret, assert_one_line_error, known_secrets, run_cli

KEY = "API-INTHEURL00000000000000000000"
PROMOTE = ("promote", "--project", "Web", "--from", "Test", "--to", "Staging")


def with_credentials(url: str, form: str) -> str:
    scheme, rest = url.split("://")
    return {"userinfo": f"{scheme}://x:{KEY}@{rest}", "query": f"{url}?apikey={KEY}",
            "api-query": f"{url}/api?apikey={KEY}&x=1"}[form]


@pytest.mark.parametrize("form", ["userinfo", "query", "api-query"])
@pytest.mark.parametrize("also_as_api_key", [False, True])
def test_credentials_in_the_server_url_are_refused_before_any_request(sandbox, capsys, form, also_as_api_key):
    api_key = KEY if also_as_api_key else sandbox.api_key
    url = with_credentials(sandbox.url, form)
    run = run_cli(capsys, *PROMOTE, "--server", url, "--api-key", api_key, "--json")
    line = assert_one_line_error(run, 2, "is refused: it carries credentials or a query")
    assert sandbox.url.split("://")[1] in line
    assert run.json["error"]["code"] == 2
    assert sandbox.requests() == []


def test_credentials_in_octopus_url_are_refused_too(sandbox, capsys, monkeypatch):
    monkeypatch.setenv("OCTOPUS_URL", with_credentials(sandbox.url, "userinfo"))
    monkeypatch.setenv("OCTOPUS_API_KEY", sandbox.api_key)
    run = run_cli(capsys, *PROMOTE, "-vv")
    assert_one_line_error(run, 2, "is refused")
    assert sandbox.requests() == []


def test_the_top_level_error_path_redacts_the_key(sandbox, capsys):
    """A value echoed in a usage error: the key pasted into the wrong flag."""
    run = run_cli(capsys, *PROMOTE, "--timeout", sandbox.api_key, "--server", sandbox.url,
                  "--api-key", sandbox.api_key, "--json")
    assert_one_line_error(run, 2, "invalid duration '***'")
    assert run.json["error"]["message"].startswith("invalid duration '***'")


def test_a_click_usage_error_redacts_the_key(sandbox, capsys):
    run = run_cli(capsys, *PROMOTE, "--guided-failure", sandbox.api_key, "--api-key", sandbox.api_key)
    assert run.code == 2
    assert "'***' is not one of" in run.err


def test_retry_lines_at_vv_never_show_the_key(sandbox, capsys, monkeypatch):
    monkeypatch.setenv("OCTORELEASE_RETRY_ATTEMPTS", "2")
    sandbox.set_http_faults("503:1,path=/api/projects,seed=1")
    run = run_cli(capsys, *PROMOTE, "--server", sandbox.url, "--api-key", sandbox.api_key, "-vv")
    assert run.code == 6
    assert "retrying GET /api/projects" in run.err


def test_v_keeps_exit_70_prints_the_traceback_and_json_the_object(sandbox, capsys, monkeypatch):
    from octorelease.client import Octopus

    def bug(*args, **kwargs):
        raise RuntimeError(f"a bug that quotes the key {sandbox.api_key}")

    monkeypatch.setattr(Octopus, "promote", bug)
    run = run_cli(capsys, *PROMOTE, "--server", sandbox.url, "--api-key", sandbox.api_key, "-v", "--json")
    assert run.code == 70
    assert "Traceback (most recent call last)" in run.err
    message = "unexpected RuntimeError: a bug that quotes the key ***"
    assert run.err.rstrip().splitlines()[-1] == f"Error: {message}"
    assert run.json == {"ok": False, "action": "promote", "project": None, "release": None, "from": None,
                        "deployments": [], "error": {"code": 70, "message": message}}


def test_without_v_exit_70_is_one_line(sandbox, capsys, monkeypatch):
    from octorelease.client import Octopus

    monkeypatch.setattr(Octopus, "promote", lambda *a, **k: 1 / 0)
    run = run_cli(capsys, *PROMOTE, "--server", sandbox.url, "--api-key", sandbox.api_key)
    assert run.code == 70
    assert run.err == "Error: unexpected ZeroDivisionError: division by zero (run with -v for the traceback)\n"


def test_the_suites_secret_check_fails_when_a_key_is_shown():
    args = ("--server", f"http://u:{KEY}@h", "--api-key", "API-OTHER")
    secrets = known_secrets(args, {})
    assert {KEY, "API-OTHER"} <= secrets
    assert_no_secret(CliRun(0, "", "all fine\n"), secrets)
    for leak in (KEY, "API-OTHER"):
        with pytest.raises(AssertionError, match="a secret was printed"):
            assert_no_secret(CliRun(1, "", f"Error: {leak}\n"), secrets)


def test_secrets_come_from_flags_variables_and_url_credentials():
    found = secrets_of(["--api-key=API-A000", "--server", "http://user:p%40ssword@h/api?apikey=API-Q000"],
                       {"OCTOPUS_API_KEY": "API-E000", "OCTOPUS_URL": "https://h#frag-token"})
    assert {"API-A000", "API-E000", "p%40ssword", "p@ssword", "API-Q000", "frag-token", "user"} <= found


def test_a_secret_written_in_pieces_and_flushed_between_is_still_hidden():
    target = io.StringIO()
    stream = RedactingStream(target, {KEY})
    stream.write("key " + KEY[:10])
    stream.flush()
    stream.write(KEY[10:] + " end")
    stream.flush()
    stream.finish()
    assert target.getvalue() == "key *** end"


def test_an_address_copied_from_the_browser_is_taken_as_the_server_and_said_so(sandbox, capsys):
    run = run_cli(capsys, *PROMOTE, "--server", f"{sandbox.url}/app#/Spaces-1/projects/web", "--api-key",
                  sandbox.api_key)
    assert run.code == 0, run.err
    assert f"Note: {sandbox.url}/app#... is the web UI's address; using the server's, {sandbox.url}." in run.err


def test_another_fragment_is_refused_for_what_it_is(sandbox, capsys):
    run = run_cli(capsys, *PROMOTE, "--server", f"{sandbox.url}/#top", "--api-key", sandbox.api_key)
    line = assert_one_line_error(run, 2, "has a '#...' part, which is a page in a browser, not the server's address")
    assert "credentials" not in line
    assert sandbox.requests() == []


@pytest.mark.parametrize(
    ("given", "known", "same"),
    [("s3cret", "s3cret", True), ("s3cret", "s3cre", False), ("", "s3cret", False),
     ("pässwörd", "pässwörd", True), ("passwörd", "pässword", False),
     ("\udcff", "\udcff", True), ("\udcff", "\xff", False), ("\ud800", "?", False)],
)
def test_one_constant_time_compare_is_exactly_string_equality(given: str, known: str, same: bool) -> None:
    """serve's logins and webhook tokens and the sandbox's keys all compare with it: any text,
    a lone surrogate or a byte the environment could not decode too, never raises."""
    assert same_secret(given, known) is same
