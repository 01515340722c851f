"""Servers that are not Octopus: each answer gets one line naming the URL and what was wrong,
exit 6, no traceback, no key, and no write sent.

The servers are small real HTTP servers on 127.0.0.1 (testing/fake_server.py)."""

from __future__ import annotations

import time

import pytest

from octorelease.octopus.http import MAX_BODY_BYTES
from testing.cli import assert_one_line_error, run_cli
from testing.fake_server import Answer

KEY = "API-NOTOCTOPUS000000000000000000"
PROMOTE = ("promote", "--project", "Web", "--from", "Test", "--to", "Staging")
PROJECTS = "/api/Spaces-1/projects"
NGINX_404 = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n"
    "<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"
)
LOGIN_PAGE = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n<body><form>...</form></body></html>\n"
FIFTY_MB = b'{"Items": [' + b" " * (50 * 1024 * 1024) + b"]}"
SPACES_JSON = b'{"Items": [{"Id": "Spaces-1", "Name": "Default", "IsDefault": true}]}'

#: id, what the server answers (path -> Answer; /api/spaces is Octopus-like unless given), words of the error.
NOT_OCTOPUS = [
    ("truncated-json", {"/api/spaces": Answer.raw(SPACES_JSON[:30])}, ["GET", "/api/spaces", "invalid JSON"]),
    ("html-with-200", {"/api/spaces": Answer.html(LOGIN_PAGE)}, ["/api/spaces", "a web page (text/html)"]),
    ("json-as-text-html", {"/api/spaces": Answer.raw(SPACES_JSON, content_type="text/html")}, ["a web page"]),
    ("not-utf-8", {PROJECTS: Answer.raw(b'{"Items": [{"Name": "\xff\xfe"}]}')}, [PROJECTS, "not UTF-8"]),
    ("list-for-object", {"/api/spaces": Answer.json([])}, ["a JSON list where Octopus sends an object"]),
    ("null-for-object", {PROJECTS: Answer.json(None)}, [PROJECTS, "null where Octopus sends an object"]),
    ("items-not-a-list", {PROJECTS: Answer.json({"Items": {"Id": "Projects-1"}})}, ["'Items' that is not a list"]),
    ("resource-without-id", {PROJECTS: Answer.json({"Items": [{"Name": "Web"}]})}, [PROJECTS, "without 'Id'"]),
    ("html-404", {"/api/spaces": Answer.html(NGINX_404, status=404)}, ["404 Not Found with a web page"]),
    ("text-400", {PROJECTS: Answer.raw(b"Bad Request\n", 400, "text/plain")}, ["400 Bad Request", "not JSON"]),
    ("50-mb-body", {"/api/spaces": Answer.raw(FIFTY_MB)}, ["more than 32 MiB"]),
    ("50-mb-chunked", {"/api/spaces": Answer(body=FIFTY_MB, chunked=True)}, ["more than 32 MiB"]),
]


@pytest.fixture(autouse=True)
def _few_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCTORELEASE_RETRY_ATTEMPTS", "2")


@pytest.mark.parametrize(("answers", "words"), [row[1:] for row in NOT_OCTOPUS], ids=[row[0] for row in NOT_OCTOPUS])
def test_an_answer_that_is_not_octopus_is_one_line_naming_the_url_and_exit_6(capsys, fake_server, answers, words):
    server = fake_server(answers)
    run = run_cli(capsys, *PROMOTE, "--server", server.url, "--api-key", KEY)
    line = assert_one_line_error(run, 6, server.url, *words)
    assert len(line) < 300
    assert "hint: Check --server" in run.err
    assert all(method == "GET" for method, _ in server.requests)


def test_the_50_mb_body_is_not_read_whole(capsys, fake_server):
    assert len(FIFTY_MB) > MAX_BODY_BYTES
    server = fake_server({"/api/spaces": Answer(body=FIFTY_MB, chunked=True)})
    started = time.monotonic()
    run = run_cli(capsys, *PROMOTE, "--server", server.url, "--api-key", KEY)
    assert run.code == 6
    assert time.monotonic() - started < 10


def test_json_still_prints_the_object_for_a_server_that_is_not_octopus(capsys, fake_server):
    server = fake_server({"/api/spaces": Answer.html(LOGIN_PAGE)})
    run = run_cli(capsys, *PROMOTE, "--server", server.url, "--api-key", KEY, "--json")
    assert run.json["ok"] is False
    assert run.json["error"]["code"] == 6
    assert run.json["error"]["message"].startswith(f"GET {server.url}/api/spaces answered a web page")


def test_a_redirect_loop_is_named_not_followed_forever(capsys, fake_server):
    server = fake_server(lambda path: Answer.redirect(path))
    run = run_cli(capsys, *PROMOTE, "--server", server.url, "--api-key", KEY)
    assert_one_line_error(run, 6, server.url, "redirected in a loop")
    assert len(server.requests) == 21  # the first and httpx's 20 redirects: not retried


def test_a_redirect_to_another_host_is_not_followed_so_the_key_stays_home(capsys, fake_server):
    elsewhere = fake_server(Answer.json({"Items": []}))
    port = elsewhere.url.rsplit(":", 1)[1]
    server = fake_server(lambda path: Answer.redirect(f"http://localhost:{port}{path}"))
    run = run_cli(capsys, *PROMOTE, "--server", server.url, "--api-key", KEY)
    assert_one_line_error(run, 6, f"redirected to http://localhost:{port} (another host)")
    assert elsewhere.requests == [] and elsewhere.connections == 0


def test_a_body_cut_on_the_wire_is_retried_then_named(capsys, fake_server):
    server = fake_server({"/api/projects": Answer(body=SPACES_JSON[:30], claimed_length=len(SPACES_JSON))})
    run = run_cli(capsys, *PROMOTE, "--server", server.url, "--api-key", KEY)
    assert_one_line_error(run, 6, server.url, "did not answer GET /api/projects", "gave up after 2 attempts")
    assert len(server.requests) == 2


def test_a_server_that_never_answers_fails_within_the_total_retry_time(capsys, fake_server, monkeypatch):
    monkeypatch.setenv("OCTORELEASE_RETRY_ATTEMPTS", "6")
    monkeypatch.setenv("OCTORELEASE_RETRY_SECONDS", "3")
    server = fake_server(Answer(hang=True))
    started = time.monotonic()
    run = run_cli(capsys, *PROMOTE, "--server", server.url, "--api-key", KEY)
    elapsed = time.monotonic() - started
    assert_one_line_error(run, 6, server.url, "did not answer GET /api/projects")
    assert 2.5 < elapsed < 3 + 1.5, elapsed
