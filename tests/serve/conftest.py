"""A running ``octorelease serve`` for the tests that need one over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.sandbox import SandboxControl
from testing.serve import HANDLERS, ServeUnderTest, start_serve


@pytest.fixture
def served(sandbox: SandboxControl, tmp_path: Path) -> Iterator[ServeUnderTest]:
    """The service for ``testing.serve.HANDLERS`` as ``octorelease serve`` builds it, page
    included, against the sandbox, on a free port; stopped when the test ends."""
    handlers = tmp_path / "served-handlers.yml"
    handlers.write_text(HANDLERS, encoding="utf-8")
    service = start_serve(handlers, sandbox, tmp_path / "served.db")
    yield service
    service.close()
