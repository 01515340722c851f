"""A write the sandbox refuses leaves nothing behind: text no UTF-8 can hold (a lone surrogate,
JSON's ``"\\ud800"``) in any field of a body is a 400 before any rule runs, in memory and in
``--db`` alike, and every list and page goes on answering."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from octorelease.sandbox.http.server import SandboxServer
from testing.sandbox import SandboxControl

LONE = "\\ud800"  # as JSON text: valid JSON, a string Python holds but no UTF-8 can


def post_raw(base: str, key: str, path: str, body: str) -> httpx.Response:
    return httpx.post(f"{base}{path}", content=body.encode(), timeout=10,
                      headers={"X-Octopus-ApiKey": key, "Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/Spaces-1/environments", f'{{"Name": "Prod{LONE}"}}'),
        ("/api/Spaces-1/projects", f'{{"Name": "Web{LONE}", "LifecycleId": "Lifecycles-1",'
                                   ' "ProjectGroupId": "ProjectGroups-1"}'),
        ("/api/Spaces-1/projects", f'{{"Name": "Other", "Description": "x{LONE}", "LifecycleId": "Lifecycles-1",'
                                   ' "ProjectGroupId": "ProjectGroups-1"}'),
        ("/api/Spaces-1/environments", f'{{"Name": "Ok", "{LONE}": 1}}'),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_body_is_400_and_writes_nothing(
    sandbox: SandboxControl, path: str, body: str
) -> None:
    before = sandbox.census()
    response = post_raw(sandbox.url, sandbox.api_key, path, body)
    assert response.status_code == 400, response.text
    assert "not valid Unicode" in " ".join(response.json()["Errors"])
    assert sandbox.census() == before
    for listed in ("/api/Spaces-1/environments/all", "/api/Spaces-1/projects/all", "/api/Spaces-1/dashboard",
                   "/api/Spaces-1/channels", "/api/Spaces-1/environments"):
        assert sandbox.call("GET", listed).status_code == 200, listed


def test_with_a_database_a_refused_write_is_not_on_disk_either(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    server = SandboxServer(port=0, db_path=db).start()
    try:
        response = post_raw(server.url, server.api_key, "/api/Spaces-1/environments", f'{{"Name": "Prod{LONE}"}}')
        assert response.status_code == 400, response.text
        names = [e["Name"] for e in httpx.get(f"{server.url}/api/Spaces-1/environments/all", timeout=10,
                                               headers={"X-Octopus-ApiKey": server.api_key}).json()]
    finally:
        server.stop()
    again = SandboxServer(port=0, db_path=db).start()
    try:
        reread = [e["Name"] for e in httpx.get(f"{again.url}/api/Spaces-1/environments/all", timeout=10,
                                                headers={"X-Octopus-ApiKey": again.api_key}).json()]
    finally:
        again.stop()
    assert reread == names and not any(name.startswith("Prod\ufffd") or name.startswith("Prod\ud800")
                                       for name in names)


def test_a_number_written_with_digits_int_cannot_read_is_a_400_not_a_500() -> None:
    from octorelease.sandbox.errors import ValidationFailed
    from octorelease.sandbox.http.binding import Body

    assert Body({"Take": " 12 "}).number("Take") == 12
    with pytest.raises(ValidationFailed) as refused:
        Body({"Take": "²"}).number("Take")
    assert refused.value.errors == ["The value of 'Take' must be a number."]
