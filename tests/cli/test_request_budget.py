"""What promote, deploy and create cost in requests, counted in the sandbox's request log.

Each command is run on the demo and on the large seed at a size that keeps the suite fast (the
demo plus hundreds of environments, machines, tenants and releases and thousands of
deployments; ``make bench`` measures the full size): it must send the same requests on both,
because what is named is looked up with the API's filters and no collection is read whole. ``create`` must not read
again what it already has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from octorelease.client import Octopus, WaitOptions
from octorelease.sandbox.estate.seed_large import LargeEstate
from octorelease.sandbox.http.server import SandboxServer
from testing.sandbox import SandboxControl

FAST = 0.005
NO_WAIT = WaitOptions(wait=False)

#: The collections of a space that grow with it: a request for one must say what it wants.
GROWING = ("environments", "machines", "tenants", "projects")
#: The filters that make such a request ask for what is named, not for everything.
NARROWING = {"name", "ids", "environmentids", "projectid"}

Command = Callable[[Octopus], Any]


def run(sandbox: SandboxControl, command: Command) -> list[dict[str, Any]]:
    """The requests ``command`` sent (it must succeed)."""
    sandbox.clear_requests()
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        result = command(octopus)
    assert result.ok, result.error
    return sandbox.requests()


def shape(requests: list[dict[str, Any]]) -> list[str]:
    """Each request as method and path, with ids left in: the same on both estates."""
    return [f"{r['method']} {r['path']}" for r in requests]


def unnarrowed(requests: list[dict[str, Any]]) -> list[str]:
    """GETs of a growing collection that carry no filter naming what they want."""
    found = []
    for r in requests:
        collection = r["path"].rstrip("/").rsplit("/", 1)[-1].lower()
        keys = {k.lower() for k in parse_qs(r["query"])}
        if r["method"] == "GET" and collection in GROWING and not keys & NARROWING:
            found.append(f"{r['path']}?{r['query']}")
    return found


@pytest.fixture
def wide() -> Iterator[SandboxControl]:
    """A fresh sandbox holding the demo and a bulk estate of 300 environments, 900 machines,
    100 tenants, 200 releases and 1,000 deployments."""
    size = LargeEstate(environments=300, machines=900, releases=200, deployments=1000, projects=3, tenants=100)
    with SandboxServer(port=0, speed=FAST, seed=size) as server:
        control = SandboxControl(server)
        yield control
        control.close()


COMMANDS: dict[str, Command] = {
    "promote to one": lambda o: o.promote("Web", source="Test", to=["Staging"], wait=NO_WAIT),
    "promote to three": lambda o: o.promote(
        "Worker", source="Development", to=["Test", "Staging", "Production"], wait=NO_WAIT
    ),
    "promote a tenant": lambda o: o.promote("Web", source="Test", to=["Staging"], tenants=["Acme"], wait=NO_WAIT),
    "deploy to named machines": lambda o: o.deploy(
        "Web", release="latest", to=["Development"], machines=["dev-web-01"], exclude_machines=["dev-worker-01"],
        wait=NO_WAIT,
    ),
    "create": lambda o: o.create("Web", default_package_version="1.3.0"),
    "create and deploy": lambda o: o.create("Web", version="1.9.0", deploy_to=["Development"], wait=NO_WAIT),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_sends_the_same_requests_on_a_large_estate_as_on_the_demo(
    sandbox: SandboxControl, wide: SandboxControl, name: str
) -> None:
    on_demo = run(sandbox, COMMANDS[name])
    on_wide = run(wide, COMMANDS[name])
    assert shape(on_wide) == shape(on_demo)
    assert unnarrowed(on_demo) == unnarrowed(on_wide) == []


def setup(requests: list[dict[str, Any]]) -> list[str]:
    """Every request but the wait's (task polls and logs)."""
    return [s for s in shape(requests) if not s.startswith(("GET /api/tasks", "GET /api/Spaces-1/tasks"))]


def test_promoting_to_one_environment_costs_six_requests_and_its_post(sandbox: SandboxControl) -> None:
    sent = setup(run(sandbox, lambda o: o.promote("Web", source="Test", to=["Staging"])))
    assert sent == [
        "GET /api/projects",  # the default space's project, by name (its SpaceId scopes what follows)
        "GET /api/Spaces-1/environments",  # --from, by name
        "GET /api/Spaces-1/environments",  # --to, by name
        "GET /api/Spaces-1/dashboard/dynamic",  # what --from runs, and what the target had (lost answers, twins)
        "GET /api/Spaces-1/deployments",  # the look just before the POST: a concurrent run's deployment to join
        "POST /api/Spaces-1/deployments",  # the server checks the lifecycle and prompted variables of one target
        "GET /api/Spaces-1/deployments",  # the look for a concurrent run's twin
    ]


