"""The documentation's webhook examples work as written: the generic route's curl command (the
service's guide), run by bash, and ContinuaCI's HTTP Request body (the ContinuaCI page), filled in
as ContinuaCI fills its expressions."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testing.docs import block_after
from testing.serve import SECRET, ServeUnderTest


def test_the_generic_curl_example_runs_verbatim_and_its_run_succeeds(served: ServeUnderTest, tmp_path: Path) -> None:
    missing = [tool for tool in ("bash", "curl", "openssl") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not on PATH: apt-get install {' '.join(missing)}")
    script = block_after("docs/guides/serve.md", "<!-- generic webhook example -->")
    env = {**os.environ, "OCTORELEASE_SERVE_URL": served.url, "OCTORELEASE_WEBHOOK_SECRET": SECRET}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["state"] == "queued" and answer["url"].endswith(f"/api/runs/{answer['id']}")
    run = served.wait(answer["id"])
    assert run["state"] == "succeeded", run
    assert (run["event"], run["status"], run["values"]["number"]) == ("build-completed", "success", "42")

    wrong = {**env, "OCTORELEASE_WEBHOOK_SECRET": "not the secret"}
    refused = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=wrong, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode != 0 and "signature" in refused.stdout


def test_the_continuaci_http_request_body_reaches_the_generic_route_with_basic_auth(served: ServeUnderTest) -> None:
    expressions = {
        "$Build.Id$": "1207",
        "$Build.BuildNumber$": "57",
        "$Build.Version$": "1.4.57",
        "$Build.LinkUrl$": "https://continua.example.com/builds/1207",
        "$Build.StartedBy$": "jdoe",
        "$Configuration.Name$": "Widget",
        "$Source.MyRepo.Branch$": "main",
    }
    body = block_after("docs/guides/ci/continuaci.md", "<!-- continuaci http request body -->")
    for expression, value in expressions.items():
        body = body.replace(expression, value)
    assert "$" not in body
    password = base64.b64encode(f"continua:{SECRET}".encode()).decode()
    response = served.http.post(
        "/hooks/generic",
        content=body.encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {password}"},
    )
    assert response.status_code == 202, response.text
    run = served.wait(response.json()["id"])
    assert run["state"] == "succeeded", run
    assert run["values"]["version"] == "1.4.57" and run["delivery"] == "1207-build-completed-success"
