"""The documentation keeps up with the command line: every flag a command takes is written down
in the README or on a page of the site, and every exit code has its row on the exit codes page, so
neither can ship undocumented (the site itself is checked by ``make docs``: links, anchors, the
navigation). The documents are for users, who cannot read the project's internal issues, so none
names one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import click

from octorelease.cli import cli
from octorelease.cli.exit_codes import EXIT_CODES, INTERNAL_ERROR
from testing.children import finish, spawn
from testing.docs import ROOT, block_after, page
from testing.runner import run_bash
from testing.sandbox import SandboxControl


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _documentation() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in _pages())


def _long_options(command: click.Command, path: str) -> list[tuple[str, str]]:
    found = [(path, name) for param in command.params if isinstance(param, click.Option)
             for name in (*param.opts, *param.secondary_opts) if name.startswith("--")]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _long_options(sub, f"{path} {name}")
    return found


def test_every_flag_of_every_command_is_documented() -> None:
    text = _documentation()
    options = _long_options(cli, "octorelease")
    assert len(options) > 100  # every command's, the global ones repeated
    missing = sorted({f"{path} {name}" for path, name in options
                      if not re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", text)})
    assert missing == [], "flags no page documents: " + ", ".join(missing)


def test_every_exit_code_has_its_row_on_the_exit_codes_page() -> None:
    rows = set(re.findall(r"^\| (\d+) \|", page("docs/reference/exit-codes.md"), re.M))
    codes = {0, 2, INTERNAL_ERROR, *EXIT_CODES.values()}
    assert {str(code) for code in codes} <= rows, sorted(str(code) for code in codes if str(code) not in rows)


def test_no_document_names_an_internal_issue() -> None:
    named = [f"{path.relative_to(ROOT)}: {match[0]}" for path in _pages()
             for match in re.finditer(r"\bissues? ?#?\d+|(?<![&\w])#\d+\b", path.read_text(encoding="utf-8"), re.I)]
    assert named == []


def test_the_site_builds_strict(tmp_path: Path) -> None:
    """What ``make docs`` checks, run by the suite too, so a broken link or anchor fails ``pytest``
    and not only ``make test``."""
    process = spawn([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
                     "--site-dir", str(tmp_path / "site")], cwd=ROOT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = finish(process, timeout=180)
    assert process.returncode == 0, output
    assert (tmp_path / "site" / "reference" / "cli" / "index.html").is_file()


def test_the_rehearsal_with_curl_runs_as_written(sandbox: SandboxControl, tmp_path: Path) -> None:
    script = block_after("docs/guides/rehearse.md", "<!-- rehearse with curl -->")
    done = run_bash(script.replace("http://127.0.0.1:8065", sandbox.url), {}, tmp_path)
    assert done.returncode == 0, done.stderr
    (qa,) = [env for env in sandbox.get("/api/Spaces-1/environments/all") if env["Name"] == "QA"]
    machines = sandbox.get("/api/Spaces-1/machines/all")
    assert any(m["Name"] == "qa-api-01" and m["EnvironmentIds"] == [qa["Id"]] for m in machines)
    assert any(p["Name"] == "Shop API" for p in sandbox.get("/api/Spaces-1/projects/all"))
    versions = sandbox.get("/api/Spaces-1/feeds/feeds-builtin/packages/versions", packageId="Shop.Api")["Items"]
    assert [version["Version"] for version in versions] == ["2.1.0"]
