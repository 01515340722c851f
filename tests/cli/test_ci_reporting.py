"""Every command reports to its CI as ``run`` does: outputs, summary, annotations, one fold per task."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from testing.cli import CliRun
from testing.processes import collect, start_cli
from testing.sandbox import SandboxControl

Octorelease = Callable[..., CliRun]

#: Worker 2.0.0 from Development on to three environments at once (Worker's lifecycle allows it).
WORKER_TO_THREE = (
    "promote", "--project", "Worker", "--from", "Development", "--to", "Test", "--to", "Staging", "--to", "Production",
)


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Run as a GitHub Actions step: the outputs file and the job summary file."""
    outputs, summary = tmp_path / "github_output", tmp_path / "step_summary"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    return outputs, summary


def outputs_of(path: Path) -> dict[str, str]:
    """The single-line ``name=value`` entries of ``$GITHUB_OUTPUT``."""
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and "<<" not in name:
            entries[name] = value
    return entries


def test_promote_on_github_gives_every_documented_output_and_the_summary(
    sandbox: SandboxControl, octorelease: Octorelease, github: tuple[Path, Path]
) -> None:
    outputs, summary = github
    run = octorelease(*WORKER_TO_THREE, "--json")
    assert run.code == 0, run.err
    doc = run.json
    got = outputs_of(outputs)
    deployments = doc["deployments"]
    assert got["ok"] == "true"
    assert got["release_version"] == doc["release"]["version"]
    assert got["release_id"] == doc["release"]["id"]
    assert got["environments"] == "Test,Staging,Production"
    assert got["deployment_ids"] == ",".join(d["deployment_id"] for d in deployments)
    assert got["task_ids"] == ",".join(d["task_id"] for d in deployments)
    assert got["states"] == "Success,Success,Success"
    assert got["web_urls"] == ",".join(d["web_url"] for d in deployments)
    assert all(url.startswith(sandbox.url) for url in got["web_urls"].split(","))
    server_ids = {d["Id"] for d in sandbox.get("/api/Spaces-1/deployments", take=500)["Items"]}
    assert set(got["deployment_ids"].split(",")) <= server_ids
    assert "result" in outputs.read_text(encoding="utf-8")
    assert "| promote | Worker |" in summary.read_text(encoding="utf-8")


def test_a_promotion_to_three_environments_folds_each_task_once_whole_in_the_order_they_end(
    sandbox: SandboxControl, octorelease: Octorelease, github: tuple[Path, Path]
) -> None:
    run = octorelease(*WORKER_TO_THREE)
    assert run.code == 0, run.err
    lines = run.err.splitlines()
    opened = [line for line in lines if line.startswith("::group::")]
    assert sorted(opened) == sorted(set(opened)) and len(opened) == 3, opened
    # Between an opening and its ::endgroup:: only log lines: no state line, no other fold.
    inside = False
    for line in lines:
        if line.startswith("::group::"):
            assert not inside, line
            inside = True
        elif line == "::endgroup::":
            assert inside
            inside = False
        elif inside:
            assert not line.startswith("[") and not line.startswith("::"), line
    assert not inside
    # Each fold comes just before the line that says its task ended.
    for title in opened:
        environment = title.rsplit(" to ", 1)[1]
        end = lines.index(next(line for line in lines if line.startswith(f"[{environment}] Success")))
        assert lines.index(title) < end
        assert lines[end - 1] == "::endgroup::"


def test_deploy_failure_is_an_error_annotation_and_create_gives_outputs(
    sandbox: SandboxControl, octorelease: Octorelease, github: tuple[Path, Path]
) -> None:
    outputs, _ = github
    sandbox.fail(environment="Development")
    run = octorelease("deploy", "--project", "Web", "--release", "latest", "--to", "Development")
    assert run.code == 1
    assert re.search(r"^::error title=octorelease::1 of 1 deployments did not succeed", run.err, re.M), run.err
    assert outputs_of(outputs)["states"] == "Failed"

    outputs.unlink()
    sandbox.clear_faults()
    run = octorelease("create", "--project", "Web", "--version", "9.0.0")
    assert run.code == 0, run.err
    got = outputs_of(outputs)
    assert got["release_version"] == "9.0.0" and got["release_id"].startswith("Releases-")
    assert got["task_ids"] == ""


