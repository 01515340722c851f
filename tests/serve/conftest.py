"""A running ``octorelease serve`` for the tests that need one over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from testing import postgres as throwaway
from testing.sandbox import SandboxControl
from testing.serve import HANDLERS, ServeUnderTest, start_serve


@pytest.fixture(scope="session")
def postgres() -> Iterator[throwaway.Cluster]:
    """A throwaway PostgreSQL cluster for the session (Debian's initdb and pg_ctl on a temporary
    directory and a free port); the test skips, saying why, where there can be none."""
    why = throwaway.missing()
    if why is not None:
        pytest.skip(why)
    cluster = throwaway.Cluster()
    try:
        yield cluster.start()
    finally:
        cluster.destroy()


@pytest.fixture
def served(sandbox: SandboxControl, tmp_path: Path) -> Iterator[ServeUnderTest]:
    """The service for ``testing.serve.HANDLERS`` as ``octorelease serve`` builds it, page
    included, against the sandbox, on a free port; stopped when the test ends."""
    handlers = tmp_path / "served-handlers.yml"
    handlers.write_text(HANDLERS, encoding="utf-8")
    service = start_serve(handlers, sandbox, tmp_path / "served.db")
    yield service
    service.close()


StartServe = Callable[..., ServeUnderTest]


@pytest.fixture
def start(sandbox: SandboxControl, tmp_path: Path) -> Iterator[StartServe]:
    """``start(handlers=HANDLERS, **options)``: a service for that handler file, stopped after the test."""
    started: list[ServeUnderTest] = []

    def run(handlers: str = HANDLERS, **options: Any) -> ServeUnderTest:
        path = tmp_path / f"handlers-{len(started)}.yml"
        path.write_text(handlers, encoding="utf-8")
        service = start_serve(path, sandbox, tmp_path / f"serve-{len(started)}.db", **options)
        started.append(service)
        return service

    yield run
    for service in started:
        service.close()
