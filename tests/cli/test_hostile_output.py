"""Text from the server can never start a CI command or a terminal escape (issue 8).

A deployment script's output, a server's error message and the names of environments, steps,
machines, projects and handlers are untrusted. The sandbox is made to send hostile ones: a step
fails with a multi-line message full of CI commands and escapes, and things are renamed to text
that carries them. The command line then runs as each CI runs it, and every line it printed is
read the way that CI's agent reads it: nothing but octorelease's own commands may act, and no
control character or ANSI escape may survive outside them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from testing.cli import CliRun
from testing.sandbox import SandboxControl

#: What a hostile deployment script prints: one command or escape per line, for every CI.
PAYLOAD = (
    "::error::injected error",
    "::add-mask::hidden",
    "  ::endgroup::",
    "::stop-commands::token",
    "::set-output name=ok::false",
    "##vso[task.setvariable variable=pwned]1",
    "##[error]injected",
    "##teamcity[buildProblem description='injected']",
    "\x1b[0Ksection_end:1:octorelease_1\r\x1b[0K",
    "section_start:1:fake[collapsed=true]",
    "\x1b]0;window title\x07\x1b[2J\x9b31mred\x1b[0m",
    "\x1b[8mha:hidden jenkins note\x1b[0m",
)
#: The step failure message: the payload on continuation lines, with every kind of line break.
FAILURE = "Smoke test failed\n" + "\n".join(PAYLOAD) + "\r::warning::after a CR\u2028::notice::after LS\x85::debug::NEL"

HOSTILE_DEV = "Dev\n::error::env ##vso[task.complete result=Failed]\x1b[31m"
HOSTILE_TEST = "Test\r\n##teamcity[setParameter name='x' value='y']\x07\u202e"
HOSTILE_STEP = "::warning::step\n##[group]step\x1b[2K"
HOSTILE_MACHINE = "\x1b[0Ksection_start:1:machine\r\x1b[0K::notice::machine"
HOSTILE_PROJECT = "Web ##vso[task.setvariable variable=project]1\n::error::project"
HOSTILE_HANDLER = "Ship\n::error::handler\x1b[31m ##teamcity[buildStatus text='x']"

#: The commands octorelease itself writes, per CI: the only ones allowed at a line's start.
OURS = {
    "github": re.compile(r"::(group|endgroup|error|warning)( title=[^:]*)?::"),
    "azure": re.compile(
        r"##\[(group|endgroup)\]"
        r"|##vso\[task\.(logissue type=(error|warning)|setvariable variable=[\w-]+;isOutput=true)\]"
    ),
    "teamcity": re.compile(r"##teamcity\[(blockOpened|blockClosed|buildProblem|message|setParameter) "),
    "gitlab": re.compile(r"\x1b\[0Ksection_(start|end):\d+:octorelease_\d+_\d+_\d+(\[collapsed=true\])?\r\x1b\[0K"),
    "jenkins": re.compile(r"(?!)"),
}
CI_ENVIRONMENTS = {
    "github": {"GITHUB_ACTIONS": "true"},
    "azure": {"TF_BUILD": "True"},
    "teamcity": {"TEAMCITY_VERSION": "2024.07"},
    "gitlab": {"GITLAB_CI": "true"},
    "jenkins": {"JENKINS_URL": "http://jenkins.example/"},
}
#: Markers some agent finds anywhere in a line (Azure's ``##vso[``, TeamCity's service messages,
#: the old ``##[`` form), or that GitLab reads as a section.
ANYWHERE = re.compile(r"##vso\[|##teamcity\[|##\[|section_(start|end):", re.IGNORECASE)
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")

Octorelease = Callable[..., CliRun]


def assert_inert(output: str, ci: str) -> None:
    """No line of ``output`` starts a CI command but octorelease's own, and no control character
    or escape survives outside them; lines are split as the most eager agent splits them."""
    ours = OURS[ci]
    for line in output.split("\n"):
        own = ours.match(line)
        rest = line[own.end() :] if own else line
        for piece in re.split(r"[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", rest):
            if not own or piece is not rest:
                assert not piece.lstrip().startswith(("::", "##")), f"{ci} would act on {line!r}"
            assert not ANYWHERE.search(piece), f"{ci} would act on {line!r}"
        controls = [c for c in rest if (unicodedata.category(c) == "Cc" and c != "\t") or c in BIDI]
        assert not controls, f"control characters {controls!r} in {line!r}"


@pytest.fixture(params=sorted(CI_ENVIRONMENTS))
def ci(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Run as this CI runs a step: its variables set, the others' unset."""
    for variables in CI_ENVIRONMENTS.values():
        for name in variables:
            monkeypatch.delenv(name, raising=False)
    for name, value in CI_ENVIRONMENTS[request.param].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step_summary"))
    return str(request.param)


