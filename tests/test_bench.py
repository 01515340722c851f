"""The benchmark harness's own pieces (``make bench``); no figure is timed here.

The counting proxy is what both clients' requests and bytes are counted by, so it must count
exactly what a client sent and received; ``bench/run.py --help`` must start.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from testing.sandbox import SandboxControl

BENCH = Path(__file__).parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from proxy import CountingProxy  # noqa: E402


def test_the_proxy_counts_each_request_and_every_byte_of_its_answer(sandbox: SandboxControl) -> None:
    port = int(sandbox.url.rsplit(":", 1)[1])
    with CountingProxy(port) as proxy, httpx.Client(base_url=proxy.url,
                                                    headers={"X-Octopus-ApiKey": sandbox.api_key}) as client:
        answers = [client.get("/api/Spaces-1/environments"), client.get("/api/tasks", params={"take": 1}),
                   client.post("/api/Spaces-1/environments", json={"Name": "Counted"}),
                   client.get("/api/Spaces-1/projects/Nope")]
        seen = proxy.take()
    assert [(e.method, e.path) for e in seen] == [
        ("GET", "/api/Spaces-1/environments"), ("GET", "/api/tasks"), ("POST", "/api/Spaces-1/environments"),
        ("GET", "/api/Spaces-1/projects/Nope")]
    assert [a.status_code for a in answers] == [200, 200, 201, 404]
    for exchange, answer in zip(seen, answers, strict=True):
        assert exchange.seconds is not None
        assert exchange.bytes_down > len(answer.content)  # the body and the status line and headers
    assert sandbox.get("/api/Spaces-1/environments", partialName="Counted")["Items"], "the POST went through"


def test_bench_help_starts() -> None:
    run = subprocess.run([sys.executable, str(BENCH / "run.py"), "--help"], capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert "--smoke" in run.stdout
