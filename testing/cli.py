"""Run the command line the way a CI job would, capture what it printed, and check that no
secret it was given shows anywhere.

Every run, in this process (``run_cli``) or in a child process (``testing.processes.collect``),
is searched for every key it knew: the ``--api-key`` values, ``OCTOPUS_API_KEY``, whatever
credentials a ``--server`` URL or ``OCTOPUS_URL`` carried, and the sandbox's own key. A test
that shows one fails whatever it asserts itself. The secrets are found here independently of
octorelease's own redaction, so a gap there cannot hide itself.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import pytest

from octorelease.cli import main
from octorelease.sandbox.http.service import DEFAULT_API_KEY


@dataclass
class CliRun:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        """stdout parsed: it must hold exactly one JSON object."""
        return json.loads(self.out)

    @property
    def everything(self) -> str:
        return self.out + self.err


def known_secrets(args: Sequence[str], environ: Mapping[str, str]) -> set[str]:
    """Every secret a run was given: key flags and variables, and credentials in server URLs."""
    found = {DEFAULT_API_KEY, environ.get("OCTOPUS_API_KEY", "")}
    urls = [environ.get("OCTOPUS_URL", "")]
    for i, arg in enumerate(args):
        for flag, into in (("--api-key", None), ("--server", urls)):
            value = None
            if arg == flag and i + 1 < len(args):
                value = args[i + 1]
            elif arg.startswith(flag + "="):
                value = arg.split("=", 1)[1]
            if value is not None:
                (found.add(value) if into is None else into.append(value))
    for url in urls:  # by pattern, not urlsplit: a URL too broken to parse may still carry a key
        userinfo = re.match(r"^[^/]*//([^/?#]*)@", url)
        found.update(userinfo.group(1).split(":") if userinfo else ())
        query = url.partition("?")[2].partition("#")[0]
        found.update(piece.partition("=")[2] for piece in re.split(r"[&;]", query))
    return {s for secret in found for s in (secret, unquote(secret)) if len(s) >= 4}


def assert_no_secret(run: CliRun, secrets: set[str]) -> None:
    shown = sorted(secret for secret in secrets if secret in run.everything)
    assert not shown, f"a secret was printed ({len(shown)} of them); output:\n{run.everything}"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> CliRun:
    """``octorelease ARGS`` in this process; returns exit code, stdout and stderr."""
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    run = CliRun(code, captured.out, captured.err)
    assert_no_secret(run, known_secrets(args, os.environ))
    return run


def connection(sandbox: Any) -> list[str]:
    """The global options that point the command line at the sandbox."""
    return ["--server", sandbox.url, "--api-key", sandbox.api_key]


def assert_one_line_error(run: CliRun, code: int, *words: str) -> str:
    """The run failed with ``code``, saying so in one ``Error:`` line (an optional ``hint:``
    after it) that holds every one of ``words``, without a traceback; returns that line."""
    assert run.code == code, run.everything
    assert "Traceback" not in run.everything, run.everything
    lines = [line for line in run.err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, run.err
    index = lines.index(errors[0])
    assert all(line.startswith("  hint: ") for line in lines[index + 1:]), run.err
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]
