"""The ready-made integrations, each run step by step with its CI's environment simulated.

Each CI's runner is imitated only as far as the template uses it: expressions (``${{ inputs.x }}``,
``${{ parameters.x }}``, ``$[[ inputs.x ]]``, ``$(macro)``) filled in from the inputs and their
defaults, the step's ``env``, its script run by bash, and the CI's variables (``GITHUB_ACTIONS``/
``GITHUB_OUTPUT``, ``GITLAB_CI``, ``TF_BUILD``). The fast tests skip the install (``install: ''``)
and take octorelease from this tree; the installed ones (slow) run the steps as written, install
and all, with nothing of this tree on PATH: each template makes its own venv from the runner's
``python3`` and installs this tree's wheel (or, for the action, its source) into it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from octorelease.actions.twins import notes_without_marker
from octorelease.cli.ci_step import StepError, step_argv
from testing.runner import run_bash
from testing.sandbox import SandboxControl

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = ("ok", "release_version", "release_id", "environments", "deployment_ids", "task_ids", "states", "web_urls")
#: A promotion of Web from Development to Test, in each CI's terms.
PROMOTE = {"command": "promote", "project": "Web", "from": "Development", "to": "Test"}


def fill(text: str, scope: str, values: Mapping[str, str]) -> str:
    """``${{ scope.name }}`` expressions replaced by their values (what the CI does first)."""
    return re.sub(r"\$\{\{\s*" + scope + r"\.([\w-]+)\s*\}\}", lambda m: values[m[1]], text)


def github_outputs(path: Path) -> dict[str, str]:
    """``$GITHUB_OUTPUT`` read as the runner reads it: ``name=value`` and ``name<<DELIMITER``."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line.split("=", 1)[0]:
            name, delimiter = line.split("<<", 1)
            outputs[name] = "\n".join(iter(lambda: next(lines), delimiter))
        else:
            name, _, value = line.partition("=")
            outputs[name] = value
    return outputs


def steps_outputs_filled(text: str, steps_outputs: Mapping[str, Mapping[str, str]]) -> str:
    """``${{ steps.id.outputs.name }}``: empty for a step that did not run, as on the runner."""
    return re.sub(
        r"\$\{\{\s*steps\.([\w-]+)\.outputs\.(\w+)\s*\}\}",
        lambda m: steps_outputs.get(m[1], {}).get(m[2], ""),
        text,
    )


def run_github_action(
    inputs: Mapping[str, str], workdir: Path, *, fresh: Mapping[str, str] | None = None, code: int = 0
) -> tuple[dict[str, str], str]:
    """Run action.yml's steps as the runner would, the last ending with exit ``code``; returns
    the action's outputs and the log (stderr, then stdout, where workflow commands go too)."""
    action: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update(inputs)
    runner_temp = workdir / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    steps_outputs: dict[str, dict[str, str]] = {}
    log = ""
    for step in action["runs"]["steps"]:
        condition = step.get("if")
        if condition is not None:
            match = re.fullmatch(r"inputs\.([\w-]+) != ''", condition)
            assert match is not None, f"the simulator does not know the condition {condition!r}"
            if values[match[1]] == "":
                continue
        output_file = workdir / f"output-{step.get('id', 'step')}"
        output_file.write_text("", encoding="utf-8")
        env = {
            name: steps_outputs_filled(
                fill(fill(str(value), "inputs", values), "github", {"action_path": str(ROOT)}), steps_outputs
            )
            for name, value in step.get("env", {}).items()
        }
        env.update(
            GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(output_file), GITHUB_STEP_SUMMARY=str(workdir / "summary"),
            RUNNER_OS="Linux", RUNNER_TEMP=str(runner_temp),
        )
        assert "${{" not in step["run"], "an expression in a script would paste an input into code"
        done = run_bash(step["run"], env, workdir, fresh=fresh)
        log += done.stderr + done.stdout
        assert done.returncode == (code if step.get("id") == "octorelease" else 0), done.stderr
        if "id" in step:
            steps_outputs[step["id"]] = github_outputs(output_file)
    outputs = {name: steps_outputs_filled(spec["value"], steps_outputs) for name, spec in action["outputs"].items()}
    return outputs, log


