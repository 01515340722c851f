"""What an interrupted promotion costs: seconds from the signal to the exit, and what the server's
task became. Figures for docs/guarantees.md; run with ``PYTHONPATH=. .venv/bin/python bench/interrupt.py``.

A CI system that cancels a job kills it a few seconds after its signal (GitHub: SIGINT, 7.5 s,
SIGTERM, 2.5 s, SIGKILL), so the report must be out well within that. Each run is a fresh
``octorelease promote`` process against a sandbox at 1 s per step, signalled once its task is
Executing and it has polled it.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import time

from octorelease.sandbox.http.server import SandboxServer
from testing.processes import executing_task, start_cli
from testing.sandbox import SandboxControl

RUNS = 5
PROMOTE = ("promote", "--project", "Worker", "--from", "Development", "--to", "Test", "--to", "Staging", "--json")


def one(control: SandboxControl, signum: int, cancel: bool) -> tuple[float, int, list[str]]:
    """Seconds from signal to exit, the exit code, and the server's task states just after."""
    control.reset("demo")
    control.set_speed(1.0)
    process = start_cli(control, *PROMOTE, *(["--cancel-on-interrupt"] if cancel else []))
    executing_task(control, process)
    sent = time.perf_counter()
    process.send_signal(signum)
    out, _ = process.communicate(timeout=60)
    seconds = time.perf_counter() - sent
    tasks = [d["task_id"] for d in json.loads(out)["deployments"]]
    states = [control.get(f"/api/tasks/{t}")["State"] for t in tasks]
    return seconds, process.returncode, states


def main() -> None:
    print(f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"| signal | cancel | exit | signal to exit, median / max of {RUNS} (s) | server tasks after |")
    print("|---|---|---|---|---|")
    with SandboxServer(port=0, speed=1.0) as server:
        control = SandboxControl(server)
        for signum in (signal.SIGINT, signal.SIGTERM):
            for cancel in (False, True):
                runs = [one(control, signum, cancel) for _ in range(RUNS)]
                times = [r[0] for r in runs]
                codes = sorted({r[1] for r in runs})
                states = sorted({s for r in runs for s in r[2]})
                print(f"| {signal.Signals(signum).name} | {'yes' if cancel else 'no'} | {codes} | "
                      f"{statistics.median(times):.2f} / {max(times):.2f} | {', '.join(states)} |")
        control.close()


if __name__ == "__main__":
    main()
