"""The suite's own bookkeeping: the slow list names tests that exist, and a test whose tool is
missing skips naming the tool and how to get it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from testing.slow import slow_tests

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_the_slow_list_names_exists() -> None:
    """A test moved or renamed without its row would quietly join ``make test-fast``."""
    missing = []
    for line in (ROOT / "tests" / "slow.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        path, *names = line.split("::")
        source = ROOT / path
        if not source.is_file() or not re.search(rf"^\s*def {re.escape(names[-1])}\(", source.read_text("utf-8"), re.M):
            missing.append(line)
    assert not missing, f"tests/slow.txt names tests that are not there: {missing}"


def test_the_slow_list_takes_a_test_by_its_slowest_row_or_its_rows_together() -> None:
    log = [
        "0.30s call     tests/a.py::test_one_slow_row[x]",
        "0.01s call     tests/a.py::test_one_slow_row[y]",
        "0.10s setup    tests/a.py::test_fast",
        "0.10s call     tests/a.py::test_fast",
        *(f"0.01s call     tests/b.py::test_sweep[{n}]" for n in range(200)),
        "0.20s setup    tests/b.py::TestClass::test_method",
        "0.10s call     tests/b.py::TestClass::test_method",
    ]
    assert slow_tests(log) == ["tests/a.py::test_one_slow_row", "tests/b.py::TestClass::test_method",
                               "tests/b.py::test_sweep"]


def test_a_missing_tool_skips_naming_it_and_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         request: pytest.FixtureRequest) -> None:
    [root_conftest] = [plugin for plugin in request.config.pluginmanager.get_plugins()
                       if getattr(plugin, "__file__", "") == str(ROOT / "tests" / "conftest.py")]
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    item = request.node
    item.add_marker("node")
    with pytest.raises(pytest.skip.Exception, match=r"^node is not on PATH: apt-get install nodejs"):
        root_conftest.pytest_runtest_setup(item)