@pytest.fixture
def hostile(sandbox: SandboxControl) -> SandboxControl:
    """The demo, with hostile names and every step failing with a hostile message."""
    sandbox.rename("environment", "Development", HOSTILE_DEV)
    sandbox.rename("environment", "Test", HOSTILE_TEST)
    sandbox.rename("step", "Smoke test", HOSTILE_STEP)
    sandbox.rename("machine", "test-web-01", HOSTILE_MACHINE)
    sandbox.rename("machine", "dev-web-01", HOSTILE_MACHINE + "-dev")
    sandbox.rename("project", "Web", HOSTILE_PROJECT)
    sandbox.fail(step=HOSTILE_STEP, message=FAILURE)
    return sandbox


def test_the_sandbox_keeps_hostile_names_verbatim(hostile: SandboxControl) -> None:
    """The test is only worth something if the server really sends what it was given."""
    names = {e["Name"] for e in hostile.get("/api/Spaces-1/environments")["Items"]}
    assert {HOSTILE_DEV, HOSTILE_TEST} <= names
    assert hostile.get("/api/Spaces-1/projects/Projects-1")["Name"] == HOSTILE_PROJECT


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("promote", "--project", "Projects-1", "--from", HOSTILE_DEV, "--to", HOSTILE_TEST), id="promote"),
        pytest.param(("deploy", "--project", "Projects-1", "--release", "1.1.0", "--to", HOSTILE_TEST), id="deploy"),
        pytest.param(("create", "--project", "Projects-1", "--version", "1.9.0", "--package", "Deploy web=1.3.0",
                      "--deploy-to", HOSTILE_DEV), id="create"),
        pytest.param(("deploy", "--project", "Projects-1", "--release", "1.1.0", "--to", "Tset"), id="did-you-mean"),
        pytest.param(("deploy", "--project", "Projects-1", "--release", "1.1.0", "--to", "Staging"),
                     id="lifecycle-refusal"),
    ],
)
@pytest.mark.parametrize("json_flag", [(), ("--json",)], ids=["text", "json"])
def test_server_text_cannot_command_the_ci(
    hostile: SandboxControl, octorelease: Octorelease, ci: str, args: tuple[str, ...], json_flag: tuple[str, ...]
) -> None:
    run = octorelease(*args, "-v", *json_flag)
    assert run.code in (1, 3), run.err
    assert_inert(run.err, ci)
    assert_inert(run.out, ci)
    if json_flag:
        doc = run.json  # one JSON object, whose names are the server's, exactly
        if doc["deployments"]:
            assert doc["deployments"][0]["environment"] in (HOSTILE_DEV, HOSTILE_TEST)
            assert doc["project"]["name"] == HOSTILE_PROJECT


def test_a_failing_step_shows_every_line_of_its_message(hostile: SandboxControl, octorelease: Octorelease,
                                                          ci: str) -> None:
    """The payload is defused, not dropped: each of its lines is printed, prefixed."""
    run = octorelease("promote", "--project", "Projects-1", "--from", HOSTILE_DEV, "--to", HOSTILE_TEST)
    assert run.code == 1, run.err
    visible = run.err.replace("\u200b", "")
    for text in ("Smoke test failed", "injected error", "add-mask::hidden", "task.setvariable variable=pwned",
                 "after a CR", "after LS", "red"):
        assert text in visible


HANDLERS = """\
server: ${{OCTOPUS_URL}}
api_key: ${{OCTOPUS_API_KEY}}
handlers:
  - name: {name}
    project: Projects-1
    on: {{event: build-completed, status: success}}
    deploy: {{to: [{dev}], release: "1.1.0"}}
    promote: {{from: {dev}, to: [{test}]}}
"""


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_run_with_hostile_handler_and_server_text_cannot_command_the_ci(
    hostile: SandboxControl, octorelease: Octorelease, ci: str, tmp_path: Path, dry_run: bool
) -> None:
    hostile.clear_faults()
    hostile.fail(step=HOSTILE_STEP, environment=HOSTILE_TEST, message=FAILURE)
    path = tmp_path / "octorelease.yml"
    path.write_text(
        HANDLERS.format(name=json.dumps(HOSTILE_HANDLER), dev=json.dumps(HOSTILE_DEV), test=json.dumps(HOSTILE_TEST)),
        encoding="utf-8",
    )
    run = octorelease("run", str(path), "--status", "success", "-v", *(["--dry-run"] if dry_run else []))
    assert run.code == (0 if dry_run else 1), run.err
    assert_inert(run.err, ci)
    assert_inert(run.out, ci)
