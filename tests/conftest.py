"""Fixtures shared by every test: one sandbox server per session, reset to the demo seed per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from octorelease.sandbox.http.server import SandboxServer
from testing.fake_server import AnswerFor, FakeServer
from testing.sandbox import SandboxControl

FAST = 0.005  # seconds per step on each machine: a whole deployment takes a few hundredths of a second


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


@pytest.fixture
def sandbox(sandbox_control: SandboxControl) -> SandboxControl:
    """The session's sandbox, fresh: demo seed, no faults, no recorded requests, fast steps."""
    sandbox_control.reset("demo")
    sandbox_control.set_speed(FAST)
    sandbox_control.clear_requests()
    return sandbox_control


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
