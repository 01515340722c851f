"""A CI variable whose bytes are not UTF-8 (Python keeps them as lone surrogates) is a usage
error naming the variable, exit 2, as a non-UTF-8 argument is: never a value carried into a
condition, a request or a database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from testing.cli import CliRun, run_cli
from testing.sandbox import SandboxControl

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Windows environments are Unicode already")

#: A handler reading the branch and the run number from GitHub's variables, and a note from the file's.
HANDLERS = """\
{server}
handlers:
  - {{name: Ship, project: Web, on: {{event: build-completed, status: success}},
     conditions: ["{{build.branch}} == main"],
     deploy: {{to: [Development], release: "1.0.{{build.number}}", notes: "${{DEPLOY_NOTE}}"}}}}
""".format(server="server: ${OCTOPUS_URL}\napi_key: ${OCTOPUS_API_KEY}")
UNDECODABLE = b"ma\xffin".decode("utf-8", "surrogateescape")


def assert_usage_error(run: CliRun, *words: str) -> None:
    """Exit 2, one ``Error:`` line holding ``words`` (then GitHub's own annotation of it), no traceback."""
    assert run.code == 2, run.everything
    assert "Traceback" not in run.everything and "\udcff" not in run.everything
    [error] = [line for line in run.err.splitlines() if line.startswith("Error: ")]
    assert all(word in error for word in words), error
    assert "::error" in run.err  # in GitHub Actions the line is annotated too, as every error is


@pytest.fixture
def handlers(tmp_path: Path, sandbox: SandboxControl, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OCTOPUS_URL", sandbox.url)
    monkeypatch.setenv("OCTOPUS_API_KEY", sandbox.api_key)
    monkeypatch.setenv("DEPLOY_NOTE", "shipped")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    monkeypatch.setenv("GITHUB_RUN_NUMBER", "0")
    path = tmp_path / "handlers.yml"
    path.write_text(HANDLERS, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("variable", ["GITHUB_REF_NAME", "GITHUB_RUN_NUMBER"])
def test_an_undecodable_build_value_is_exit_2_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, handlers: str, variable: str
) -> None:
    monkeypatch.setenv(variable, UNDECODABLE)
    for dry_run in ((), ("--dry-run",)):
        run = run_cli(capsys, "run", handlers, "--event", "build-completed", "--status", "success", *dry_run)
        assert_usage_error(run, f"The environment variable {variable} is not valid UTF-8 text.")


def test_an_undecodable_variable_in_the_handler_file_is_exit_2_at_its_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, handlers: str
) -> None:
    monkeypatch.setenv("DEPLOY_NOTE", UNDECODABLE)
    run = run_cli(capsys, "run", handlers, "--event", "build-completed", "--status", "success")
    assert_usage_error(run, "handlers.yml:6:", "The environment variable DEPLOY_NOTE is not valid UTF-8 text.")
