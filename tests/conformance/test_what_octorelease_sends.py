"""What octorelease sends, as the sandbox saw it, against the conformance table (``routes.yaml``).

The commands below walk through every route the table marks ``client: sends``: create (with and
without a version, with packages, notes and a deployment), deploy (prompted variables, machines,
tenants, a refreshed variable snapshot), promote (dry and real, refused by the lifecycle), a handler
that sets project variables (and one that sets a version-controlled project's, on a branch), a
deployment that waits for a person and its answer, a wait that times out and cancels. Then every
request the sandbox's log holds must be at a documented path of its row, with every field that
row requires in its body; and every ``client: sends`` row must have been walked through, so the
walk keeps up with the table.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from testing import conformance
from testing.cli import connection, run_cli
from testing.sandbox import SandboxControl

HANDLER = """\
handlers:
  - name: Variables
    project: Web
    on: {event: build-completed}
    variables: {Greeting: "from the conformance walk"}
    deploy: {to: Development, release: 1.2.0, update_variables: true}
    log_messages: false
"""

#: a version-controlled project's variables: committed to the branch its release is made at
GIT_HANDLER = """\
space: Operations
handlers:
  - name: Git variables
    project: Platform
    on: {event: build-completed}
    variables: {Greeting: "from the conformance walk"}
    create: {version: 1.1.0, git_ref: main}
"""


def _walk(sandbox: SandboxControl, capsys: pytest.CaptureFixture[str], handler_file: Path) -> list[dict[str, Any]]:
    """Run the commands and return the sandbox's request log; each command must succeed (or
    fail as it is meant to)."""
    link = connection(sandbox)
    sandbox.add_approval()  # a person approves Production (the walk's last deploy there waits for one)
    now = datetime.now(timezone.utc)
    sandbox.post("/api/deploymentfreezes", {"Name": "Walk", "Start": (now - timedelta(minutes=1)).isoformat(),
                                            "End": (now + timedelta(hours=1)).isoformat(),
                                            "ProjectEnvironmentScope": {"Projects-2": ["Environments-1"]}})
    sandbox.clear_requests()

    def cli(*args: str, code: int = 0) -> None:
        run = run_cli(capsys, *args, *link, "--json")
        assert run.code == code, f"{args}: {run.code}\n{run.err}"

    cli("create", "--project", "Web", "--version", "9.0.0", "--package", "Deploy web=1.3.0", "--notes", "walk")
    cli("create", "--project", "Worker", "--space", "Default")
    cli("deploy", "--project", "Web", "--release", "9.0.0", "--to", "Development", "--notes", "walk",
        "--variable", "ChangeTicket=CT-1", "--machine", "dev-web-01", "--update-variables", "--space", "Spaces-1")
    cli("promote", "--project", "Web", "--from", "Development", "--to", "Test", "--dry-run")
    cli("promote", "--project", "Web", "--from", "Development", "--to", "Test")
    cli("deploy", "--project", "Web", "--release", "9.0.0", "--to", "Test", "--tenant", "*")
    cli("deploy", "--project", "Projects-1", "--release", "9.0.0", "--to", "Test", "--tenant-tag", "Region/EU")
    cli("promote", "--project", "Web", "--from", "Development", "--to", "Production", code=3)  # the lifecycle says no
    cli("create", "--project", "Web", "--version", "9.1.0", "--deploy-to", "Development")
    cli("create", "--project", "Platform", "--space", "Operations", "--version", "1.0.0", "--git-ref", "main",
        "--deploy-to", "Ops")  # a version-controlled project: its process at the ref
    cli("run", str(handler_file), "--event", "build-completed")
    git_handler_file = handler_file.with_name("git-octorelease.yml")
    git_handler_file.write_text(GIT_HANDLER, encoding="utf-8")
    cli("run", str(git_handler_file), "--event", "build-completed")
    cli("create", "--project", "Web", "--version", "9.2.0", "--channel", "Hotfix")
    cli("deploy", "--project", "Web", "--release", "9.2.0", "--to", "Production", "--on-interruption", "fail", code=7)
    cli("interruptions", "proceed", "--project", "Web", "--environment", "Production", "--notes", "walk")
    cli("deploy", "--project", "Worker", "--release", "latest", "--to", "Development", "--freeze-override", "walk",
        "--no-wait")  # Worker is frozen in Development
    sandbox.set_speed(1.0)
    cli("deploy", "--project", "Worker", "--release", "latest", "--to", "Test", "--timeout", "1s",
        "--cancel-on-timeout", code=5)
    return sandbox.requests()


def test_what_octorelease_sends_is_at_documented_paths_with_every_required_field(
        sandbox: SandboxControl, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    handler_file = tmp_path / "octorelease.yml"
    handler_file.write_text(HANDLER, encoding="utf-8")
    requests = _walk(sandbox, capsys, handler_file)

    problems, walked = [], set()
    for request in requests:
        row = conformance.row_for(request["method"], request["path"])
        if row is None:
            problems.append(f"{request['method']} {request['path']} is at no documented path")
            continue
        walked.add(row.name)
        if row.client is None:
            problems.append(f"{row.name} is sent, but its row does not say client: sends")
        missing = conformance.missing_required(row, request.get("fields"))
        if missing and row.required:
            problems.append(f"{request['method']} {request['path']} lacks {', '.join(missing)}")
    assert problems == []
    unwalked = [row.name for row in conformance.rows() if row.client == "sends" and row.name not in walked]
    assert unwalked == [], "rows marked client: sends that the walk never sent"
