"""A sandbox in its own process, as a user runs it (``octorelease sandbox``), for the benchmarks.

Its own process so that its CPU can be measured apart from the clients', and so that the
clients' threads and the server's never share one interpreter's lock.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from testing.children import spawn, stop
from testing.ports import free_port

API_KEY = "API-SANDBOX0000000000000000000000"
OCTORELEASE = str(Path(sys.executable).with_name("octorelease"))


class SandboxProcess:
    """``with SandboxProcess(seed="demo", speed=0.3) as sandbox:``; ``seed`` as ``--seed`` takes it."""

    def __init__(self, seed: str = "demo", speed: float = 0.3, start_timeout: float = 600) -> None:
        self.seed, self.speed, self.start_timeout = seed, speed, start_timeout
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=60, headers={"X-Octopus-ApiKey": API_KEY})
        self.seconds_to_start = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> SandboxProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        started = time.perf_counter()
        self.process = spawn([OCTORELEASE, "sandbox", "--port", str(self.port), "--seed", self.seed,
                              "--speed", str(self.speed)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise RuntimeError(f"the sandbox (--seed {self.seed}) exited: {err.strip()[-500:]}")
            try:
                if self.http.get("/api").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"the sandbox (--seed {self.seed}) did not answer in {self.start_timeout:.0f}s")
            time.sleep(0.1)
        self.seconds_to_start = time.perf_counter() - started
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):  # killed then
                stop(self.process, timeout=10)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A test control (``/_sandbox/...``)."""
        response = self.http.request(method, f"/_sandbox/{path}", json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def set_speed(self, seconds_per_step: float) -> None:
        self.control("POST", "speed", {"seconds_per_step": seconds_per_step})

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def cpu_seconds(self) -> float:
        """User and system CPU the sandbox process has used so far (Linux ``/proc``)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
