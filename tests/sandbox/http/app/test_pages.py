"""The sandbox's pages at their plain paths, as a browser without JavaScript (or curl) gets them:
each renders from the server alone, escaped, under a strict CSP, and shows what the API shows.
"""

from __future__ import annotations

import html

import httpx
import pytest

from octorelease.pages import HEADERS
from octorelease.sandbox.http.server import SandboxServer
from testing.app_pages import api_cells, html_cells
from testing.sandbox import SandboxControl

PRODUCTION = "Environments-4"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\u202eWeb"


def page(sandbox: SandboxControl, path: str, status: int = 200, **headers: str) -> str:
    answer = sandbox.call("GET", path, key=None, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-security-policy"] == HEADERS["Content-Security-Policy"]
    assert answer.headers["content-type"].startswith("text/html")
    return answer.text


@pytest.mark.parametrize("path", ["/app", "/app/", "/app/Spaces-1/projects", "/app/Spaces-2/projects"])
def test_the_dashboard_shows_what_the_dashboard_api_does(sandbox: SandboxControl, path: str) -> None:
    space = "Spaces-2" if "Spaces-2" in path else "Spaces-1"
    shown = page(sandbox, path)
    assert html_cells(shown) == api_cells(sandbox.get(f"/api/{space}/dashboard"))
    assert ">Infra<" in shown if space == "Spaces-2" else len(html_cells(shown)) == 3


def test_the_dashboard_groups_projects_by_lifecycle_with_environments_in_its_order(sandbox: SandboxControl) -> None:
    shown = page(sandbox, "/app")
    web = shown[shown.index('data-lifecycle="Web Lifecycle"'):shown.index('data-lifecycle="Anywhere"')]
    headings = [web.index(f">{name}</th>") for name in ("Development", "Test", "Staging", "Production")]
    assert headings == sorted(headings)
    assert "Disaster Recovery" not in web  # not in Web's lifecycle
    assert 'data-tenant="Tenants-1"' in web and ">Acme<" in web  # a row per connected tenant
    assert 'class="cell failed" data-environment="Environments-1" data-state="Failed" data-version="1.2.0"' in web


def test_a_deployment_page_shows_its_task_and_log_grouped_by_step_and_machine(sandbox: SandboxControl) -> None:
    shown = page(sandbox, "/app/Spaces-1/deployments/Deployments-4")
    assert "Deploy Web release 1.2.0 to Development" in shown
    assert 'data-state="Failed"' in shown and ">dev-web-01<" in shown
    assert '<section class="step failed">' in shown and "Step 2: Smoke test" in shown
    error = shown.index("Smoke test failed: GET /health returned 503")
    assert shown.rindex('<li class="error">', 0, error) > shown.rindex("Step 2: Smoke test", 0, error)
    # the task's own path, and the paths without a space, show the same page
    for path in ("/app/Spaces-1/tasks/ServerTasks-4", "/app/tasks/ServerTasks-4", "/app/deployments/Deployments-4"):
        assert "Smoke test failed: GET /health returned 503" in page(sandbox, path)


def test_a_release_page_shows_packages_lifecycle_progress_and_deployments(sandbox: SandboxControl) -> None:
    shown = page(sandbox, "/app/Spaces-1/projects/web/releases/1.0.0")
    assert page(sandbox, "/app/Spaces-1/releases/Releases-1").count("Deploy web") == shown.count("Deploy web") == 1
    assert '<li class="phase complete" data-progress="Complete"><b>Test</b>' in shown
    assert '<li class="phase current" data-progress="Current"><b>Staging</b>' in shown
    assert shown.count('<tr class="deployment" data-state="Success">') == 2


@pytest.mark.parametrize("path", ["/app/Spaces-1/deployments/Deployments-999", "/app/tasks/ServerTasks-999",
                                  "/app/Spaces-1/projects/web/releases/9.9.9",
                                  "/app/Spaces-1/projects/nope/releases/1"])
def test_what_does_not_exist_is_a_404_page_that_says_so(sandbox: SandboxControl, path: str) -> None:
    assert "was not found" in page(sandbox, path, 404)


def test_a_hostile_project_name_is_shown_escaped(sandbox: SandboxControl) -> None:
    sandbox.rename("project", "Web", HOSTILE)
    for path in ("/app", "/app/Spaces-1/deployments/Deployments-4", "/app/Spaces-1/releases/Releases-1"):
        shown = page(sandbox, path)
        assert "<script>alert" not in shown and "<img src=x" not in shown and "\u202e" not in shown
        assert html.escape("<script>alert(1)</script><img src=x onerror=alert(2)>", quote=False) in shown


def test_a_waiting_approval_is_answered_from_the_page(sandbox: SandboxControl) -> None:
    task_id = sandbox.deploy(sandbox.hotfix_release(), PRODUCTION)["TaskId"]
    interruption = sandbox.wait_for_interruption(task_id)
    shown = page(sandbox, f"/app/Spaces-1/tasks/{task_id}")
    assert f'action="/app/Spaces-1/interruptions/{interruption["Id"]}"' in shown
    assert 'value="Proceed"' in shown and 'value="Abort"' in shown
    answered = sandbox.call("POST", f"/app/Spaces-1/interruptions/{interruption['Id']}", key=None,
                            content=b"notes=Looks+good&answer=Proceed",
                            headers={"Content-Type": "application/x-www-form-urlencoded",
                                     "Sec-Fetch-Site": "same-origin"})
    assert answered.status_code == 303 and answered.headers["location"] == f"/app/Spaces-1/tasks/{task_id}"
    assert sandbox.wait_for_task(task_id)["State"] == "Success"
    after = sandbox.get(f"/api/Spaces-1/interruptions/{interruption['Id']}")
    assert (after["IsPending"], after["Form"]["Values"]["Result"], after["Form"]["Values"]["Notes"]) == (
        False, "Proceed", "Looks good")
    assert '<b class="answer">Proceed</b> by sandbox' in page(sandbox, f"/app/Spaces-1/tasks/{task_id}")


def test_a_form_another_site_sent_is_refused_and_changes_nothing(sandbox: SandboxControl) -> None:
    task_id = sandbox.deploy(sandbox.hotfix_release(), PRODUCTION)["TaskId"]
    interruption = sandbox.wait_for_interruption(task_id)
    refused = sandbox.call("POST", f"/app/Spaces-1/interruptions/{interruption['Id']}", key=None,
                           content=b"answer=Abort", headers={"Content-Type": "application/x-www-form-urlencoded",
                                                             "Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403 and "this sandbox&#39;s own page" in refused.text
    assert sandbox.get(f"/api/Spaces-1/interruptions/{interruption['Id']}")["IsPending"] is True


def test_a_key_whose_user_is_in_no_responsible_team_cannot_answer(sandbox: SandboxControl) -> None:
    sandbox.add_api_key("API-NOTEAMS0000000000000000000000", None, teams=[])
    task_id = sandbox.deploy(sandbox.hotfix_release(), PRODUCTION)["TaskId"]
    interruption = sandbox.wait_for_interruption(task_id)
    cookie = {"Cookie": "octorelease-sandbox-key=API-NOTEAMS0000000000000000000000"}
    assert "this key's user is in none of them" in page(sandbox, f"/app/Spaces-1/tasks/{task_id}", **cookie)
    refused = sandbox.call("POST", f"/app/Spaces-1/interruptions/{interruption['Id']}", key=None,
                           content=b"answer=Proceed", headers={"Content-Type": "application/x-www-form-urlencoded",
                                                               **cookie})
    assert refused.status_code == 403 and "Only members of the teams responsible" in refused.text
    assert sandbox.get(f"/api/Spaces-1/interruptions/{interruption['Id']}")["IsPending"] is True


def test_page_views_and_refreshes_stay_out_of_the_access_log() -> None:
    """``sandbox -v`` shows what a pipeline sent; an open page refreshes twice a second."""
    lines: list[str] = []
    with SandboxServer(port=0, speed=0.005, access_log=lines.append) as server, \
            httpx.Client(base_url=server.url, timeout=10) as client:
        for path in ("/app", "/app/Spaces-1/deployments/Deployments-1?fragment=1", "/app/static/app.js", "/api"):
            assert client.get(path).status_code == 200
        client.post("/app/sign-in", data={"key": "API-WRONG"})
    assert [line.rsplit(" ", 2)[0] for line in lines] == ["GET /api 200", "POST /app/sign-in 401"]


def test_a_tenants_deployment_is_in_its_row_of_the_grid(sandbox: SandboxControl) -> None:
    task_id = sandbox.deploy("Releases-1", "Environments-3", TenantId="Tenants-1")["TaskId"]
    assert sandbox.wait_for_task(task_id)["State"] == "Success"
    cells = html_cells(page(sandbox, "/app"))
    assert cells == api_cells(sandbox.get("/api/Spaces-1/dashboard"))
    assert cells[("Projects-1", "Environments-3", "Tenants-1")] == ("1.0.0", "Success")
    assert ("Projects-1", "Environments-3", "") not in cells and ("Projects-1", "Environments-3", "Tenants-2") \
        not in cells


def test_guided_failure_is_answered_from_the_page_with_its_own_buttons(sandbox: SandboxControl) -> None:
    sandbox.fail(step="Smoke test", machine="test-web-01", environment="Test")
    task_id = sandbox.deploy("Releases-2", "Environments-2", UseGuidedFailure=True)["TaskId"]
    interruption = sandbox.wait_for_interruption(task_id)
    shown = page(sandbox, f"/app/Spaces-1/tasks/{task_id}")
    assert "Guided failure:" in shown and 'class="state waiting"' in shown
    assert [f'value="{a}"' in shown for a in ("Fail", "Retry", "Ignore", "Exclude", "Proceed")] == [
        True, True, True, True, False]
    assert '<button type="submit" name="answer" value="Exclude">Exclude machine</button>' in shown
    post = sandbox.call("POST", f"/app/Spaces-1/interruptions/{interruption['Id']}", key=None,
                        content=b"answer=Ignore", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert post.status_code == 303
    assert sandbox.wait_for_task(task_id)["State"] == "Success"
    assert sandbox.get(f"/api/Spaces-1/interruptions/{interruption['Id']}")["Form"]["Values"]["Guidance"] == "Ignore"
