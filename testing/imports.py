"""Which modules a fresh ``octorelease`` process imports (``python -X importtime``).

Start-up is a promise (``--help`` and ``--version`` within 1.5x of ``import click``; a command
imports only what it needs). Time is measured by ``bench/startup.py``, never in a test; tests
check what is imported, which does not depend on the machine's load.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping

_LINE = re.compile(r"import time:\s*(\d+) \|\s*\d+ \|\s*(\S+)")


def imported_modules(argv: list[str], env: Mapping[str, str] | None = None) -> dict[str, int]:
    """Every module a fresh ``python -X importtime ARGV`` imports -> its own import microseconds.

    ``argv`` is what follows the interpreter (``["-m", "octorelease.cli", "--help"]``)."""
    run = subprocess.run([sys.executable, "-X", "importtime", *argv], capture_output=True, text=True,
                         check=False, env=dict(env if env is not None else os.environ), timeout=60)
    found: dict[str, int] = {}
    for line in run.stderr.splitlines():
        match = _LINE.match(line)
        if match:
            found[match.group(2)] = int(match.group(1))
    return found


def octorelease_imports(*args: str, env: Mapping[str, str] | None = None) -> dict[str, int]:
    """What ``octorelease ARGS`` imports that ``python -c "import click"`` does not."""
    click = imported_modules(["-c", "import click"], env)
    command = imported_modules(["-m", "octorelease.cli", *args], env)
    return {name: us for name, us in command.items() if name not in click}
