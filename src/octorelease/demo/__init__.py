"""``octorelease demo``: the sandbox with its demo seed, and a handler file that ships a release.

The handler file (``octorelease.yml`` beside this module) creates a release, deploys it to
Development, promotes it to Test and Staging with logs, and shows one promotion the lifecycle
refuses. It doubles as the docs' full example (docs/guides/handler-file.md).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The build values the demo pretends its CI gave.
DEMO_BUILD_VALUES = {"build.number": "7", "build.branch": "main", "build.commit": "4f2a9c1"}

#: Seconds per step on each machine: slow enough to watch, fast enough to finish in seconds.
DEMO_SPEED = 0.15


def handler_file() -> Path:
    """The demo handler file, wherever the package is installed."""
    return Path(str(resources.files("octorelease.demo").joinpath("octorelease.yml")))
