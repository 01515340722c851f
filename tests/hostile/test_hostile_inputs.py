"""Hostile and broken inputs, one table (issue 8): each row gets its documented exit code, one
error line, no traceback, no API key anywhere, and leaves the sandbox as it was.

Every row runs in this process (``run_cli``), twice: as a CI log shows it, and with ``--json``,
where stdout must hold exactly one JSON object, ``ok`` false, with the same code. Before the
first row the sandbox is reset once; after each run its census (how many releases, deployments,
tasks, variables... and when it last wrote) must be what it was, so nothing was created or
changed. The rows themselves are in ``cases.py``; ``docs/reliability.md`` counts them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import FAST
from tests.hostile.cases import CASES, LIMITED_KEY, Case

from testing.cli import CliRun, run_cli
from testing.fake_server import FakeServer
from testing.sandbox import SandboxControl

#: A valid handler file, for the rows about flags of ``run``.
ANY_FILE = "handlers:\n  - name: Ship\n    project: Web\n    on: {event: build-completed}\n    deploy: {to: Staging}\n"

#: What a CI agent would act on, or a terminal would obey: a line starting with a CI command,
#: a marker some agent finds anywhere in a line, a control character (but tab and LF), an escape.
CI_COMMAND_START = re.compile(r"^\s*(::|##)", re.MULTILINE)
CI_MARKER = re.compile(r"##vso\[|##teamcity\[|##\[|section_(start|end):", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass
class Table:
    sandbox: SandboxControl
    dir: Path
    census: dict[str, Any]

    def fill(self, text: str) -> str:
        return text.replace("{dir}", str(self.dir)).replace("{server}", self.sandbox.url).replace(
            "{key}", self.sandbox.api_key)


@pytest.fixture(scope="module")
def table(sandbox_control: SandboxControl, tmp_path_factory: pytest.TempPathFactory) -> Table:
    """The sandbox, reset once for the whole table, and every row's files written once."""
    sandbox_control.reset("demo")
    sandbox_control.set_speed(FAST)
    sandbox_control.add_api_key(LIMITED_KEY, ["Development"])
    table = Table(sandbox_control, tmp_path_factory.mktemp("hostile"), {})
    written: dict[str, str | bytes] = {"any.yml": ANY_FILE}
    for row in CASES:
        for name, content in row.files.items():
            assert written.setdefault(name, content) == content, f"two rows write different {name}"
    for name, content in written.items():
        path = table.dir / name
        path.parent.mkdir(exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(table.fill(content), encoding="utf-8")
    table.census = sandbox_control.census()
    return table


def assert_refused(run: CliRun, row: Case, secrets: set[str], as_json: bool) -> None:
    """The run failed as ``row`` documents: the code, one error line (a hint may follow it, and
    ``run`` its summary), no traceback, no secret, nothing a CI agent or a terminal would act on,
    and with ``--json`` one line on stdout, one object saying so (its message keeps the text as
    given, line breaks included, escaped in the JSON)."""
    assert run.code == row.code, run.everything
    assert "Traceback" not in run.everything, run.everything
    shown = [secret for secret in secrets if secret in run.everything]
    assert not shown, f"a key was printed:\n{run.everything}"
    lines = run.err.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("Error: ")]
    assert len(errors) == 1, run.err
    after = lines[errors[0] + 1:errors[0] + 2]
    assert not after or not after[0].startswith(" ") or after[0].startswith("  hint: "), run.err
    for word in row.says:
        assert word in lines[errors[0]], lines[errors[0]]
    assert not CI_COMMAND_START.search(run.everything), run.everything
    assert not CI_MARKER.search(run.everything), run.everything
    assert not CONTROL.search(run.everything), repr(run.everything)
    if as_json:
        doc = json.loads(run.out)
        assert isinstance(doc, dict), run.out
        assert doc["ok"] is False and doc["error"]["code"] == row.code, run.out
        assert len(run.out.splitlines()) == 1, run.out
    else:
        assert run.out == "", run.out


def _rows() -> list[Any]:
    return [pytest.param(row, as_json, id=f"{row.category}: {row.name}{' --json' if as_json else ''}")
            for row in CASES for as_json in row.modes]


@pytest.mark.parametrize(("row", "as_json"), _rows())
def test_hostile_input(row: Case, as_json: bool, table: Table, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch, fake_server: Callable[..., FakeServer]) -> None:
    for name, value in row.env.items():
        monkeypatch.setenv(name, table.fill(value))
    args = [table.fill(arg) for arg in row.args]
    if row.answers is not None:
        url = fake_server(row.answers).url
        args = [arg.replace("{fake-tls}", url.replace("http:", "https:")).replace("{fake}", url) for arg in args]
    if row.connect:
        args += ["--server", table.sandbox.url, "--api-key", table.sandbox.api_key]
    if as_json:
        args.append("--json")
    secrets = {table.sandbox.api_key, LIMITED_KEY, *(args[i + 1] for i, a in enumerate(args[:-1]) if a == "--api-key")}

    run = run_cli(capsys, *args)

    before, table.census = table.census, table.sandbox.census()
    assert table.census == before, "the sandbox changed"
    assert_refused(run, row, secrets, as_json)


def test_the_table_covers_every_category() -> None:
    """At least 60 rows, each category with several, every row named once."""
    assert len(CASES) >= 60
    assert len({(row.category, row.name) for row in CASES}) == len(CASES)
    assert min(Counter(row.category for row in CASES).values()) >= 5