def test_deploying_to_one_environment_costs_six_requests_and_its_post(sandbox: SandboxControl) -> None:
    sent = setup(run(sandbox, lambda o: o.deploy("Worker", release="latest", to=["Development"])))
    assert len(sent) == 7, sent


def test_promoting_to_k_environments_costs_seven_and_two_per_target(sandbox: SandboxControl) -> None:
    """Each environment named costs one ``name=`` request (Octopus's filter takes one name; the
    alternative, the whole list, grows with the space), and more than one target needs the
    template and the deployment freezes to refuse them all before creating any. The look before
    the first POST is one request for every target."""
    sent = setup(run(sandbox, COMMANDS["promote to three"]))
    assert len(sent) == 7 + 2 * 3, sent
    assert len([s for s in sent if s.endswith("/deployments/template")]) == 1
    assert sent.count("GET /api/deploymentfreezes") == 1
    assert not [s for s in sent if "/preview/" in s]  # prompted variables are the release's: the server checks


def test_a_refusal_left_to_the_server_is_explained_as_a_dry_run_explains_it(sandbox: SandboxControl) -> None:
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        dry = octopus.promote("Web", source="Development", to=["Staging"], dry_run=True)
        real = octopus.promote("Web", source="Development", to=["Staging"], wait=NO_WAIT)
    assert dry.error is not None and real.error is not None
    assert (type(real.error), real.error.message) == (type(dry.error), dry.error.message)
    assert "Nothing was created" in real.error.message
    assert real.deployments == [] and real.not_created == []


def test_an_unknown_environment_still_gets_a_suggestion_on_a_large_estate(wide: SandboxControl) -> None:
    with Octopus(wide.url, wide.api_key) as octopus:
        result = octopus.promote("Web", source="Test", to=["Regoin 0042"], wait=NO_WAIT)
    assert result.error is not None
    assert result.error.message == "Environment 'Regoin 0042' not found in space 'Default'."
    assert result.error.hint == "did you mean 'Region 0042'?"


def test_an_unknown_machine_or_tenant_still_gets_a_suggestion(sandbox: SandboxControl) -> None:
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        machine = octopus.deploy("Web", release="latest", to=["Development"], machines=["dev-web-1"], wait=NO_WAIT)
        tenant = octopus.promote("Web", source="Test", to=["Staging"], tenants=["Acmee"], wait=NO_WAIT)
    assert machine.error is not None and machine.error.hint == "did you mean 'dev-web-01'?"
    assert tenant.error is not None and tenant.error.hint == "did you mean 'Acme'?"


def test_create_reads_no_release_list_for_a_version_that_is_free_and_not_the_release_it_made(
    sandbox: SandboxControl,
) -> None:
    sent = shape(run(sandbox, lambda o: o.create("Web", version="1.9.0", default_package_version="1.3.0")))
    assert sent.count("GET /api/Spaces-1/projects/Projects-1/releases/1.9.0") == 1  # the check that it is free
    assert "GET /api/Spaces-1/projects/Projects-1/releases" not in sent  # no list to build a hint nobody sees
    assert sent[-1] == "POST /api/Spaces-1/releases/create/v1"  # its answer names the release made


def test_create_with_deploy_to_reads_the_project_and_the_release_once(sandbox: SandboxControl) -> None:
    sent = shape(run(sandbox, COMMANDS["create and deploy"]))
    assert [s for s in sent if "/projects" in s and "/projects/Projects-1/" not in s] == ["GET /api/projects"]
    assert sent.count("GET /api/Spaces-1/projects/Projects-1/releases/1.9.0") == 1
    assert sent.count("GET /api/Spaces-1/environments") == 1
    assert sent[-4:] == [
        "POST /api/Spaces-1/releases/create/v1",
        "GET /api/Spaces-1/deployments",  # the look just before the POST
        "POST /api/Spaces-1/deployments",
        "GET /api/Spaces-1/deployments",  # the look for a concurrent run's twin
    ]


def test_a_release_that_is_not_there_names_the_recent_ones(sandbox: SandboxControl) -> None:
    with Octopus(sandbox.url, sandbox.api_key) as octopus:
        result = octopus.deploy("Web", release="9.9.9", to=["Development"], wait=NO_WAIT)
    assert result.error is not None
    assert result.error.hint is not None and result.error.hint.startswith("recent releases: 1.2.0")
