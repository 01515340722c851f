"""Start-up imports only what the command needs (issue 11, target 5).

Timing is ``make bench``'s job (``bench/startup.py``); here each case is a fresh process whose
imports are listed by ``python -X importtime``, which the machine's load cannot change.
"""

from __future__ import annotations

import os
import subprocess
import sys

from octorelease._version import __version__
from testing.imports import octorelease_imports
from testing.sandbox import SandboxControl

#: What no command of the client needs: the sandbox and its server stack, the handler file's
#: YAML and RE2, pydantic, and httpx's own command line (rich.syntax, pygments).
NEVER_FOR_A_CLIENT_COMMAND = ("octorelease.sandbox", "starlette", "uvicorn", "sqlite3", "yaml", "re2", "pydantic",
                              "octorelease.handler.file", "octorelease.mirror", "pygments", "rich.syntax",
                              "rich.progress")


def test_version_is_read_from_the_version_module_not_the_installed_metadata() -> None:
    run = subprocess.run([sys.executable, "-m", "octorelease.cli", "--version"], capture_output=True, text=True,
                         check=False, timeout=60)
    assert (run.returncode, run.stdout.strip()) == (0, f"octorelease, version {__version__}")
    imported = octorelease_imports("--version")
    assert "importlib.metadata" not in imported
    assert "octorelease._version" in imported


def test_help_imports_no_client_and_no_reporting() -> None:
    imported = octorelease_imports("--help")
    heavy = [name for name in imported
             if name.split(".")[0] in ("httpx", "rich", "difflib", "urllib", "importlib_metadata")
             or name in ("octorelease.client", "octorelease.safe_text", "importlib.metadata")]
    assert heavy == [], f"--help imports {heavy}"


def test_a_deployment_imports_only_the_client(sandbox: SandboxControl) -> None:
    env = {**os.environ, "OCTOPUS_URL": sandbox.url, "OCTOPUS_API_KEY": sandbox.api_key}
    imported = octorelease_imports("deploy", "--project", "Web", "--release", "1.0.0", "--to", "Development",
                                   "--no-wait", env=env)
    assert "octorelease.client" in imported, "the command did not run"
    needless = sorted(name for name in imported if name.startswith(NEVER_FOR_A_CLIENT_COMMAND))
    assert needless == []
    assert [d["EnvironmentId"] for d in sandbox.get("/api/Spaces-1/deployments")["Items"]].count("Environments-1") >= 1
