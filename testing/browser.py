"""Headless Chromium from the system's packages, driven by Playwright (never a browser Playwright
downloads), for the tests of the pages: serve's history and the sandbox's /app.

``tests/conftest.py`` gives it as the ``browser`` fixture, which marks a test ``browser``. Where
no Chromium is installed the tests skip and say so; ``.ci/run`` installs Debian's ``chromium``
so CI runs them for real. ``OCTORELEASE_CHROMIUM`` names another executable.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: Where Debian, Ubuntu and Google put the browser, in the order tried.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Long enough for a loaded machine; every wait polls and returns as soon as it holds.
DEADLINE_MS = 60_000


def chromium_executable() -> str | None:
    named = os.environ.get("OCTORELEASE_CHROMIUM")
    if named:
        return shutil.which(named)
    return next((path for path in map(shutil.which, CHROMIUM_NAMES) if path), None)


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """The system's Chromium, headless; skips the test (saying why) where there is none."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip(f"no Chromium here ({', '.join(CHROMIUM_NAMES)} not on PATH): apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


class PageProblems:
    """What a page said went wrong: console errors (a CSP refusal among them) and uncaught errors."""

    def __init__(self, page: Any) -> None:
        self.seen: list[str] = []
        page.on("console", lambda message: self.seen.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.seen.append(str(error)))


#: Where the docs site's screenshots live: tests take them, so they show the pages as they are.
DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
#: The size of a docs screenshot: small files, and the pages read at it.
DOCS_VIEWPORT = {"width": 1000, "height": 620}
#: What differs from one run to the next (clock times, durations), hidden while a screenshot is
#: taken, so that an image changes only when the page does. Hidden by script, not by a style
#: sheet: the pages' CSP refuses any style but their own.
STEADY = "document.querySelectorAll('time, .stamp').forEach(e => { e.style.visibility = 'hidden'; })"


def docs_screenshot(page: Any, name: str) -> Path:
    """The page as it shows now, into ``docs/images/NAME.png`` (its viewport only)."""
    DOCS_IMAGES.mkdir(exist_ok=True)
    path = DOCS_IMAGES / f"{name}.png"
    page.evaluate(STEADY)
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path
