"""The ready-made integrations, each run step by step with its CI's environment simulated.

Each CI's runner is imitated only as far as the template uses it: expressions (``${{ inputs.x }}``,
``${{ parameters.x }}``) filled in from the inputs and their defaults, the step's ``env``, its
script run by bash, and the CI's variables (``GITHUB_ACTIONS``/``GITHUB_OUTPUT``, ``GITLAB_CI``,
``TF_BUILD``). The install step is skipped (``install: ''``); octorelease comes from this tree.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

import octorelease
from octorelease.actions.twins import notes_without_marker
from octorelease.cli.ci_step import StepError, step_argv
from testing.sandbox import SandboxControl

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = ("ok", "release_version", "release_id", "environments", "deployment_ids", "task_ids", "states", "web_urls")


def run_script(script: str, env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A step's script under bash, with this tree's octorelease and nothing of the test's CI."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(("OCTO", "GITHUB", "GITLAB"))}
    base.pop("CI", None)
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    base["PYTHONPATH"] = str(Path(octorelease.__file__).resolve().parents[1])
    base["NO_COLOR"] = "1"
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], env={**base, **env}, cwd=cwd, capture_output=True, text=True,
        timeout=120,
    )


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


def run_github_action(inputs: Mapping[str, str], workdir: Path) -> tuple[dict[str, str], str]:
    """Run action.yml's steps as the runner would; returns the action's outputs and the log."""
    action: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update(inputs)
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
            name: fill(fill(str(value), "inputs", values), "github", {"action_path": str(ROOT)})
            for name, value in step.get("env", {}).items()
        }
        env.update(GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(output_file), GITHUB_STEP_SUMMARY=str(workdir / "summary"))
        assert "${{" not in step["run"], "an expression in a script would paste an input into code"
        done = run_script(step["run"], env, workdir)
        log += done.stderr
        assert done.returncode == 0, done.stderr
        if "id" in step:
            steps_outputs[step["id"]] = github_outputs(output_file)
    outputs = {
        name: re.sub(
            r"\$\{\{\s*steps\.([\w-]+)\.outputs\.(\w+)\s*\}\}",
            lambda m: steps_outputs.get(m[1], {}).get(m[2], ""),
            spec["value"],
        )
        for name, spec in action["outputs"].items()
    }
    return outputs, log


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


def test_the_gitlab_template_writes_the_dotenv_report_it_declares(sandbox: SandboxControl, tmp_path: Path) -> None:
    template = yaml.safe_load((ROOT / "ci/gitlab/octorelease.gitlab-ci.yml").read_text(encoding="utf-8"))
    job = template[".octorelease"]
    variables = {
        **job["variables"],
        # the user's job: extends .octorelease with these
        "OCTORELEASE_COMMAND": "promote", "OCTORELEASE_PROJECT": "Web", "OCTORELEASE_FROM": "Development",
        "OCTORELEASE_TO": "Test", "OCTORELEASE_INSTALL": "",
        # the project's CI/CD variables
        "OCTOPUS_URL": sandbox.url, "OCTOPUS_API_KEY": sandbox.api_key, "GITLAB_CI": "true",
    }
    for line in job["script"]:
        done = run_script(line, variables, tmp_path)
        assert done.returncode == 0, done.stderr
    report = tmp_path / job["artifacts"]["reports"]["dotenv"]
    entries = dict(line.split("=", 1) for line in report.read_text(encoding="utf-8").splitlines())
    check_outputs({name: entries[f"OCTORELEASE_{name.upper()}"] for name in OUTPUTS}, sandbox)


def test_the_azure_template_sets_output_variables_of_the_octorelease_step(
    sandbox: SandboxControl, tmp_path: Path
) -> None:
    template = yaml.safe_load((ROOT / "ci/azure/octorelease.yml").read_text(encoding="utf-8"))
    parameters = {spec["name"]: str(spec["default"]) for spec in template["parameters"]}
    parameters.update(command="promote", project="Web", to="Test", server=sandbox.url, install="")
    parameters["from"] = "Development"
    macros = {"OctopusApiKey": sandbox.api_key}  # the pipeline's secret variable
    (step,) = template["steps"]
    assert step["name"] == "octorelease"
    env = {
        name: re.sub(r"\$\((\w+)\)", lambda m: macros[m[1]], fill(str(value), "parameters", parameters))
        for name, value in step["env"].items()
    }
    assert "${{" not in step["script"]
    done = run_script(step["script"], {**env, "TF_BUILD": "True"}, tmp_path)
    assert done.returncode == 0, done.stderr
    outputs = dict(re.findall(r"^##vso\[task\.setvariable variable=(\w+);isOutput=true\](.*)$", done.stderr, re.M))
    check_outputs(outputs, sandbox)


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