def test_an_ignored_failure_is_a_warning_and_azure_ends_the_step_with_issues(
    sandbox: SandboxControl, octorelease: Octorelease, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_BUILD", "True")
    sandbox.fail(environment="Development")
    run = octorelease("deploy", "--project", "Web", "--release", "latest", "--to", "Development", "--no-fail-on-error")
    assert run.code == 0, run.err
    assert re.search(r"^##vso\[task.logissue type=warning\].*ignored: --no-fail-on-error", run.err, re.M), run.err
    assert "type=error" not in run.err
    assert re.search(r"^##vso\[task.complete result=SucceededWithIssues;\].*Development \(Failed\)", run.err, re.M)
    assert re.search(r"^##vso\[task.setvariable variable=states;isOutput=true\]Failed$", run.err, re.M)


def test_teamcity_warns_with_the_warning_status_and_names_the_handler_field(
    sandbox: SandboxControl, octorelease: Octorelease, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEAMCITY_VERSION", "2024.03")
    monkeypatch.chdir(tmp_path)
    Path("octorelease.yml").write_text(
        "handlers:\n"
        "  - name: Ship\n"
        "    project: Web\n"
        "    on: {event: build-completed}\n"
        "    deploy: {to: [Development], release: latest}\n"
        "    fail_build_on_error: false\n",
        encoding="utf-8",
    )
    sandbox.fail(environment="Development")
    run = octorelease("run", "octorelease.yml")
    assert run.code == 0, run.err
    warning = re.search(r"^##teamcity\[message text='(.*)' status='WARNING'\]$", run.err, re.M)
    assert warning is not None, run.err
    assert "ignored: fail_build_on_error: false" in warning[1]
    assert "--no-fail-on-error" not in run.err
    assert "buildProblem" not in run.err
    assert "##teamcity[setParameter name='octorelease.states' value='Failed']" in run.err


def test_gitlab_gets_a_dotenv_report(
    sandbox: SandboxControl, octorelease: Octorelease, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GITLAB_CI", "true")
    report = tmp_path / "deploy.env"
    monkeypatch.setenv("OCTORELEASE_DOTENV", str(report))
    run = octorelease("promote", "--project", "Web", "--from", "Development", "--to", "Test", "--json")
    assert run.code == 0, run.err
    (deployment,) = run.json["deployments"]
    lines = report.read_text(encoding="utf-8").splitlines()
    assert lines == [
        "OCTORELEASE_OK=true",
        "OCTORELEASE_RELEASE_VERSION=1.1.0",
        f"OCTORELEASE_RELEASE_ID={run.json['release']['id']}",
        "OCTORELEASE_ENVIRONMENTS=Test",
        f"OCTORELEASE_DEPLOYMENT_IDS={deployment['deployment_id']}",
        f"OCTORELEASE_TASK_IDS={deployment['task_id']}",
        "OCTORELEASE_STATES=Success",
        f"OCTORELEASE_WEB_URLS={deployment['web_url']}",
    ]
    assert "section_start:" in run.err


def test_a_handler_file_error_is_annotated_at_its_file_and_line(
    sandbox: SandboxControl, octorelease: Octorelease, github: tuple[Path, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("octorelease.yml").write_text(
        "handlers:\n  - name: Ship\n    project: Web\n    on: {event: build-completed}\n    deploy: {to: 7x: [}\n",
        encoding="utf-8",
    )
    run = octorelease("run", "octorelease.yml")
    assert run.code == 2
    assert re.search(r"^::error file=octorelease.yml,line=5,title=octorelease::octorelease.yml:5: ", run.err, re.M), (
        run.err
    )


def test_jenkins_gets_the_headed_lines_the_readme_promises(
    sandbox: SandboxControl, octorelease: Octorelease, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JENKINS_URL", "https://ci.example/")
    run = octorelease("promote", "--project", "Web", "--from", "Development", "--to", "Test")
    assert run.code == 0, run.err
    lines = run.err.splitlines()
    heading = lines.index("== Deploy Web 1.1.0 to Test")
    assert lines[heading + 1] and not lines[heading + 1].startswith("[Test]")


def release_lines(err: str) -> list[str]:
    """The lines that name a release of Web."""
    return [line for line in err.splitlines() if " of Web" in line or "release Web" in line]


def test_create_says_once_and_truly_where_the_version_came_from(
    sandbox: SandboxControl, octorelease: Octorelease
) -> None:
    run = octorelease("create", "--project", "Web")
    assert run.code == 0, run.err
    (line,) = release_lines(run.err)
    assert re.fullmatch(r"Created release 1\.\d+\.\d+ of Web \(picked by Octopus from the project's versioning "
                        r"template\)\.", line)

    run = octorelease("create", "--project", "Web", "--version", "7.0.0", "--deploy-to", "Development")
    assert run.code == 0, run.err
    assert "Created release 7.0.0 of Web (the version given)." in run.err
    assert "asked for" not in run.err
    assert run.err.count("7.0.0 of Web") == 1

    run = octorelease("create", "--project", "Web", "--version", "7.0.0", "--ignore-existing")
    assert run.code == 0, run.err
    assert release_lines(run.err) == ["Using existing release 7.0.0 of Web (it already exists)."]


def test_a_handler_says_which_release_it_deploys_and_promotes_and_why(
    sandbox: SandboxControl, octorelease: Octorelease, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("octorelease.yml").write_text(
        "handlers:\n"
        "  - name: Ship\n"
        "    project: Web\n"
        "    on: {event: build-completed}\n"
        "    create: {version: 1.9.0, packages: {'Deploy web': 1.3.0}}\n"
        "    deploy: {to: [Development]}\n"
        "    promote: {from: Development, to: [Test]}\n",
        encoding="utf-8",
    )
    run = octorelease("run", "octorelease.yml", "--stage", "Build")
    assert run.code == 0, run.err
    assert "Release 1.9.0 of Web: the release this handler created." in run.err
    assert "Release 1.9.0 of Web: the release this handler deployed to Development." in run.err
    assert "asked for" not in run.err


@pytest.mark.parametrize("variable", ["GITLAB_CI", "JENKINS_URL"])
def test_on_gitlab_and_jenkins_an_error_is_said_once(
    sandbox: SandboxControl, octorelease: Octorelease, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "http://ci.example" if variable == "JENKINS_URL" else "true")
    run = octorelease("deploy", "--project", "Web", "--release", "9.9.9", "--to", "Development")
    assert run.code == 3
    said = [line for line in run.err.splitlines() if "Release '9.9.9' of project 'Web' not found" in line]
    assert said == ["Error: Release '9.9.9' of project 'Web' not found."], run.err


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 30) -> str:
    """What the process wrote on stderr up to the first line holding ``marker``, read as it
    comes (within ``timeout`` seconds, else the test fails with what was read)."""
    assert process.stderr is not None
    fd, read = process.stderr.fileno(), b""
    deadline = time.monotonic() + timeout
    while marker.encode() not in read.rpartition(b"\n")[0]:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        chunk = os.read(fd, 65536) if ready else b""
        if not chunk:
            process.kill()
            raise AssertionError(f"no line with {marker!r} within {timeout} s; stderr so far:\n{read.decode()}")
        read += chunk
    return read.decode()


def test_gitlab_sections_stream_as_the_task_runs_and_are_named_once_in_the_job(
    sandbox: SandboxControl, octorelease: Octorelease, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    sandbox.add_approval(environment="Environments-2")  # Test waits for a person: the section stays open
    web = ("--project", "Web")
    assert octorelease("create", *web, "--version", "1.9.0", "--deploy-to", "Development", "--no-log").code == 0
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("CI_JOB_ID", "4242")
    process = start_cli(sandbox, "promote", *web, "--from", "Development", "--to", "Test")
    so_far = read_until(process, "section_start:")
    (pending,) = sandbox.get("/api/Spaces-1/interruptions", pendingOnly="true")["Items"]  # the task waits on
    second = int(time.time()) + 1
    while time.time() < second:  # the section's end must fall in a later second than its start
        time.sleep(0.05)
    sandbox.answer(pending["Id"], Result="Proceed")
    run = collect(process)
    assert run.code == 0, run.err
    err = so_far + run.err  # what was read while it waited, and the rest
    (start,) = re.findall(r"section_start:(\d+):([\w.-]+)\[collapsed=true\]", err)
    (end,) = re.findall(r"section_end:(\d+):([\w.-]+)\s", err)  # text mode reads its \r as \n
    assert start[1] == end[1] and int(end[0]) > int(start[0]), (start, end)
    again = collect(start_cli(sandbox, "deploy", *web, "--release", "1.9.0", "--to", "Development"))
    assert again.code == 0, again.err
    (other,) = re.findall(r"section_start:\d+:([\w.-]+)\[", again.err)
    assert other != start[1]  # a second command of the same job: another section
