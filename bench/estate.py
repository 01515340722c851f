"""The benchmark's own small estate: N environments with one machine each and a one-step project.

Tasks that wait on each other would spoil the figures: the sandbox, like Octopus, runs one
deployment of a project to an environment at a time, so each concurrent task gets its own
environment. The project's only step is a script, so every task is one unit of the sandbox's
``--speed`` seconds long, however often the release was deployed there before.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

PROJECT = "App"
RELEASE = "1.0.0"


def environment(number: int) -> str:
    return f"E{number:02d}"


def estate_file(environments: int, folder: str | None = None) -> Path:
    """An estate file (``--seed FILE``) with ``environments`` environments, E01 onwards."""
    names = [environment(n) for n in range(1, environments + 1)]
    machines = "\n".join(f"      - {{name: m{n[1:]}, environments: {n}, roles: app}}" for n in names)
    text = f"""spaces:
  - name: Default
    default: true
    environments: [{", ".join(names)}]
    machines:
{machines}
    lifecycles:
      - name: Any order
        phases:
          - {{name: All, manual: [{", ".join(names)}]}}
    projects:
      - name: {PROJECT}
        lifecycle: Any order
        steps:
          - {{name: Check, roles: app, script: ./check.sh}}
        releases:
          - version: {RELEASE}
            deployments: [{names[0]}]
"""
    path = Path(folder or tempfile.mkdtemp(prefix="octorelease-bench-")) / f"bench-{environments}.yml"
    path.write_text(text, encoding="utf-8")
    return path