def gitlab_job(inputs: Mapping[str, str]) -> dict[str, Any]:
    """The template's hidden job, its ``$[[ inputs.x ]]`` filled in as the include's ``inputs`` ask."""
    text = (ROOT / "ci/gitlab/octorelease.gitlab-ci.yml").read_text(encoding="utf-8")
    header, _ = yaml.safe_load_all(text)
    assert set(header["spec"]["inputs"]) == set(inputs)
    filled = re.sub(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", lambda m: inputs[m[1]], text.split("\n---\n", 1)[1])
    job: dict[str, Any] = yaml.safe_load(filled)[".octorelease"]
    return job


def run_gitlab_job(
    variables: Mapping[str, str], workdir: Path, *, fresh: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Run the job that extends ``.octorelease`` with ``variables``; returns its dotenv report."""
    job = gitlab_job({"repository": "acme/octorelease", "ref": "v1.2.3"})
    env = {
        **job["variables"], **variables, "GITLAB_CI": "true", "CI_JOB_ID": "4242", "TMPDIR": str(workdir),
    }
    for line in job["script"]:
        done = run_bash(line, env, workdir, fresh=fresh)
        assert done.returncode == 0, done.stderr
    report = workdir / job["artifacts"]["reports"]["dotenv"]
    return dict(line.split("=", 1) for line in report.read_text(encoding="utf-8").splitlines())


def run_azure_step(
    parameters: Mapping[str, str], macros: Mapping[str, str], workdir: Path, *, fresh: Mapping[str, str] | None = None,
    agent_env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the template's one step on a Linux agent: parameters, then macros (unknown ones stay
    as written, as Azure leaves them)."""
    template = yaml.safe_load((ROOT / "ci/azure/octorelease.yml").read_text(encoding="utf-8"))
    values = {spec["name"]: str(spec["default"]) for spec in template["parameters"]}
    values.update(parameters)
    (step,) = template["steps"]
    assert step["name"] == "octorelease"
    env = {
        name: re.sub(r"\$\(([\w.]+)\)", lambda m: macros.get(m[1], m[0]), fill(str(value), "parameters", values))
        for name, value in step["env"].items()
    }
    assert "${{" not in step["bash"]
    agent = {"TF_BUILD": "True", "AGENT_OS": "Linux", "AGENT_TEMPDIRECTORY": str(workdir), **(agent_env or {})}
    return run_bash(step["bash"], {**env, **agent}, workdir, fresh=fresh)


def azure_outputs(log: str) -> dict[str, str]:
    """The step's output variables, from its ``##vso[task.setvariable ...;isOutput=true]`` lines."""
    return dict(re.findall(r"^##vso\[task\.setvariable variable=(\w+);isOutput=true\](.*)$", log, re.M))


def check_outputs(outputs: Mapping[str, str], sandbox: SandboxControl) -> None:
    """The outputs of a promotion of Web from Development to Test, as the server has it."""
    (deployment,) = sandbox.get("/api/Spaces-1/deployments", take=1)["Items"]
    assert outputs["ok"] == "true"
    assert outputs["release_version"] == "1.1.0" and outputs["release_id"] == deployment["ReleaseId"]
    assert outputs["environments"] == "Test"
    assert outputs["deployment_ids"] == deployment["Id"] and outputs["task_ids"] == deployment["TaskId"]
    assert outputs["states"] == "Success"
    assert outputs["web_urls"].startswith(sandbox.url)


def test_the_github_action_maps_inputs_to_flags_and_gives_octorelease_outputs(
    sandbox: SandboxControl, tmp_path: Path
) -> None:
    outputs, log = run_github_action(
        {
            "command": "promote", "project": "Web", "from": "Development", "to": "Test",
            "args": "--notes 'Promoted by $(whoami) \"quoted\"'",
            "server": sandbox.url, "api-key": sandbox.api_key, "install": "",
        },
        tmp_path,
    )
    check_outputs(outputs, sandbox)
    (deployment,) = sandbox.get("/api/Spaces-1/deployments", take=1)["Items"]
    assert notes_without_marker(deployment["Comments"]) == 'Promoted by $(whoami) "quoted"'  # a value, never run
    assert sandbox.api_key not in log
    assert set(OUTPUTS) | {"result"} == set(outputs)


def test_the_github_action_runs_a_handler_file(sandbox: SandboxControl, tmp_path: Path) -> None:
    (tmp_path / "octorelease.yml").write_text(
        "handlers:\n  - name: Ship\n    project: Web\n    on: {event: build-completed, status: success}\n"
        "    promote: {from: Development, to: [Test]}\n",
        encoding="utf-8",
    )
    outputs, log = run_github_action(
        {"status": "success", "server": sandbox.url, "api-key": sandbox.api_key, "install": ""}, tmp_path
    )
    check_outputs(outputs, sandbox)
    assert "1 of 1 handler(s) ran for build-completed (success)" in log


SHIP_ON_SUCCESS = (
    "handlers:\n  - name: Ship\n    project: Web\n    on: {event: build-completed, status: success}\n"
    "    promote: {from: Development, to: [Test]}\n"
)


def test_the_github_action_s_defaults_with_a_handler_waiting_for_a_status_are_an_error_not_a_green_step(
    sandbox: SandboxControl, tmp_path: Path
) -> None:
    (tmp_path / "octorelease.yml").write_text(SHIP_ON_SUCCESS, encoding="utf-8")
    outputs, log = run_github_action(
        {"server": sandbox.url, "api-key": sandbox.api_key, "install": ""}, tmp_path, code=2
    )
    message = "no handler ran: 'Ship' waits for --status, which was not given"
    assert outputs["ok"] == "false" and message in outputs["result"]
    assert f"::error title=octorelease::{message}" in log
    assert message in (tmp_path / "summary").read_text(encoding="utf-8")
    assert sandbox.requests() == [], "found before any request"


def test_a_run_where_no_handler_matches_warns_in_the_ci(sandbox: SandboxControl, tmp_path: Path) -> None:
    (tmp_path / "octorelease.yml").write_text(SHIP_ON_SUCCESS, encoding="utf-8")
    outputs, log = run_github_action(
        {"status": "failure", "server": sandbox.url, "api-key": sandbox.api_key, "install": ""}, tmp_path
    )
    assert outputs["ok"] == "true"
    assert "::warning title=octorelease::no handler matched: 0 of 1 handler(s) ran for build-completed (failure)" in log


def test_a_handler_file_error_writes_ok_false_and_a_summary_with_its_message(
    sandbox: SandboxControl, tmp_path: Path
) -> None:
    (tmp_path / "octorelease.yml").write_text("handlers:\n  - name: Ship\n    promote: {tu: x}\n", encoding="utf-8")
    outputs, _ = run_github_action(
        {"status": "success", "server": sandbox.url, "api-key": sandbox.api_key, "install": ""}, tmp_path, code=2
    )
    assert outputs["ok"] == "false"
    summary = (tmp_path / "summary").read_text(encoding="utf-8")
    assert "**Error:**" in summary and "octorelease.yml:" in summary


def test_the_gitlab_template_writes_the_dotenv_report_it_declares(sandbox: SandboxControl, tmp_path: Path) -> None:
    variables = {
        # the user's job: extends .octorelease with these
        "OCTORELEASE_COMMAND": "promote", "OCTORELEASE_PROJECT": "Web", "OCTORELEASE_FROM": "Development",
        "OCTORELEASE_TO": "Test", "OCTORELEASE_INSTALL": "",
        # the project's CI/CD variables
        "OCTOPUS_URL": sandbox.url, "OCTOPUS_API_KEY": sandbox.api_key,
    }
    entries = run_gitlab_job(variables, tmp_path)
    check_outputs({name: entries[f"OCTORELEASE_{name.upper()}"] for name in OUTPUTS}, sandbox)


def test_the_gitlab_template_installs_the_ref_its_include_names() -> None:
    job = gitlab_job({"repository": "acme/octorelease", "ref": "v1.2.3"})
    assert job["variables"]["OCTORELEASE_INSTALL"] == "https://github.com/acme/octorelease/archive/v1.2.3.tar.gz"


def test_the_azure_template_sets_output_variables_of_the_octorelease_step(
    sandbox: SandboxControl, tmp_path: Path
) -> None:
    done = run_azure_step(
        {**PROMOTE, "server": sandbox.url, "install": ""}, {"OctopusApiKey": sandbox.api_key}, tmp_path
    )
    assert done.returncode == 0, done.stderr
    check_outputs(azure_outputs(done.stderr), sandbox)


STUB_PYTHON = """#!/bin/sh
# A stand-in for the agent's python3: records what it is asked, makes the venv's python a copy of itself.
echo "$0 $*" >> "$STUB_LOG"
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi
"""


def test_the_azure_template_installs_its_repository_resource_at_the_run_s_commit(tmp_path: Path) -> None:
    stub = tmp_path / "stub-bin"
    stub.mkdir()
    (stub / "python3").write_text(STUB_PYTHON, encoding="utf-8")
    (stub / "python3").chmod(0o755)
    macros = {
        "resources.repositories.octorelease.url": "https://github.com/acme/octorelease.git",
        "resources.repositories.octorelease.version": "0123abcd" * 5,
    }
    agent_env = {"PATH": f"{stub}{os.pathsep}{os.environ['PATH']}", "STUB_LOG": str(tmp_path / "log")}
    done = run_azure_step({}, macros, tmp_path, agent_env=agent_env)
    assert done.returncode == 0, done.stderr
    venv = tmp_path / "octorelease-venv"
    assert (tmp_path / "log").read_text(encoding="utf-8").splitlines() == [
        f"{stub}/python3 -m venv {venv}",
        f"{venv}/bin/python -m pip install --quiet --disable-pip-version-check "
        f"git+https://github.com/acme/octorelease.git@{'0123abcd' * 5}",
        f"{venv}/bin/python -m octorelease.ci_step",
    ]


def test_the_azure_template_without_its_repository_resource_says_how_to_name_it(tmp_path: Path) -> None:
    done = run_azure_step({"repository": "tools"}, {}, tmp_path)
    assert done.returncode == 2
    assert "no repository resource 'tools'" in done.stdout and "venv" not in done.stdout + done.stderr


# The steps as written, install and all, each in a venv of its own (slow: the install is most of it).


def test_the_github_action_installs_its_own_source_into_a_venv_and_runs_it(
    sandbox: SandboxControl, wheelhouse: dict[str, str], tmp_path: Path
) -> None:
    outputs, _ = run_github_action(
        {**PROMOTE, "server": sandbox.url, "api-key": sandbox.api_key}, tmp_path, fresh=wheelhouse
    )
    check_outputs(outputs, sandbox)
    assert (tmp_path / "runner-temp/octorelease-venv/bin/octorelease").exists()


def test_the_gitlab_template_installs_into_a_venv_and_runs(
    sandbox: SandboxControl, built_wheel: Path, wheelhouse: dict[str, str], tmp_path: Path
) -> None:
    variables = {
        "OCTORELEASE_COMMAND": "promote", "OCTORELEASE_PROJECT": "Web", "OCTORELEASE_FROM": "Development",
        "OCTORELEASE_TO": "Test", "OCTORELEASE_INSTALL": str(built_wheel),
        "OCTOPUS_URL": sandbox.url, "OCTOPUS_API_KEY": sandbox.api_key,
    }
    entries = run_gitlab_job(variables, tmp_path, fresh=wheelhouse)
    check_outputs({name: entries[f"OCTORELEASE_{name.upper()}"] for name in OUTPUTS}, sandbox)
    assert (tmp_path / "octorelease-venv-4242/bin/octorelease").exists()


def test_the_azure_template_installs_into_a_venv_and_runs(
    sandbox: SandboxControl, built_wheel: Path, wheelhouse: dict[str, str], tmp_path: Path
) -> None:
    done = run_azure_step(
        {**PROMOTE, "server": sandbox.url, "install": str(built_wheel)},
        {"OctopusApiKey": sandbox.api_key},
        tmp_path,
        fresh=wheelhouse,
    )
    assert done.returncode == 0, done.stderr
    check_outputs(azure_outputs(done.stderr), sandbox)
    assert (tmp_path / "octorelease-venv/bin/octorelease").exists()


@pytest.mark.parametrize(
    ("environ", "argv"),
    [
        ({}, ["run", "octorelease.yml"]),
        (
            {"OCTORELEASE_COMMAND": "create", "OCTORELEASE_PROJECT": "Web", "OCTORELEASE_TO": "Dev,\nTest"},
            ["create", "--project", "Web", "--deploy-to", "Dev", "--deploy-to", "Test"],
        ),
        (
            {"OCTORELEASE_FILE": "h.yml", "OCTORELEASE_STAGE": "Build", "OCTORELEASE_ARGS": "--var 'a=b c'"},
            ["run", "h.yml", "--stage", "Build", "--var", "a=b c"],
        ),
    ],
)
def test_step_inputs_become_flags(environ: dict[str, str], argv: list[str]) -> None:
    assert step_argv(environ) == argv


@pytest.mark.parametrize(
    "environ",
    [
        {"OCTORELEASE_COMMAND": "ship"},
        {"OCTORELEASE_TO": "Test"},
        {"OCTORELEASE_COMMAND": "deploy", "OCTORELEASE_FROM": "x"},
    ],
)
def test_an_input_no_command_takes_is_refused(environ: dict[str, str]) -> None:
    with pytest.raises(StepError):
        step_argv(environ)


IGNORED_TWO_WAYS = (
    "handlers:\n"
    "  - name: Refused\n    project: Web\n    on: {event: build-completed}\n"
    "    promote: {from: Test, to: [Production]}\n    fail_build_on_error: false\n"
    "  - name: Broken\n    project: Web\n    on: {event: build-completed}\n"
    "    promote: {from: Development, to: [Test]}\n    fail_build_on_error: false\n"
)


def test_an_ignored_refusal_and_an_ignored_failed_deployment_are_reported_one_way(
    sandbox: SandboxControl, tmp_path: Path
) -> None:
    sandbox.fail(step="Deploy web", environment="Test", message="Disk full")
    (tmp_path / "octorelease.yml").write_text(IGNORED_TWO_WAYS, encoding="utf-8")
    outputs, log = run_github_action(
        {"server": sandbox.url, "api-key": sandbox.api_key, "install": "", "args": "--json"}, tmp_path
    )
    assert outputs["ok"] == "true"
    handlers = json.loads(outputs["result"])["handlers"]
    assert [(h["name"], h["outcome"]) for h in handlers] == [
        ("Refused", "failed (ignored)"), ("Broken", "failed (ignored)"),
    ]
    assert "2 of 2 handler(s) ran for build-completed: 0 succeeded, 0 failed, 2 failed (ignored)" in log
    warnings = [line for line in log.splitlines() if line.startswith("::warning")]
    assert any("Refused: failed (ignored: fail_build_on_error: false)" in line for line in warnings), log
    assert any("Test" in line and "Disk full" in line for line in warnings), log
    assert "Error:" not in log and "::error" not in log
