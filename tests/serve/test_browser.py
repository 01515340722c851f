"""The history page in a real browser: headless Chromium from the system's packages, driven by
Playwright (never a browser Playwright downloads). Load the page, fire a signed webhook at
``octorelease serve`` as a user runs it (with a login: ``serve: access:``), and watch the run
appear, go and finish without reloading: the page's own script does the live updates. Without a
login the browser gets the 401 and its prompt; an operator's Re-run button works in it.

The browser is ``testing/browser.py``'s (the ``browser`` fixture), which skips saying why where
there is no Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testing.browser import DEADLINE_MS, PageProblems
from testing.sandbox import SandboxControl
from testing.serve import HANDLERS, ServeProcess

PASSWORD = "browser-password-0123"
#: ``HANDLERS`` with one operator, who logs in with HTTP basic as a browser does.
LOGGED_IN = HANDLERS.replace("handlers:\n", "  access:\n    users:\n      ops:\n        password: ${OPS_PASSWORD}\n"
                             "        role: operator\nhandlers:\n", 1)


@pytest.fixture
def serve(sandbox: SandboxControl, tmp_path: Path) -> Iterator[ServeProcess]:
    handlers = tmp_path / "handlers.yml"
    handlers.write_text(LOGGED_IN, encoding="utf-8")
    process = ServeProcess(handlers, sandbox, tmp_path / "serve.db", environ={"OPS_PASSWORD": PASSWORD})
    yield process
    process.stop()


def test_a_fired_event_appears_runs_and_finishes_on_the_open_page(
    browser: Any, serve: ServeProcess, sandbox: SandboxControl
) -> None:
    from playwright.sync_api import expect

    sandbox.set_speed(0.05)  # a run that lasts long enough to be seen going
    page = browser.new_page(http_credentials={"username": "ops", "password": PASSWORD})
    problems = PageProblems(page)
    page.goto(serve.url + "/")
    expect(page.locator("main#live")).to_contain_text("No events yet")

    run_id = serve.client.event("browser-1", branch="main", number="41")["id"]

    row = page.locator(f'tr.run[data-run="{run_id}"]')
    expect(row).to_be_visible(timeout=DEADLINE_MS)  # appeared without a reload
    expect(row).to_contain_text("build-completed")
    expect(row).to_contain_text("41")
    page.locator(f'a[href="/runs/{run_id}"]').click()
    expect(page.locator("main#live h1 .state")).to_have_text("succeeded", timeout=DEADLINE_MS)
    deployments = page.locator("tr.deployment")
    expect(deployments.first).to_have_attribute("data-state", "Success")
    link = deployments.first.locator("a")
    assert (link.get_attribute("href") or "").startswith(sandbox.url)
    expect(page.locator("pre.log")).to_contain_text("Ship Web")

    page.go_back()
    expect(page.locator(f'tr.run[data-run="{run_id}"]')).to_have_attribute("data-state", "succeeded")
    expect(page.locator(f'tr.run[data-run="{run_id}"] li.skipped')).to_contain_text("Ship Worker")
    assert problems.seen == []


def test_without_a_login_or_with_a_wrong_one_the_page_is_refused(browser: Any, serve: ServeProcess) -> None:
    """The 401 and its basic challenge: headless Chromium, having no prompt to show, either shows
    the 401 page or ends the navigation (ERR_INVALID_AUTH_CREDENTIALS); never the history."""
    from playwright.sync_api import Error

    for credentials in ({}, {"http_credentials": {"username": "ops", "password": PASSWORD + "-wrong"}}):
        page = browser.new_page(**credentials)
        try:
            answer = page.goto(serve.url + "/")
        except Error as refused:
            assert "ERR_INVALID_AUTH_CREDENTIALS" in str(refused)
        else:
            assert answer is not None and answer.status == 401
            assert "needs a login" in page.content()
        page.close()


def test_an_operator_reruns_a_failed_run_with_the_pages_button(
    browser: Any, serve: ServeProcess, sandbox: SandboxControl
) -> None:
    from playwright.sync_api import expect

    sandbox.fail(step="Smoke test", environment="Development")
    run_id = serve.client.event("browser-fail", branch="main", number="51")["id"]
    page = browser.new_page(http_credentials={"username": "ops", "password": PASSWORD})
    page.goto(f"{serve.url}/runs/{run_id}")
    expect(page.locator("main#live h1 .state")).to_have_text("failed", timeout=DEADLINE_MS)
    sandbox.clear_faults()
    page.locator("form.operate button").click()
    expect(page.locator("main#live h1 .state")).to_have_text("succeeded", timeout=DEADLINE_MS)
    assert not page.url.endswith(f"/runs/{run_id}")
    expect(page.locator("main#live")).to_contain_text(f"#{run_id}")  # "Re-run of #N"
    page.goto(f"{serve.url}/runs/{run_id}")
    expect(page.locator("tr.audit")).to_contain_text("ops re-ran this run as")
