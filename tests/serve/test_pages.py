"""The history page's rows and templates: what a run shows, and that nothing from outside can
act on the page (markup is escaped, links are http(s) only, control characters are gone)."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import escape

from octorelease.serve.pages import render
from octorelease.serve.pages.view import duration, run_detail, run_row, safe_link
from testing.serve import ServeUnderTest

HOSTILE = '<script>alert("x")</script>'

RUN: dict[str, Any] = {
    "id": 7,
    "url": "http://127.0.0.1:8080/api/runs/7",
    "source": "generic",
    "delivery": "widget-57",
    "kind": "On Build Completed",
    "event": "build-completed",
    "status": "success",
    "stage": None,
    "values": {"number": "57", "branch": "main", "url": "https://ci.example.com/builds/57"},
    "state": "succeeded",
    "reason": None,
    "received_at": 1764627065.0,
    "started_at": 1764627065.5,
    "finished_at": 1764627069.7,
    "duration_seconds": 4.2,
    "attempts": 1,
    "handlers": [
        {
            "name": "Ship to Test",
            "ran": True,
            "reason": "event is build-completed, status success",
            "actions": [
                {
                    "ok": True,
                    "action": "promote",
                    "project": {"id": "Projects-1", "name": "Web"},
                    "release": {"id": "Releases-7", "version": "1.4.0"},
                    "from": "Development",
                    "deployments": [
                        {
                            "environment": "Test",
                            "deployment_id": "Deployments-12",
                            "task_id": "ServerTasks-40",
                            "state": "Success",
                            "duration_seconds": 3.2,
                            "web_url": "https://octopus.example.com/app#/Spaces-1/tasks/ServerTasks-40",
                        }
                    ],
                    "error": None,
                }
            ],
        },
        {
            "name": "Ship to Production",
            "ran": False,
            "reason": "status is success, handler runs on failure",
            "actions": [],
        },
    ],
    "error": None,
    "log": ["Promoting 1.4.0 from Development to Test", "Deploying to Test: Success"],
}


def test_a_row_says_source_event_status_build_branch_and_each_handler_s_fate() -> None:
    row = run_row(RUN)
    assert (row["source"], row["event"], row["status"], row["number"], row["branch"]) == (
        "generic", "build-completed", "success", "57", "main",
    )  # fmt: skip
    assert [(h["name"], h["ran"], h["reason"]) for h in row["handlers"]] == [
        ("Ship to Test", True, "event is build-completed, status success"),
        ("Ship to Production", False, "status is success, handler runs on failure"),
    ]
    assert row["active"] is False


def test_the_run_page_shows_actions_deployments_task_links_and_the_log() -> None:
    html = render("run.html", {"run": run_detail(RUN), "live": False})
    assert "promote" in html and "Web" in html and "1.4.0" in html
    assert 'href="https://octopus.example.com/app#/Spaces-1/tasks/ServerTasks-40"' in html
    assert "ServerTasks-40" in html and "3.2 s" in html and "Success" in html
    assert "Deploying to Test: Success" in html
    assert 'href="https://ci.example.com/builds/57"' in html


@pytest.mark.parametrize("template", ["index.html", "run.html"])
def test_nothing_from_outside_can_add_markup_or_a_script_link(template: str) -> None:
    hostile = {
        **RUN,
        "kind": HOSTILE,
        "source": HOSTILE,
        "values": {"branch": HOSTILE, "url": "javascript:alert(1)", "x": "a\u202eb\x1b[31m"},
        "handlers": [
            {
                "name": HOSTILE,
                "ran": True,
                "reason": HOSTILE,
                "actions": [
                    {
                        "action": HOSTILE,
                        "project": {"name": HOSTILE},
                        "messages": [HOSTILE],
                        "deployments": [
                            {
                                "environment": HOSTILE,
                                "state": HOSTILE,
                                "task_id": HOSTILE,
                                "web_url": "javascript:alert(2)",
                            }
                        ],
                        "error": {"message": HOSTILE, "hint": HOSTILE},
                    }
                ],
            }
        ],
        "log": [HOSTILE, "\x1b]8;;https://evil.example\x07link"],
        "pending_interruptions": [{"id": HOSTILE, "type": HOSTILE, "kind": HOSTILE, "title": HOSTILE,
                                   "instructions": HOSTILE, "teams": [HOSTILE], "environment": HOSTILE,
                                   "deployment": HOSTILE, "task_id": HOSTILE, "web_url": "javascript:alert(3)",
                                   "waited_seconds": 61}],
    }
    context = {"run": run_detail(hostile), "live": False} if template == "run.html" else {"rows": [run_row(hostile)]}
    html = render(template, context)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    assert "\u202e" not in html and "\x1b" not in html and "\x07" not in html
    assert template == "index.html" or "<h2>Waiting for a person</h2>" in html


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://octopus.example.com/app#/tasks/1", True),
        ("http://127.0.0.1:8065/app", True),
        ("javascript:alert(1)", False),
        ("JAVASCRIPT:alert(1)", False),
        ("data:text/html,<b>", False),
        ("//evil.example/x", False),
        ("/relative", False),
        ("https://", False),
        ("https://a b", False),
        ("https://x\n.example", False),
        ("http://[::1", False),
        (None, False),
        (42, False),
    ],
)
def test_only_absolute_http_links_are_links(url: Any, kept: bool) -> None:
    assert safe_link(url) == (url if kept else None)


def test_a_run_still_going_asks_the_page_to_refresh_quickly() -> None:
    going = {**RUN, "state": "running", "handlers": [], "finished_at": None, "duration_seconds": None}
    html = render("_runs.html", {"rows": [run_row(going)], "live": True})
    assert 'data-live="true"' in html
    assert 'data-live="false"' in render("_runs.html", {"rows": [run_row(RUN)], "live": False})


def test_a_document_missing_fields_still_renders() -> None:
    html = render("run.html", {"run": run_detail({"id": 1}), "live": False})
    assert "Run #1" in html
    assert render("index.html", {"rows": [run_row({"id": 2, "handlers": "nonsense", "values": []})]})


@pytest.mark.parametrize(
    ("seconds", "shown"), [(3.24, "3.2 s"), (125, "2 min 05 s"), (3720, "1 h 02 min"), (None, ""), (-1, ""), (True, "")]
)
def test_durations_read_as_people_say_them(seconds: Any, shown: str) -> None:
    assert duration(seconds) == shown


def test_the_service_serves_the_history_with_each_run_s_deployments_and_log(served: ServeUnderTest) -> None:
    serve = served
    empty = serve.http.get("/")
    assert empty.status_code == 200 and "No events yet" in empty.text
    answer = serve.event("page-1", branch="main", number="31")
    run = serve.wait(answer["id"])
    assert run["state"] == "succeeded", run

    index = serve.http.get("/")
    assert f'href="/runs/{run["id"]}"' in index.text and "build-completed" in index.text
    assert "Ship Web" in index.text and "Ship Worker" in index.text  # one ran, one skipped with why
    task = run["handlers"][0]["actions"][-1]["deployments"][0]
    page = serve.http.get(f"/runs/{run['id']}")
    assert page.status_code == 200
    assert task["task_id"] in page.text and task["environment"] in page.text
    assert f'href="{task["web_url"]}"' in page.text
    assert run["log"] and all(str(escape(line)) in page.text for line in run["log"])


def test_pages_forbid_any_script_but_their_own_and_answer_fragments_for_live_updates(served: ServeUnderTest) -> None:
    serve = served
    page = serve.http.get("/")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    fragment = serve.http.get("/", params={"fragment": "1"}).text
    assert fragment.startswith('<main id="live"') and "<html" not in fragment
    script = serve.http.get("/static/live.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert serve.http.get("/runs/99999").status_code == 404


@pytest.mark.parametrize("template", ["index.html", "run.html"])
def test_an_ignored_failure_shows_as_failed_ignored_not_as_ran(template: str) -> None:
    refused = {
        "name": "Straight to Production", "ran": True, "outcome": "failed (ignored)",
        "reason": "event is build-completed",
        "actions": [{"action": "promote", "project": {"name": "Web"}, "deployments": [],
                     "error": {"code": 3, "message": "the lifecycle has not reached Production"}}],
    }
    run = {**RUN, "handlers": [refused]}
    html = render(template, {"rows": [run_row(run)], "run": run_detail(run), "live": False})
    assert "failed (ignored)" in html
    assert ">ran<" not in html and ": ran" not in html
