"""The smoke test against a real Octopus Server (``make test-real``), and the same test against
the sandbox, so that the smoke test itself is known to work before anyone trusts it.

Against a real server it needs three variables: ``OCTORELEASE_TEST_SERVER`` (the server's URL),
``OCTORELEASE_TEST_API_KEY`` (a key allowed to create environments, lifecycles, projects, releases
and deployments in the space) and ``OCTORELEASE_TEST_SPACE`` (the name of a throwaway space that
exists: everything is written there and nowhere else). Without them it is skipped, saying so.
See docs/real-server.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from octorelease.octopus.http import OctopusHttp
from testing.cli import CliRun, run_cli
from testing.sandbox import SandboxControl
from testing.smoke import SmokeEstate, provision

VARIABLES = ("OCTORELEASE_TEST_SERVER", "OCTORELEASE_TEST_API_KEY", "OCTORELEASE_TEST_SPACE")
#: a wait on a real server: a script step on a worker takes tens of seconds, a dynamic worker longer
TIMEOUT = "15m"

Cli = Callable[..., CliRun]


def smoke(cli: Cli, estate: SmokeEstate) -> None:
    """Create, deploy with the wait, a dry run of the promotion (nothing created), then the
    promotion itself, each through the command line with ``--json``."""
    where = ("--project", estate.project)
    created = cli("create", *where)
    assert created.code == 0, created.err
    assert created.json["server_version"], created.json
    version = created.json["release"]["version"]

    deployed = cli("deploy", *where, "--release", version, "--to", estate.source, "--timeout", TIMEOUT)
    assert deployed.code == 0, deployed.err
    assert [d["state"] for d in deployed.json["deployments"]] == ["Success"], deployed.json

    planned = cli("promote", *where, "--from", estate.source, "--to", estate.target, "--dry-run")
    assert planned.code == 0, planned.err
    assert planned.json["dry_run"] is True
    assert [(d["environment"], d["state"], d["deployment_id"]) for d in planned.json["deployments"]] == [
        (estate.target, "Planned", None)]

    promoted = cli("promote", *where, "--from", estate.source, "--to", estate.target, "--timeout", TIMEOUT)
    assert promoted.code == 0, promoted.err
    assert promoted.json["release"]["version"] == version
    assert [d["state"] for d in promoted.json["deployments"]] == ["Success"], promoted.json


def _cli(capsys: pytest.CaptureFixture[str], server: str, key: str, space: str) -> Cli:
    def cli(*args: str) -> CliRun:
        return run_cli(capsys, *args, "--server", server, "--api-key", key, "--space", space, "--json")

    return cli


def test_against_a_real_octopus_server(capsys: pytest.CaptureFixture[str]) -> None:
    missing = [name for name in VARIABLES if not os.environ.get(name)]
    if missing:
        pytest.skip(f"no real Octopus Server to check: set {', '.join(missing)} (see docs/real-server.md)")
    server, key, space = (os.environ[name] for name in VARIABLES)
    with OctopusHttp(server, key) as http:
        estate = provision(http, space)
    smoke(_cli(capsys, server, key, space), estate)


def test_the_smoke_test_passes_against_the_sandbox(sandbox: SandboxControl,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with OctopusHttp(sandbox.url, sandbox.api_key) as http:
        estate = provision(http, "Operations")
        assert provision(http, "Operations") == estate  # a second run finds what the first made
    before = sandbox.census()
    smoke(_cli(capsys, sandbox.url, sandbox.api_key, "Operations"), estate)
    assert sandbox.get("/api/Spaces-1/projects", partialName="octorelease smoke")["Items"] == []  # one space only
    assert sandbox.census() != before
