"""A shell script run as a CI runner or a new user's terminal runs it: bash, none of the test's CI
variables, and either this tree's octorelease first on PATH, or (``fresh``) nothing of this tree
at all, not even the test's venv, so that the script must install octorelease itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import octorelease

#: Variables of the test's own CI and pip settings that would leak into the script's.
FOREIGN = ("OCTO", "GITHUB", "GITLAB", "RUNNER_", "AGENT_", "PIP_REQUIRE")


def run_bash(
    script: str, env: Mapping[str, str], cwd: Path, *, fresh: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``script`` under ``bash -euo pipefail``. Not ``fresh``: this tree's octorelease first on
    PATH and PYTHONPATH. ``fresh`` (the machine's pip settings, e.g. a wheelhouse): neither, nor
    the test's venv; ``python3`` is the machine's."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(FOREIGN)}
    base.pop("CI", None)
    base["NO_COLOR"] = "1"
    venv_bin = str(Path(sys.executable).parent)
    if fresh is not None:
        base.update(fresh)
        base["PATH"] = os.pathsep.join(part for part in base.get("PATH", "").split(os.pathsep) if part != venv_bin)
        for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
            base.pop(name, None)
    else:
        base["PATH"] = f"{venv_bin}{os.pathsep}{base.get('PATH', '')}"
        base["PYTHONPATH"] = str(Path(octorelease.__file__).resolve().parents[1])
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], env={**base, **env}, cwd=cwd, capture_output=True, text=True,
        timeout=900 if fresh is not None else 120,
    )
