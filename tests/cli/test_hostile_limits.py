"""Hostile input that would exhaust time or memory: handler files from a pull request, durations.

Each row is a command line (and a handler file, when it runs one) and the one line it must
get: the documented exit code, no traceback, no API key, no request to the server at all
(every one of these is found before the first request, so the sandbox's state is unchanged).
The figures for these bounds are in docs/reliability.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from octorelease.yaml_lines import MAX_ALIASES, MAX_BYTES, MAX_VALUES
from testing import hostile_files as hostile
from testing.cli import CliRun
from testing.sandbox import SandboxControl

RUN = ("run", "octorelease.yml", "--event", "build-completed")
HEAD = hostile.HEAD


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    message: str  # a regular expression the error line must match, whole
    handler_file: str | bytes | None = None
    notes: bytes | None = None  # written as notes.txt beside the handler file


CASES = [
    # -- durations ---------------------------------------------------------------------------------
    Case("timeout minutes out of range", ("promote", "--project", "Web", "--from", "Test", "--to", "Staging",
                                          "--timeout", "25:99:99"),
         2, r"Error: invalid duration '25:99:99': minutes and seconds run from 0 to 59"),
    Case("timeout of centuries", ("promote", "--project", "Web", "--from", "Test", "--to", "Staging",
                                  "--timeout", "99999999999999h"),
         2, r"Error: invalid duration '99999999999999h': it must be at most 7 days"),
    Case("timeout hours past 23 after days", ("deploy", "--project", "Web", "--release", "latest", "--to", "Test",
                                              "--timeout", "1.24:00:00"),
         2, r"Error: invalid duration '1.24:00:00': hours run from 0 to 23 after a day count"),
    Case("timeout of eight days", ("create", "--project", "Web", "--deploy-to", "Development",
                                   "--timeout", "8.00:00:00"),
         2, r"Error: invalid duration '8.00:00:00': it must be at most 7 days"),
    Case("handler timeout of centuries", RUN, 2,
         r"Error: octorelease.yml:6: handlers\[0\].timeout: invalid duration '99999999999999h': "
         r"it must be at most 7 days",
         hostile.with_handler_line("timeout: 99999999999999h")),
    Case("handler timeout seconds out of range", RUN, 2,
         r"Error: octorelease.yml:6: handlers\[0\].timeout: invalid duration '00:00:75': "
         r"minutes and seconds run from 0 to 59",
         hostile.with_handler_line("timeout: '00:00:75'")),
    # -- handler-file size, aliases, depth ---------------------------------------------------------
    Case("alias bomb", RUN, 2,
         rf"Error: octorelease.yml:5: more than {MAX_VALUES:,} values once aliases are expanded .*",
         hostile.alias_bomb()),
    Case("too many aliases", RUN, 2,
         rf"Error: octorelease.yml:2: more than {MAX_ALIASES} aliases \(\*name\) .*",
         hostile.many_aliases(MAX_ALIASES + 1)),
    Case("20,000-deep list", RUN, 2,
         r"Error: octorelease.yml:1: nested more than \d+ levels deep .*", hostile.deep_list(20_000)),
    Case("5,000-deep mapping", RUN, 2,
         r"Error: octorelease.yml:1: nested more than \d+ levels deep .*", hostile.deep_mapping(5_000)),
    Case("file too large", RUN, 2,
         rf"Error: octorelease.yml:\d+: the file is larger than {MAX_BYTES // 1024} KiB .*",
         hostile.padded(MAX_BYTES + 1)),
    Case("too many values", RUN, 2,
         rf"Error: octorelease.yml:\d+: more than {MAX_VALUES:,} values once aliases are expanded .*",
         hostile.many_values(MAX_VALUES + 1)),
    # -- conditions --------------------------------------------------------------------------------
    Case("catastrophic backtracking (x+x+)+y", (*RUN, "--var", "build.branch=" + "x" * 5000), 0, "",
         hostile.with_handler_line("""conditions: ["{build.branch} matches (x+x+)+y"]""")),
    Case("nested quantifier (a+)+$", (*RUN, "--var", "build.branch=" + "a" * 40 + "!"), 0, "",
         hostile.with_handler_line("""conditions: ["{build.branch} matches '(a+)+$'"]""")),
    Case("repeat bomb (a{65535}){65535}", RUN, 2,
         r"Error: octorelease.yml:6: handlers\[0\].conditions\[0\]: invalid condition "
         r"'\{build.branch\} matches \(a\{65535\}\)\{65535\}': bad regular expression .*"
         r"invalid repetition size: \{65535\} \(RE2 matches in linear time.*\)",
         hostile.with_handler_line("""conditions: ["{build.branch} matches (a{65535}){65535}"]""")),
    Case("groups nested 2,000 deep", RUN, 2,
         r"Error: octorelease.yml:6: handlers\[0\].conditions\[0\]: invalid condition .*: "
         r"groups nested too deeply",
         hostile.with_handler_line(f"""conditions: ["{{build.branch}} matches {'(' * 2000}a{')' * 2000}"]""")),
    Case("lookahead, which RE2 cannot run in linear time", RUN, 2,
         r"Error: octorelease.yml:6: handlers\[0\].conditions\[0\]: invalid condition .*"
         r"invalid perl operator: \(\?= \(RE2 matches in linear time, so it has no lookarounds .*\)",
         hostile.with_handler_line("""conditions: ["{build.branch} matches '^(?=main)'"]""")),
    # -- handler files that are not what they claim -------------------------------------------------
    Case("not UTF-8", RUN, 2, r"Error: octorelease.yml: not a UTF-8 text file", b"handlers: [\xff\xfe]\n"),
    Case("a NUL byte", RUN, 2, r"Error: octorelease.yml:2: YAML syntax error: unacceptable character #x0000: .*",
         "handlers:\n  - [a\x00]\n"),
    Case("empty", RUN, 2, r"Error: octorelease.yml:1: the file is empty; it needs a handlers: list", ""),
    Case("missing", RUN, 2, r"Error: octorelease.yml: no such file"),
    Case("unclosed flow list", RUN, 2, r"Error: octorelease.yml:\d+: YAML syntax error: .*", HEAD + "    x: [a, b\n"),
    Case("python object tag", RUN, 2, r"Error: octorelease.yml:1: .*",
         '!!python/object/apply:os.system ["touch pwned"]\n'),
    Case("python tag on a value", RUN, 2, r"Error: octorelease.yml:6: handlers\[0\].x: unknown key 'x'",
         HEAD + '    x: !!python/object/apply:os.system ["touch pwned"]\n'),
    Case("merge key", RUN, 2, r"Error: octorelease.yml:7: handlers\[0\]\['<<'\]: unknown key '<<'",
         "space: &d Default\n" + HEAD + "    <<: *d\n"),
    Case("a list as a key", RUN, 2, r"Error: octorelease.yml:6: handlers\[0\]: a key must be a plain word.*",
         HEAD + "    ? [a, b]\n    : c\n"),
    Case("duplicate key", RUN, 2, r"Error: octorelease.yml:6: handlers\[0\].project: duplicate key 'project'",
         HEAD + "    project: Worker\n"),
    Case("literal API key", RUN, 2, r"Error: octorelease.yml:1: api_key: write a reference such as .*",
         "api_key: API-SANDBOX0000000000000000000000\n" + HEAD),
    Case("unset environment variable", RUN, 2,
         r"Error: octorelease.yml:1: server: environment variable OCTORELEASE_NOT_SET_ANYWHERE is not set",
         "server: ${OCTORELEASE_NOT_SET_ANYWHERE}\n" + HEAD),
    Case("unknown build value in a condition", RUN, 2,
         r"Error: octorelease.yml:6: handlers\[0\].conditions\[0\]: .*build.nope.*",
         hostile.with_handler_line("""conditions: ["{build.nope} == x"]""")),
    Case("lookbehind from a build value", (*RUN, "--var", "pattern=(?<=x)y"), 2,
         r"Error: octorelease.yml:6: handlers\[0\].conditions\[0\]: invalid condition .*invalid perl operator.*",
         hostile.with_handler_line("""conditions: ["main matches {build.pattern}"]""")),
    Case("handler timeout .inf", RUN, 2, r"Error: octorelease.yml:6: handlers\[0\].timeout: invalid duration '.inf'.*",
         hostile.with_handler_line("timeout: .inf")),
    Case("notes_file of 1 MiB and a byte", RUN, 2,
         r"Error: octorelease.yml:6: handlers\[0\].create.notes_file: '.*notes.txt' is larger than 1024 KiB "
         r"\(release notes may be at most 1024 KiB\)",
         hostile.with_handler_line("create: {notes_file: notes.txt}"), notes=b"x" * (1024 * 1024 + 1)),
    Case("notes_file not UTF-8", RUN, 2,
         r"Error: octorelease.yml:6: handlers\[0\].create.notes_file: '.*notes.txt' is not a UTF-8 text file",
         hostile.with_handler_line("create: {notes_file: notes.txt}"), notes=b"\x7fELF\xff\xfe"),
    # -- flags -------------------------------------------------------------------------------------
    Case("unknown event", ("run", "octorelease.yml", "--event", "build-finished"), 2,
         r"Error: unknown build event 'build-finished' \(did you mean 'build-completed'\?\)", HEAD),
    Case("--var without a value", (*RUN, "--var", "branch"), 2, r"Error: .*branch.*", HEAD),
    Case("timeout zero", ("deploy", "--project", "Web", "--release", "latest", "--to", "Test", "--timeout", "0"),
         2, r"Error: invalid duration '0': it must be longer than zero"),
    Case("timeout nan", ("deploy", "--project", "Web", "--release", "latest", "--to", "Test", "--timeout", "nan"),
         2, r"Error: invalid duration 'nan': use .*"),
    Case("timeout inf", ("deploy", "--project", "Web", "--release", "latest", "--to", "Test", "--timeout", "inf"),
         2, r"Error: invalid duration 'inf': use .*"),
    Case("timeout with units out of order", ("deploy", "--project", "Web", "--release", "latest", "--to", "Test",
                                             "--timeout", "30m1h"),
         2, r"Error: invalid duration '30m1h': use .*"),
]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_input_gets_one_line_and_its_exit_code_before_any_request(
    case: Case, in_tmp: Path, sandbox: SandboxControl, octorelease: Callable[..., CliRun]
) -> None:
    if isinstance(case.handler_file, bytes):
        (in_tmp / "octorelease.yml").write_bytes(case.handler_file)
    elif case.handler_file is not None:
        (in_tmp / "octorelease.yml").write_text(case.handler_file, encoding="utf-8")
    if case.notes is not None:
        (in_tmp / "notes.txt").write_bytes(case.notes)
    run = octorelease(*case.args)
    assert not (in_tmp / "pwned").exists()  # no YAML tag ever runs anything
    assert run.code == case.code, run.everything
    assert "Traceback" not in run.everything
    assert sandbox.api_key not in run.everything
    if case.code != 0:
        lines = [line for line in run.err.splitlines() if not line.startswith("  hint:")]
        assert len(lines) == 1, run.err
        assert re.fullmatch(case.message, lines[0]), lines[0]
        assert sandbox.requests() == []
    else:
        assert not [request for request in sandbox.requests() if request["method"] != "GET"]
