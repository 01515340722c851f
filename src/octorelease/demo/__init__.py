"""``octorelease demo``: the sandbox with its demo seed, and a handler file that ships a release.

The handler file (``octorelease.yml`` beside this module) creates a release, deploys it to
Development, promotes it to Test and Staging with logs, shows one promotion the lifecycle
refuses, and promotes to Production, where a person must approve: the demo's estate adds
"Approve production" (a manual intervention for the Release Managers) to Web's process, and a
release manager of the demo answers it from another process with ``octorelease interruptions
proceed``, as a ChatOps bot or a CI's manual job would. It doubles as the docs' full example
(docs/guides/handler-file.md). A second file (``platform.yml``) then ships Platform, a project
kept in Git: a release made at its branch ``feature/canary`` and deployed to Ops, whose output
names the branch and the commit (docs/guides/git-projects.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from octorelease.sandbox.estate.file import Estate

#: The build values the demo pretends its CI gave.
DEMO_BUILD_VALUES = {"build.number": "7", "build.branch": "main", "build.commit": "4f2a9c1"}

#: Seconds per step on each machine: slow enough to watch, fast enough to finish in seconds.
DEMO_SPEED = 0.15

#: What the demo's release manager runs, once the Production deployment waits for approval.
APPROVE = ["interruptions", "proceed", "--project", "Web", "--environment", "Production",
           "--notes", "Staging looks good (the demo's release manager)"]
#: How long the release manager takes to answer: long enough to see the deployment wait.
THINKING_SECONDS = 1.0


def handler_file(name: str = "octorelease.yml") -> Path:
    """A demo handler file, wherever the package is installed: ``octorelease.yml`` (Web), or
    ``platform.yml`` (Platform, a project kept in Git)."""
    return Path(str(resources.files("octorelease.demo").joinpath(name)))


def demo_estate() -> Estate:
    """The demo seed, with "Approve production" first in Web's process: a manual intervention
    for the Release Managers, in Production only."""
    from octorelease.sandbox.estate.file import StepSpec, demo_path, load_estate

    estate = load_estate(demo_path())
    web = next(p for p in estate.spaces[0].projects if p.name == "Web")
    web.steps.insert(0, StepSpec(
        name="Approve production", manual="Check that Staging's smoke test passed, then proceed.",
        teams=["Release Managers"], environments=["Production"]))
    return estate


def release_manager(url: str, api_key: str, say: Callable[[str], None]) -> threading.Event:
    """Answer the first approval the sandbox asks for, from another process, as a person would:
    wait until a deployment waits, think a moment, then run ``octorelease interruptions
    proceed``. Returns the event that stops it (set it when the run is over)."""
    stop = threading.Event()

    def watch() -> None:
        import httpx

        with httpx.Client(base_url=url, headers={"X-Octopus-ApiKey": api_key}, timeout=10) as http:
            while not stop.wait(0.2):
                try:
                    waiting = http.get("/api/Spaces-1/interruptions", params={"pendingOnly": "true"}).json()
                except (httpx.HTTPError, ValueError):
                    continue
                if waiting.get("Items") and not stop.wait(THINKING_SECONDS):
                    say("A release manager approves, from another process: octorelease " + " ".join(
                        f"'{a}'" if " " in a else a for a in APPROVE))
                    env = {**os.environ, "OCTOPUS_URL": url, "OCTOPUS_API_KEY": api_key, "NO_COLOR": "1"}
                    answered = subprocess.run([sys.executable, "-m", "octorelease.cli", *APPROVE], env=env,
                                              capture_output=True, text=True, timeout=60, check=False)
                    for line in (answered.stdout + answered.stderr).splitlines():
                        say(f"  {line}")
                    return

    threading.Thread(target=watch, name="demo-release-manager", daemon=True).start()
    return stop
