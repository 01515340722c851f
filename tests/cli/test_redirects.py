"""A redirect never carries the API key to another origin: not to another host, not to another
port of the same host, and never from https to http. ``sandbox --mirror`` says so too, and never
reports success on an empty copy. The servers are small real HTTP(S) servers on 127.0.0.1."""

from __future__ import annotations

import ssl

import pytest
import trustme

from testing.cli import assert_one_line_error, run_cli
from testing.fake_server import Answer

KEY = "API-REDIRECTS000000000000000000"
PROMOTE = ("promote", "--project", "Web", "--from", "Test", "--to", "Staging")
EMPTY = Answer.json({"Items": [], "TotalResults": 0, "Links": {}})


@pytest.fixture(autouse=True)
def _few_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCTORELEASE_RETRY_ATTEMPTS", "2")


def test_a_redirect_to_another_port_of_the_same_host_is_not_followed(capsys, fake_server):
    elsewhere = fake_server(EMPTY)
    port = elsewhere.url.rsplit(":", 1)[1]
    server = fake_server(lambda path: Answer.redirect(f"http://127.0.0.1:{port}{path}", 301))
    run = run_cli(capsys, *PROMOTE, "--server", server.url, "--api-key", KEY)
    assert_one_line_error(run, 6, f"{server.url} redirected to http://127.0.0.1:{port}", "another port")
    assert elsewhere.requests == [] and elsewhere.connections == 0
    assert KEY not in run.everything


def test_a_redirect_from_https_to_http_is_never_followed(capsys, fake_server, tmp_path):
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    plain = fake_server(EMPTY)
    port = plain.url.rsplit(":", 1)[1]
    secure = fake_server(lambda path: Answer.redirect(f"http://127.0.0.1:{port}{path}", 301), ssl_context=context)
    run = run_cli(capsys, *PROMOTE, "--server", secure.url, "--api-key", KEY, "--ca-bundle", str(bundle))
    assert_one_line_error(run, 6, f"redirected to http://127.0.0.1:{port}", "from https to http")
    assert plain.connections == 0


def test_a_redirect_within_the_same_origin_is_followed(capsys, fake_server):
    server = fake_server({"/api/spaces": Answer.redirect("/api/spaces/all")})
    run_cli(capsys, *PROMOTE, "--server", server.url, "--api-key", KEY)
    assert ("GET", "/api/spaces/all") in server.requests


def test_the_mirror_does_not_follow_a_redirect_elsewhere_and_fails(capsys, fake_server, monkeypatch):
    monkeypatch.setenv("OCTOPUS_API_KEY", KEY)
    elsewhere = fake_server(EMPTY)
    port = elsewhere.url.rsplit(":", 1)[1]
    server = fake_server(lambda path: Answer.redirect(f"http://127.0.0.1:{port}{path}", 301))
    run = run_cli(capsys, "sandbox", "--mirror", server.url, "--export", "-")
    assert_one_line_error(run, 6, "another port")
    assert elsewhere.connections == 0 and run.out == ""


def test_a_mirror_that_copies_nothing_is_an_error_not_an_empty_estate(capsys, fake_server, monkeypatch):
    monkeypatch.setenv("OCTOPUS_API_KEY", KEY)
    server = fake_server({"/api/Spaces-1/projects": EMPTY}, default=EMPTY)
    run = run_cli(capsys, "sandbox", "--mirror", server.url, "--export", "-")
    assert_one_line_error(run, 3, f"{server.url}", "nothing to copy")
    assert run.out == ""


ENVIRONMENTS = "/api/Spaces-1/environments"


def endless_pages(total: int | None = None, *, same_link: bool = False) -> object:
    """Environments, one a page, each page linking a next one (always the same, or always new)."""

    def answer(path: str) -> Answer:
        if not path.startswith(ENVIRONMENTS):
            return EMPTY if path != "/api/spaces" else Answer.json(
                {"Items": [{"Id": "Spaces-1", "Name": "Default", "IsDefault": True}]})
        number = int(path.rsplit("/", 1)[1]) if path != ENVIRONMENTS else 0
        following = f"{ENVIRONMENTS}/page/{1 if same_link else number + 1}"
        page = {"Items": [{"Id": f"Environments-{number}", "Name": f"Env {number}", "SortOrder": number}],
                "Links": {"Page.Next": following}}
        if total is not None:
            page["TotalResults"] = total
        return Answer.json(page)

    return answer


def test_pages_that_link_back_are_a_bad_response_not_an_endless_read(capsys, fake_server, monkeypatch):
    monkeypatch.setenv("OCTOPUS_API_KEY", KEY)
    server = fake_server(endless_pages(same_link=True))
    run = run_cli(capsys, "sandbox", "--mirror", server.url, "--export", "-")
    assert_one_line_error(run, 6, f"GET {server.url}{ENVIRONMENTS}", "links back to a page already read")
    assert sum(path.startswith(ENVIRONMENTS) for _, path in server.requests) == 2


def test_pages_that_never_end_stop_at_the_page_cap(capsys, fake_server, monkeypatch):
    from octorelease.octopus.api import MAX_PAGES

    monkeypatch.setenv("OCTOPUS_API_KEY", KEY)
    server = fake_server(endless_pages())
    run = run_cli(capsys, "sandbox", "--mirror", server.url, "--export", "-")
    assert_one_line_error(run, 6, f"goes on past {MAX_PAGES} pages")
    assert sum(path.startswith(ENVIRONMENTS) for _, path in server.requests) == MAX_PAGES


def test_reading_stops_at_total_results_whatever_the_next_link_says(capsys, fake_server, monkeypatch):
    monkeypatch.setenv("OCTOPUS_API_KEY", KEY)
    server = fake_server(endless_pages(total=3))
    run = run_cli(capsys, "sandbox", "--mirror", server.url, "--export", "-")
    assert run.code == 0, run.everything
    assert "Mirrored space 'Default': 3 environments" in run.err
    assert sum(path.startswith(ENVIRONMENTS) for _, path in server.requests) == 3
