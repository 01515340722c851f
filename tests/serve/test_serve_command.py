"""``octorelease serve FILE``: its handler file's ``serve:`` section, and the faults found before it listens."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from octorelease.handler import file as config
from testing.cli import assert_one_line_error, run_cli
from testing.ports import free_port
from testing.sandbox import SandboxControl
from testing.serve import HANDLERS

RUN_ONLY = """\
server: ${OCTOPUS_URL}
api_key: ${OCTOPUS_API_KEY}
handlers:
  - name: Ship
    project: Web
    on: {event: build-completed, status: success}
    deploy: {to: [Development], release: 1.0.0}
"""


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxControl, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OCTOPUS_URL", sandbox.url)
    monkeypatch.setenv("OCTOPUS_API_KEY", sandbox.api_key)
    monkeypatch.setenv("OCTORELEASE_WEBHOOK_SECRET", "a-webhook-secret")


def write(text: str) -> str:
    Path("handlers.yml").write_text(text, encoding="utf-8")
    return "handlers.yml"


def with_serve(section: str) -> str:
    return RUN_ONLY.replace("handlers:\n", section + "handlers:\n", 1)


def test_a_literal_secret_in_the_file_is_refused_at_its_line_and_never_repeated(
    capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(with_serve("serve:\n  secrets:\n    generic: hunter2-literal\n"))
    run = run_cli(capsys, "serve", path)
    line = assert_one_line_error(run, 2, "handlers.yml:5: serve.secrets.generic: write a reference such as "
                                         "${GENERIC_WEBHOOK_SECRET}, not the secret itself")
    assert "hunter2" not in run.everything and line
    assert run_cli(capsys, "run", path, "--dry-run").code == 2  # the file is wrong for run too


def test_run_accepts_a_serve_section_whose_secrets_are_not_set_in_the_ci_job(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OCTORELEASE_WEBHOOK_SECRET")
    path = write(with_serve("serve:\n  secrets:\n    generic: ${OCTORELEASE_WEBHOOK_SECRET}\n"))
    # --status: a handler that waits for one is exit 2 without it, whatever the serve section says
    run = run_cli(capsys, "run", path, "--dry-run", "--status", "success")
    assert run.code == 0, run.err
    loaded = config.load_handler_file(path, {"OCTOPUS_URL": "http://x", "OCTOPUS_API_KEY": "API-X"})
    assert loaded.serve is not None
    assert loaded.serve.secret_variables() == {"generic": "OCTORELEASE_WEBHOOK_SECRET"}


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ("", ["handlers.yml:1: serve: no webhook secret is configured"]),
        ("serve:\n  secrets: {}\n", ["handlers.yml:3: serve: no webhook secret is configured"]),
        ("serve:\n  secrets:\n    generic: ${NOT_SET_ANYWHERE}\n",
         ["handlers.yml:5: serve.secrets.generic: environment variable NOT_SET_ANYWHERE is not set"]),
        ("serve:\n  secrets:\n    jenkinz: ${OCTORELEASE_WEBHOOK_SECRET}\n",
         ["handlers.yml:5: serve.secrets.jenkinz: unknown source 'jenkinz'; known: ",
          "azure, generic, github, gitlab, jenkins"]),
        ("serve:\n  secret:\n    generic: ${OCTORELEASE_WEBHOOK_SECRET}\n",
         ["handlers.yml:4: serve.secret: unknown key 'secret' (did you mean 'secrets'?)"]),
    ],
    ids=["no section", "no secrets", "variable not set", "unknown source", "misspelt key"],
)
def test_a_serve_section_that_serves_nothing_or_cannot_is_exit_2_in_one_line(
    capsys: pytest.CaptureFixture[str], section: str, words: list[str]
) -> None:
    run = run_cli(capsys, "serve", write(with_serve(section)))
    assert_one_line_error(run, 2, *words)


def test_an_empty_secret_is_refused(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCTORELEASE_WEBHOOK_SECRET", "  ")
    run = run_cli(capsys, "serve", write(HANDLERS))
    assert_one_line_error(run, 2, "environment variable OCTORELEASE_WEBHOOK_SECRET is not set (it is empty)")


def test_a_bad_handler_file_is_exit_2_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    run = run_cli(capsys, "serve", write(HANDLERS.replace("status: success", "status: sucess", 1)))
    assert_one_line_error(run, 2, "handlers.yml:", "handlers[0].on.status")
    assert_one_line_error(run_cli(capsys, "serve", "missing.yml"), 2, "missing.yml: no such file")


def test_a_port_in_use_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = run_cli(capsys, "serve", write(HANDLERS), "--port", str(port), "--db", str(tmp_path / "s.db"))
    assert_one_line_error(run, 2, f"Cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize("where", ["a directory", "a missing parent", "not a database", "a read-only place"])
def test_a_db_that_cannot_be_used_is_exit_2_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    paths = {
        "a directory": tmp_path,
        "a missing parent": tmp_path / "no" / "such" / "serve.db",
        "not a database": tmp_path / "notes.txt",
        "a read-only place": Path("/sys/octorelease-serve.db"),  # sysfs takes no new file, even from root
    }
    if where == "a read-only place" and not Path("/sys").is_dir():
        pytest.skip("no /sys here")
    (tmp_path / "notes.txt").write_text("not a database, but notes " * 100, encoding="utf-8")
    run = run_cli(capsys, "serve", write(HANDLERS), "--port", "0", "--db", str(paths[where]))
    assert_one_line_error(run, 2, f"--db {paths[where]}: cannot be used as the history database")


def test_a_postgresql_that_cannot_be_reached_is_exit_2_in_one_line_without_its_password(
    capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://serve:pa55-word-secret@127.0.0.1:{free_port()}/octorelease"
    run = run_cli(capsys, "serve", write(HANDLERS), "--port", "0", "--db", url)
    line = assert_one_line_error(run, 2, "the history database postgresql://serve:***@127.0.0.1:",
                                 "cannot be opened", "refused")
    assert "pa55-word-secret" not in run.everything and line


def test_serve_db_in_the_handler_file_is_a_reference_read_when_serve_starts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    literal = HANDLERS.replace("serve:\n", "serve:\n  db: postgresql://serve:secret@db/octorelease\n", 1)
    assert_one_line_error(run_cli(capsys, "serve", write(literal)), 2, "handlers.yml:4: serve.db: write a reference",
                          "${OCTORELEASE_SERVE_DB}")
    referenced = HANDLERS.replace("serve:\n", "serve:\n  db: ${OCTORELEASE_SERVE_DB}\n", 1)
    assert_one_line_error(run_cli(capsys, "serve", write(referenced)), 2,
                          "handlers.yml:4: serve.db: environment variable OCTORELEASE_SERVE_DB is not set")
    assert run_cli(capsys, "run", write(referenced), "--dry-run", "--status", "success", "--var", "branch=main",
                   "--var", "number=1").code == 0  # run ignores it
    monkeypatch.setenv("OCTORELEASE_SERVE_DB", f"postgresql://serve:pa55-word-secret@127.0.0.1:{free_port()}/x")
    run = run_cli(capsys, "serve", write(referenced), "--port", "0")
    assert_one_line_error(run, 2, "postgresql://serve:***@127.0.0.1:", "cannot be opened")
    assert "pa55-word-secret" not in run.everything
