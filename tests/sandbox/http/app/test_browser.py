"""The sandbox's pages in a real browser (``testing/browser.py``: the system's Chromium through
Playwright): the links octorelease prints open the page they name, the pages follow running
tasks without a reload, and nothing a name holds runs as script. The docs' screenshots of the
pages are taken here, so that they show the pages as they are.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from octorelease.demo import DEMO_BUILD_VALUES, handler_file
from testing.app_pages import GRID_CELLS, api_cells, browser_cells
from testing.browser import DEADLINE_MS, DOCS_VIEWPORT, PageProblems, docs_screenshot
from testing.cli import connection, run_cli
from testing.sandbox import SandboxControl

PRODUCTION = "Environments-4"
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"
#: Octopus's hash link of a deployment, as octorelease prints it
WEB_LINK = re.compile(r"http://\S+/app#/Spaces-1/deployments/Deployments-\d+")


def test_the_link_octorelease_promote_prints_opens_that_deployments_page_and_its_log(
    browser: Any, sandbox: SandboxControl, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import expect

    run = run_cli(capsys, "promote", *connection(sandbox), "--project", "Web", "--from", "Development", "--to",
                  "Test", "-v")
    assert run.code == 0, run.everything
    (link,) = set(WEB_LINK.findall(run.everything))
    deployment_id = link.rpartition("/")[2]
    page = browser.new_page()
    problems = PageProblems(page)
    page.goto(link)
    expect(page).to_have_url(f"{sandbox.url}/app/Spaces-1/deployments/{deployment_id}")
    expect(page.locator("main#live h1 .state")).to_have_attribute("data-state", "Success", timeout=DEADLINE_MS)
    expect(page.locator("td.release")).to_contain_text("1.1.0")
    expect(page.locator("td.environment")).to_have_text("Test")
    expect(page.locator("td.machines")).to_have_text("test-web-01, test-web-02")
    step = page.locator("section.step", has_text="Step 1: Deploy web")
    machine = step.locator("details.machine", has_text="test-web-02")
    expect(machine).to_contain_text("Deploying Web 1.1.0 to test-web-02")
    assert problems.seen == []


def test_after_the_demo_pipeline_the_grid_is_the_dashboard_apis(
    browser: Any, sandbox: SandboxControl, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import expect

    values = [f"--var={k}={v}" for k, v in DEMO_BUILD_VALUES.items()]
    run = run_cli(capsys, "run", str(handler_file()), "--event", "build-completed", "--status", "success", *values,
                  *connection(sandbox))
    assert run.code == 0, run.everything
    page = browser.new_page(viewport=DOCS_VIEWPORT)
    problems = PageProblems(page)
    page.goto(f"{sandbox.url}/app")
    production = page.locator('tr.project[data-project="Projects-1"] td[data-environment="Environments-4"]')
    expect(production).to_have_attribute("data-state", "Success", timeout=DEADLINE_MS)
    expect(production).to_contain_text("1.3.7")
    shown = browser_cells(page.eval_on_selector_all("td.cell[data-state]", GRID_CELLS))
    assert shown == api_cells(sandbox.get("/api/Spaces-1/dashboard"))
    docs_screenshot(page, "sandbox-dashboard")

    production.locator("a.state").click()
    expect(page.locator("td.environment")).to_have_text("Production")
    page.locator("p.trail a", has_text="Web 1.3.7").click()
    expect(page.locator('li.phase[data-progress="Complete"]')).to_have_count(4)
    docs_screenshot(page, "sandbox-release")
    page.goto(f"{sandbox.url}/app/Spaces-1/deployments/Deployments-4")  # the demo's failed one: errors marked
    expect(page.locator("ol.lines li.error", has_text="Smoke test failed")).to_have_count(1)
    page.set_viewport_size({**DOCS_VIEWPORT, "height": 940})  # down to the failed step
    docs_screenshot(page, "sandbox-deployment")
    assert problems.seen == []


def test_a_running_tasks_log_grows_on_the_open_page_without_a_reload(browser: Any, sandbox: SandboxControl) -> None:
    """The deployment waits for an approval (so the page surely opens while it runs), which is
    then given through the API: what follows must reach the open page by its own script."""
    from playwright.sync_api import expect

    task_id = sandbox.deploy(sandbox.hotfix_release(), PRODUCTION)["TaskId"]
    interruption = sandbox.wait_for_interruption(task_id)
    page = browser.new_page()
    problems = PageProblems(page)
    page.goto(f"{sandbox.url}/app#/Spaces-1/tasks/{task_id}")
    expect(page.locator("section.interruption.pending")).to_contain_text("Approve production")
    expect(page.locator("main#live h1 .state")).to_have_text("Waiting for a person")
    before = page.locator("ol.lines li").count()
    page.evaluate("window.stillTheSamePage = true")

    sandbox.answer(interruption["Id"], Result="Proceed")

    expect(page.locator("main#live h1 .state")).to_have_attribute("data-state", "Success", timeout=DEADLINE_MS)
    expect(page.locator("section.interruption.answered .answer")).to_have_text("Proceed")
    assert page.locator("ol.lines li").count() > before
    deploy_web = page.locator("section.step", has_text="Deploy web")
    expect(deploy_web.locator("details.machine", has_text="prod-web-01")).to_contain_text("Deploying Web")
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.url == f"{sandbox.url}/app/Spaces-1/tasks/{task_id}"
    assert problems.seen == []


def test_a_waiting_approval_is_answered_with_the_pages_own_button(browser: Any, sandbox: SandboxControl) -> None:
    from playwright.sync_api import expect

    task_id = sandbox.deploy(sandbox.hotfix_release(), PRODUCTION)["TaskId"]
    interruption = sandbox.wait_for_interruption(task_id)
    page = browser.new_page()
    page.goto(f"{sandbox.url}/app/Spaces-1/tasks/{task_id}")
    page.locator("section.interruption textarea").fill("Checked Staging")
    page.locator("section.interruption button", has_text="Abort").click()
    expect(page.locator("main#live h1 .state")).to_have_attribute("data-state", "Failed", timeout=DEADLINE_MS)
    answered = sandbox.get(f"/api/Spaces-1/interruptions/{interruption['Id']}")
    assert answered["Form"]["Values"] == {"Instructions": None, "Notes": "Checked Staging", "Result": "Abort"}


def test_a_hostile_project_name_is_shown_as_text_and_never_runs(browser: Any, sandbox: SandboxControl) -> None:
    from playwright.sync_api import expect

    sandbox.rename("project", "Web", HOSTILE)
    page = browser.new_page()
    problems = PageProblems(page)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in ("/app", "/app/Spaces-1/deployments/Deployments-4", "/app/Spaces-1/releases/Releases-1"):
        page.goto(sandbox.url + path)
        expect(page.locator("main#live")).to_contain_text(HOSTILE)
        assert page.locator("main#live img, main#live script").count() == 0
    page.goto(sandbox.url + "/app")
    expect(page.locator('tr.project[data-project="Projects-1"] .project-name')).to_have_text(HOSTILE)
    assert dialogs == [] and problems.seen == []


def test_the_controls_are_hidden_from_another_machine_without_the_key(browser: Any, sandbox: SandboxControl) -> None:
    """Another machine: a proxy on this one forwards its requests (uvicorn gives its address)."""
    from playwright.sync_api import expect

    far = browser.new_page(extra_http_headers={"X-Forwarded-For": "203.0.113.9"})
    problems = PageProblems(far)
    far.goto(f"{sandbox.url}/app#/Spaces-1/deployments/Deployments-4")
    expect(far.locator("main#sign-in")).to_be_visible()
    far.locator("input[name=key]").fill(sandbox.api_key)
    far.locator("main#sign-in button").click()
    expect(far).to_have_url(f"{sandbox.url}/app/Spaces-1/deployments/Deployments-4")
    expect(far.locator("td.environment")).to_have_text("Development")
    expect(far.locator("#controls-link")).to_have_count(0)
    far.goto(f"{sandbox.url}/app/sandbox")
    expect(far.locator("main#message")).to_contain_text("this machine only, or with its admin key")
    assert far.locator("form").count() == 0

    near = browser.new_page()
    near.goto(f"{sandbox.url}/app")
    near.locator("#controls-link").click()
    near.locator("input[name=seconds]").fill("0.02")
    near.locator("form[action='/app/sandbox/speed'] button").click()
    expect(near.locator("input[name=seconds]")).to_have_value("0.02")
    assert sandbox.server.sandbox.runner.speed == 0.02
    assert [p for p in problems.seen if "status of 401" not in p and "status of 403" not in p] == []


@pytest.mark.parametrize(("link", "plain"), [
    ("#/Spaces-1/tasks/ServerTasks-4", "Spaces-1/tasks/ServerTasks-4"),
    ("#/Spaces-1/projects/web/releases/1.0.0", "Spaces-1/projects/web/releases/1.0.0"),
    ("#/Spaces-1/projects/web/deployments/releases/1.0.0", "Spaces-1/projects/web/releases/1.0.0"),
    ("#/Spaces-1/releases/Releases-1", "Spaces-1/releases/Releases-1"),
    ("#/spaces/Spaces-2", "Spaces-2/projects"),
    ("#/Spaces-1/environments/Environments-1", "Spaces-1/projects"),  # a page the sandbox lacks: its space's
])
def test_octopus_links_open_the_page_they_name(browser: Any, sandbox: SandboxControl, link: str, plain: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(f"{sandbox.url}/app{link}")
    expect(page).to_have_url(f"{sandbox.url}/app/{plain}")
    expect(page.locator("main#live")).to_be_visible()
    page.close()
