"""The two clients on the same job: ``octorelease`` (its console script, a fresh process each
time, as CI runs it) and the official npm client (``bench/node/official.mjs``).

Each run records its wall time and every line of its output with the moment it arrived, which
is how a detection is timed: the line that reports a task finished, against the task's
``CompletedTime`` on the server (same machine, same clock).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sandbox_process import API_KEY, OCTORELEASE
from testing.children import spawn, wait

NODE_SCRIPT = Path(__file__).parent / "node" / "official.mjs"
COMPAT = Path(__file__).parent.parent / "tests" / "compat"

#: octorelease's plain (not a terminal) report: "[Test] Queued ServerTasks-6", "[Test] Success in 0.6s"
QUEUED = re.compile(r"^\[(?P<env>[^\]]+)\] Queued (?P<task>ServerTasks-\d+)")
FINISHED = re.compile(r"^\[(?P<env>[^\]]+)\] (?P<state>Success|Failed|Canceled|TimedOut) in ")


@dataclass
class Run:
    """One client process: exit code, wall seconds, and its stdout lines with arrival times."""

    code: int
    seconds: float
    lines: list[tuple[float, str]] = field(default_factory=list)
    stderr: str = ""

    def check(self, what: str) -> Run:
        if self.code != 0:
            out = "\n".join(line for _, line in self.lines[-5:])
            raise RuntimeError(f"{what} exited {self.code}: {self.stderr.strip()[-800:]} {out[-800:]}")
        return self

    def finished(self) -> dict[str, float]:
        """Task id -> when this client reported it finished (``time.time()``)."""
        seen: dict[str, float] = {}
        tasks: dict[str, str] = {}
        for at, line in self.lines:
            if line.startswith("{"):
                doc = json.loads(line)
                if "done" in doc:
                    seen.setdefault(doc["done"], at)
                continue
            if match := QUEUED.match(line):
                tasks[match["env"]] = match["task"]
            elif (match := FINISHED.match(line)) and match["env"] in tasks:
                seen.setdefault(tasks[match["env"]], at)
        return seen


def node_available() -> str | None:
    """Why the official client cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (COMPAT / "node_modules" / "@octopusdeploy" / "api-client").is_dir():
        return "the npm client is not installed (make pytest installs it in tests/compat)"
    return None


def run_timed(command: list[str], env: dict[str, str] | None = None, timeout: float = 900) -> Run:
    """Run ``command``; each line it writes (stdout or stderr: octorelease reports on stderr) is
    stamped as it arrives."""
    started = time.perf_counter()
    process = spawn(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                    env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    lines: list[tuple[float, str]] = []
    errors: list[str] = []

    def read(stream: IO[str], into: list[str] | None) -> None:
        for line in stream:
            lines.append((time.time(), line.rstrip("\n")))
            if into is not None:
                into.append(line)

    readers = [threading.Thread(target=read, args=(stream, into), daemon=True)
               for stream, into in ((process.stdout, None), (process.stderr, errors))]
    for reader in readers:
        reader.start()
    code = wait(process, timeout)
    seconds = time.perf_counter() - started
    for reader in readers:
        reader.join(5)
    return Run(code, seconds, sorted(lines), "".join(errors))


def octorelease(url: str, *args: str) -> Run:
    """``octorelease ARGS`` against ``url``: the plain report a CI log gets (no terminal, no CI)."""
    env = {"OCTOPUS_URL": url, "OCTOPUS_API_KEY": API_KEY, "NO_COLOR": "1", "CI": "", "GITHUB_ACTIONS": ""}
    return run_timed([OCTORELEASE, *args], env)


def official(url: str, job: str, **args: Any) -> Run:
    """The official client doing ``job`` (deploy, promote, create) as ``bench/node/official.mjs`` does."""
    return run_timed(["node", str(NODE_SCRIPT), job, url, API_KEY, json.dumps(args)])


def completed_at(task: dict[str, Any]) -> float:
    """A task's ``CompletedTime`` as ``time.time()`` seconds."""
    return datetime.fromisoformat(task["CompletedTime"].replace("Z", "+00:00")).timestamp()
