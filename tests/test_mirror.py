"""``sandbox --mirror URL``: one sandbox mirrored into another, read with GET requests only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from octorelease.demo import DEMO_BUILD_VALUES, handler_file
from octorelease.mirror import mirror_space
from octorelease.octopus.http import OctopusHttp
from octorelease.report.progress import progress_bar
from octorelease.sandbox.estate.file import SENSITIVE_PLACEHOLDER, load_estate
from octorelease.sandbox.http.server import SandboxServer
from testing.cli import run_cli
from testing.sandbox import SandboxControl

FAST = 0.001


def _add_sensitive_variable(sandbox: SandboxControl) -> None:
    variables = sandbox.get("/api/Spaces-1/variables/variableset-Projects-1")
    variables["Variables"].append({"Name": "DbPassword", "Value": "hunter2", "IsSensitive": True,
                                   "Type": "Sensitive", "Scope": {}})
    response = sandbox.call("PUT", "/api/Spaces-1/variables/variableset-Projects-1", json=variables)
    assert response.status_code == 200, response.text


def test_the_mirror_sends_only_get_requests_and_never_copies_a_secret(
        sandbox: SandboxControl, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _add_sensitive_variable(sandbox)
    sandbox.clear_requests()
    monkeypatch.setenv("OCTOPUS_API_KEY", sandbox.api_key)
    out = tmp_path / "mirror.yml"
    result = run_cli(capsys, "sandbox", "--mirror", sandbox.url, "--mirror-history", "3", "--export", str(out))
    assert result.code == 0, result.err
    requests = sandbox.requests()
    assert requests and {r["method"] for r in requests} == {"GET"}
    text = out.read_text(encoding="utf-8")
    assert "hunter2" not in text and SENSITIVE_PLACEHOLDER in text
    assert "Mirrored space 'Default': 5 environments, 14 machines, 3 lifecycles, 0 project groups, " \
           "1 library variable sets, 3 projects, 2 tenants, 4 steps, 4 channels, 5 variables, " \
           "8 package versions, 5 releases, 5 deployments." in result.err
    assert "Left out: 1 sensitive values (replaced by a placeholder)." in result.err
    estate = load_estate(out)  # what the mirror wrote is an estate file like any other
    web = estate.spaces[0].projects[0]
    assert [s.name for s in web.steps] == ["Deploy web", "Smoke test"]
    failed = web.releases[2].deployments[0]
    assert failed.fails is not None and failed.fails.machine == "dev-web-01"


def _outcome(run: Any) -> list[tuple[str, bool, list[Any]]]:
    """What a handler run did, without the ids and times that differ between two servers."""
    return [(h["name"], h["ran"], [(a["ok"], a["release"] and a["release"]["version"],
                                    [(d["environment"], d["state"]) for d in a["deployments"]],
                                    a["error"] and a["error"]["code"]) for a in h["actions"]])
            for h in run["handlers"]]


def _run_demo_handlers(server: Any, capsys: pytest.CaptureFixture[str]) -> Any:
    values = [f"--var={k}={v}" for k, v in DEMO_BUILD_VALUES.items()]
    result = run_cli(capsys, "--server", server.url, "--api-key", server.api_key, "--json", "run",
                     str(handler_file()), "--event", "build-completed", "--status", "success", *values)
    return result.json


def test_the_demo_handler_file_behaves_against_a_mirror_as_against_the_original(
        sandbox: SandboxControl, capsys: pytest.CaptureFixture[str]) -> None:
    with OctopusHttp(sandbox.url, sandbox.api_key) as http:
        estate, summary = mirror_space(http, None, history=5)
    skipped: list[str] = []
    with SandboxServer(port=0, seed=estate, speed=FAST, skipped=skipped) as mirror:
        against_mirror = _run_demo_handlers(mirror, capsys)
    assert skipped == []
    against_original = _run_demo_handlers(sandbox, capsys)
    assert _outcome(against_mirror) == _outcome(against_original)
    assert against_mirror["ok"] == against_original["ok"]
    assert summary.copied["releases"] == 5


def test_a_history_the_mirror_cannot_replay_is_left_out_and_said(sandbox: SandboxControl) -> None:
    with OctopusHttp(sandbox.url, sandbox.api_key) as http:
        estate, _ = mirror_space(http, "Default", history=5)
    web = estate.spaces[0].projects[0]
    web.releases[0].deployments[1].to = "Production"  # as if the lifecycle had changed since
    skipped: list[str] = []
    with SandboxServer(port=0, seed=estate, speed=FAST, skipped=skipped):
        pass
    assert len(skipped) == 1 and skipped[0].startswith("Web 1.0.0 to Production: ")


def test_the_progress_bar_draws_on_a_terminal_only(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar("Mirroring [x]", force_terminal=False) as advance:
        advance("project Web", 1, 2)
    assert capsys.readouterr().err == ""
    with progress_bar("Mirroring [x]", force_terminal=True) as advance:
        advance("project \x1b[31mWeb", 1, 2)
    drawn = capsys.readouterr().err
    assert "Mirroring [x]: project Web" in drawn and "\x1b[31m" not in drawn


def test_a_mirror_needs_the_real_servers_key_and_a_new_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCTOPUS_API_KEY", raising=False)
    result = run_cli(capsys, "sandbox", "--mirror", "http://127.0.0.1:9", "--port", "0")
    assert (result.code, result.err.strip()) == (
        2, "Error: --mirror needs the real server's API key in OCTOPUS_API_KEY.")
    db = tmp_path / "used.db"
    db.write_bytes(b"")
    monkeypatch.setenv("OCTOPUS_API_KEY", "API-X")
    result = run_cli(capsys, "sandbox", "--mirror", "http://127.0.0.1:9", "--db", str(db), "--port", "0")
    assert result.code == 2 and "copies into a new database" in result.err
    result = run_cli(capsys, "sandbox", "--mirror", "http://127.0.0.1:9", "--seed", "empty", "--port", "0")
    assert result.code == 2 and "give one of them" in result.err


def test_the_documented_mirror_serves_the_copy(sandbox: SandboxControl, tmp_path: Path, spawn) -> None:
    """The first mirror example of the docs (docs/guides/rehearse.md), as a user runs it: a process
    that serves until stopped."""
    import os
    import subprocess
    import sys

    import httpx

    db = tmp_path / "mirror.db"
    env = {**os.environ, "OCTOPUS_API_KEY": sandbox.api_key}
    process = spawn(
        [sys.executable, "-c", "from octorelease.cli import main; raise SystemExit(main())", "sandbox",
         "--mirror", sandbox.url, "--mirror-space", "Default", "--mirror-history", "3", "--db", str(db),
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until the sandbox listens (or the process ends)
        assert first.startswith("Octopus sandbox listening on "), process.stderr.read() if process.stderr else ""
        url = first.split(" on ", 1)[1].strip()
        projects = httpx.get(f"{url}/api/Spaces-1/projects/all",
                             headers={"X-Octopus-ApiKey": "API-SANDBOX0000000000000000000000"}).json()
        assert [p["Name"] for p in projects] == ["Web", "Worker", "Billing"]
        assert {r["method"] for r in sandbox.requests()} == {"GET"}
    finally:
        process.terminate()
        process.wait(timeout=10)
