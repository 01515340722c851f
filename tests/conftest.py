"""Fixtures shared by every test: one sandbox server per session, reset to the demo seed per test;
every test in a plain CI job's environment; no child process outlives its test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from octorelease.sandbox.http.server import SandboxServer
from testing import children
from testing.browser import launched_chromium
from testing.fake_server import AnswerFor, FakeServer
from testing.sandbox import SandboxControl
from testing.terminal import TMUX_HINT

FAST = 0.005  # seconds per step on each machine: a whole deployment takes a few hundredths of a second

ROOT = Path(__file__).resolve().parent.parent
#: What ``make test-fast`` leaves out (``-m "not slow and not browser and not node"``): tests chosen
#: from a ``--durations=0`` run by ``python -m testing.slow``, by node id without parameters.
SLOW = frozenset(line for line in (ROOT / "tests" / "slow.txt").read_text(encoding="utf-8").splitlines()
                 if line and not line.startswith("#"))

#: The markers given by where a test lives or which fixtures it uses; ``pyproject.toml`` describes them.
BY_PATH = {"tests/serve/": "serve", "tests/compat/": "node"}
BY_FIXTURE = {"served": "serve", "browser": "browser", "built_wheel": "slow", "wheelhouse": "slow",
              "postgres": "slow", "terminal": "tmux"}
#: A parameter that makes a test slow wherever it is used: a throwaway PostgreSQL cluster (seconds to start).
SLOW_PARAMS = ("postgres",)
#: What a marker's tests need on PATH, and how to get it: they skip and say so when it is missing.
NEEDS = {"node": ("node", "apt-get install nodejs npm; `make pytest` then runs npm ci in tests/compat"),
         "tmux": ("tmux", TMUX_HINT)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test centrally, so that test files carry no markers of their own to keep up."""
    for item in items:
        path = item.path.relative_to(ROOT).as_posix()
        markers = {marker for prefix, marker in BY_PATH.items() if path.startswith(prefix)}
        markers.update(marker for fixture, marker in BY_FIXTURE.items() if fixture in getattr(item, "fixturenames", ()))
        if item.nodeid.split("[", 1)[0] in SLOW:
            markers.add("slow")
        params = getattr(getattr(item, "callspec", None), "params", {})
        if any(isinstance(value, str) and value in SLOW_PARAMS for value in params.values()):
            markers.add("slow")
        for marker in sorted(markers):
            item.add_marker(marker)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test whose tool is missing skips, naming the tool and how to get it (``-rs`` shows it)."""
    for marker, (tool, how) in NEEDS.items():
        if item.get_closest_marker(marker) and shutil.which(tool) is None:
            pytest.skip(f"{tool} is not on PATH: {how}")


#: What octorelease reads from the environment: connection settings, the CI system it is in, its
#: own settings and the console's. Cleared by prefix, so a variable it learns to read later is too.
CLEARED_PREFIXES = ("OCTOPUS_", "OCTORELEASE_", "GITHUB_", "GITLAB_", "CI_", "BUILD_", "SYSTEM_", "TEAMCITY_",
                    "JENKINS_", "BITBUCKET_")
CLEARED_NAMES = ("TF_BUILD", "TRAVIS", "CIRCLECI", "BUILDKITE", "APPVEYOR", "FORCE_COLOR", "COLUMNS")
#: The developer's choices about the test run itself, which octorelease never reads.
KEPT = ("OCTORELEASE_CHROMIUM", "OCTORELEASE_TEST_SERVER", "OCTORELEASE_TEST_API_KEY", "OCTORELEASE_TEST_SPACE")


@pytest.fixture(autouse=True)
def _plain_ci_job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every test runs as in a CI job with no colour, whatever the developer's environment (or the
    CI running the suite) holds: no connection settings, no CI system's variables. A simulated
    GitLab's dotenv report lands in the test's own directory, not the checkout."""
    for name in list(os.environ):
        if (name.startswith(CLEARED_PREFIXES) or name in CLEARED_NAMES) and name not in KEPT:
            monkeypatch.delenv(name)
    monkeypatch.setenv("OCTORELEASE_DOTENV", str(tmp_path / "octorelease.env"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("CI", "true")


@pytest.fixture(autouse=True)
def _no_child_left() -> Iterator[None]:
    """Kill what a test started with ``testing.children.spawn`` and left running, and fail it:
    a sandbox or ``octorelease serve`` left behind would outlive the suite."""
    yield
    left = children.kill_left_running()
    if left:
        pytest.fail(f"the test left {len(left)} process(es) running (killed now): {left}")


@pytest.fixture
def spawn() -> Callable[..., Any]:
    """``spawn(command, **popen_options)``: a child process with SIGINT at its default, killed
    when the test ends if it is still running (see testing/children.py)."""
    return children.spawn


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, speed=FAST) as server:
        yield server


@pytest.fixture(scope="session")
def sandbox_control(sandbox_server: SandboxServer) -> Iterator[SandboxControl]:
    """One handle for the session: an HTTP client costs tens of milliseconds to create."""
    control = SandboxControl(sandbox_server)
    yield control
    control.close()


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This tree built into a wheel once per session, as ``make package`` builds it (``python -m
    build``): what the install tests put into fresh venvs. Any test using it is marked slow."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = out.glob("octorelease-*.whl")
    return wheel


@pytest.fixture(scope="session")
def wheelhouse(built_wheel: Path) -> dict[str, str]:
    """pip's settings for a fresh venv's install: the wheel's dependencies (and the build backend,
    for an install from source) fetched once per session into a folder that pip then reads alone,
    without bytecode (settings of the machine, not of the install command; about halves each)."""
    house = built_wheel.parent / "wheelhouse"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(house), str(built_wheel),
                    "hatchling>=1.24"], check=True, capture_output=True, timeout=900)
    return {"PIP_FIND_LINKS": str(house), "PIP_NO_INDEX": "1", "PIP_NO_COMPILE": "1"}


@pytest.fixture
def sandbox(sandbox_control: SandboxControl) -> SandboxControl:
    """The session's sandbox, fresh: demo seed, no faults, no recorded requests, fast steps."""
    sandbox_control.reset("demo")
    sandbox_control.set_speed(FAST)
    sandbox_control.clear_requests()
    return sandbox_control


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from the system (``testing/browser.py``); a test using it is marked
    ``browser``, and skips saying why where there is no Chromium."""
    with launched_chromium() as launched:
        yield launched


@pytest.fixture
def fake_server() -> Iterator[Callable[..., FakeServer]]:
    """``fake_server(answers, default=..., ssl_context=...)``: a started ``FakeServer`` (a server
    that is not Octopus, see testing/fake_server.py), stopped when the test ends."""
    started: list[FakeServer] = []

    def start(answers: AnswerFor, **options: Any) -> FakeServer:
        server = FakeServer(answers, **options).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
