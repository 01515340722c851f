"""Start-up: ``octorelease --help`` and ``--version`` against ``python -c "import click"``.

Every command is a fresh process, as a CI step starts one. The three commands are run in turns
(help, version, click, help, ...) so that a burst of load on the shared machine hits all of them
alike, and each figure is the median of its runs. Run alone (``PYTHONPATH=. .venv/bin/python
bench/startup.py [ARGS]``) it also lists what ``octorelease ARGS`` imports beyond ``import click``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from testing.imports import octorelease_imports

#: The console script beside the interpreter, as ``pip install`` makes it.
SCRIPT = str(Path(sys.executable).with_name("octorelease"))

COMMANDS: dict[str, list[str]] = {
    "help": [SCRIPT, "--help"],
    "version": [SCRIPT, "--version"],
    "click": [sys.executable, "-c", "import click"],
}


#: As a user's installation runs: with its bytecode cache (``pip install`` compiles it; an editable
#: install writes it on the first run), which ``PYTHONDONTWRITEBYTECODE`` would leave out and make
#: every run compile octorelease's sources again.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - started


def startup_medians(runs: int = 15) -> dict[str, float]:
    """Median seconds of each of ``COMMANDS`` over ``runs`` interleaved runs (one warm-up each)."""
    timings: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        _seconds(command)
    for _ in range(runs):
        for name, command in COMMANDS.items():
            timings[name].append(_seconds(command))
    return {name: statistics.median(values) for name, values in timings.items()}


if __name__ == "__main__":
    for name, seconds in startup_medians().items():
        print(f"{name}: {seconds * 1000:.0f} ms")
    extra = octorelease_imports(*sys.argv[1:] or ["--help"], env=ENV)
    print(f"{len(extra)} modules beyond click, {sum(extra.values()) / 1000:.1f} ms:", ", ".join(sorted(extra)))
